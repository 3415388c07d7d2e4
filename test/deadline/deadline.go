// Package deadline gives each test a deadline of its own. A test that has
// not finished in time (its cleanups included) ends the test binary with a
// short goroutine dump: only the goroutines in Parley's code, identical
// stacks shown once with a count. Without it a hang lasts until go test's
// -timeout and ends in a dump of every goroutine the runtime has.
package deadline

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// Default is the deadline the test harness arms for integration and browser
// tests that do not choose their own: about three times the slowest such
// test under a CPU hog on both cores of the development machine.
const Default = 4 * time.Minute

// module is the import path prefix of Parley's own code.
const module = "github.com/parley/parley/"

var (
	mu    sync.Mutex
	armed = map[string]*deadline{}
)

// deadline is an armed test's: when it expires and what it was given.
type deadline struct {
	timer *time.Timer
	at    time.Time
	d     time.Duration
}

// Arm gives the test d to finish, cleanups included. Only the first call
// for a test counts, so helpers may arm the test they are called for. Call
// it after t.Parallel, which waits for the serial tests to finish.
func Arm(t testing.TB, d time.Duration) {
	t.Helper()
	name := t.Name()
	mu.Lock()
	defer mu.Unlock()
	if covering(name) != "" {
		return
	}
	dl := &deadline{at: time.Now().Add(d), d: d}
	dl.timer = time.AfterFunc(d, func() { expire(name, dl) })
	armed[name] = dl
	t.Cleanup(func() {
		mu.Lock()
		dl.timer.Stop()
		delete(armed, name)
		mu.Unlock()
	})
}

// Hold stops the clock of the deadline that covers the test until the
// returned function is called: for a wait that is not the test's own
// doing, such as its turn on a shared machine. A wait that never ends is
// bounded by the caller.
func Hold(t testing.TB) (resume func()) {
	mu.Lock()
	defer mu.Unlock()
	name := covering(t.Name())
	if name == "" {
		return func() {}
	}
	dl := armed[name]
	if !dl.timer.Stop() {
		return func() {} // expiring already
	}
	left := time.Until(dl.at)
	start := time.Now()
	return func() {
		mu.Lock()
		defer mu.Unlock()
		if armed[name] != dl {
			return // the test ended meanwhile
		}
		waited := time.Since(start)
		dl.at, dl.d = time.Now().Add(left), dl.d+waited
		dl.timer = time.AfterFunc(left, func() { expire(name, dl) })
	}
}

// covering is the armed test whose deadline covers the named one: itself
// or a test that contains it; "" when none is armed.
func covering(name string) string {
	if armed[name] != nil {
		return name
	}
	for i := strings.LastIndexByte(name, '/'); i > 0; i = strings.LastIndexByte(name[:i], '/') {
		if armed[name[:i]] != nil {
			return name[:i]
		}
	}
	return ""
}

// expire reports the hung test and ends the test binary: a test goroutine
// that never returns cannot be failed any other way.
func expire(name string, dl *deadline) {
	mu.Lock()
	d := dl.d
	mu.Unlock()
	buf := make([]byte, 8<<20)
	buf = buf[:runtime.Stack(buf, true)]
	fmt.Fprintf(os.Stderr, "\n--- DEADLINE: %s did not finish within %v. Goroutines in Parley's code:\n%s\n", name, d, Condense(buf))
	os.Exit(3)
}

// Condense shortens a goroutine dump (runtime.Stack, or the dump of a
// panic or go test's timeout) to the goroutines with a frame in Parley's
// code, the test packages included. Goroutines with identical stacks are
// shown once, with their count; each stack is cut to its first frames.
func Condense(dump []byte) string {
	type group struct {
		state  string
		frames []string
		count  int
	}
	var (
		groups []*group
		byKey  = map[string]*group{}
		other  int
	)
	for _, block := range bytes.Split(dump, []byte("\n\n")) {
		lines := strings.Split(strings.TrimSpace(string(block)), "\n")
		if len(lines) < 2 || !strings.HasPrefix(lines[0], "goroutine ") {
			continue
		}
		state := ""
		if i, j := strings.IndexByte(lines[0], '['), strings.LastIndexByte(lines[0], ']'); i >= 0 && j > i {
			state = lines[0][i+1 : j]
		}
		var frames []string
		ours := false
		for i := 1; i+1 < len(lines); i += 2 {
			fn := lines[i]
			if k := strings.LastIndexByte(fn, '('); k > 0 {
				fn = fn[:k]
			}
			if strings.HasPrefix(fn, "created by ") {
				break
			}
			if strings.HasPrefix(fn, module+"test/deadline.expire") || strings.HasPrefix(fn, module+"test/deadline.Arm.") {
				ours = false
				break // the watchdog itself
			}
			ours = ours || strings.HasPrefix(fn, module)
			where := strings.TrimSpace(lines[i+1])
			if k := strings.LastIndexByte(where, ' '); k > 0 {
				where = where[:k] // drop the +0x offset
			}
			frames = append(frames, fmt.Sprintf("%s  %s", strings.TrimPrefix(fn, module), filepath.Base(where)))
		}
		if !ours {
			other++
			continue
		}
		if len(frames) > maxFrames {
			frames = append(frames[:maxFrames], "...")
		}
		// Waiting times differ between otherwise identical goroutines.
		kind := state
		if k := strings.IndexByte(kind, ','); k > 0 {
			kind = kind[:k]
		}
		key := kind + "\n" + strings.Join(frames, "\n")
		if g := byKey[key]; g != nil {
			g.count++
			continue
		}
		g := &group{state: state, frames: frames, count: 1}
		byKey[key] = g
		groups = append(groups, g)
	}
	var b strings.Builder
	for i, g := range groups {
		if i == maxGroups {
			fmt.Fprintf(&b, "... and %d more stacks\n", len(groups)-maxGroups)
			break
		}
		fmt.Fprintf(&b, "%d× [%s]\n", g.count, g.state)
		for _, f := range g.frames {
			fmt.Fprintf(&b, "    %s\n", f)
		}
	}
	fmt.Fprintf(&b, "(not shown: %d goroutines outside Parley's code)\n", other)
	return b.String()
}

const (
	maxFrames = 14
	maxGroups = 25
)
