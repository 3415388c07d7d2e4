package deadline

import (
	"errors"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// blockHere parks its goroutine until release is closed.
func blockHere(release chan struct{}, started *sync.WaitGroup) {
	started.Done()
	<-release
}

func TestCondense(t *testing.T) {
	release := make(chan struct{})
	var started sync.WaitGroup
	for range 5 {
		started.Add(1)
		go blockHere(release, &started)
	}
	started.Wait()
	defer close(release)
	buf := make([]byte, 1<<20)
	dump := buf[:runtime.Stack(buf, true)]
	out := Condense(dump)
	t.Logf("condensed:\n%s", out)
	if !strings.Contains(out, "5× [chan receive]") {
		t.Errorf("the five identical goroutines are not shown once with their count")
	}
	if strings.Count(out, "test/deadline.blockHere") != 1 {
		t.Errorf("blockHere appears %d times, want once", strings.Count(out, "test/deadline.blockHere"))
	}
	if !strings.Contains(out, "deadline_test.go:") {
		t.Errorf("frames do not say where they are")
	}
	if len(out) >= len(dump) {
		t.Errorf("condensed dump of %d bytes is not shorter than the %d-byte dump", len(out), len(dump))
	}
}

// TestArm runs a test that hangs in a child process: the child must end on
// its deadline, exit 3, and name the test and where it hangs.
func TestArm(t *testing.T) {
	if os.Getenv("DEADLINE_CHILD") == "1" {
		Arm(t, 200*time.Millisecond)
		Arm(t, time.Hour) // a second arm does not extend the first
		t.Run("sub", func(t *testing.T) {
			Arm(t, time.Hour) // covered by the parent's deadline
			var wg sync.WaitGroup
			wg.Add(1)
			blockHere(make(chan struct{}), &wg)
		})
		return
	}
	start := time.Now()
	cmd := exec.Command(os.Args[0], "-test.run=^TestArm$", "-test.timeout=2m")
	cmd.Env = append(os.Environ(), "DEADLINE_CHILD=1")
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 3 {
		t.Fatalf("the hung child ended with %v, want exit status 3\n%s", err, out)
	}
	if took := time.Since(start); took > time.Minute {
		t.Errorf("the child took %v to end on a 200 ms deadline", took)
	}
	for _, want := range []string{"--- DEADLINE: TestArm did not finish within 200ms", "test/deadline.blockHere"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the child's output lacks %q:\n%s", want, out)
		}
	}
}

func TestArmStopsWithTheTest(t *testing.T) {
	t.Run("quick", func(t *testing.T) { Arm(t, 50*time.Millisecond) })
	time.Sleep(150 * time.Millisecond) // the quick test's deadline passes: nothing happens
	mu.Lock()
	defer mu.Unlock()
	if len(armed) != 0 {
		t.Errorf("deadlines still armed after their tests ended: %v", armed)
	}
}

// Hold stops the clock: a test held past its deadline is not ended, and
// the time left runs on after it resumes.
func TestHold(t *testing.T) {
	if os.Getenv("DEADLINE_CHILD") == "hold" {
		Arm(t, 200*time.Millisecond)
		resume := Hold(t)
		time.Sleep(400 * time.Millisecond) // held: past the deadline, nothing happens
		resume()
		var wg sync.WaitGroup
		wg.Add(1)
		blockHere(make(chan struct{}), &wg)
		return
	}
	start := time.Now()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHold$", "-test.timeout=2m")
	cmd.Env = append(os.Environ(), "DEADLINE_CHILD=hold")
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 3 {
		t.Fatalf("the hung child ended with %v, want exit status 3\n%s", err, out)
	}
	if took := time.Since(start); took < 550*time.Millisecond {
		t.Errorf("the child ended after %v: the held 400 ms counted against its 200 ms", took)
	}
	if !strings.Contains(string(out), "test/deadline.blockHere") {
		t.Errorf("the child's output lacks the blocked goroutine:\n%s", out)
	}
}
