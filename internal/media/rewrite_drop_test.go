package media

import (
	"math/rand/v2"
	"testing"
)

func TestRewriterDrop(t *testing.T) {
	tests := []struct {
		name  string
		steps []rwStep
		// src maps outgoing numbers to the expected Source result (0 with
		// ok false is written as a missing entry in ok).
		src map[uint16]uint16
		bad []uint16 // outgoing numbers Source must refuse
	}{
		{
			name: "dropped packets leave no gap",
			steps: []rwStep{
				{seq: 100, ts: 0, outSeq: 100},
				{seq: 101, drop: true},
				{seq: 102, drop: true},
				{seq: 103, ts: 30, outSeq: 101, outTS: 30},
				{seq: 104, drop: true},
				{seq: 105, ts: 50, outSeq: 102, outTS: 50},
			},
			src: map[uint16]uint16{100: 100, 101: 103, 102: 105},
			bad: []uint16{103, 99},
		},
		{
			name: "late packet before a drop keeps its slot",
			steps: []rwStep{
				{seq: 10, outSeq: 10},
				{seq: 13, drop: true}, // 11 and 12 not here yet
				{seq: 14, outSeq: 13},
				{seq: 12, outSeq: 12},
				{seq: 11, outSeq: 11},
				{seq: 15, outSeq: 14},
			},
			src: map[uint16]uint16{10: 10, 11: 11, 12: 12, 13: 14, 14: 15},
		},
		{
			name: "a gap left by loss stays a gap and maps",
			steps: []rwStep{
				{seq: 10, outSeq: 10},
				{seq: 11, drop: true},
				{seq: 14, outSeq: 13}, // 12, 13 lost upstream
			},
			src: map[uint16]uint16{10: 10, 11: 12, 12: 13, 13: 14},
		},
		{
			name: "a late drop leaves a gap that Source refuses",
			steps: []rwStep{
				{seq: 10, outSeq: 10},
				{seq: 12, outSeq: 12},
				{seq: 11, drop: true},
				{seq: 13, outSeq: 13},
			},
			src: map[uint16]uint16{10: 10, 12: 12, 13: 13},
			bad: []uint16{11},
		},
		{
			name: "drops across the wrap",
			steps: []rwStep{
				{seq: 65534, outSeq: 65534},
				{seq: 65535, drop: true},
				{seq: 0, drop: true},
				{seq: 1, outSeq: 65535},
				{seq: 2, outSeq: 0},
			},
			src: map[uint16]uint16{65534: 65534, 65535: 1, 0: 2},
			bad: []uint16{1},
		},
		{
			name: "resync after drops continues from the last forwarded",
			steps: []rwStep{
				{seq: 10, ts: 100, outSeq: 10, outTS: 100},
				{seq: 11, drop: true},
				{seq: 12, drop: true},
				{resync: true},
				{seq: 900, ts: 5000, gap: 10, outSeq: 11, outTS: 110},
				{seq: 901, drop: true},
				{seq: 902, ts: 5020, outSeq: 12, outTS: 130},
			},
			src: map[uint16]uint16{11: 900, 12: 902},
			bad: []uint16{10, 13},
		},
		{
			name: "drops before a segment starts do nothing",
			steps: []rwStep{
				{seq: 50, drop: true},
				{seq: 51, outSeq: 51},
				{resync: true},
				{seq: 700, drop: true},
				{seq: 701, outSeq: 52},
				{seq: 699, refused: true},
			},
			src: map[uint16]uint16{52: 701},
		},
		{
			name: "a drop older than the segment does nothing",
			steps: []rwStep{
				{seq: 10, outSeq: 10},
				{resync: true},
				{seq: 500, outSeq: 11},
				{seq: 499, drop: true},
				{seq: 501, outSeq: 12},
			},
			src: map[uint16]uint16{11: 500, 12: 501},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var r Rewriter
			runSteps(t, &r, tc.steps)
			for out, want := range tc.src {
				if got, ok := r.Source(out); !ok || got != want {
					t.Errorf("Source(%d) = %d, %v; want %d, true", out, got, ok, want)
				}
			}
			for _, out := range tc.bad {
				if got, ok := r.Source(out); ok {
					t.Errorf("Source(%d) = %d, true; want false", out, got)
				}
			}
		})
	}
}

// rwModel is the reference for a Rewriter with drops, on unwrapped source
// numbers: within a segment a forwarded packet s goes out as s + base minus
// the number of dropped packets before s that were the newest when dropped.
type rwModel struct {
	started, resync bool
	first, newest   int // oldest and newest source numbers of the segment
	base            int
	lastOut         int
	drops           []int // drops that closed up, ascending
	late            map[int]bool
	out             map[int]int // forwarded source → outgoing
}

func (m *rwModel) outFor(s int) int {
	n := 0
	for _, d := range m.drops {
		if d < s {
			n++
		}
	}
	return s + m.base - n
}

// A long random stream with reordering, runs of drops, late drops and
// resyncs, checked against rwModel: every forwarded packet gets the model's
// number, numbers never collide, and Source answers for every forwarded
// packet and for none that was dropped.
func TestRewriterDropModel(t *testing.T) {
	for seed := range 30 {
		rng := rand.New(rand.NewPCG(uint64(seed), 7))
		var r Rewriter
		m := rwModel{}
		next := 60000 + rng.IntN(5000) // wraps early
		var pending []int
		for step := range 4000 {
			for len(pending) < 4 {
				pending = append(pending, next)
				next++
				if rng.IntN(50) == 0 {
					next += 1 + rng.IntN(5) // lost upstream
				}
			}
			i := 0
			if rng.IntN(4) == 0 {
				i = rng.IntN(len(pending)) // reordered
			}
			s := pending[i]
			pending = append(pending[:i], pending[i+1:]...)
			if rng.IntN(300) == 0 {
				r.Resync()
				m.resync = true
			}
			drop := (s/5)%3 == 0 || rng.IntN(10) == 0 // runs of five, and singles
			if drop {
				r.Drop(uint16(s))
				if m.started && !m.resync && s >= m.first {
					if s > m.newest {
						m.drops = append(m.drops, s)
					} else {
						m.late[s] = true
					}
					m.newest = max(m.newest, s)
				}
				continue
			}
			out, _, ok := r.Rewrite(uint16(s), 0, 0)
			switch {
			case !m.started || m.resync:
				base := 0
				if m.started {
					base = m.lastOut + 1 - s
				}
				m = rwModel{started: true, first: s, newest: s, base: base, lastOut: m.lastOut, late: map[int]bool{}, out: map[int]int{}}
			case s < m.first:
				if ok {
					t.Fatalf("seed %d step %d: packet %d before the segment (from %d) forwarded as %d", seed, step, s, m.first, out)
				}
				continue
			}
			want := m.outFor(s)
			if !ok || out != uint16(want) {
				t.Fatalf("seed %d step %d: Rewrite(%d) = %d, %v; want %d", seed, step, s, out, ok, uint16(want))
			}
			m.out[s] = want
			m.newest = max(m.newest, s)
			m.lastOut = max(m.lastOut, want)
			if step%50 != 0 {
				continue
			}
			seen := map[int]int{}
			for src, o := range m.out {
				if prev, dup := seen[o]; dup {
					t.Fatalf("seed %d: sources %d and %d both went out as %d", seed, prev, src, o)
				}
				seen[o] = src
				// Within the last hundred packets, far fewer than maxEras
				// runs of drops have been forgotten.
				if m.newest-src < 100 {
					if got, ok := r.Source(uint16(o)); !ok || got != uint16(src) {
						t.Fatalf("seed %d step %d: Source(%d) = %d, %v; want %d", seed, step, uint16(o), got, ok, uint16(src))
					}
				}
			}
			for s := range m.late {
				if m.newest-s >= dropWindow {
					continue
				}
				if got, ok := r.Source(uint16(m.outFor(s))); ok {
					t.Fatalf("seed %d step %d: Source maps to late-dropped %d (got %d)", seed, step, s, got)
				}
			}
			dropped := map[uint16]bool{}
			for _, d := range m.drops {
				if m.newest-d < dropWindow {
					dropped[uint16(d)] = true
				}
			}
			for o := range seen {
				if got, ok := r.Source(uint16(o)); ok && dropped[got] {
					t.Fatalf("seed %d step %d: Source(%d) returned dropped %d", seed, step, uint16(o), got)
				}
			}
		}
	}
}

// More runs of drops than the Rewriter remembers: late packets from before
// the forgotten runs are refused rather than mapped onto a wrong number.
func TestRewriterDropEraOverflow(t *testing.T) {
	var r Rewriter
	r.Rewrite(1000, 0, 0)
	seq := uint16(1001)
	out := uint16(1001)
	for range maxEras + 10 {
		seq++ // seq-1 not here yet
		r.Drop(seq)
		seq++
		got, _, ok := r.Rewrite(seq, 0, 0)
		if !ok || got != out+1 {
			t.Fatalf("Rewrite(%d) = %d, %v; want %d", seq, got, ok, out+1)
		}
		out += 2
		seq++
	}
	if got, _, ok := r.Rewrite(1001, 0, 0); ok {
		t.Errorf("late packet behind %d forgotten drop runs forwarded as %d", maxEras+10, got)
	}
	// Recent late packets still map.
	last := seq - 3
	if got, _, ok := r.Rewrite(last, 0, 0); !ok || got != out-2 {
		t.Errorf("recent late packet %d = %d, %v; want %d", last, got, ok, out-2)
	}
}

func BenchmarkRewriterDrop(b *testing.B) {
	b.ReportAllocs()
	var r Rewriter
	var seq uint16
	for b.Loop() {
		if seq&3 == 1 {
			r.Drop(seq)
		} else if _, _, ok := r.Rewrite(seq, 0, 0); !ok {
			b.Fatal("refused")
		}
		seq++
	}
}

func TestRewriterPad(t *testing.T) {
	var r Rewriter
	if _, _, ok := r.Pad(); ok {
		t.Fatal("Pad before the first packet must fail")
	}
	out := func(seq uint16) uint16 {
		t.Helper()
		o, _, ok := r.Rewrite(seq, uint32(seq)*10, 0)
		if !ok {
			t.Fatalf("packet %d refused", seq)
		}
		return o
	}
	if got := out(100); got != 100 {
		t.Fatalf("first packet out %d", got)
	}
	p1, ts, ok := r.Pad()
	if !ok || p1 != 101 || ts != 1000 {
		t.Fatalf("pad = %d %d %v, want 101 1000 true", p1, ts, ok)
	}
	p2, _, _ := r.Pad()
	if p2 != 102 {
		t.Fatalf("second pad = %d, want 102", p2)
	}
	if got := out(101); got != 103 {
		t.Fatalf("packet after padding out %d, want 103", got)
	}
	if got := out(102); got != 104 {
		t.Fatalf("next packet out %d, want 104", got)
	}
	// A drop after padding still closes the gap.
	r.Drop(103)
	if got := out(104); got != 105 {
		t.Fatalf("packet after a drop out %d, want 105", got)
	}
	// Source maps forwarded packets back, never padding onto a packet.
	for o, want := range map[uint16]uint16{100: 100, 103: 101, 104: 102, 105: 104} {
		if s, ok := r.Source(o); !ok || s != want {
			t.Errorf("Source(%d) = %d %v, want %d", o, s, ok, want)
		}
	}
}
