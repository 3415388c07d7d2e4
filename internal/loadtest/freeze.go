package loadtest

import "time"

// FreezeThreshold is the gap between consecutive video frames that counts
// as a freeze.
const FreezeThreshold = 500 * time.Millisecond

// FreezeDetector finds freezes in one forwarded video source: gaps over
// FreezeThreshold between consecutive frames while the bridge forwards the
// source to the receiver. A gap across a time the source was not forwarded
// (last-N, bandwidth, layout) is no freeze. It is not safe for concurrent
// use.
type FreezeDetector struct {
	last  int64  // arrival of the last frame, ns; 0 before the first
	since uint32 // forwarding period of the last frame
	Count uint64
	Total time.Duration
}

// Frame records a frame arriving at now (ns on any monotonic clock).
// forwarding names the period since when the bridge has forwarded the
// source without a break (0: not forwarded now); a frame in another period
// than the last one starts afresh.
func (f *FreezeDetector) Frame(now int64, forwarding uint32) {
	if f.last != 0 && forwarding != 0 && forwarding == f.since {
		f.gap(time.Duration(now - f.last))
	}
	f.last, f.since = now, forwarding
}

// Finish counts a freeze still going at now, when the stream ends while
// forwarded in the same period as its last frame.
func (f *FreezeDetector) Finish(now int64, forwarding uint32) {
	if f.last != 0 && forwarding != 0 && forwarding == f.since {
		f.gap(time.Duration(now - f.last))
	}
	f.last = 0
}

func (f *FreezeDetector) gap(d time.Duration) {
	if d > FreezeThreshold {
		f.Count++
		f.Total += d
	}
}

// ResetCounts forgets the freezes counted, not the last frame.
func (f *FreezeDetector) ResetCounts() { f.Count, f.Total = 0, 0 }
