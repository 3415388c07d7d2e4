package media

import "testing"

// TestHotPathAllocs checks that the per-packet operations allocate nothing.
func TestHotPathAllocs(t *testing.T) {
	cache := NewPacketCache(512)
	pkt := packet(0, 1200)
	dst := make([]byte, MaxPacketSize)
	var rw Rewriter
	var d VP8Descriptor
	var seq uint16
	var ts uint32
	tests := []struct {
		name string
		fn   func()
	}{
		{"PacketCache.Store", func() { cache.Store(seq, pkt); seq++ }},
		{"PacketCache.Get", func() {
			if cache.Get(seq-1, dst) == 0 {
				t.Fatal("miss")
			}
		}},
		{"PacketCache.Get miss", func() { cache.Get(seq+1, dst) }},
		{"Rewriter.Rewrite", func() {
			if seq%100 == 0 {
				rw.Resync()
			}
			rw.Rewrite(seq, ts, 3000)
			seq++
			ts += 3000
		}},
		{"Rewriter.Source", func() { rw.Source(seq) }},
		{"ParseVP8", func() {
			if err := ParseVP8(fullDescriptor, &d); err != nil {
				t.Fatal(err)
			}
		}},
		{"ParseVP8 short", func() { _ = ParseVP8(fullDescriptor[:3], &d) }},
		{"IsVP8Keyframe", func() { IsVP8Keyframe(fullDescriptor) }},
	}
	for _, tc := range tests {
		if n := testing.AllocsPerRun(1000, tc.fn); n != 0 {
			t.Errorf("%s: %v allocations per call, want 0", tc.name, n)
		}
	}
}
