package control

import (
	"sort"
	"sync"
	"time"

	"github.com/parley/parley/internal/busmsg"
)

// registry tracks bridges from their heartbeats.
type registry struct {
	deadAfter time.Duration

	mu      sync.Mutex
	bridges map[string]bridgeEntry
	changed chan struct{} // closed and replaced on every update
}

type bridgeEntry struct {
	status   busmsg.BridgeStatus
	lastSeen time.Time
}

func newRegistry(deadAfter time.Duration) *registry {
	return &registry{deadAfter: deadAfter, bridges: map[string]bridgeEntry{}, changed: make(chan struct{})}
}

func (r *registry) update(st busmsg.BridgeStatus) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.bridges[st.ID] = bridgeEntry{status: st, lastSeen: time.Now()}
	close(r.changed)
	r.changed = make(chan struct{})
}

// alive reports whether a bridge has been heard from recently.
func (r *registry) alive(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.bridges[id]
	return ok && time.Since(e.lastSeen) < r.deadAfter
}

// pick chooses a bridge for a new participant: the bridge the conference
// already uses if it is alive, else a live, non-draining bridge in the
// participant's region with the fewest endpoints, else any live one.
func (r *registry) pick(region, current string) (string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := time.Now()
	if e, ok := r.bridges[current]; ok && now.Sub(e.lastSeen) < r.deadAfter && !e.status.Draining {
		return current, true
	}
	var live []busmsg.BridgeStatus
	for _, e := range r.bridges {
		if now.Sub(e.lastSeen) < r.deadAfter && !e.status.Draining {
			live = append(live, e.status)
		}
	}
	if len(live) == 0 {
		return "", false
	}
	sort.Slice(live, func(i, j int) bool {
		ri, rj := live[i].Region == region, live[j].Region == region
		if ri != rj {
			return ri
		}
		if live[i].Endpoints != live[j].Endpoints {
			return live[i].Endpoints < live[j].Endpoints
		}
		return live[i].ID < live[j].ID
	})
	return live[0].ID, true
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
