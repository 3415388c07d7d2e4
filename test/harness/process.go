package harness

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/parley/parley/test/deadline"
	"github.com/parley/parley/test/ports"
)

var (
	buildOnce sync.Once
	binary    string
	buildErr  error
)

// Binary builds the parley command once per test run and returns its path.
func Binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "parley-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binary = filepath.Join(dir, "parley")
		_, file, _, _ := runtime.Caller(0)
		root := filepath.Join(filepath.Dir(file), "..", "..")
		cmd := exec.Command("go", "build", "-o", binary, "./cmd/parley")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binary
}

// NATS runs a NATS server with JetStream on a free loopback port, as an
// external cluster would be, and returns its URL and the server.
func NATS(t testing.TB) (string, *server.Server) {
	t.Helper()
	deadline.Arm(t, deadline.Default)
	srv, err := server.NewServer(&server.Options{
		Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(), NoLog: true, NoSigs: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		t.Fatal("NATS did not start")
	}
	t.Cleanup(srv.Shutdown)
	return srv.ClientURL(), srv
}

// FreePort returns a TCP port free on loopback now.
func FreePort(t testing.TB) int {
	t.Helper()
	return FreePortOn(t, "127.0.0.1")
}

// FreePortOn is a port free on host for TCP and UDP, which no other test
// process is handed until t ends (see test/ports).
func FreePortOn(t testing.TB, host string) int {
	t.Helper()
	return ports.Reserve(t, host)
}

// Process is a parley node running as its own process.
type Process struct {
	Name string
	URL  string // http://host:port
	cmd  *exec.Cmd
	out  *lockedBuffer
	done chan struct{}
	err  error
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// StartProcess runs `parley serve` with args plus a free --listen port on
// loopback, media on loopback only and a temporary --data-dir, and waits until
// /healthz answers. The process is killed when the test ends; its log is
// printed if the test failed.
func StartProcess(t testing.TB, name string, args ...string) *Process {
	t.Helper()
	return StartProcessOn(t, "127.0.0.1", name, append([]string{"--public-ip", "127.0.0.1", "--media-loopback"}, args...)...)
}

// StartProcessOn runs `parley serve` like StartProcess, listening on host
// (an address of this machine, such as one a test/netns lab gave it)
// rather than on loopback, and without --media-loopback.
func StartProcessOn(t testing.TB, host, name string, args ...string) *Process {
	t.Helper()
	deadline.Arm(t, deadline.Default)
	addr := net.JoinHostPort(host, strconv.Itoa(FreePortOn(t, host)))
	args = append([]string{"serve", "--listen", addr, "--data-dir", t.TempDir(), "--node-id", name}, args...)
	p := &Process{Name: name, URL: "http://" + addr, out: &lockedBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(Binary(t), args...)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("--- log of %s ---\n%s", name, p.out.String())
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(p.URL + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		select {
		case <-p.done:
			t.Fatalf("%s exited at start: %v\n%s", name, p.err, p.out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not come up\n%s", name, p.out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Kill sends SIGKILL, as a crash would.
func (p *Process) Kill() { _ = p.cmd.Process.Kill() }

// Signal sends sig to the process.
func (p *Process) Signal(sig syscall.Signal) { _ = p.cmd.Process.Signal(sig) }

// Wait waits for the process to exit and returns its exit code (-1 if it
// was killed by a signal, or if ctx ended first).
func (p *Process) Wait(ctx context.Context) int {
	select {
	case <-p.done:
	case <-ctx.Done():
		return -1
	}
	return p.cmd.ProcessState.ExitCode()
}

// Log returns what the process has written so far.
func (p *Process) Log() string { return p.out.String() }

// WaitReady waits until every process's /readyz answers 200.
func WaitReady(t testing.TB, timeout time.Duration, procs ...*Process) {
	t.Helper()
	Eventually(t, timeout, "the nodes are ready", func() error {
		for _, p := range procs {
			resp, err := http.Get(p.URL + "/readyz")
			if err != nil {
				return err
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("%s: readyz %d", p.Name, resp.StatusCode)
			}
		}
		return nil
	})
}
