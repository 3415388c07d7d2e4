package ratelimit

import (
	"net/netip"
	"testing"
	"time"
)

func TestPerAddr(t *testing.T) {
	l := NewPerAddr(60, 3) // one a second, bursts of three
	a, b := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")
	now := time.Unix(1_000_000, 0)
	for i := range 3 {
		if !l.Allow(a, now) {
			t.Fatalf("burst: event %d refused", i)
		}
	}
	if l.Allow(a, now) {
		t.Fatal("a fourth event in the same instant allowed")
	}
	if !l.Allow(b, now) {
		t.Fatal("another address is limited by the first's events")
	}
	if !l.Allow(a, now.Add(time.Second)) {
		t.Fatal("a second later, no token refilled")
	}
	if l.Allow(a, now.Add(time.Second)) {
		t.Fatal("one token a second, two taken")
	}
	// Quiet addresses are forgotten (and start full again).
	later := now.Add(2 * time.Minute)
	if !l.Allow(b, later) || l.Len() != 1 {
		t.Fatalf("after two quiet minutes %d addresses remembered, want 1", l.Len())
	}
}
