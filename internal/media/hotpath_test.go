package media

import (
	"testing"
	"time"
)

// TestHotPathAllocs checks that the per-packet operations allocate nothing.
func TestHotPathAllocs(t *testing.T) {
	cache := NewPacketCache(512)
	pkt := packet(0, 1200)
	// Ten seconds of a 720p layer: the cache's arena has grown to its size.
	cacheNow := time.Unix(1000, 0)
	for i := range 2000 {
		cacheNow = cacheNow.Add(5 * time.Millisecond)
		cache.Store(uint16(i), pkt, cacheNow)
	}
	dst := make([]byte, MaxPacketSize)
	var rw Rewriter
	var d VP8Descriptor
	var seq uint16
	var ts uint32

	vp8 := make([]byte, 1200)
	copy(vp8, fullDescriptor)
	var vd VP8Descriptor
	if err := ParseVP8(vp8, &vd); err != nil {
		t.Fatal(err)
	}
	var munger VP8Munger
	var sel Selector
	sel.SetTarget(1, 1)
	infos := []PacketInfo{key(1), mid(1, 0), start(1, 2), mid(1, 2), start(0, 0), start(1, 1)}
	var seqMap SeqMap
	est := NewEstimator(EstimatorConfig{})
	now := time.Unix(1000, 0)
	arrivals := make([]int64, 50)
	for i := range arrivals {
		arrivals[i] = int64(i) * 1000
		if i%9 == 4 {
			arrivals[i] = -1
		}
	}
	fb := buildFeedback(t, 0, arrivals, 0)
	probe := est.StartProbe(1_000_000, now)
	speakers := NewSpeakerDetector()
	speakers.Level("alice", 40, now)
	var gate SilenceGate
	var n int

	tests := []struct {
		name string
		fn   func()
	}{
		{"PacketCache.Store", func() { cacheNow = cacheNow.Add(5 * time.Millisecond); cache.Store(seq, pkt, cacheNow); seq++ }},
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
		{"Rewriter.Drop", func() {
			rw.Drop(seq)
			seq++
			if seq%3 == 0 {
				rw.Drop(seq - 2)
			}
		}},
		{"Rewriter.Source", func() { rw.Source(seq) }},
		{"ParseVP8", func() {
			if err := ParseVP8(fullDescriptor, &d); err != nil {
				t.Fatal(err)
			}
		}},
		{"ParseVP8 short", func() { _ = ParseVP8(fullDescriptor[:3], &d) }},
		{"IsVP8Keyframe", func() { IsVP8Keyframe(fullDescriptor) }},
		{"VP8Munger.Rewrite", func() {
			if n%50 == 0 {
				munger.Resync()
			}
			vd.PictureID = uint16(n) & 0x7fff
			vp8[vd.PictureIDOffset] = 0x80 | byte(vd.PictureID>>8)
			vp8[vd.PictureIDOffset+1] = byte(vd.PictureID)
			if _, err := munger.Rewrite(&vd, vp8, dst); err != nil {
				t.Fatal(err)
			}
			n++
		}},
		{"Selector.Select", func() { sel.Select(infos[n%len(infos)]); n++ }},
		{"SeqMap.Put", func() { seqMap.Put(seq, seq+7, 1); seq++ }},
		{"SeqMap.Get", func() { seqMap.Get(seq - 3) }},
		{"Estimator.OnSent", func() { est.OnSent(seq, 1200, now, 0); seq++ }},
		{"Estimator.OnSent probe", func() { est.OnSent(seq, 1200, now, probe); seq++ }},
		{"Estimator.OnFeedback", func() {
			for i := range uint16(50) {
				est.OnSent(i, 1200, now, 0)
			}
			now = now.Add(50 * time.Millisecond)
			est.OnFeedback(fb, now)
		}},
		{"SpeakerDetector.Level", func() {
			now = now.Add(20 * time.Millisecond)
			speakers.Level("alice", uint8(n&127), now)
			n++
		}},
		{"SilenceGate.Forward", func() { gate.Forward(uint8(n)); n++ }},
		{"IsSilence", func() { IsSilence(uint8(n)) }},
	}
	for _, tc := range tests {
		if n := testing.AllocsPerRun(1000, tc.fn); n != 0 {
			t.Errorf("%s: %v allocations per call, want 0", tc.name, n)
		}
	}
}
