package loadtest

import (
	"testing"
	"time"
)

func TestHistogramQuantiles(t *testing.T) {
	tests := []struct {
		name    string
		samples func(h *Histogram)
		q       float64
		want    time.Duration
		tol     time.Duration
	}{
		{"empty", func(h *Histogram) {}, 0.5, 0, 0},
		{"one sample", func(h *Histogram) { h.Add(1234 * time.Microsecond) }, 0.99, 1234 * time.Microsecond, 0},
		{"uniform 1..1000 µs p50", uniform(1000, time.Microsecond), 0.50, 500 * time.Microsecond, tier1Width},
		{"uniform 1..1000 µs p99", uniform(1000, time.Microsecond), 0.99, 990 * time.Microsecond, tier1Width},
		{"uniform 1..100 ms p95", uniform(1000, 100*time.Microsecond), 0.95, 95 * time.Millisecond, tier2Width},
		{"uniform 1..1000 ms p50", uniform(1000, time.Millisecond), 0.50, 500 * time.Millisecond, tier3Width},
		{"tail: 99 fast, 1 slow, p99", func(h *Histogram) {
			for range 99 {
				h.Add(time.Millisecond)
			}
			h.Add(300 * time.Millisecond)
		}, 0.99, time.Millisecond, tier1Width},
		{"tail: 98 fast, 2 slow, p99", func(h *Histogram) {
			for range 98 {
				h.Add(time.Millisecond)
			}
			h.Add(300 * time.Millisecond)
			h.Add(300 * time.Millisecond)
		}, 0.99, 300 * time.Millisecond, tier3Width},
		{"overflow is clamped to the max", func(h *Histogram) { h.Add(time.Minute) }, 0.5, time.Minute, 0},
		{"negative counts as 0", func(h *Histogram) { h.Add(-time.Second) }, 0.5, 0, 0},
		{"p0 is the min", uniform(100, time.Millisecond), 0, time.Millisecond, 0},
		{"p100 is the max", uniform(100, time.Millisecond), 1, 100 * time.Millisecond, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h Histogram
			tt.samples(&h)
			got := h.Quantile(tt.q)
			if got < tt.want-tt.tol || got > tt.want+tt.tol {
				t.Errorf("Quantile(%v) = %v, want %v ± %v", tt.q, got, tt.want, tt.tol)
			}
		})
	}
}

// uniform adds step, 2·step, ... n·step.
func uniform(n int, step time.Duration) func(h *Histogram) {
	return func(h *Histogram) {
		for i := 1; i <= n; i++ {
			h.Add(time.Duration(i) * step)
		}
	}
}

func TestHistogramBuckets(t *testing.T) {
	// Every bucket's upper edge is the next bucket's start, and bucket
	// finds the bucket whose edges hold a duration.
	prev := time.Duration(0)
	for i := range histBuckets - 1 {
		up := upper(i)
		if up <= prev {
			t.Fatalf("bucket %d: upper %v not above %v", i, up, prev)
		}
		if b := bucket(prev); b != i {
			t.Fatalf("bucket(%v) = %d, want %d", prev, b, i)
		}
		if b := bucket(up - 1); b != i {
			t.Fatalf("bucket(%v) = %d, want %d", up-1, b, i)
		}
		prev = up
	}
	if prev != tier4End || bucket(tier4End) != histBuckets-1 {
		t.Fatalf("last bucket ends at %v, overflow at %d", prev, bucket(tier4End))
	}
}

func TestHistogramMerge(t *testing.T) {
	var a, b, both Histogram
	for i := 1; i <= 500; i++ {
		d := time.Duration(i) * 7 * time.Microsecond
		a.Add(d)
		both.Add(d)
	}
	for i := 1; i <= 300; i++ {
		d := time.Duration(i) * 3 * time.Millisecond
		b.Add(d)
		both.Add(d)
	}
	a.Merge(&b)
	if a != both {
		t.Fatal("merging two histograms differs from adding all samples to one")
	}
	if a.Count() != 800 || a.Min() != 7*time.Microsecond || a.Max() != 900*time.Millisecond {
		t.Errorf("count %d min %v max %v", a.Count(), a.Min(), a.Max())
	}
	var empty Histogram
	a.Merge(&empty)
	if a != both {
		t.Error("merging an empty histogram changed it")
	}
	empty.Merge(&b)
	if empty.Min() != b.Min() {
		t.Errorf("merge into empty: min %v, want %v", empty.Min(), b.Min())
	}
}

func TestHistogramAddAllocates(t *testing.T) {
	var h Histogram
	if n := testing.AllocsPerRun(1000, func() { h.Add(1500 * time.Microsecond) }); n != 0 {
		t.Errorf("Add allocates %v times", n)
	}
}
