// Package testlog gives a test a logger that writes into the test's own
// output, which go test shows only when the test fails: a passing suite
// stays quiet, and a failing test comes with what the server said around
// it. Warnings only, unless PARLEY_TEST_DEBUG is set.
package testlog

import (
	"log/slog"
	"os"
	"sync"
	"testing"
)

// New returns a logger for t. Lines logged after the test has ended (by a
// goroutine it left behind) are dropped: go test refuses them.
func New(t testing.TB) *slog.Logger {
	level := slog.LevelWarn
	if os.Getenv("PARLEY_TEST_DEBUG") != "" {
		level = slog.LevelDebug
	}
	w := &writer{t: t}
	t.Cleanup(w.stop)
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

type writer struct {
	t     testing.TB
	mu    sync.Mutex
	ended bool
}

func (w *writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.ended {
		_, _ = w.t.Output().Write(p)
	}
	return len(p), nil
}

// stop runs among the test's cleanups, before go test marks it done.
func (w *writer) stop() {
	w.mu.Lock()
	w.ended = true
	w.mu.Unlock()
}
