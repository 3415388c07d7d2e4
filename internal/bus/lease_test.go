package bus

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

func startBus(t *testing.T) *Bus {
	t.Helper()
	e, err := StartEmbedded(EmbeddedOptions{Name: "test", StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Shutdown)
	b, err := Connect(Options{Embedded: e, Name: "test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	return b
}

func TestLeases(t *testing.T) {
	b := startBus(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	l, err := b.OpenLeases(ctx, "test_leases", time.Second, 1)
	if err != nil {
		t.Fatal(err)
	}
	a, err := l.Acquire(ctx, "room", "node-a")
	if err != nil {
		t.Fatalf("acquire: %v", err)
	}
	if _, err := l.Acquire(ctx, "room", "node-b"); !errors.Is(err, ErrLeaseHeld) {
		t.Fatalf("second acquire: %v, want ErrLeaseHeld", err)
	}
	if owner, _ := l.Owner(ctx, "room"); owner != "node-a" {
		t.Fatalf("owner %q", owner)
	}
	// Refreshing keeps it past its TTL.
	for range 4 {
		time.Sleep(400 * time.Millisecond)
		if err := l.Refresh(ctx, a, "node-a"); err != nil {
			t.Fatalf("refresh: %v", err)
		}
	}
	if owner, _ := l.Owner(ctx, "room"); owner != "node-a" {
		t.Fatalf("owner after refreshes %q", owner)
	}
	// Released, it can be taken by another.
	if err := l.Release(ctx, a); err != nil {
		t.Fatal(err)
	}
	bl, err := l.Acquire(ctx, "room", "node-b")
	if err != nil {
		t.Fatalf("acquire after release: %v", err)
	}
	// Not refreshed, it expires and someone else takes it; the old holder
	// finds out when it refreshes.
	deadline := time.Now().Add(10 * time.Second)
	var c *Lease
	for time.Now().Before(deadline) {
		if c, err = l.Acquire(ctx, "room", "node-c"); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if c == nil {
		t.Fatal("an expired lease was never free again")
	}
	if err := l.Refresh(ctx, bl, "node-b"); !errors.Is(err, ErrLeaseHeld) {
		t.Errorf("refresh of a lost lease: %v, want ErrLeaseHeld", err)
	}
}

func TestRequestReply(t *testing.T) {
	b := startBus(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	type msg struct{ N int }
	if _, err := Request[msg](ctx, b, "nobody.home", msg{1}); !errors.Is(err, ErrNoResponders) {
		t.Fatalf("request without responders: %v", err)
	}
	sub, err := b.Subscribe("double", func(m *nats.Msg) {
		var in msg
		if err := Decode(m, &in); err != nil {
			Respond(m, nil, err)
			return
		}
		if in.N < 0 {
			Respond(m, nil, errors.New("negative"))
			return
		}
		Respond(m, msg{in.N * 2}, nil)
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	got, err := Request[msg](ctx, b, "double", msg{21})
	if err != nil || got.N != 42 {
		t.Fatalf("double(21) = %v, %v", got, err)
	}
	_, err = Request[msg](ctx, b, "double", msg{-1})
	if !errors.Is(err, ErrRemote) {
		t.Fatalf("remote error: %v", err)
	}
	var remote *RemoteError
	if !errors.As(err, &remote) || remote.Msg != "negative" || err.Error() != "bus: remote error: negative" {
		t.Fatalf("remote error %q: want a *RemoteError with the responder's text", err)
	}
}
