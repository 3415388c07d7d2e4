// Package ports hands tests TCP and UDP ports that nothing else takes
// while the test runs.
//
// A port the kernel picks for a listener that is then closed (":0") comes
// from the ephemeral range, the same range every outgoing connection's
// local port comes from: on a busy machine, with test binaries running in
// parallel, another process's connection or listener takes it before the
// server the test starts binds it ("address already in use"). Reserve
// picks ports below the ephemeral range instead, which only listeners that
// ask for them by number take, and holds an advisory lock on each for the
// test's life, so that test processes running side by side never hand out
// the same one.
package ports

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// The range Reserve draws from when the ephemeral range starts above it.
const (
	low  = 20000
	high = 32000
)

// Reserve returns a port free for both TCP and UDP on host, reserved
// against every other test process until t ends.
func Reserve(t testing.TB, host string) int {
	t.Helper()
	p, err := reserve(t, host)
	if err != nil {
		t.Fatalf("ports: %v", err)
	}
	return p
}

func reserve(t testing.TB, host string) (int, error) {
	lo, hi := drawRange()
	dir := filepath.Join(os.TempDir(), "parley-test-ports")
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return 0, err
	}
	for range 200 {
		port := lo + rand.IntN(hi-lo)
		f, err := os.OpenFile(filepath.Join(dir, strconv.Itoa(port)), os.O_CREATE|os.O_RDWR, 0o666)
		if err != nil {
			return 0, err
		}
		if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil {
			f.Close() // another test process holds it
			continue
		}
		if !free(host, port) {
			f.Close()
			continue
		}
		t.Cleanup(func() { f.Close() }) // closing releases the lock
		return port, nil
	}
	return 0, fmt.Errorf("no free port on %s in %d-%d", host, lo, hi)
}

// drawRange is [low, high), or below the machine's ephemeral range when
// that starts lower.
func drawRange() (int, int) {
	lo, hi := low, high
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return lo, hi
	}
	fields := strings.Fields(string(b))
	if len(fields) == 0 {
		return lo, hi
	}
	if start, err := strconv.Atoi(fields[0]); err == nil && start < hi {
		hi = start
		lo = min(lo, hi/2)
	}
	return lo, hi
}

// free reports whether both a TCP listener and a UDP socket can bind port
// on host now.
func free(host string, port int) bool {
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return false
	}
	defer l.Close()
	u, err := net.ListenPacket("udp", addr)
	if err != nil {
		return false
	}
	u.Close()
	return true
}
