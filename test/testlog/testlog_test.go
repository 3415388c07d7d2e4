package testlog

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestQuietUnlessFailed runs a passing and a failing test in a child
// process, as go test would without -v: only the failing test's log shows.
func TestQuietUnlessFailed(t *testing.T) {
	if os.Getenv("TESTLOG_CHILD") == "1" {
		t.Run("passes", func(t *testing.T) {
			log := New(t)
			log.Warn("warning of a passing test")
			log.Info("info of a passing test")
		})
		t.Run("fails", func(t *testing.T) {
			log := New(t)
			log.Warn("warning of a failing test")
			log.Info("info of a failing test")
			t.Error("failed on purpose")
		})
		t.Run("late", func(t *testing.T) {
			log := New(t)
			t.Cleanup(func() { log.Warn("logged in a cleanup") })
			done := make(chan struct{})
			t.Cleanup(func() { <-done })
			go func() {
				defer close(done)
				log.Warn("logged while the test ends")
			}()
		})
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestQuietUnlessFailed$")
	cmd.Env = append(os.Environ(), "TESTLOG_CHILD=1", "PARLEY_TEST_DEBUG=")
	out, _ := cmd.CombinedOutput()
	s := string(out)
	for _, want := range []string{"warning of a failing test", "failed on purpose"} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
	for _, unwanted := range []string{"of a passing test", "info of a failing test", "panic"} {
		if strings.Contains(s, unwanted) {
			t.Errorf("output has %q:\n%s", unwanted, s)
		}
	}
}

// After the test ends, lines are dropped instead of panicking.
func TestAfterTheEnd(t *testing.T) {
	var w *writer
	t.Run("ends", func(t *testing.T) {
		w = &writer{t: t}
		t.Cleanup(w.stop)
	})
	if n, err := w.Write([]byte("too late\n")); n != 9 || err != nil {
		t.Errorf("Write after the end = %d, %v", n, err)
	}
}
