package control

import (
	"testing"
	"time"

	"github.com/parley/parley/internal/busmsg"
)

func TestRegistryPick(t *testing.T) {
	r := newRegistry(time.Second)
	if _, ok := r.pick("eu", ""); ok {
		t.Fatal("an empty registry picked a bridge")
	}
	r.update(busmsg.BridgeStatus{ID: "eu-busy", Region: "eu", Endpoints: 50})
	r.update(busmsg.BridgeStatus{ID: "eu-idle", Region: "eu", Endpoints: 3})
	r.update(busmsg.BridgeStatus{ID: "us-idle", Region: "us", Endpoints: 0})
	r.update(busmsg.BridgeStatus{ID: "eu-draining", Region: "eu", Endpoints: 0, Draining: true})

	for _, tc := range []struct {
		name, region, current, want string
	}{
		{"region first, then fewest endpoints", "eu", "", "eu-idle"},
		{"another region", "us", "", "us-idle"},
		{"unknown region falls back to the least loaded", "ap", "", "us-idle"},
		{"the conference keeps its bridge", "us", "eu-busy", "eu-busy"},
		{"a draining bridge is not kept", "eu", "eu-draining", "eu-idle"},
		{"an unknown current bridge is ignored", "eu", "gone", "eu-idle"},
	} {
		got, ok := r.pick(tc.region, tc.current)
		if !ok || got != tc.want {
			t.Errorf("%s: pick(%q, %q) = %q, want %q", tc.name, tc.region, tc.current, got, tc.want)
		}
	}
}

func TestRegistryForgetsSilentBridges(t *testing.T) {
	r := newRegistry(50 * time.Millisecond)
	r.update(busmsg.BridgeStatus{ID: "a", Region: "eu"})
	if !r.alive("a") {
		t.Fatal("a fresh bridge is not alive")
	}
	time.Sleep(80 * time.Millisecond)
	if r.alive("a") {
		t.Error("a silent bridge is still alive")
	}
	if _, ok := r.pick("eu", "a"); ok {
		t.Error("a silent bridge was picked")
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
