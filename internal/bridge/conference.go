package bridge

import (
	"fmt"
	"log/slog"
	"sync"
)

// conference is the set of endpoints of one room on this bridge. It wires
// every publisher's tracks to every other endpoint.
type conference struct {
	id  string
	b   *Bridge
	log *slog.Logger

	mu        sync.Mutex
	endpoints map[string]*endpoint
}

func newConference(b *Bridge, id string) *conference {
	return &conference{id: id, b: b, log: b.log.With("conference", id), endpoints: map[string]*endpoint{}}
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

// allocate creates an endpoint and subscribes it to every track already
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
	var existing []*upTrack
	for _, other := range c.endpoints {
		if other != ep {
			existing = append(existing, other.upTracks()...)
		}
	}
	c.mu.Unlock()
	for _, up := range existing {
		ep.subscribe(up)
	}
	c.log.Info("endpoint allocated", "endpoint", id)
	return nil
}

// publish forwards a new track of ep to every other endpoint.
func (c *conference) publish(up *upTrack) {
	for _, ep := range c.subscribers(up) {
		ep.subscribe(up)
	}
}

// unpublish removes a track from every endpoint that receives it.
func (c *conference) unpublish(up *upTrack) {
	for _, ep := range c.subscribers(up) {
		ep.unsubscribe(up)
	}
}

// subscribers lists every endpoint but the track's publisher.
func (c *conference) subscribers(up *upTrack) []*endpoint {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]*endpoint, 0, len(c.endpoints))
	for _, ep := range c.endpoints {
		if ep != up.ep {
			out = append(out, ep)
		}
	}
	return out
}

// expire closes an endpoint and removes its tracks from the others.
func (c *conference) expire(ep *endpoint) {
	c.mu.Lock()
	if c.endpoints[ep.id] == ep {
		delete(c.endpoints, ep.id)
	}
	c.mu.Unlock()
	for _, up := range ep.close() {
		c.unpublish(up)
	}
	c.log.Info("endpoint expired", "endpoint", ep.id)
}

func (c *conference) close() {
	c.mu.Lock()
	eps := c.endpoints
	c.endpoints = map[string]*endpoint{}
	c.mu.Unlock()
	for _, ep := range eps {
		ep.close()
	}
}
