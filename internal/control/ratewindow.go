package control

import "time"

// rateWindow allows at most n events per window, counted over a sliding
// window of the last n event times.
type rateWindow struct {
	window time.Duration
	times  []time.Time // ring of the last n events
	next   int
}

func newRateWindow(n int, window time.Duration) *rateWindow {
	return &rateWindow{window: window, times: make([]time.Time, max(n, 1))}
}

// allow records an event at now if fewer than n happened in the window.
func (w *rateWindow) allow(now time.Time) bool {
	oldest := w.times[w.next]
	if !oldest.IsZero() && now.Sub(oldest) < w.window {
		return false
	}
	w.times[w.next] = now
	w.next = (w.next + 1) % len(w.times)
	return true
}
