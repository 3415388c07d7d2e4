package bus

import (
	"context"
	"testing"
	"time"
)

func TestStore(t *testing.T) {
	b := startBus(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s, err := b.OpenStore(ctx, "test_store", time.Second, 1)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.Get(ctx, "room"); err != nil || got != nil {
		t.Fatalf("missing key: %q, %v", got, err)
	}
	if err := s.Put(ctx, "room", []byte(`{"locked":true}`)); err != nil {
		t.Fatal(err)
	}
	// Another connection's store (another node) reads it.
	again, err := b.OpenStore(ctx, "test_store", time.Hour, 1)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := again.Get(ctx, "room"); err != nil || string(got) != `{"locked":true}` {
		t.Fatalf("read back %q, %v", got, err)
	}
	if err := s.Delete(ctx, "room"); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Get(ctx, "room"); got != nil {
		t.Fatalf("after delete: %q", got)
	}
	// Not written again within the bucket's TTL (1 s, the first opener's):
	// gone.
	if err := s.Put(ctx, "old", []byte("x")); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, err := s.Get(ctx, "old")
		if err != nil {
			t.Fatal(err)
		}
		if got == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a document past the TTL is still there after 10 s")
		}
		time.Sleep(100 * time.Millisecond)
	}
}
