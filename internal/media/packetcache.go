package media

import "sync"

// MaxPacketSize is the largest RTP packet the cache keeps.
const MaxPacketSize = 1500

type cacheSlot struct {
	seq   uint16
	valid bool
	n     uint16
	buf   [MaxPacketSize]byte
}

// PacketCache keeps the most recent packets of one RTP stream by sequence
// number, so that NACKs can be answered without asking the sender. It is a
// fixed ring: storing never allocates, and a slot is overwritten once the
// sequence number wraps past the ring's size.
type PacketCache struct {
	mu    sync.Mutex
	slots []cacheSlot
}

// NewPacketCache makes a cache for size packets; size is rounded up to a
// power of two.
func NewPacketCache(size int) *PacketCache {
	n := 1
	for n < size {
		n <<= 1
	}
	return &PacketCache{slots: make([]cacheSlot, n)}
}

// Store copies a packet under its sequence number. Packets over
// MaxPacketSize are not kept.
func (c *PacketCache) Store(seq uint16, pkt []byte) {
	if len(pkt) > MaxPacketSize {
		return
	}
	c.mu.Lock()
	s := &c.slots[int(seq)&(len(c.slots)-1)]
	s.seq = seq
	s.valid = true
	s.n = uint16(copy(s.buf[:], pkt))
	c.mu.Unlock()
}

// Get copies the packet with sequence number seq into dst and returns its
// length, or 0 if the packet is not in the cache (never stored, or
// overwritten).
func (c *PacketCache) Get(seq uint16, dst []byte) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := &c.slots[int(seq)&(len(c.slots)-1)]
	if !s.valid || s.seq != seq {
		return 0
	}
	return copy(dst, s.buf[:s.n])
}
