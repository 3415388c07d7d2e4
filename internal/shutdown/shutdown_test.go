package shutdown

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestWait(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))

	done := make(chan struct{})
	close(done)
	if !Wait(log, "closed", time.Hour, done) {
		t.Error("Wait on a closed channel returned false")
	}

	var wg sync.WaitGroup
	wg.Add(1)
	start := time.Now()
	if WaitGroup(log, "stuck worker", 50*time.Millisecond, &wg) {
		t.Error("WaitGroup with a goroutine that never ends returned true")
	}
	if waited := time.Since(start); waited < 50*time.Millisecond {
		t.Errorf("WaitGroup gave up after %v, before its timeout", waited)
	}
	if !strings.Contains(logs.String(), "part=\"stuck worker\"") {
		t.Errorf("the log does not name the stuck part: %q", logs.String())
	}
	wg.Done()
	if !WaitGroup(log, "worker", time.Hour, &wg) {
		t.Error("WaitGroup of finished goroutines returned false")
	}
}
