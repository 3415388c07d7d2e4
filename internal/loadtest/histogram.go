package loadtest

import (
	"math"
	"time"
)

// The histogram's buckets: fine where loopback latencies fall, coarser
// above, so that percentiles are within 10 µs below 10 ms and within 1 %
// above, in a fixed 15 KB.
const (
	tier1Width = 10 * time.Microsecond
	tier1End   = 10 * time.Millisecond
	tier2Width = 100 * time.Microsecond
	tier2End   = 100 * time.Millisecond
	tier3Width = time.Millisecond
	tier3End   = time.Second
	tier4Width = 10 * time.Millisecond
	tier4End   = 10 * time.Second

	tier1Buckets = int(tier1End / tier1Width)
	tier2Buckets = int((tier2End - tier1End) / tier2Width)
	tier3Buckets = int((tier3End - tier2End) / tier3Width)
	tier4Buckets = int((tier4End - tier3End) / tier4Width)

	// histBuckets counts the fine buckets and one overflow bucket for 10 s
	// and more.
	histBuckets = tier1Buckets + tier2Buckets + tier3Buckets + tier4Buckets + 1
)

// Histogram counts durations in fixed buckets without storing samples, so
// that a receive loop can record every packet's latency without
// allocating. The zero value is empty and ready to use; it is not safe for
// concurrent use.
type Histogram struct {
	counts   [histBuckets]uint32
	n        uint64
	sum      time.Duration
	min, max time.Duration
}

// bucket returns the index of d's bucket; negative durations count as 0.
func bucket(d time.Duration) int {
	switch {
	case d < 0:
		return 0
	case d < tier1End:
		return int(d / tier1Width)
	case d < tier2End:
		return tier1Buckets + int((d-tier1End)/tier2Width)
	case d < tier3End:
		return tier1Buckets + tier2Buckets + int((d-tier2End)/tier3Width)
	case d < tier4End:
		return tier1Buckets + tier2Buckets + tier3Buckets + int((d-tier3End)/tier4Width)
	}
	return histBuckets - 1
}

// upper returns the exclusive upper edge of bucket i (the overflow bucket
// has none: math.MaxInt64).
func upper(i int) time.Duration {
	switch {
	case i < tier1Buckets:
		return time.Duration(i+1) * tier1Width
	case i < tier1Buckets+tier2Buckets:
		return tier1End + time.Duration(i-tier1Buckets+1)*tier2Width
	case i < tier1Buckets+tier2Buckets+tier3Buckets:
		return tier2End + time.Duration(i-tier1Buckets-tier2Buckets+1)*tier3Width
	case i < histBuckets-1:
		return tier3End + time.Duration(i-tier1Buckets-tier2Buckets-tier3Buckets+1)*tier4Width
	}
	return math.MaxInt64
}

// Add records one duration.
func (h *Histogram) Add(d time.Duration) {
	d = max(d, 0)
	h.counts[bucket(d)]++
	if h.n == 0 || d < h.min {
		h.min = d
	}
	if d > h.max {
		h.max = d
	}
	h.n++
	h.sum += d
}

// Merge adds everything o recorded.
func (h *Histogram) Merge(o *Histogram) {
	if o.n == 0 {
		return
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	if h.n == 0 || o.min < h.min {
		h.min = o.min
	}
	h.max = max(h.max, o.max)
	h.n += o.n
	h.sum += o.sum
}

// Reset empties the histogram.
func (h *Histogram) Reset() { *h = Histogram{} }

// Count is the number of durations recorded.
func (h *Histogram) Count() uint64 { return h.n }

// Max is the largest duration recorded, Min the smallest.
func (h *Histogram) Max() time.Duration { return h.max }
func (h *Histogram) Min() time.Duration { return h.min }

// Mean is the average duration recorded.
func (h *Histogram) Mean() time.Duration {
	if h.n == 0 {
		return 0
	}
	return h.sum / time.Duration(h.n)
}

// Quantile returns the duration below which a fraction q (0 to 1) of the
// recorded ones fall: the upper edge of the bucket holding that rank,
// clamped to the smallest and largest durations recorded. It is 0 when
// nothing was recorded.
func (h *Histogram) Quantile(q float64) time.Duration {
	switch {
	case h.n == 0:
		return 0
	case q <= 0:
		return h.min
	}
	rank := uint64(math.Ceil(q * float64(h.n)))
	rank = min(max(rank, 1), h.n)
	var seen uint64
	for i, c := range h.counts {
		seen += uint64(c)
		if seen >= rank {
			return min(max(upper(i), h.min), h.max)
		}
	}
	return h.max
}
