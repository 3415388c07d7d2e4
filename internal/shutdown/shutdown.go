// Package shutdown bounds the waits of Close methods. A part that does not
// stop in time is named in the log and left to finish in the background,
// so that stopping a node, a client or a test never hangs on one stuck
// goroutine (a peer that stopped answering, a blocked write).
package shutdown

import (
	"log/slog"
	"sync"
	"time"
)

// Timeout is how long a Close waits for one part to stop.
const Timeout = 5 * time.Second

// Wait waits until done is closed or timeout passes; then it logs what is
// still running and returns false.
func Wait(log *slog.Logger, what string, timeout time.Duration, done <-chan struct{}) bool {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-done:
		return true
	case <-t.C:
		log.Warn("did not stop in time; leaving it behind", "part", what, "waited", timeout)
		return false
	}
}

// WaitGroup is Wait for the goroutines of wg.
func WaitGroup(log *slog.Logger, what string, timeout time.Duration, wg *sync.WaitGroup) bool {
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	return Wait(log, what, timeout, done)
}
