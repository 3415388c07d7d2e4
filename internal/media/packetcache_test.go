package media

import (
	"bytes"
	"sync"
	"testing"
	"time"
)

// packet returns n bytes derived from seq, so that packets differ.
func packet(seq uint16, n int) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = byte(int(seq) + i*7)
	}
	return p
}

func TestPacketCache(t *testing.T) {
	type op struct {
		store bool   // Store (true) or Get (false)
		seq   uint16 // sequence number
		n     int    // Store: packet length; Get: expected length (0: miss)
		from  uint16 // Get: the seq whose Store made the expected bytes
	}
	tests := []struct {
		name string
		size int
		ops  []op
	}{
		{
			name: "store and get",
			size: 8,
			ops: []op{
				{store: true, seq: 1, n: 100},
				{store: true, seq: 2, n: 1200},
				{store: true, seq: 3, n: 1},
				{seq: 1, n: 100, from: 1},
				{seq: 2, n: 1200, from: 2},
				{seq: 3, n: 1, from: 3},
			},
		},
		{
			name: "never stored is a miss",
			size: 8,
			ops: []op{
				{seq: 0},
				{seq: 65535},
				{store: true, seq: 5, n: 10},
				{seq: 4},
				{seq: 6},
			},
		},
		{
			name: "same slot, other sequence number is a miss",
			size: 8,
			ops: []op{
				{store: true, seq: 3, n: 10},
				{seq: 11}, // 11 & 7 == 3
				{seq: 3 + 256},
				{seq: 3, n: 10, from: 3},
			},
		},
		{
			name: "overwrite after the ring wraps",
			size: 4,
			ops: []op{
				{store: true, seq: 10, n: 50},
				{store: true, seq: 11, n: 51},
				{store: true, seq: 12, n: 52},
				{store: true, seq: 13, n: 53},
				{seq: 10, n: 50, from: 10},
				{store: true, seq: 14, n: 54},
				{seq: 10}, // overwritten by 14
				{seq: 11, n: 51, from: 11},
				{seq: 14, n: 54, from: 14},
			},
		},
		{
			name: "sequence numbers wrap",
			size: 4,
			ops: []op{
				{store: true, seq: 65534, n: 20},
				{store: true, seq: 65535, n: 21},
				{store: true, seq: 0, n: 22},
				{store: true, seq: 1, n: 23},
				{seq: 65534, n: 20, from: 65534},
				{seq: 65535, n: 21, from: 65535},
				{seq: 0, n: 22, from: 0},
				{seq: 1, n: 23, from: 1},
				{store: true, seq: 2, n: 24},
				{seq: 65534}, // overwritten by 2
				{seq: 2, n: 24, from: 2},
			},
		},
		{
			name: "shorter packet replaces longer one",
			size: 8,
			ops: []op{
				{store: true, seq: 7, n: 1000},
				{store: true, seq: 15, n: 3},
				{seq: 7},
				{seq: 15, n: 3, from: 15},
			},
		},
		{
			name: "size rounds up to a power of two",
			size: 5, // 8 slots
			ops: []op{
				{store: true, seq: 0, n: 1},
				{store: true, seq: 5, n: 1},
				{store: true, seq: 7, n: 1},
				{seq: 0, n: 1, from: 0},
				{seq: 5, n: 1, from: 5},
				{seq: 7, n: 1, from: 7},
				{store: true, seq: 8, n: 2},
				{seq: 0},
			},
		},
		{
			name: "size 1",
			size: 1,
			ops: []op{
				{store: true, seq: 9, n: 9},
				{seq: 9, n: 9, from: 9},
				{store: true, seq: 10, n: 10},
				{seq: 9},
				{seq: 10, n: 10, from: 10},
			},
		},
		{
			name: "size 0 still keeps one packet",
			size: 0,
			ops: []op{
				{store: true, seq: 9, n: 9},
				{seq: 9, n: 9, from: 9},
			},
		},
		{
			name: "MaxPacketSize is kept",
			size: 8,
			ops: []op{
				{store: true, seq: 1, n: MaxPacketSize},
				{seq: 1, n: MaxPacketSize, from: 1},
			},
		},
		{
			name: "oversize packets are not kept",
			size: 8,
			ops: []op{
				{store: true, seq: 1, n: MaxPacketSize + 1},
				{seq: 1},
				{store: true, seq: 2, n: 10},
				{store: true, seq: 10, n: 64 << 10}, // same slot as 2
				{seq: 10},
				{seq: 2, n: 10, from: 2},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := NewPacketCache(tc.size)
			dst := make([]byte, MaxPacketSize)
			now := time.Unix(1000, 0)
			for i, o := range tc.ops {
				now = now.Add(time.Millisecond)
				if o.store {
					c.Store(o.seq, packet(o.seq, o.n), now)
					continue
				}
				for j := range dst {
					dst[j] = 0xee
				}
				n := c.Get(o.seq, dst)
				if n != o.n {
					t.Fatalf("op %d: Get(%d) = %d, want %d", i, o.seq, n, o.n)
				}
				if want := packet(o.from, o.n); !bytes.Equal(dst[:n], want) {
					t.Fatalf("op %d: Get(%d) returned other bytes than stored", i, o.seq)
				}
				if n < len(dst) && dst[n] != 0xee {
					t.Fatalf("op %d: Get(%d) wrote past the packet's %d bytes", i, o.seq, n)
				}
			}
		})
	}
}

func TestPacketCacheCopies(t *testing.T) {
	c := NewPacketCache(16)
	in := packet(42, 300)
	want := bytes.Clone(in)
	c.Store(42, in, time.Now())

	// Reusing the caller's buffer after Store must not change the cache.
	for i := range in {
		in[i] = 0
	}
	got := make([]byte, MaxPacketSize)
	n := c.Get(42, got)
	if !bytes.Equal(got[:n], want) {
		t.Fatal("changing the stored slice changed the cached packet")
	}

	// Nor must changing what Get returned.
	for i := range got {
		got[i] = 0xff
	}
	again := make([]byte, MaxPacketSize)
	n = c.Get(42, again)
	if !bytes.Equal(again[:n], want) {
		t.Fatal("changing Get's buffer changed the cached packet")
	}
}

func TestPacketCacheConcurrent(t *testing.T) {
	c := NewPacketCache(64)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			dst := make([]byte, MaxPacketSize)
			for i := range 2000 {
				seq := uint16(i*4 + w)
				c.Store(seq, packet(seq, 1+i%MaxPacketSize), time.Now())
				if n := c.Get(seq-8, dst); n != 0 && !bytes.Equal(dst[:n], packet(seq-8, n)) {
					t.Errorf("Get(%d) returned a torn or foreign packet", seq-8)
					return
				}
			}
		})
	}
	wg.Wait()
}

func BenchmarkPacketCacheStore(b *testing.B) {
	b.ReportAllocs()
	c := NewPacketCache(512)
	pkt := packet(0, 1200)
	b.SetBytes(int64(len(pkt)))
	var seq uint16
	now := time.Unix(1000, 0)
	for b.Loop() {
		now = now.Add(5 * time.Millisecond) // a 720p layer's rate
		c.Store(seq, pkt, now)
		seq++
	}
}

func BenchmarkPacketCacheGet(b *testing.B) {
	b.ReportAllocs()
	c := NewPacketCache(512)
	pkt := packet(0, 1200)
	// Half a second of 720p: all of it in the cache.
	for seq := range uint16(128) {
		c.Store(seq, pkt, time.Unix(1000, int64(seq)*int64(5*time.Millisecond)))
	}
	dst := make([]byte, MaxPacketSize)
	b.SetBytes(int64(len(pkt)))
	var seq uint16
	for b.Loop() {
		if c.Get(seq&127, dst) == 0 {
			b.Fatal("miss")
		}
		seq++
	}
}

// arenaRun stores count packets of n bytes from seq, one every gap.
func arenaRun(c *PacketCache, seq uint16, count, n int, now *time.Time, gap time.Duration) {
	for i := range count {
		*now = now.Add(gap)
		s := seq + uint16(i)
		c.Store(s, packet(s, n), *now)
	}
}

func TestPacketCacheArena(t *testing.T) {
	dst := make([]byte, MaxPacketSize)
	get := func(t *testing.T, c *PacketCache, seq uint16, n int) {
		t.Helper()
		got := c.Get(seq, dst)
		if got != n {
			t.Fatalf("Get(%d) = %d bytes, want %d", seq, got, n)
		}
		if n > 0 && !bytes.Equal(dst[:n], packet(seq, n)) {
			t.Fatalf("Get(%d) returned other bytes than stored", seq)
		}
	}

	t.Run("a slow stream overwrites its oldest bytes and keeps the size", func(t *testing.T) {
		c := newPacketCache(256, 4096, 1<<16, time.Second)
		now := time.Unix(1000, 0)
		// 1000-byte packets, 4 to a lap, one a second: laps take 4 s.
		arenaRun(c, 0, 10, 1000, &now, time.Second)
		if got := arenaSize(c); got != 4096 {
			t.Fatalf("arena grew to %d bytes for a slow stream", got)
		}
		for seq := range uint16(6) {
			get(t, c, seq, 0)
		}
		for seq := uint16(6); seq < 10; seq++ {
			get(t, c, seq, 1000)
		}
	})

	t.Run("a fast stream grows the arena and keeps what it held", func(t *testing.T) {
		c := newPacketCache(256, 4096, 1<<16, time.Second)
		now := time.Unix(1000, 0)
		arenaRun(c, 0, 4, 1000, &now, time.Millisecond) // the first lap
		arenaRun(c, 4, 1, 1000, &now, time.Millisecond) // starts the second lap: grows
		if got := arenaSize(c); got != 8192 {
			t.Fatalf("arena is %d bytes after a 4 ms lap, want 8192", got)
		}
		for seq := range uint16(5) {
			get(t, c, seq, 1000)
		}
		// Fast for long: it stops at its maximum and still answers for
		// the latest packets.
		arenaRun(c, 5, 1000, 1000, &now, time.Millisecond)
		if got := arenaSize(c); got != 1<<16 {
			t.Fatalf("arena is %d bytes, want its maximum %d", got, 1<<16)
		}
		for seq := uint16(1005 - 65); seq < 1005; seq++ {
			get(t, c, seq, 1000)
		}
		get(t, c, 1005-70, 0)
	})

	t.Run("bytes from before a growth are not returned once the lap after is overwritten", func(t *testing.T) {
		c := newPacketCache(1024, 4096, 8192, time.Second)
		now := time.Unix(1000, 0)
		arenaRun(c, 0, 5, 1000, &now, time.Millisecond) // grows to 8192 at the fifth
		arenaRun(c, 5, 20, 1000, &now, time.Millisecond)
		for seq := range uint16(17) {
			get(t, c, seq, 0)
		}
		for seq := uint16(17); seq < 25; seq++ {
			get(t, c, seq, 1000)
		}
	})

	t.Run("packets of mixed sizes never straddle the end", func(t *testing.T) {
		c := newPacketCache(1024, 4096, 4096, time.Second)
		now := time.Unix(1000, 0)
		sizes := []int{1500, 1500, 700, 1500, 13, 1200, 1500, 900, 1, 1500}
		for i, n := range sizes {
			now = now.Add(time.Second)
			c.Store(uint16(i), packet(uint16(i), n), now)
		}
		// The newest packets whose bytes were not written over since.
		get(t, c, 9, 1500)
		get(t, c, 8, 1)
		get(t, c, 7, 900)
		get(t, c, 6, 1500)
		get(t, c, 2, 0)
	})
}

func TestPacketCacheSteadyStoreAllocatesNothing(t *testing.T) {
	c := NewPacketCache(1024)
	now := time.Unix(1000, 0)
	pkt := packet(0, 1200)
	var seq uint16
	store := func() {
		now = now.Add(5 * time.Millisecond)
		c.Store(seq, pkt, now)
		seq++
	}
	for range 2000 { // ten seconds of 720p: the arena has settled
		store()
	}
	if n := testing.AllocsPerRun(1000, store); n != 0 {
		t.Fatalf("Store allocates %.1f times per packet in steady state", n)
	}
	if got := arenaSize(c); got != 256<<10 {
		t.Errorf("a 1.9 Mbit/s stream settled at %d bytes of arena, want 256 KiB", got)
	}
}

// arenaSize is the bytes c's arena holds now.
func arenaSize(c *PacketCache) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.arena)
}
