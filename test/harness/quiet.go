package harness

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/parley/parley/test/deadline"
)

// QuietWait is how long Quiet waits for the machine before the test fails.
const QuietWait = 8 * time.Minute

// Quiet makes the test the only one on this machine, in any test process,
// that measures media timing or makes heavy media load: bandwidth
// estimation, layer switches, retransmissions, browsers. On a 2-core
// machine two of them at once starve each other, and an estimator that
// sees a starved process's delays backs off as if the network were
// congested: a false failure. Tests that hold it run one at a time (an
// exclusive flock on a file in the temporary directory, and within a test
// process one top-level test at a time); the rest of the suite runs beside
// them. A test may call it more than once (two browsers). Its deadline
// (test/deadline) is held while it waits.
func Quiet(t testing.TB) {
	t.Helper()
	root, _, _ := strings.Cut(t.Name(), "/")
	resume := deadline.Hold(t)
	defer resume()
	timeout := time.NewTimer(QuietWait)
	defer timeout.Stop()
	for {
		quiet.mu.Lock()
		switch quiet.holder {
		case root:
			quiet.n++
			quiet.mu.Unlock()
			t.Cleanup(quietRelease)
			return
		case "":
			quiet.holder, quiet.n = root, 1
			quiet.mu.Unlock()
			if err := lockMachine(timeout.C); err != nil {
				quiet.mu.Lock()
				quiet.holder, quiet.n = "", 0
				quiet.mu.Unlock()
				t.Fatalf("quiet: %v", err)
			}
			t.Cleanup(quietRelease)
			return
		}
		released := quiet.released
		quiet.mu.Unlock()
		select {
		case <-released:
		case <-timeout.C:
			t.Fatalf("quiet: another test of this process held the machine for more than %s", QuietWait)
		}
	}
}

// quiet is this process's hold on the machine.
var quiet = struct {
	mu       sync.Mutex
	holder   string        // the top-level test holding it, "" for none
	n        int           // its Quiet calls not yet cleaned up
	file     *os.File      // holds the flock
	released chan struct{} // closed when the holder lets go
}{released: make(chan struct{})}

// lockMachine takes the flock that other test processes wait on.
func lockMachine(timeout <-chan time.Time) error {
	path := filepath.Join(os.TempDir(), "parley-test-quiet.lock")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		return err
	}
	locked := make(chan error, 1)
	go func() { locked <- syscall.Flock(int(f.Fd()), syscall.LOCK_EX) }()
	select {
	case err := <-locked:
		if err != nil {
			f.Close()
			return err
		}
	case <-timeout:
		f.Close() // the waiting flock ends with the file
		return &os.PathError{Op: "flock", Path: path, Err: os.ErrDeadlineExceeded}
	}
	quiet.mu.Lock()
	quiet.file = f
	quiet.mu.Unlock()
	return nil
}

func quietRelease() {
	quiet.mu.Lock()
	defer quiet.mu.Unlock()
	if quiet.n--; quiet.n > 0 {
		return
	}
	if quiet.file != nil {
		quiet.file.Close() // releases the flock
		quiet.file = nil
	}
	quiet.holder = ""
	close(quiet.released)
	quiet.released = make(chan struct{})
}
