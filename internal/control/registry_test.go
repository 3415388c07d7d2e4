package control

import (
	"errors"
	"testing"
	"time"

	"github.com/parley/parley/internal/busmsg"
)

func TestDefaultSelector(t *testing.T) {
	bridges := []BridgeInfo{
		{ID: "eu-busy", Region: "eu", Stress: 0.5, Endpoints: 50},
		{ID: "eu-idle", Region: "eu", Stress: 0.1, Endpoints: 3},
		{ID: "eu-hot", Region: "eu", Stress: 0.95, Endpoints: 1},
		{ID: "us-idle", Region: "us", Stress: 0.0, Endpoints: 0},
		{ID: "eu-draining", Region: "eu", Draining: true},
	}
	s := DefaultSelector{StressThreshold: 0.8, ConferenceCap: 2}
	for _, tc := range []struct {
		name string
		p    Placement
		want string
	}{
		{"region first, then the least stressed", Placement{Region: "eu"}, "eu-idle"},
		{"another region", Placement{Region: "us"}, "us-idle"},
		{"unknown region: the least stressed anywhere", Placement{Region: "ap"}, "us-idle"},
		{"the conference keeps its bridge", Placement{Region: "us", Conference: map[string]int{"eu-busy": 5}}, "eu-busy"},
		{"a stressed bridge keeps its conference", Placement{Region: "eu", Conference: map[string]int{"eu-hot": 1}}, "eu-hot"},
		{"a draining bridge does not", Placement{Region: "eu", Conference: map[string]int{"eu-draining": 4}}, "eu-idle"},
		{"a dead bridge does not", Placement{Region: "eu", Conference: map[string]int{"gone": 4}}, "eu-idle"},
		{"the cap does not split a conference that cannot cascade", Placement{Region: "eu", Conference: map[string]int{"eu-busy": 2}}, "eu-busy"},
		{"the cap moves newcomers where conferences cascade", Placement{Region: "eu", Conference: map[string]int{"eu-busy": 2}, Cascading: true}, "eu-idle"},
		{"the bridge carrying most of a cascaded conference", Placement{Region: "us", Conference: map[string]int{"eu-busy": 1, "eu-idle": 0}, Cascading: true}, "eu-busy"},
	} {
		got, err := s.Select(tc.p, bridges)
		if err != nil || got != tc.want {
			t.Errorf("%s: got %q, %v; want %q", tc.name, got, err, tc.want)
		}
	}
	// All above the threshold: the least stressed still takes it.
	hot := []BridgeInfo{{ID: "a", Stress: 0.9}, {ID: "b", Stress: 0.85}}
	if got, _ := s.Select(Placement{}, hot); got != "b" {
		t.Errorf("all stressed: got %q, want b", got)
	}
	if _, err := s.Select(Placement{}, []BridgeInfo{{ID: "d", Draining: true}}); !errors.Is(err, ErrNoBridgeFits) {
		t.Errorf("only draining bridges: %v, want ErrNoBridgeFits", err)
	}
}

func TestRegistryLivenessAndPlacements(t *testing.T) {
	r := newRegistry(60 * time.Millisecond)
	r.update(busmsg.BridgeStatus{ID: "a", Region: "eu", Endpoints: 4})
	r.update(busmsg.BridgeStatus{ID: "d", Region: "eu", Draining: true})
	if !r.alive("a") || !r.usable("a") {
		t.Fatal("a fresh bridge is not usable")
	}
	if !r.alive("d") || r.usable("d") {
		t.Fatal("a draining bridge must be alive but not usable")
	}
	r.placed("a")
	r.placed("a")
	for _, b := range r.live() {
		if b.ID == "a" && b.Endpoints != 6 {
			t.Errorf("endpoints %d, want 4 reported + 2 placed", b.Endpoints)
		}
	}
	r.update(busmsg.BridgeStatus{ID: "a", Region: "eu", Endpoints: 6})
	for _, b := range r.live() {
		if b.ID == "a" && b.Endpoints != 6 {
			t.Errorf("after a heartbeat: endpoints %d, want 6", b.Endpoints)
		}
	}
	time.Sleep(100 * time.Millisecond)
	if r.alive("a") || len(r.live()) != 0 {
		t.Error("silent bridges are still alive")
	}
}

func TestRegistryWaitWakesOnUpdate(t *testing.T) {
	r := newRegistry(time.Second)
	done := make(chan struct{})
	go func() {
		r.wait(5 * time.Second)
		close(done)
	}()
	time.Sleep(20 * time.Millisecond)
	r.update(busmsg.BridgeStatus{ID: "a"})
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("wait did not return on an update")
	}
}

// A bridge the bus says is gone is dead at once; one whose heartbeat is
// late is listed for a probe and left out of placement, but still alive
// for those on it; a heartbeat brings either back.
func TestRegistryDeadAndLate(t *testing.T) {
	r := newRegistry(3 * time.Second)
	r.update(busmsg.BridgeStatus{ID: "a"})
	r.update(busmsg.BridgeStatus{ID: "b"})
	if len(r.late(suspectAfter)) != 0 || len(r.live()) != 2 {
		t.Fatalf("fresh: late %v, live %v", r.late(suspectAfter), r.live())
	}
	r.markDead("a")
	if r.alive("a") || r.usable("a") {
		t.Error("a bridge marked dead is alive")
	}
	if live := r.live(); len(live) != 1 || live[0].ID != "b" {
		t.Errorf("live %v, want b only", live)
	}
	r.update(busmsg.BridgeStatus{ID: "a"})
	if !r.alive("a") {
		t.Error("a heartbeat did not bring a back")
	}
	// Late: b's last heartbeat 2 s ago.
	r.mu.Lock()
	r.bridges["b"].lastSeen = time.Now().Add(-2 * time.Second)
	r.mu.Unlock()
	if late := r.late(suspectAfter); len(late) != 1 || late[0] != "b" {
		t.Errorf("late %v, want b", late)
	}
	if !r.alive("b") {
		t.Error("a bridge only late is not alive any more")
	}
	for _, b := range r.live() {
		if b.ID == "b" {
			t.Error("a late bridge is offered for placement")
		}
	}
}
