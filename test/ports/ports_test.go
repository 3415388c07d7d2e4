package ports

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
)

func TestReserve(t *testing.T) {
	lo, hi := drawRange()
	seen := map[int]bool{}
	for range 50 {
		p := Reserve(t, "127.0.0.1")
		if p < lo || p >= hi {
			t.Fatalf("port %d outside [%d, %d)", p, lo, hi)
		}
		if seen[p] {
			t.Fatalf("port %d handed out twice", p)
		}
		seen[p] = true
	}
	for p := range seen {
		// Reserved: another process's lock on it fails (a new open file
		// description locks like another process).
		f, err := os.Open(filepath.Join(os.TempDir(), "parley-test-ports", strconv.Itoa(p)))
		if err != nil {
			t.Fatal(err)
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err == nil {
			t.Errorf("port %d: its lock was free while reserved", p)
		}
		f.Close()
		// And free to bind.
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err != nil {
			t.Errorf("port %d: %v", p, err)
			continue
		}
		l.Close()
	}
}

func TestFreeSeesTakenPorts(t *testing.T) {
	// A port taken for TCP, or for UDP only, is not free.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if free("127.0.0.1", l.Addr().(*net.TCPAddr).Port) {
		t.Error("a port with a TCP listener counts as free")
	}
	u, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	if free("127.0.0.1", u.LocalAddr().(*net.UDPAddr).Port) {
		t.Error("a port with a UDP socket counts as free")
	}
}
