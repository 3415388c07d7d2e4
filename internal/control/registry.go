package control

import (
	"sync"
	"time"

	"github.com/parley/parley/internal/busmsg"
)

// registry tracks bridges from their heartbeats.
type registry struct {
	deadAfter time.Duration

	mu      sync.Mutex
	bridges map[string]*bridgeEntry
	changed chan struct{} // closed and replaced on every update
}

type bridgeEntry struct {
	status   busmsg.BridgeStatus
	lastSeen time.Time
	// placed counts endpoints this node put on the bridge since its last
	// heartbeat, which that heartbeat does not include yet.
	placed int
	// dead: the bus says nothing listens for the bridge any more; its next
	// heartbeat, if it comes back, clears it.
	dead bool
}

func newRegistry(deadAfter time.Duration) *registry {
	return &registry{deadAfter: deadAfter, bridges: map[string]*bridgeEntry{}, changed: make(chan struct{})}
}

func (r *registry) update(st busmsg.BridgeStatus) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.bridges[st.ID] = &bridgeEntry{status: st, lastSeen: time.Now()}
	close(r.changed)
	r.changed = make(chan struct{})
}

// placed notes an endpoint put on a bridge, until its next heartbeat.
func (r *registry) placed(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e := r.bridges[id]; e != nil {
		e.placed++
	}
}

// markDead takes a bridge out at once: the bus has no one listening for
// it.
func (r *registry) markDead(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e := r.bridges[id]; e != nil {
		e.dead = true
	}
	close(r.changed)
	r.changed = make(chan struct{})
}

// late lists the bridges, not known dead, whose last heartbeat is older
// than d.
func (r *registry) late(d time.Duration) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for id, e := range r.bridges {
		if !e.dead && time.Since(e.lastSeen) > d && time.Since(e.lastSeen) < r.deadAfter {
			out = append(out, id)
		}
	}
	return out
}

// alive reports whether a bridge has been heard from recently.
func (r *registry) alive(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.bridges[id]
	return ok && !e.dead && time.Since(e.lastSeen) < r.deadAfter
}

// usable reports whether a bridge is alive and not draining.
func (r *registry) usable(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.bridges[id]
	return ok && !e.dead && time.Since(e.lastSeen) < r.deadAfter && !e.status.Draining
}

// live lists the bridges heard from recently: those to place participants
// on. A bridge whose heartbeat is late (suspectAfter) is left out of it
// while control asks whether it is still there.
func (r *registry) live() []BridgeInfo {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := time.Now()
	out := make([]BridgeInfo, 0, len(r.bridges))
	for id, e := range r.bridges {
		if e.dead || now.Sub(e.lastSeen) >= min(r.deadAfter, suspectAfter) {
			continue
		}
		out = append(out, BridgeInfo{
			ID: id, Region: e.status.Region, Stress: e.status.Stress,
			Draining: e.status.Draining, Endpoints: e.status.Endpoints + e.placed,
		})
	}
	return out
}

// wait blocks until the registry changes or the timer fires.
func (r *registry) wait(d time.Duration) {
	r.mu.Lock()
	ch := r.changed
	r.mu.Unlock()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ch:
	case <-t.C:
	}
}
