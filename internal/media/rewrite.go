package media

// maxSegmentAge is how far behind the newest packet of a segment a packet may
// be and still be forwarded or answered for a NACK. It leaves room for forward
// jumps of up to 1<<15-1-maxSegmentAge.
const maxSegmentAge = 1 << 14

// Rewriter maps the sequence numbers and timestamps of forwarded packets
// onto one continuous outgoing stream. A stream is forwarded in segments: a
// segment starts when forwarding (re)starts, for example at a keyframe after a
// switch of source; within a segment the offsets are constant, so reordered
// packets keep their order and gaps stay gaps that the receiver can NACK.
type Rewriter struct {
	started  bool
	resync   bool
	seqOff   uint16
	tsOff    uint32
	firstSrc uint16 // first source sequence number of the segment
	lastSeq  uint16 // highest outgoing sequence number so far
	lastTS   uint32
}

// Resync makes the next packet start a new segment that follows the last
// forwarded packet; Rewrite's tsGap is then added to the last timestamp (one
// frame's worth keeps players' clocks sane).
func (r *Rewriter) Resync() { r.resync = true }

// Rewrite returns the outgoing sequence number and timestamp for a packet.
// ok is false for a packet older than the current segment, or more than
// maxSegmentAge behind its newest packet: it must not be forwarded.
func (r *Rewriter) Rewrite(seq uint16, ts uint32, tsGap uint32) (outSeq uint16, outTS uint32, ok bool) {
	switch {
	case !r.started:
		r.started = true
		r.resync = false // the first packet starts the first segment
		r.seqOff = 0
		r.tsOff = 0
		r.firstSrc = seq
		r.lastSeq = seq
		r.lastTS = ts
		return seq, ts, true
	case r.resync:
		r.resync = false
		r.seqOff = r.lastSeq + 1 - seq
		r.tsOff = r.lastTS + tsGap - ts
		r.firstSrc = seq
	case int16(seq-r.firstSrc) < 0:
		return 0, 0, false
	}
	outSeq = seq + r.seqOff
	outTS = ts + r.tsOff
	if int16(outSeq-r.lastSeq) > 0 {
		r.lastSeq = outSeq
		r.lastTS = outTS
		// Keep the segment start at most maxSegmentAge behind the newest
		// packet, or the signed comparisons would take the packets of a
		// segment longer than half the number space for old ones.
		if seq-r.firstSrc > maxSegmentAge {
			r.firstSrc = seq - maxSegmentAge
		}
	}
	return outSeq, outTS, true
}

// Source maps an outgoing sequence number of the current segment back to
// the source's, for answering NACKs. ok is false for numbers before the
// segment.
func (r *Rewriter) Source(outSeq uint16) (seq uint16, ok bool) {
	if !r.started {
		return 0, false
	}
	seq = outSeq - r.seqOff
	if int16(seq-r.firstSrc) < 0 || int16(outSeq-r.lastSeq) > 0 {
		return 0, false
	}
	return seq, true
}

// Timestamp maps a source timestamp of the current segment to the outgoing
// stream, for retransmissions.
func (r *Rewriter) Timestamp(ts uint32) uint32 { return ts + r.tsOff }
