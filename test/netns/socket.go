package netns

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// ErrNotLiteral is returned for a socket address whose host is a name: a
// name would be resolved on other threads, outside the namespace.
var ErrNotLiteral = errors.New("netns: address must be an IP literal")

// dialCap bounds a Dial whose context has no deadline: a firewall that
// drops a SYN would otherwise leave it waiting for minutes.
const dialCap = time.Minute

// inNamespace runs fn on an OS thread switched into the network namespace
// ns; sockets fn creates belong to ns for good. The thread then goes back to
// its own namespace. If it cannot, it stays locked to its goroutine, which
// ends, and the runtime ends the thread with it: no other goroutine may ever
// run in the wrong namespace.
func inNamespace(ns string, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		home, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			runtime.UnlockOSThread()
			errc <- err
			return
		}
		defer home.Close()
		target, err := os.Open(filepath.Join("/run/netns", ns))
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("namespace %s: %w", ns, err)
			return
		}
		defer target.Close()
		if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("entering namespace %s: %w", ns, err)
			return
		}
		ferr := fn()
		if err := unix.Setns(int(home.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- errors.Join(ferr, fmt.Errorf("leaving namespace %s: %w", ns, err))
			return // still locked: the thread dies with this goroutine
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}

// literal checks that addr's host, if any, is an IP literal.
func literal(addr string) error {
	h, _, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if h == "" {
		return nil
	}
	if _, err := netip.ParseAddr(h); err != nil {
		return fmt.Errorf("%w: %q", ErrNotLiteral, addr)
	}
	return nil
}

// Dial connects from inside the branch's namespace, as a client there
// would. addr must be an IP literal with a port.
func (b *Branch) Dial(ctx context.Context, network, addr string) (net.Conn, error) {
	if err := literal(addr); err != nil {
		return nil, err
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, dialCap)
		defer cancel()
	}
	var c net.Conn
	err := inNamespace(b.ns, func() error {
		var err error
		c, err = (&net.Dialer{}).DialContext(ctx, network, addr)
		return err
	})
	if err != nil && c != nil {
		c.Close()
		c = nil
	}
	return c, err
}

// Listen listens for TCP connections inside the branch's namespace.
func (b *Branch) Listen(network, addr string) (net.Listener, error) {
	if err := literal(addr); err != nil {
		return nil, err
	}
	var ln net.Listener
	err := inNamespace(b.ns, func() error {
		var err error
		ln, err = (&net.ListenConfig{}).Listen(context.Background(), network, addr)
		return err
	})
	if err != nil && ln != nil {
		ln.Close()
		ln = nil
	}
	return ln, err
}

// ListenPacket opens a UDP socket inside the branch's namespace.
func (b *Branch) ListenPacket(network, addr string) (net.PacketConn, error) {
	if err := literal(addr); err != nil {
		return nil, err
	}
	var pc net.PacketConn
	err := inNamespace(b.ns, func() error {
		var err error
		pc, err = (&net.ListenConfig{}).ListenPacket(context.Background(), network, addr)
		return err
	})
	if err != nil && pc != nil {
		pc.Close()
		pc = nil
	}
	return pc, err
}

// Command runs a program in the branch's namespace (ip netns exec). The
// caller starts and waits for it as usual; the lab's cleanup kills it, and
// anything else still running in the namespace, if it has not ended.
func (b *Branch) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	ctx, cancel := context.WithCancel(ctx)
	b.lab.mu.Lock()
	b.lab.cancels = append(b.lab.cancels, cancel)
	b.lab.mu.Unlock()
	return exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", b.ns, name}, args...)...)
}

// Forward listens on the host's loopback and pipes each connection to
// nsAddr inside the branch's namespace, such as 127.0.0.1:9222 where a
// Chromium in the branch serves DevTools. It returns the host address. The
// listener and its connections close when t ends.
func (b *Branch) Forward(t testing.TB, nsAddr string) string {
	t.Helper()
	if err := literal(nsAddr); err != nil {
		t.Fatalf("netns: forward: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("netns: forward: %v", err)
	}
	f := &forwarder{b: b, to: nsAddr, ln: ln, conns: map[net.Conn]bool{}}
	f.wg.Add(1)
	go f.serve()
	t.Cleanup(func() {
		if err := f.close(); err != nil {
			t.Errorf("netns: forward to %s in %s: %v", nsAddr, b.ns, err)
		}
	})
	return ln.Addr().String()
}

// forwarder pipes connections from a host listener into a namespace.
type forwarder struct {
	b  *Branch
	to string
	ln net.Listener
	wg sync.WaitGroup

	mu     sync.Mutex
	conns  map[net.Conn]bool
	closed bool
}

func (f *forwarder) serve() {
	defer f.wg.Done()
	for {
		c, err := f.ln.Accept()
		if err != nil {
			return // closed
		}
		if !f.track(c) {
			return
		}
		f.wg.Add(1)
		go f.pipe(c)
	}
}

// track records a connection to close at the end; false once closed.
func (f *forwarder) track(c net.Conn) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		c.Close()
		return false
	}
	f.conns[c] = true
	return true
}

func (f *forwarder) untrack(c net.Conn) {
	f.mu.Lock()
	delete(f.conns, c)
	f.mu.Unlock()
	c.Close()
}

// pipe copies both ways between c and a new connection inside the
// namespace until either side ends.
func (f *forwarder) pipe(c net.Conn) {
	defer f.wg.Done()
	defer f.untrack(c)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	in, err := f.b.Dial(ctx, "tcp", f.to)
	cancel()
	if err != nil || !f.track(in) {
		return
	}
	defer f.untrack(in)
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(in, c); done <- struct{}{} }()
	go func() { _, _ = io.Copy(c, in); done <- struct{}{} }()
	<-done // closing both ends the other copy
	c.Close()
	in.Close()
	<-done
}

// close stops the listener and every connection, and waits, with a
// deadline, for the goroutines to end.
func (f *forwarder) close() error {
	f.ln.Close()
	f.mu.Lock()
	f.closed = true
	for c := range f.conns {
		c.Close()
	}
	f.mu.Unlock()
	done := make(chan struct{})
	go func() { f.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-time.After(killTimeout):
		return fmt.Errorf("connections still open %v after close", killTimeout)
	}
}
