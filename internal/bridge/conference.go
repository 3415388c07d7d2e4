package bridge

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/parley/parley/internal/media"
	"github.com/parley/parley/internal/shutdown"
	"github.com/parley/parley/protocol"
)

// Conference tick intervals.
const (
	speakerTick    = 100 * time.Millisecond
	allocationTick = 500 * time.Millisecond
	reportTick     = time.Second
)

// conference is the set of endpoints of one room on this bridge. It wires
// every publisher's sources to every other endpoint, detects the dominant
// speaker, and periodically re-runs each endpoint's allocation.
type conference struct {
	id  string
	b   *Bridge
	log *slog.Logger

	mu        sync.Mutex
	endpoints map[string]*endpoint
	order     []*endpoint // join order

	speakerMu sync.Mutex
	detector  *media.SpeakerDetector
	current   string // dominant speaker

	cancel context.CancelFunc
	done   chan struct{}
}

func newConference(b *Bridge, id string) *conference {
	ctx, cancel := context.WithCancel(context.Background())
	c := &conference{
		id: id, b: b, log: b.log.With("conference", id),
		endpoints: map[string]*endpoint{},
		detector:  media.NewSpeakerDetector(),
		cancel:    cancel,
		done:      make(chan struct{}),
	}
	go c.run(ctx)
	return c
}

func (c *conference) size() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.endpoints)
}

func (c *conference) endpoint(id string) *endpoint {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.endpoints[id]
}

func (c *conference) members() []*endpoint {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*endpoint(nil), c.order...)
}

// allocate creates an endpoint and subscribes it to every source already
// published in the conference.
func (c *conference) allocate(id string) error {
	c.mu.Lock()
	if _, ok := c.endpoints[id]; ok {
		c.mu.Unlock()
		return fmt.Errorf("bridge: endpoint %s already exists in %s", id, c.id)
	}
	ep, err := newEndpoint(c, id)
	if err != nil {
		c.mu.Unlock()
		return err
	}
	c.endpoints[id] = ep
	c.order = append(c.order, ep)
	var existing []*source
	for _, other := range c.order {
		if other != ep {
			existing = append(existing, other.publishedSources()...)
		}
	}
	c.mu.Unlock()
	for _, src := range existing {
		ep.subscribe(src)
	}
	c.log.Info("endpoint allocated", "endpoint", id)
	return nil
}

// publish forwards a new source to every other endpoint.
func (c *conference) publish(src *source) {
	for _, ep := range c.subscribers(src) {
		ep.subscribe(src)
	}
}

// unpublish removes a source from every endpoint that receives it.
func (c *conference) unpublish(src *source) {
	for _, ep := range c.subscribers(src) {
		ep.unsubscribe(src)
	}
}

// subscribers lists every endpoint but the source's publisher.
func (c *conference) subscribers(src *source) []*endpoint {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]*endpoint, 0, len(c.order))
	for _, ep := range c.order {
		if ep != src.owner {
			out = append(out, ep)
		}
	}
	return out
}

// sourcesInOrder lists the sources of everyone but except, in join order.
func (c *conference) sourcesInOrder(except *endpoint) []*source {
	var out []*source
	for _, ep := range c.members() {
		if ep != except {
			out = append(out, ep.publishedSources()...)
		}
	}
	return out
}

// expire closes an endpoint and removes its sources from the others.
func (c *conference) expire(ep *endpoint) {
	c.mu.Lock()
	if c.endpoints[ep.id] == ep {
		delete(c.endpoints, ep.id)
		for i, x := range c.order {
			if x == ep {
				c.order = append(c.order[:i], c.order[i+1:]...)
				break
			}
		}
	}
	c.mu.Unlock()
	for _, src := range ep.close() {
		c.unpublish(src)
	}
	c.speakerMu.Lock()
	c.detector.Remove(ep.id)
	c.speakerMu.Unlock()
	c.log.Info("endpoint expired", "endpoint", ep.id)
}

func (c *conference) close() {
	c.cancel()
	shutdown.Wait(c.log, "conference ticker", shutdown.Timeout, c.done)
	c.mu.Lock()
	eps := c.order
	c.endpoints = map[string]*endpoint{}
	c.order = nil
	c.mu.Unlock()
	for _, ep := range eps {
		ep.close()
	}
}

// speakerLevel feeds one audio level to the speaker detector.
func (c *conference) speakerLevel(id string, level uint8, at time.Time) {
	c.speakerMu.Lock()
	c.detector.Level(id, level, at)
	c.speakerMu.Unlock()
}

func (c *conference) speakers() []string {
	c.speakerMu.Lock()
	defer c.speakerMu.Unlock()
	return c.detector.Speakers()
}

func (c *conference) dominant() (string, []string) {
	c.speakerMu.Lock()
	defer c.speakerMu.Unlock()
	return c.current, c.detector.Speakers()
}

// run ticks the conference: speaker detection, layer rates, allocation,
// publisher layer suspension and bandwidth reports.
func (c *conference) run(ctx context.Context) {
	defer close(c.done)
	t := time.NewTicker(speakerTick)
	defer t.Stop()
	var lastAlloc, lastReport time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			c.speakerMu.Lock()
			id, changed := c.detector.Tick(now)
			if changed {
				c.current = id
			}
			speakers := c.detector.Speakers()
			c.speakerMu.Unlock()
			members := c.members()
			if changed {
				msg := protocol.DominantSpeaker{Type: protocol.ChannelDominantSpeaker, ID: id, Speakers: speakers}
				for _, ep := range members {
					ep.send(msg)
				}
			}
			if changed || now.Sub(lastAlloc) >= allocationTick {
				if now.Sub(lastAlloc) >= allocationTick {
					c.updateRates(members, now.Sub(lastAlloc))
				}
				lastAlloc = now
				for _, ep := range members {
					ep.allocate()
				}
				c.updateSuspension(members, now)
			}
			if now.Sub(lastReport) >= reportTick {
				lastReport = now
				for _, ep := range members {
					ep.bandwidthReport()
					ep.sendSenderReports(now)
				}
			}
		}
	}
}

func (c *conference) updateRates(members []*endpoint, interval time.Duration) {
	if interval > 5*time.Second {
		interval = allocationTick // first tick
	}
	for _, ep := range members {
		for _, src := range ep.publishedSources() {
			for i := range maxLayers {
				if u := src.layer(i); u != nil {
					u.updateRate(interval)
				}
			}
		}
	}
}

// updateSuspension tells publishers which layers of their video sources
// nobody receives.
func (c *conference) updateSuspension(members []*endpoint, now time.Time) {
	for _, pub := range members {
		for _, src := range pub.publishedSources() {
			if !src.isVideo {
				continue
			}
			var wanted [maxLayers]bool
			for _, d := range *src.downs.Load() {
				if l := d.target(); l >= 0 {
					wanted[l] = true
				}
			}
			if active := src.updateSuspension(wanted, now); active != nil {
				pub.send(protocol.Layers{Type: protocol.ChannelLayers, Source: src.id, Active: active})
			}
		}
	}
}
