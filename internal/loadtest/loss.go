package loadtest

import "time"

// RepairWait is how long a hole in a stream may stay open before it counts
// as lost after retransmission.
const RepairWait = time.Second

const (
	// lossWindow is how many sequence numbers behind the newest the
	// tracker remembers; a repair older than that is not recognised. It
	// spans several seconds of the heaviest stream.
	lossWindow = 4096
	// maxPending bounds the holes waiting for repair; when more are open
	// the oldest is judged early.
	maxPending = 512
)

// LossCounts is what a LossTracker counted.
type LossCounts struct {
	// Expected is the media packets the stream should have delivered: the
	// sequence numbers spanned, less the padding received.
	Expected uint64
	// LostBeforeRepair counts holes when first seen: sequence numbers
	// skipped when a newer packet arrived.
	LostBeforeRepair uint64
	// LostAfterRepair counts holes still open RepairWait after they were
	// first seen, or when the stream ended.
	LostAfterRepair uint64
	// Repaired counts holes filled in time; Late, holes filled too late.
	Repaired, Late uint64
	// Duplicates counts packets received twice; Stale, packets too far
	// behind to tell.
	Duplicates, Stale uint64
	// Padding counts padding-only packets (bandwidth probes).
	Padding uint64
}

// Add adds o's counts.
func (c *LossCounts) Add(o LossCounts) {
	c.Expected += o.Expected
	c.LostBeforeRepair += o.LostBeforeRepair
	c.LostAfterRepair += o.LostAfterRepair
	c.Repaired += o.Repaired
	c.Late += o.Late
	c.Duplicates += o.Duplicates
	c.Stale += o.Stale
	c.Padding += o.Padding
}

// hole is a sequence number waiting for its retransmission.
type hole struct {
	seq uint64 // extended
	at  int64  // when first seen, ns on the tracker's clock
}

// LossTracker follows one RTP stream's sequence numbers and counts loss
// before and after retransmission. It keeps a fixed-size bitmap of recent
// sequence numbers and a bounded queue of open holes, so it allocates
// nothing after NewLossTracker. It is not safe for concurrent use.
//
// Padding-only packets, which the bridge sends in the forwarded stream to
// probe the downlink, fill their sequence numbers but are not expected
// media; a lost probe cannot be told from lost media and counts as loss.
type LossTracker struct {
	started  bool
	first    uint64 // extended sequence number of the first packet
	highest  uint64 // extended sequence number of the newest packet
	received [lossWindow / 64]uint64
	pending  [maxPending]hole // a ring, oldest first
	head, n  int
	counts   LossCounts
}

// Packet records a packet with sequence number seq arriving at now (ns on
// any monotonic clock); padding says it carries no payload. It reports
// whether the packet is new: neither a duplicate nor too old to tell.
func (t *LossTracker) Packet(seq uint16, padding bool, now int64) bool {
	return t.packet(seq, padding, now, true)
}

// Repair records a packet like Packet, but only if it is behind the newest
// one: after the measured phase, retransmissions may still fill the holes
// opened during it, while new packets no longer count.
func (t *LossTracker) Repair(seq uint16, padding bool, now int64) bool {
	return t.packet(seq, padding, now, false)
}

func (t *LossTracker) packet(seq uint16, padding bool, now int64, advance bool) bool {
	t.expire(now)
	if !advance && (!t.started || int16(seq-uint16(t.highest)) >= 0) {
		return false
	}
	if !t.started {
		t.started = true
		t.highest = uint64(seq) + 1<<16 // room to unwrap backwards
		t.first = t.highest
		t.mark(t.highest)
		t.count(padding)
		return true
	}
	diff := int64(int16(seq - uint16(t.highest)))
	ext := uint64(int64(t.highest) + diff)
	switch {
	case diff > 0:
		t.advance(ext, now)
		t.mark(ext)
		t.count(padding)
		return true
	case diff == 0:
		t.counts.Duplicates++
		return false
	case -diff >= lossWindow || ext < t.first:
		t.counts.Stale++
		return false
	case t.isMarked(ext):
		t.counts.Duplicates++
		return false
	}
	// A hole filled: in time if it still waits, else too late.
	t.mark(ext)
	if t.fill(ext) {
		t.counts.Repaired++
	} else {
		t.counts.Late++
	}
	if padding {
		t.counts.Padding++
		t.counts.Expected--
	}
	return true
}

// count adds a newly arrived sequence number to what was expected.
func (t *LossTracker) count(padding bool) {
	if padding {
		t.counts.Padding++
		return
	}
	t.counts.Expected++
}

// advance moves the newest sequence number to ext, opening a hole for
// every number skipped.
func (t *LossTracker) advance(ext uint64, now int64) {
	skipped := ext - t.highest - 1
	t.counts.LostBeforeRepair += skipped
	t.counts.Expected += skipped
	// Numbers leaving the window are judged before their bits are reused.
	for t.n > 0 && t.pending[t.head].seq+lossWindow <= ext {
		t.judge()
	}
	if skipped >= lossWindow {
		// Too many to follow one by one: judge them lost at once.
		t.counts.LostAfterRepair += skipped
		clear(t.received[:])
		t.highest = ext
		return
	}
	for s := t.highest + 1; s < ext; s++ {
		t.unmark(s)
		t.push(hole{seq: s, at: now})
	}
	t.highest = ext
}

// expire judges the holes that have waited RepairWait.
func (t *LossTracker) expire(now int64) {
	for t.n > 0 && now-t.pending[t.head].at >= int64(RepairWait) {
		t.judge()
	}
}

// judge removes the oldest open hole and counts it lost if still empty.
func (t *LossTracker) judge() {
	h := t.pending[t.head]
	t.head = (t.head + 1) % maxPending
	t.n--
	if !t.isMarked(h.seq) {
		t.counts.LostAfterRepair++ // a later fill is late: it is no longer queued
	}
}

func (t *LossTracker) push(h hole) {
	if t.n == maxPending {
		t.judge()
	}
	t.pending[(t.head+t.n)%maxPending] = h
	t.n++
}

// fill reports whether ext is an open hole. Filled holes stay in the queue
// and are skipped when judged.
func (t *LossTracker) fill(ext uint64) bool {
	if t.n == 0 || ext < t.pending[t.head].seq {
		return false
	}
	last := t.pending[(t.head+t.n-1)%maxPending].seq
	return ext <= last
}

func (t *LossTracker) mark(ext uint64) {
	i := ext % lossWindow
	t.received[i/64] |= 1 << (i % 64)
}

func (t *LossTracker) unmark(ext uint64) {
	i := ext % lossWindow
	t.received[i/64] &^= 1 << (i % 64)
}

func (t *LossTracker) isMarked(ext uint64) bool {
	i := ext % lossWindow
	return t.received[i/64]&(1<<(i%64)) != 0
}

// Finish judges every open hole as of the stream's end.
func (t *LossTracker) Finish() {
	for t.n > 0 {
		t.judge()
	}
}

// Counts returns what was counted so far.
func (t *LossTracker) Counts() LossCounts { return t.counts }

// ResetCounts starts counting afresh, keeping the stream's position; holes
// still open are forgotten.
func (t *LossTracker) ResetCounts() {
	t.counts = LossCounts{}
	t.head, t.n = 0, 0
}
