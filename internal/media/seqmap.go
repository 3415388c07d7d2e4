package media

// SeqMapSize is how many recent outgoing sequence numbers a SeqMap keeps.
const SeqMapSize = 1024

// SeqMap remembers, for the last SeqMapSize outgoing sequence numbers of a
// stream, which source packet each carried and a small tag (the simulcast
// layer, say, to pick the right packet cache). Rewriter.Source only knows
// the current segment; a SeqMap also answers NACKs for packets sent before
// a switch of layer, and knows nothing of packets that were never sent.
//
// It is a fixed ring: Put and Get never allocate. A SeqMap is not safe for
// concurrent use; its zero value is ready.
type SeqMap struct {
	slots   [SeqMapSize]seqMapSlot
	newest  uint16
	started bool
}

type seqMapSlot struct {
	out, src uint16
	tag      uint8
	valid    bool
}

// Put records that outgoing number out carried source packet src. Numbers
// skipped since the newest Put are forgotten, so that Get does not answer
// for them from an older round of the ring; a Put more than SeqMapSize
// behind the newest is ignored.
func (m *SeqMap) Put(out, src uint16, tag uint8) {
	switch d := int16(out - m.newest); {
	case !m.started:
		m.started = true
		m.newest = out
	case d > 0:
		if d >= SeqMapSize {
			clear(m.slots[:])
		} else {
			for s := m.newest + 1; s != out; s++ {
				m.slots[s%SeqMapSize].valid = false
			}
		}
		m.newest = out
	case -int(d) >= SeqMapSize:
		return
	}
	m.slots[out%SeqMapSize] = seqMapSlot{out: out, src: src, tag: tag, valid: true}
}

// Get returns the source packet and tag recorded for outgoing number out.
// ok is false if none was, or if it is more than SeqMapSize behind the
// newest.
func (m *SeqMap) Get(out uint16) (src uint16, tag uint8, ok bool) {
	if !m.started {
		return 0, 0, false
	}
	if d := int16(m.newest - out); d < 0 || int(d) >= SeqMapSize {
		return 0, 0, false
	}
	s := &m.slots[out%SeqMapSize]
	if !s.valid || s.out != out {
		return 0, 0, false
	}
	return s.src, s.tag, true
}
