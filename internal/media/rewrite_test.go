package media

import "testing"

// rwStep is one call on a Rewriter: a Resync, a Drop of seq, or a Rewrite
// of (seq, ts) with gap and its expected result.
type rwStep struct {
	resync  bool
	drop    bool
	seq     uint16
	ts      uint32
	gap     uint32
	outSeq  uint16
	outTS   uint32
	refused bool
}

func runSteps(t *testing.T, r *Rewriter, steps []rwStep) {
	t.Helper()
	for i, s := range steps {
		if s.resync {
			r.Resync()
			continue
		}
		if s.drop {
			r.Drop(s.seq)
			continue
		}
		seq, ts, ok := r.Rewrite(s.seq, s.ts, s.gap)
		if s.refused {
			if ok {
				t.Fatalf("step %d: Rewrite(%d, %d) = %d, %d, true; want refused", i, s.seq, s.ts, seq, ts)
			}
			continue
		}
		if !ok || seq != s.outSeq || ts != s.outTS {
			t.Fatalf("step %d: Rewrite(%d, %d, %d) = %d, %d, %v; want %d, %d, true", i, s.seq, s.ts, s.gap, seq, ts, ok, s.outSeq, s.outTS)
		}
	}
}

func TestRewriter(t *testing.T) {
	tests := []struct {
		name  string
		steps []rwStep
	}{
		{
			name: "first packet passes unchanged",
			steps: []rwStep{
				{seq: 1234, ts: 567890, outSeq: 1234, outTS: 567890},
				{seq: 1235, ts: 570890, outSeq: 1235, outTS: 570890},
			},
		},
		{
			name: "gaps stay gaps",
			steps: []rwStep{
				{seq: 100, ts: 9000, outSeq: 100, outTS: 9000},
				{seq: 105, ts: 24000, outSeq: 105, outTS: 24000},
				{seq: 101, ts: 12000, outSeq: 101, outTS: 12000},
			},
		},
		{
			name: "packet before the first is refused",
			steps: []rwStep{
				{seq: 100, ts: 9000, outSeq: 100, outTS: 9000},
				{seq: 99, ts: 6000, refused: true},
				{seq: 101, ts: 12000, outSeq: 101, outTS: 12000},
			},
		},
		{
			name: "resync continues the output",
			steps: []rwStep{
				{seq: 100, ts: 9000, outSeq: 100, outTS: 9000},
				{seq: 101, ts: 12000, outSeq: 101, outTS: 12000},
				{resync: true},
				{seq: 5000, ts: 123456, gap: 3000, outSeq: 102, outTS: 15000},
				{seq: 5001, ts: 126456, gap: 3000, outSeq: 103, outTS: 18000},
				{seq: 5002, ts: 126456, gap: 3000, outSeq: 104, outTS: 18000}, // same frame
			},
		},
		{
			name: "resync follows the highest packet, not the latest",
			steps: []rwStep{
				{seq: 100, ts: 9000, outSeq: 100, outTS: 9000},
				{seq: 102, ts: 15000, outSeq: 102, outTS: 15000},
				{seq: 101, ts: 12000, outSeq: 101, outTS: 12000},
				{resync: true},
				{seq: 7, ts: 1, gap: 3000, outSeq: 103, outTS: 18000},
			},
		},
		{
			name: "resync with zero gap repeats the timestamp",
			steps: []rwStep{
				{seq: 1, ts: 1000, outSeq: 1, outTS: 1000},
				{resync: true},
				{seq: 900, ts: 77, outSeq: 2, outTS: 1000},
			},
		},
		{
			name: "reordered packets in a segment keep their offset",
			steps: []rwStep{
				{seq: 100, ts: 9000, outSeq: 100, outTS: 9000},
				{resync: true},
				{seq: 5000, ts: 50000, gap: 3000, outSeq: 101, outTS: 12000},
				{seq: 5003, ts: 59000, gap: 3000, outSeq: 104, outTS: 21000},
				{seq: 5002, ts: 56000, gap: 3000, outSeq: 103, outTS: 18000},
				{seq: 5001, ts: 53000, gap: 3000, outSeq: 102, outTS: 15000},
				{seq: 5004, ts: 62000, gap: 3000, outSeq: 105, outTS: 24000},
			},
		},
		{
			name: "packets before the segment start are refused",
			steps: []rwStep{
				{seq: 100, ts: 9000, outSeq: 100, outTS: 9000},
				{seq: 101, ts: 12000, outSeq: 101, outTS: 12000},
				{resync: true},
				{seq: 5000, ts: 50000, gap: 3000, outSeq: 102, outTS: 15000},
				{seq: 4999, ts: 47000, refused: true},
				{seq: 4000, ts: 47000, refused: true},
				{seq: 5000 + 32768, ts: 47000, refused: true}, // half the number space away
				{seq: 5001, ts: 53000, outSeq: 103, outTS: 18000},
			},
		},
		{
			name: "old source's late packets after a switch are refused",
			steps: []rwStep{
				{seq: 60000, ts: 9000, outSeq: 60000, outTS: 9000},
				{resync: true},
				{seq: 60010, ts: 50000, gap: 3000, outSeq: 60001, outTS: 12000},
				{seq: 60009, ts: 47000, refused: true},
			},
		},
		{
			name: "sequence numbers wrap",
			steps: []rwStep{
				{seq: 65534, ts: 100, outSeq: 65534, outTS: 100},
				{seq: 65535, ts: 200, outSeq: 65535, outTS: 200},
				{seq: 1, ts: 400, outSeq: 1, outTS: 400},
				{seq: 0, ts: 300, outSeq: 0, outTS: 300}, // late, after the wrap
				{seq: 2, ts: 500, outSeq: 2, outTS: 500},
			},
		},
		{
			name: "resync wraps the output",
			steps: []rwStep{
				{seq: 65535, ts: 4294967000, outSeq: 65535, outTS: 4294967000},
				{resync: true},
				{seq: 300, ts: 10, gap: 3000, outSeq: 0, outTS: 2704},
				{seq: 301, ts: 3010, gap: 3000, outSeq: 1, outTS: 5704},
			},
		},
		{
			name: "source wraps inside a resynced segment",
			steps: []rwStep{
				{seq: 10, ts: 0, outSeq: 10, outTS: 0},
				{resync: true},
				{seq: 65535, ts: 1000, gap: 90, outSeq: 11, outTS: 90},
				{seq: 1, ts: 1180, gap: 90, outSeq: 13, outTS: 270},
				{seq: 0, ts: 1090, gap: 90, outSeq: 12, outTS: 180},
				{seq: 65534, ts: 910, refused: true},
			},
		},
		{
			name: "two resyncs in a row",
			steps: []rwStep{
				{seq: 1, ts: 10, outSeq: 1, outTS: 10},
				{resync: true},
				{resync: true},
				{seq: 500, ts: 99, gap: 5, outSeq: 2, outTS: 15},
				{seq: 501, ts: 104, gap: 5, outSeq: 3, outTS: 20},
			},
		},
		{
			// The first packet starts the first segment; a Resync before
			// it must not start a second one at the next packet.
			name: "resync before the first packet",
			steps: []rwStep{
				{resync: true},
				{seq: 100, ts: 9000, gap: 3000, outSeq: 100, outTS: 9000},
				{seq: 102, ts: 15000, gap: 3000, outSeq: 102, outTS: 15000},
				{seq: 101, ts: 12000, gap: 3000, outSeq: 101, outTS: 12000},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var r Rewriter
			runSteps(t, &r, tc.steps)
		})
	}
}

// A segment may last longer than half the sequence number space: a stream
// forwarded without a switch for hours must keep flowing.
func TestRewriterLongSegment(t *testing.T) {
	for _, start := range []uint16{0, 1000, 40000, 65535} {
		var r Rewriter
		r.Rewrite(0, 0, 0)
		r.Resync()
		src := start
		const n = 3 * 65536
		for i := 1; i <= n; i++ {
			out, ts, ok := r.Rewrite(src, uint32(i)*960, 960)
			if !ok || out != uint16(i) || ts != uint32(i)*960 {
				t.Fatalf("start %d, packet %d (source %d): got %d, %d, %v; want %d, %d, true", start, i, src, out, ts, ok, uint16(i), uint32(i)*960)
			}
			// NACKs for recent packets are still answered.
			if i > 100 {
				back := uint16(i - 100)
				if s, ok := r.Source(back); !ok || s != src-100 {
					t.Fatalf("start %d, packet %d: Source(%d) = %d, %v; want %d, true", start, i, back, s, ok, src-100)
				}
			}
			src++
		}
		// Late packets shortly behind are still forwarded in place.
		want := uint16((n - 9) % 65536)
		if out, _, ok := r.Rewrite(src-10, 0, 0); !ok || out != want {
			t.Errorf("start %d: late packet = %d, %v; want %d, true", start, out, ok, want)
		}
		// Far older ones are not; the newest packet is src-1.
		oldest := src - 1 - maxSegmentAge
		if _, _, ok := r.Rewrite(oldest, 0, 0); !ok {
			t.Errorf("start %d: packet %d behind the newest refused", start, maxSegmentAge)
		}
		if out, _, ok := r.Rewrite(oldest-1, 0, 0); ok {
			t.Errorf("start %d: packet %d behind the newest forwarded as %d", start, maxSegmentAge+1, out)
		}
		tooOld := uint16(n % 65536)
		tooOld -= maxSegmentAge + 1
		if s, ok := r.Source(tooOld); ok {
			t.Errorf("start %d: Source of a packet %d behind the newest = %d, true; want false", start, maxSegmentAge+1, s)
		}
	}
}

// A forward jump in the source (a burst of loss) keeps the gap.
func TestRewriterJump(t *testing.T) {
	var r Rewriter
	runSteps(t, &r, []rwStep{
		{seq: 10, ts: 0, outSeq: 10, outTS: 0},
		{seq: 3010, ts: 90000, outSeq: 3010, outTS: 90000},
		{seq: 11, ts: 30, outSeq: 11, outTS: 30},
		{seq: 3011, ts: 90030, outSeq: 3011, outTS: 90030},
	})
}

func TestRewriterSource(t *testing.T) {
	var r Rewriter
	if s, ok := r.Source(0); ok {
		t.Errorf("Source before any packet = %d, true; want false", s)
	}
	runSteps(t, &r, []rwStep{
		{seq: 100, ts: 0, outSeq: 100, outTS: 0},
		{seq: 101, ts: 10, outSeq: 101, outTS: 10},
		{resync: true},
		{seq: 5000, ts: 777, gap: 10, outSeq: 102, outTS: 20},
		{seq: 5002, ts: 797, gap: 10, outSeq: 104, outTS: 40},
	})
	tests := []struct {
		out  uint16
		want uint16
		ok   bool
	}{
		{102, 5000, true},
		{103, 5001, true}, // lost: still mapped, so the NACK reaches the cache
		{104, 5002, true},
		{101, 0, false}, // previous segment
		{100, 0, false},
		{105, 0, false}, // not sent yet
		{0, 0, false},
		{102 + 32768, 0, false},
	}
	for _, tc := range tests {
		got, ok := r.Source(tc.out)
		if ok != tc.ok || (ok && got != tc.want) {
			t.Errorf("Source(%d) = %d, %v; want %d, %v", tc.out, got, ok, tc.want, tc.ok)
		}
	}
	// Every packet the rewriter forwarded maps back to its source.
	for seq := uint16(5000); seq <= 5002; seq++ {
		out, _, ok := r.Rewrite(seq, 0, 0)
		if !ok {
			t.Fatalf("Rewrite(%d) refused", seq)
		}
		if src, ok := r.Source(out); !ok || src != seq {
			t.Errorf("Source(Rewrite(%d)) = %d, %v; want %d, true", seq, src, ok, seq)
		}
	}
}

func TestRewriterSourceAcrossWrap(t *testing.T) {
	var r Rewriter
	runSteps(t, &r, []rwStep{
		{seq: 65530, ts: 0, outSeq: 65530, outTS: 0},
		{resync: true},
		{seq: 200, ts: 0, gap: 1, outSeq: 65531, outTS: 1},
		{seq: 210, ts: 0, gap: 1, outSeq: 5, outTS: 1},
	})
	for out, want := range map[uint16]uint16{65531: 200, 65535: 204, 0: 205, 5: 210} {
		if got, ok := r.Source(out); !ok || got != want {
			t.Errorf("Source(%d) = %d, %v; want %d, true", out, got, ok, want)
		}
	}
	for _, out := range []uint16{65530, 6, 100} {
		if got, ok := r.Source(out); ok {
			t.Errorf("Source(%d) = %d, true; want false", out, got)
		}
	}
}

func TestRewriterTimestamp(t *testing.T) {
	var r Rewriter
	if got := r.Timestamp(1234); got != 1234 {
		t.Errorf("Timestamp before any packet = %d, want 1234", got)
	}
	runSteps(t, &r, []rwStep{
		{seq: 1, ts: 4294967000, outSeq: 1, outTS: 4294967000},
		{resync: true},
		{seq: 50, ts: 1000, gap: 3000, outSeq: 2, outTS: 2704},
	})
	tests := []struct{ in, want uint32 }{
		{1000, 2704},
		{4000, 5704},
		{999, 2703},
		{0, 1704},
		{4294967295, 1703},
	}
	for _, tc := range tests {
		if got := r.Timestamp(tc.in); got != tc.want {
			t.Errorf("Timestamp(%d) = %d, want %d", tc.in, got, tc.want)
		}
	}
}

func BenchmarkRewriter(b *testing.B) {
	b.ReportAllocs()
	var r Rewriter
	var seq uint16
	var ts uint32
	for b.Loop() {
		if seq&1023 == 0 {
			r.Resync()
		}
		if _, _, ok := r.Rewrite(seq, ts, 3000); !ok {
			b.Fatal("refused")
		}
		seq++
		ts += 3000
	}
}
