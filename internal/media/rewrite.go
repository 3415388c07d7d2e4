package media

// maxSegmentAge is how far behind the newest packet of a segment a packet may
// be and still be forwarded or answered for a NACK. It leaves room for forward
// jumps of up to 1<<15-1-maxSegmentAge.
const maxSegmentAge = 1 << 14

// maxEras is how many offset changes (runs of dropped packets) a segment
// remembers. Packets older than the oldest remembered change are refused,
// and Source no longer maps them: at 15 runs a second (two of three
// temporal layers at 30 fps) that is eight seconds of history, at worst
// (every other packet dropped) 256 packets.
const maxEras = 128

// dropWindow is how far behind the newest packet a dropped late packet is
// remembered, so that Source does not map a NACK onto it.
const dropWindow = 1024

// seqEra is a stretch of a segment with one sequence number offset: source
// numbers from src on, up to the next era's, go out as src+off.
type seqEra struct {
	src, off uint16
}

// Rewriter maps the sequence numbers and timestamps of forwarded packets
// onto one continuous outgoing stream. A stream is forwarded in segments: a
// segment starts when forwarding (re)starts, for example at a keyframe after a
// switch of source; within a segment reordered packets keep their order and
// gaps stay gaps that the receiver can NACK.
//
// Packets the bridge chooses not to forward (a temporal layer above the
// receiver's, silence) are reported with Drop, and those newer than all
// before them close up: the numbers after a run of dropped packets shift
// down by the run's length, so the receiver sees no gap and sends no NACK.
// Each run starts an era with its own offset; Rewrite and Source pick the
// era of a number, so late packets from before a run still land in their
// own slots and Source never returns a dropped packet.
//
// A Rewriter is not safe for concurrent use; its zero value is ready.
type Rewriter struct {
	started  bool
	resync   bool
	tsOff    uint32
	firstSrc uint16 // oldest source sequence number of the segment still mapped
	lastSrc  uint16 // newest source sequence number seen, forwarded or dropped
	lastSeq  uint16 // highest outgoing sequence number so far
	lastTS   uint32
	eras     [maxEras]seqEra // ring, oldest first from head
	head     int
	n        int
	dropped  [dropWindow / 64]uint64 // late drops, by source number
}

// Resync makes the next packet start a new segment that follows the last
// forwarded packet; Rewrite's tsGap is then added to the last timestamp (one
// frame's worth keeps players' clocks sane).
func (r *Rewriter) Resync() { r.resync = true }

// Rewrite returns the outgoing sequence number and timestamp for a packet.
// ok is false for a packet older than the current segment, more than
// maxSegmentAge behind its newest packet, or behind more than maxEras runs
// of dropped packets: it must not be forwarded.
func (r *Rewriter) Rewrite(seq uint16, ts uint32, tsGap uint32) (outSeq uint16, outTS uint32, ok bool) {
	switch {
	case !r.started:
		r.started = true
		r.resync = false // the first packet starts the first segment
		r.tsOff = 0
		r.lastSeq = seq
		r.lastTS = ts
		r.startSegment(seq, 0)
		return seq, ts, true
	case r.resync:
		r.resync = false
		r.tsOff = r.lastTS + tsGap - ts
		r.startSegment(seq, r.lastSeq+1-seq)
	case int16(seq-r.firstSrc) < 0:
		return 0, 0, false
	}
	outSeq = seq + r.era(seq).off
	outTS = ts + r.tsOff
	if int16(outSeq-r.lastSeq) > 0 {
		r.lastSeq = outSeq
		r.lastTS = outTS
	}
	if int16(seq-r.lastSrc) > 0 {
		r.advance(seq)
	}
	return outSeq, outTS, true
}

// Drop records that the source packet seq will not be forwarded. If it is
// newer than every packet seen in the segment, the packets after it shift
// down by one, so that the receiver sees no gap. A dropped packet older than
// that leaves a gap, which the receiver may NACK; Source refuses it (a
// drop more than dropWindow behind the newest packet is not remembered).
//
// Packets that arrive late across a dropped one still map to their own
// slots; only when more than maxEras runs of drops lie between a late
// packet and the newest one is it refused. Drop before the first packet of
// a segment (at the start, or after Resync) does nothing: the segment
// starts at its first forwarded packet anyway.
//
// seq must be of the stream the segment forwards: for simulcast, a packet
// of the layer Selector.Current reports, never one of another layer, whose
// numbers mean nothing here.
func (r *Rewriter) Drop(seq uint16) {
	if !r.started || r.resync || int16(seq-r.firstSrc) < 0 {
		return
	}
	if int16(seq-r.lastSrc) <= 0 {
		if behind := r.lastSrc - seq; behind < dropWindow {
			r.dropped[seq/64%uint16(len(r.dropped))] |= 1 << (seq % 64)
		}
		return
	}
	e := &r.eras[(r.head+r.n-1)%maxEras]
	if e.src == seq && r.lastSrc == seq-1 {
		// The run of drops that started this era goes on.
		e.src++
		e.off--
	} else {
		r.pushEra(seqEra{src: seq + 1, off: e.off - 1})
	}
	r.advance(seq)
}

// Pad takes the next outgoing sequence number for a packet the bridge makes
// up (padding to probe the downlink), with the timestamp of the last
// forwarded packet; the packets after it shift up by one. ok is false
// before the first packet of a segment. A padding number maps to no source
// packet, so callers must not answer NACKs for it from Source.
func (r *Rewriter) Pad() (outSeq uint16, outTS uint32, ok bool) {
	if !r.started || r.resync {
		return 0, 0, false
	}
	cur := r.eras[(r.head+r.n-1)%maxEras]
	if cur.src == r.lastSrc+1 {
		r.eras[(r.head+r.n-1)%maxEras].off++ // padding right after padding
	} else {
		r.pushEra(seqEra{src: r.lastSrc + 1, off: cur.off + 1})
	}
	r.lastSeq++
	return r.lastSeq, r.lastTS, true
}

// Source maps an outgoing sequence number of the current segment back to
// the source's, for answering NACKs. ok is false for numbers before the
// segment, not sent yet, or whose source packet was dropped. A number the
// source itself skipped (lost upstream) still maps, so that the NACK reaches
// the packet cache.
func (r *Rewriter) Source(outSeq uint16) (seq uint16, ok bool) {
	if !r.started || int16(outSeq-r.lastSeq) > 0 {
		return 0, false
	}
	e := r.eras[r.head]
	for i := r.n - 1; i > 0; i-- {
		c := r.eras[(r.head+i)%maxEras]
		if int16(outSeq-(c.src+c.off)) >= 0 {
			e = c
			break
		}
	}
	seq = outSeq - e.off
	if int16(seq-r.firstSrc) < 0 || r.wasDropped(seq) {
		return 0, false
	}
	return seq, true
}

// Timestamp maps a source timestamp of the current segment to the outgoing
// stream, for retransmissions.
func (r *Rewriter) Timestamp(ts uint32) uint32 { return ts + r.tsOff }

func (r *Rewriter) startSegment(seq, off uint16) {
	r.firstSrc = seq
	r.lastSrc = seq
	r.head = 0
	r.n = 1
	r.eras[0] = seqEra{src: seq, off: off}
	clear(r.dropped[:])
}

// era returns the era a source number of the segment belongs to.
func (r *Rewriter) era(seq uint16) seqEra {
	for i := r.n - 1; i > 0; i-- {
		e := r.eras[(r.head+i)%maxEras]
		if int16(seq-e.src) >= 0 {
			return e
		}
	}
	// The oldest era holds everything from firstSrc on; its own start may
	// lie too far back to compare.
	return r.eras[r.head]
}

func (r *Rewriter) pushEra(e seqEra) {
	if r.n == maxEras {
		// Forget the oldest era; what it mapped is now too old.
		r.head = (r.head + 1) % maxEras
		r.n--
		if old := r.eras[r.head].src; int16(old-r.firstSrc) > 0 {
			r.firstSrc = old
		}
	}
	r.eras[(r.head+r.n)%maxEras] = e
	r.n++
}

// advance makes seq the newest source number seen.
func (r *Rewriter) advance(seq uint16) {
	// Forget late drops that fall out of the window.
	if d := seq - r.lastSrc; d >= dropWindow {
		clear(r.dropped[:])
	} else {
		for s := r.lastSrc + 1; s != seq+1; s++ {
			r.dropped[s/64%uint16(len(r.dropped))] &^= 1 << (s % 64)
		}
	}
	r.lastSrc = seq
	// Keep the segment start at most maxSegmentAge behind the newest
	// packet, or the signed comparisons would take the packets of a
	// segment longer than half the number space for old ones.
	if seq-r.firstSrc > maxSegmentAge {
		r.firstSrc = seq - maxSegmentAge
	}
	for r.n > 1 && int16(r.firstSrc-r.eras[(r.head+1)%maxEras].src) >= 0 {
		r.head = (r.head + 1) % maxEras
		r.n--
	}
}

func (r *Rewriter) wasDropped(seq uint16) bool {
	if r.lastSrc-seq >= dropWindow {
		return false
	}
	return r.dropped[seq/64%uint16(len(r.dropped))]&(1<<(seq%64)) != 0
}
