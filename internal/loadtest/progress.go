package loadtest

import (
	"context"
	"fmt"
	"time"
)

// progress writes a line every progressEvery until ctx ends: joins, the
// receive rate and errors.
func (r *run) progress(ctx context.Context) {
	w := r.cfg.Progress
	if w == nil {
		return
	}
	t := time.NewTicker(progressEvery)
	defer t.Stop()
	lastPackets, lastBytes := r.rx()
	last := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		packets, bytes := r.rx()
		now := time.Now()
		dt := now.Sub(last).Seconds()
		state := "joining"
		switch r.phase() {
		case phaseWarmup:
			state = "warming up"
		case phaseMeasuring:
			in := now.Sub(r.base) - time.Duration(r.measureStart.Load())
			state = fmt.Sprintf("measuring %.0f/%.0fs", in.Seconds(), r.cfg.Duration.Seconds())
		case phaseDraining, phaseDone:
			state = "finishing"
		}
		fmt.Fprintf(w, "loadtest %6.1fs %-18s joined %d/%d failed %d · rx %.0f pkt/s %.2f Mbit/s · errors %d\n",
			now.Sub(r.base).Seconds(), state, r.succeeded.Load(), len(r.participants), r.failed.Load(),
			float64(packets-lastPackets)/dt, float64(bytes-lastBytes)*8/dt/1e6, r.errorCount())
		lastPackets, lastBytes, last = packets, bytes, now
	}
}
