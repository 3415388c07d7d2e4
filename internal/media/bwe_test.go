package media

import (
	"math"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtcp"
)

func TestEstimatorUnwrapRef(t *testing.T) {
	e := NewEstimator(EstimatorConfig{})
	steps := []struct {
		ref  uint32
		want int64
	}{
		{1<<24 - 2, 1<<24 - 2},
		{1<<24 - 1, 1<<24 - 1},
		{0, 1 << 24},
		{3, 1<<24 + 3},
		{1, 1<<24 + 1}, // reordered report
		{1<<24 - 1, 1<<24 - 1},
		{1<<25 + 5, 1<<24 + 5}, // bits above 24 are not the reference time's
	}
	for i, s := range steps {
		if got := e.unwrapRef(s.ref); got != s.want {
			t.Fatalf("step %d: unwrapRef(%d) = %d, want %d", i, s.ref, got, s.want)
		}
	}
}

// The delay detector on synthetic groups, 10 ms apart: steady delay is
// normal, delay growing by a millisecond a group (a queue building at 10 %
// over capacity) is overuse, and a draining queue is underuse.
func TestDelayDetector(t *testing.T) {
	tests := []struct {
		name  string
		slope int64 // µs of extra delay per group
		want  DelayState
	}{
		{"steady", 0, DelayNormal},
		{"queue building", 1000, DelayOverusing},
		{"queue draining", -1000, DelayUnderusing},
	}
	for _, tc := range tests {
		var ia interArrival
		tr := newTrendline()
		var state DelayState
		var seen [3]bool
		for g := range int64(60) {
			send := g * 10_000
			arr := 50_000 + send + g*tc.slope
			if sd, ad, at, ok := ia.add(send, arr); ok {
				state = tr.update(sd, ad, at)
				seen[state] = true
			}
		}
		if state != tc.want {
			t.Errorf("%s: state %v, want %v (trend %.2f, threshold %.2f)", tc.name, state, tc.want, tr.modified, tr.threshold)
		}
		for s, ok := range seen {
			if ok && DelayState(s) != DelayNormal && DelayState(s) != tc.want {
				t.Errorf("%s: went through %v", tc.name, DelayState(s))
			}
		}
	}
}

// Packets sent within 5 ms form one group: deltas come only between groups.
func TestInterArrivalGroups(t *testing.T) {
	var ia interArrival
	var deltas [][2]int64
	for i := range int64(12) {
		// Three packets 1 ms apart every 20 ms.
		for j := range int64(3) {
			send := i*20_000 + j*1000
			if sd, ad, _, ok := ia.add(send, send+30_000); ok {
				deltas = append(deltas, [2]int64{sd, ad})
			}
		}
	}
	if len(deltas) != 10 {
		t.Fatalf("%d deltas for 12 groups, want 10", len(deltas))
	}
	for _, d := range deltas {
		if d[0] != 20_000 || d[1] != 20_000 {
			t.Fatalf("delta %v, want 20 ms both", d)
		}
	}
	// A packet older than the group being built is ignored.
	if _, _, _, ok := ia.add(0, 30_000); ok {
		t.Fatal("old packet produced a delta")
	}
}

func TestEstimatorConfigDefaults(t *testing.T) {
	tests := []struct {
		cfg  EstimatorConfig
		want EstimatorConfig
	}{
		{EstimatorConfig{}, EstimatorConfig{DefaultInitialBitrate, DefaultMinBitrate, DefaultMaxBitrate}},
		{EstimatorConfig{Initial: 10, Min: 100_000, Max: 50_000}, EstimatorConfig{100_000, 100_000, 100_000}},
		{EstimatorConfig{Initial: 9e9, Max: 1e6}, EstimatorConfig{1e6, DefaultMinBitrate, 1e6}},
	}
	for _, tc := range tests {
		e := NewEstimator(tc.cfg)
		if e.cfg != tc.want || e.Estimate() != tc.want.Initial {
			t.Errorf("NewEstimator(%+v): config %+v, estimate %d; want %+v", tc.cfg, e.cfg, e.Estimate(), tc.want)
		}
	}
}

func TestProbeClusterRules(t *testing.T) {
	tests := []struct {
		name    string
		packets int
		spacing time.Duration // between arrivals; sent at the target's spacing
		lost    int
		raise   bool
	}{
		{"delivered at target", 10, 4 * time.Millisecond, 0, true},
		{"too few packets", 4, 4 * time.Millisecond, 0, false},
		{"delivered at half the target", 10, 8 * time.Millisecond, 0, false},
		{"most lost", 10, 4 * time.Millisecond, 7, false},
	}
	for _, tc := range tests {
		cfg := EstimatorConfig{Initial: 500_000, Max: 10_000_000}
		e := NewEstimator(cfg)
		now := simEpoch
		const size = 1200
		target := 2_400_000 // 1200 bytes every 4 ms
		id := e.StartProbe(target, now)
		arrivals := make([]int64, tc.packets)
		for i := range tc.packets {
			e.OnSent(uint16(i), size, now.Add(time.Duration(i)*4*time.Millisecond), id)
			arrivals[i] = 1_000_000 + int64(i)*tc.spacing.Microseconds()
			if i >= 1 && i <= tc.lost {
				arrivals[i] = -1
			}
		}
		e.OnFeedback(buildFeedback(t, 0, arrivals, 0), now.Add(200*time.Millisecond))
		raised := e.Estimate() > 2_000_000
		if raised != tc.raise {
			t.Errorf("%s: estimate %d; raise %v, want %v", tc.name, e.Estimate(), raised, tc.raise)
		}
		if raised && math.Abs(float64(e.Estimate())-0.95*float64(target)) > 0.05*float64(target) {
			t.Errorf("%s: estimate %d, want about 95%% of %d", tc.name, e.Estimate(), target)
		}
	}
}

// FuzzEstimatorFeedback feeds reports built from random arrivals, reports
// pion parses from random bytes, and random hand-assembled structs: the
// estimator must not panic, and the estimate stays within its bounds.
func FuzzEstimatorFeedback(f *testing.F) {
	f.Add(uint16(65500), []byte{1, 2, 3, 0, 0, 200, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 255, 0, 1})
	f.Add(uint16(0), []byte{})
	raw, _ := rtcp.TransportLayerCC{Header: rtcp.Header{Count: rtcp.FormatTCC, Type: rtcp.TypeTransportSpecificFeedback, Length: 5},
		PacketStatusCount: 2, PacketChunks: []rtcp.PacketStatusChunk{&rtcp.RunLengthChunk{PacketStatusSymbol: 1, RunLength: 2}},
		RecvDeltas: []*rtcp.RecvDelta{{Type: 1, Delta: 250}, {Type: 1, Delta: 500}}}.Marshal()
	f.Add(uint16(3), raw)
	cfg := EstimatorConfig{Initial: 800_000, Min: 100_000, Max: 3_000_000}
	f.Fuzz(func(t *testing.T, base uint16, data []byte) {
		e := NewEstimator(cfg)
		now := simEpoch
		id := e.StartProbe(2_000_000, now)
		for i := range 400 {
			cluster := 0
			if i%50 < 8 {
				cluster = id
			}
			e.OnSent(base-50+uint16(i), 100+i*7%1100, now.Add(time.Duration(i)*2*time.Millisecond), cluster)
		}
		check := func(what string) {
			st := e.Stats()
			if st.Estimate < cfg.Min || st.Estimate > cfg.Max {
				t.Fatalf("%s: estimate %d outside [%d, %d]", what, st.Estimate, cfg.Min, cfg.Max)
			}
			for _, v := range []float64{st.LossFraction, st.Trend, st.Threshold} {
				if math.IsNaN(v) || math.IsInf(v, 0) {
					t.Fatalf("%s: stats not finite: %+v", what, st)
				}
			}
		}
		// Valid reports of arrivals derived from the bytes.
		arrivals := make([]int64, len(data))
		at := int64(1_000_000)
		for i, b := range data {
			arrivals[i] = -1
			if b != 0 {
				at += (int64(b) - 64) * 1000
				arrivals[i] = max(at, 0)
			}
		}
		for i := 0; i < len(arrivals); i += 40 {
			fb := buildFeedback(t, base+uint16(i), arrivals[i:min(i+40, len(arrivals))], uint8(i))
			now = now.Add(50 * time.Millisecond)
			e.OnFeedback(fb, now)
			check("built report")
		}
		// Whatever pion makes of the bytes.
		var parsed rtcp.TransportLayerCC
		if parsed.Unmarshal(data) == nil {
			e.OnFeedback(&parsed, now.Add(time.Millisecond))
			check("parsed report")
		}
		// A struct assembled straight from the bytes, consistent or not.
		fb := rtcp.TransportLayerCC{BaseSequenceNumber: base, ReferenceTime: uint32(len(data)) << 20}
		for i := 0; i+1 < len(data); i += 2 {
			b, c := data[i], data[i+1]
			switch b % 4 {
			case 0:
				fb.PacketChunks = append(fb.PacketChunks, &rtcp.RunLengthChunk{PacketStatusSymbol: uint16(c % 4), RunLength: uint16(c)})
			case 1:
				fb.PacketChunks = append(fb.PacketChunks, &rtcp.StatusVectorChunk{SymbolSize: uint16(c % 2), SymbolList: []uint16{uint16(c % 4), uint16(c / 4 % 4), uint16(c / 16)}})
			case 2:
				fb.RecvDeltas = append(fb.RecvDeltas, &rtcp.RecvDelta{Delta: (int64(c) - 100) * 250})
			default:
				fb.RecvDeltas = append(fb.RecvDeltas, nil)
			}
			fb.PacketStatusCount += uint16(c % 16)
		}
		e.OnFeedback(&fb, now.Add(2*time.Millisecond))
		check("assembled struct")
	})
}

// Senders, the feedback reader and a stats poller at once (run with -race).
func TestEstimatorConcurrent(t *testing.T) {
	e := NewEstimator(EstimatorConfig{})
	arrivals := make([]int64, 100)
	for i := range arrivals {
		arrivals[i] = int64(i) * 500
	}
	fb := buildFeedback(t, 0, arrivals, 0)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 2000 {
				e.OnSent(uint16(g*2000+i), 1200, simEpoch.Add(time.Duration(i)*time.Millisecond), 0)
				if i%500 == 0 {
					e.StartProbe(1_000_000, simEpoch)
				}
			}
		})
	}
	wg.Go(func() {
		for i := range 200 {
			e.OnFeedback(fb, simEpoch.Add(time.Duration(i)*10*time.Millisecond))
			e.OnFeedback(nil, simEpoch)
		}
	})
	wg.Go(func() {
		for range 200 {
			_ = e.Stats()
			_ = e.Estimate()
		}
	})
	wg.Wait()
}

func BenchmarkEstimatorOnSent(b *testing.B) {
	b.ReportAllocs()
	e := NewEstimator(EstimatorConfig{})
	now := simEpoch
	var seq uint16
	for b.Loop() {
		e.OnSent(seq, 1200, now, 0)
		seq++
		now = now.Add(100 * time.Microsecond)
	}
}

func BenchmarkEstimatorOnFeedback(b *testing.B) {
	b.ReportAllocs()
	e := NewEstimator(EstimatorConfig{})
	// Reports of 64 packets each, 1 ms apart, covering the whole sequence
	// number space once.
	const per = 64
	fbs := make([]*rtcp.TransportLayerCC, 65536/per)
	arrivals := make([]int64, per)
	for i := range fbs {
		for j := range arrivals {
			arrivals[j] = int64(i*per+j) * 1000
		}
		fbs[i] = buildFeedback(b, uint16(i*per), arrivals, uint8(i))
	}
	now := simEpoch
	i := 0
	for b.Loop() {
		k := i % len(fbs)
		for j := range per {
			e.OnSent(uint16(k*per+j), 1200, now, 0)
			now = now.Add(time.Millisecond)
		}
		e.OnFeedback(fbs[k], now)
		i++
	}
}
