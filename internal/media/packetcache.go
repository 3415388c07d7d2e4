package media

import (
	"sync"
	"time"
)

// MaxPacketSize is the largest RTP packet the cache keeps.
const MaxPacketSize = 1500

// The cache's packet bytes live in an arena that grows with the stream's
// rate: it starts small, and each time the stream fills it in less than
// keepFor it doubles, up to arenaMax. A 180p layer fits in the smallest
// arena for seconds; a 720p layer settles at 256 KiB, about a second.
const (
	arenaMin = 64 << 10
	arenaMax = 1 << 20
	// keepFor is how long a packet should stay answerable: a receiver's
	// NACK comes within a round trip and its jitter buffer gives up on a
	// packet well within a second.
	keepFor = time.Second
)

type cacheEntry struct {
	pos   uint64 // where the packet's bytes start, as an arena position that never wraps
	seq   uint16
	n     uint16
	valid bool
}

// PacketCache keeps the recent packets of one RTP stream by sequence
// number, so that NACKs can be answered without asking the sender. An index
// of a fixed number of entries (by sequence number) points into a ring of
// bytes, the arena, where each packet takes its own length; a packet is
// gone when its entry is reused or its bytes are overwritten. Storing
// allocates only when the arena grows, which a steady stream stops doing
// after its first seconds.
type PacketCache struct {
	mu       sync.Mutex
	index    []cacheEntry
	arena    []byte // its length is a power of two
	max      int    // the most the arena grows to
	keep     time.Duration
	head     uint64 // the position the next packet is written at
	floor    uint64 // bytes before it were not kept when the arena grew
	lapStart int64  // unix ns the arena's current lap began ...
	lapPos   uint64 // ... at this position
}

// NewPacketCache makes a cache for size packets (rounded up to a power of
// two) with the default arena.
func NewPacketCache(size int) *PacketCache {
	return newPacketCache(size, arenaMin, arenaMax, keepFor)
}

// newPacketCache makes a cache whose arena starts at minBytes and doubles,
// up to maxBytes, while a lap of it takes less than keep; both sizes are
// powers of two of at least MaxPacketSize.
func newPacketCache(size, minBytes, maxBytes int, keep time.Duration) *PacketCache {
	n := 1
	for n < size {
		n <<= 1
	}
	return &PacketCache{index: make([]cacheEntry, n), arena: make([]byte, minBytes), max: maxBytes, keep: keep}
}

// Store copies a packet received at now under its sequence number. Packets
// over MaxPacketSize are not kept.
func (c *PacketCache) Store(seq uint16, pkt []byte, now time.Time) {
	if len(pkt) > MaxPacketSize {
		return
	}
	n := uint64(len(pkt))
	c.mu.Lock()
	defer c.mu.Unlock()
	size := uint64(len(c.arena))
	off := c.head & (size - 1)
	if off+n > size {
		// A packet never straddles the end: the rest of the lap is skipped.
		c.head += size - off
		off = 0
	}
	if off == 0 {
		// A lap ends: grow if filling the whole arena at the rate of the
		// lap (which after a growth began mid-arena) takes under keep.
		t := now.UnixNano()
		if filled := c.head - c.lapPos; filled > 0 && len(c.arena) < c.max &&
			float64(t-c.lapStart)*float64(size)/float64(filled) < float64(c.keep) {
			c.grow()
		}
		c.lapStart, c.lapPos = t, c.head
	}
	size = uint64(len(c.arena))
	off = c.head & (size - 1)
	copy(c.arena[off:], pkt)
	c.index[int(seq)&(len(c.index)-1)] = cacheEntry{pos: c.head, seq: seq, n: uint16(n), valid: true}
	c.head += n
}

// grow doubles the arena at the start of a lap, keeping the lap before it.
func (c *PacketCache) grow() {
	old := c.arena
	size := uint64(len(old))
	c.arena = make([]byte, 2*size)
	// head is a multiple of size, so the previous lap is old in order.
	copy(c.arena[(c.head-size)&(2*size-1):], old)
	c.floor = c.head - size
}

// Get copies the packet with sequence number seq into dst and returns its
// length, or 0 if the packet is not in the cache (never stored, or
// overwritten).
func (c *PacketCache) Get(seq uint16, dst []byte) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := &c.index[int(seq)&(len(c.index)-1)]
	size := uint64(len(c.arena))
	if !e.valid || e.seq != seq || e.pos < c.floor || c.head-e.pos > size {
		return 0
	}
	off := e.pos & (size - 1)
	return copy(dst, c.arena[off:off+uint64(e.n)])
}
