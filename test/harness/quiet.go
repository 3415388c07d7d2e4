package harness

import (
	"os"
	"path/filepath"
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
// exclusive flock on a file in the temporary directory); the rest of the
// suite runs beside them.
// The time it waits is added to the test's deadline (test/deadline).
func Quiet(t testing.TB) {
	t.Helper()
	path := filepath.Join(os.TempDir(), "parley-test-quiet.lock")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		t.Fatalf("quiet: %v", err)
	}
	start := time.Now()
	defer func() { deadline.Extend(t, time.Since(start)) }()
	locked := make(chan error, 1)
	go func() { locked <- syscall.Flock(int(f.Fd()), syscall.LOCK_EX) }()
	timer := time.NewTimer(QuietWait)
	defer timer.Stop()
	select {
	case err := <-locked:
		if err != nil {
			f.Close()
			t.Fatalf("quiet: lock %s: %v", path, err)
		}
	case <-timer.C:
		f.Close() // the waiting flock ends with the file
		t.Fatalf("quiet: another test held %s for more than %s", path, QuietWait)
	}
	t.Cleanup(func() { f.Close() }) // closing releases the lock
}
