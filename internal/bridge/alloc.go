package bridge

import (
	"maps"
	"sync"
	"time"

	"github.com/parley/parley/internal/media"
	"github.com/parley/parley/protocol"
)

// Downlink estimate bounds, in bits per second.
const (
	initialEstimate = 1_000_000
	minEstimate     = 100_000
	maxEstimate     = 30_000_000
	// probeEvery is the shortest time between two probes of one downlink;
	// after probes that did not raise the estimate it backs off, up to
	// probeBackoffMax.
	probeEvery      = time.Second
	probeBackoffMax = 3 * time.Second
)

// allocState is an endpoint's view of what it should receive.
type allocState struct {
	mu            sync.Mutex
	constraints   protocol.Constraints
	lastForwarded map[string]int // last forwarded-sources sent
	used          int
	lastProbe     time.Time
	probeFrom     int // estimate when the last probe started
	probeMisses   int // probes in a row that did not raise the estimate
}

func defaultConstraints() protocol.Constraints {
	return protocol.Constraints{Type: protocol.ChannelConstraints, LastN: -1, DefaultMaxHeight: 360}
}

func (e *endpoint) setConstraints(c protocol.Constraints) {
	e.alloc.mu.Lock()
	e.alloc.constraints = c
	e.alloc.mu.Unlock()
	e.allocate()
}

// allocate decides which layer of each video source this endpoint receives,
// from its constraints, the recent speakers and its downlink estimate, and
// probes the downlink when it could use more than the estimate allows.
func (e *endpoint) allocate() {
	e.alloc.mu.Lock()
	defer e.alloc.mu.Unlock()
	now := time.Now()
	downs := e.downTracks()
	var sources []media.Source
	audio := 0
	for _, src := range e.conf.sourcesInOrder(e) {
		if _, ok := downs[src]; !ok {
			continue
		}
		if src.isVideo {
			sources = append(sources, src.mediaSource(now))
		} else {
			audio++
		}
	}
	estimate := e.estimator.Estimate()
	e.rtxBudget.setRate(estimate)
	c := e.alloc.constraints
	in := media.AllocInput{
		Sources:  sources,
		Speakers: e.conf.speakers(),
		Constraints: media.Constraints{
			LastN: c.LastN, OnStage: c.OnStage, MaxHeight: c.MaxHeight, DefaultMaxHeight: c.DefaultMaxHeight,
		},
		Budget: max(estimate-audio*audioBitrate, 0),
	}
	a := media.Allocate(in)
	// When even the lowest layers do not fit, halve their frame rate by
	// dropping temporal layers before dropping sources.
	temporal := 3
	if a.Used > in.Budget*5/4 {
		temporal = 0
	} else if a.Used > in.Budget {
		temporal = 1
	}
	forwarded := map[string]int{}
	for src, d := range downs {
		if !src.isVideo {
			continue
		}
		layer, ok := a.Layers[src.id]
		if !ok {
			layer = -1
		}
		d.setTarget(layer, temporal)
		if layer >= 0 {
			forwarded[src.id] = heightOf(sources, src.id, layer)
		}
	}
	e.alloc.used = a.Used + audio*audioBitrate
	if !maps.Equal(forwarded, e.alloc.lastForwarded) {
		e.log.Debug("allocation changed", "estimate", estimate, "used", a.Used, "temporal", temporal, "forwarded", forwarded, "suspended", a.Suspended)
		e.alloc.lastForwarded = forwarded
		e.send(protocol.ForwardedSources{Type: protocol.ChannelForwardedSources, Sources: forwarded, Suspended: a.Suspended})
	}
	// Probe when the receiver could use more than the estimate gives it.
	in.Budget = maxEstimate
	// Probes the link could not carry (the estimate did not rise) make the
	// next one wait longer, so that a slow link is not flooded with them.
	interval := min(probeEvery*time.Duration(1+e.alloc.probeMisses), probeBackoffMax)
	if want := media.Allocate(in).Used; want > a.Used && now.Sub(e.alloc.lastProbe) >= interval {
		if !e.alloc.lastProbe.IsZero() {
			if estimate > e.alloc.probeFrom*11/10 {
				e.alloc.probeMisses = 0
			} else {
				e.alloc.probeMisses = min(e.alloc.probeMisses+1, 4)
			}
		}
		e.alloc.lastProbe = now
		e.alloc.probeFrom = estimate
		st := e.estimator.Stats()
		e.log.Debug("probing", "estimate", estimate, "want", want, "loss", st.LossFraction, "state", st.State.String(), "acked", st.AckedRate, "lastProbeRate", st.ProbeRate)
		target := min(max(estimate*3, estimate+1_000_000), want*6/5+audio*audioBitrate)
		go e.probe(target, downs)
	}
}

func heightOf(sources []media.Source, id string, layer int) int {
	for _, s := range sources {
		if s.ID == id && layer < len(s.Layers) {
			return s.Layers[layer].Height
		}
	}
	return 0
}

// probe sends a cluster at target bits per second for about 100 ms on one
// video downTrack that has a retransmission stream; the estimator compares
// how fast the cluster arrived with target. The cluster is paced by the
// clock, so that it leaves at the target rate however the scheduler wakes
// us.
func (e *endpoint) probe(target int, downs map[*source]*downTrack) {
	const duration = 100 * time.Millisecond
	total := target / 8 * int(duration/time.Millisecond) / 1000
	for src, d := range downs {
		if !src.isVideo || !d.canProbe() {
			continue
		}
		cluster := e.estimator.StartProbe(target, time.Now())
		start := time.Now()
		for sent := 0; sent < total; {
			due := min(total, int(int64(total)*int64(time.Since(start))/int64(duration))+1)
			if due > sent {
				n := d.probe(cluster, due-sent)
				if n == 0 {
					return
				}
				sent += n
			}
			time.Sleep(2 * time.Millisecond)
		}
		return
	}
}

// bandwidthReport tells the client its estimate and use.
func (e *endpoint) bandwidthReport() {
	e.alloc.mu.Lock()
	used := e.alloc.used
	e.alloc.mu.Unlock()
	e.send(protocol.Bandwidth{Type: protocol.ChannelBandwidth, Estimate: e.estimator.Estimate(), Used: used})
}
