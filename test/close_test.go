package test

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/parley/parley/client"
	"github.com/parley/parley/test/harness"
)

// A server that stops answering (SIGSTOP: its sockets stay open, nothing
// replies) does not hold up its clients: Close and Leave return within 5 s,
// whether media was connected or still connecting, and even when the
// application's message handler is stuck.
func TestCloseWhenServerStopsAnswering(t *testing.T) {
	t.Parallel()
	p := harness.StartProcess(t, "frozen", "--udp-port", "0")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	connected := joinMember(t, ctx, p.URL, "frozen", "connected", memberOpts{camera: true, audio: true})
	leaving := joinMember(t, ctx, p.URL, "frozen", "leaving", memberOpts{camera: true})
	for _, m := range []*member{connected, leaving} {
		if err := m.s.WaitConnected(ctx); err != nil {
			t.Fatalf("%s: %v", m.name, err)
		}
	}
	// This one's handler blocks on the first message after the join: the
	// next participant's arrival.
	block := make(chan struct{})
	defer close(block)
	stuck, err := client.Join(ctx, client.Config{URL: p.URL, Room: "frozen", Name: "stuck", Log: testLogger(t),
		OnMessage: func(any) { <-block }})
	if err != nil {
		t.Fatal(err)
	}
	// The server stops while this one's media is still connecting.
	connecting := joinMember(t, ctx, p.URL, "frozen", "connecting", memberOpts{camera: true})
	p.Signal(syscall.SIGSTOP)
	t.Cleanup(func() { p.Signal(syscall.SIGCONT) })

	for _, c := range []struct {
		name string
		end  func()
	}{
		{"Close with media connected", connected.s.Close},
		{"Leave with media connected", leaving.s.Leave},
		{"Close with media connecting", connecting.s.Close},
		{"Close with the message handler stuck", stuck.Close},
	} {
		start := time.Now()
		c.end()
		took := time.Since(start)
		t.Logf("%s returned after %v", c.name, took.Round(time.Millisecond))
		if took > 5*time.Second {
			t.Errorf("%s took %v with the server stopped; want at most 5 s", c.name, took)
		}
	}
}
