package netns_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley/parley/test/deadline"
	"github.com/parley/parley/test/netns"
)

// TestMain fails the run if any test left a namespace, link, table or
// process behind.
func TestMain(m *testing.M) {
	code := m.Run()
	if left := netns.Leftovers(os.Getpid()); len(left) > 0 {
		fmt.Fprintf(os.Stderr, "netns: the tests left behind:\n  %s\n", strings.Join(left, "\n  "))
		code = 1
	}
	os.Exit(code)
}

// silence is how long a test waits for traffic that must not arrive.
const silence = time.Second

// start arms the test's deadline and makes its lab.
func start(t *testing.T) *netns.Lab {
	t.Helper()
	t.Parallel()
	deadline.Arm(t, 2*time.Minute)
	return netns.New(t)
}

// tcpEcho listens on addr and echoes every connection; accepted receives
// each connection's local and remote addresses.
func tcpEcho(t *testing.T, addr string) (ln net.Listener, accepted <-chan [2]netip.AddrPort) {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	return ln, serveEcho(t, ln)
}

// serveEcho echoes every connection of ln until the test ends.
func serveEcho(t *testing.T, ln net.Listener) <-chan [2]netip.AddrPort {
	ch := make(chan [2]netip.AddrPort, 16)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			select {
			case ch <- [2]netip.AddrPort{addrPort(c.LocalAddr()), addrPort(c.RemoteAddr())}:
			default:
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, _ = io.Copy(c, c)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }() // every copy ends when its connection closes
		within(t, done, "the echo server to stop")
	})
	return ch
}

// udpEcho answers every datagram to addr with the same bytes.
func udpEcho(t *testing.T, addr string) net.PacketConn {
	t.Helper()
	pc, err := net.ListenPacket("udp4", addr)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			_, _ = pc.WriteTo(buf[:n], from)
		}
	}()
	t.Cleanup(func() { pc.Close(); within(t, done, "the UDP reader to stop") })
	return pc
}

// udpSink listens on addr; received gets the source of every datagram.
func udpSink(t *testing.T, addr string) (net.PacketConn, <-chan netip.AddrPort) {
	t.Helper()
	pc, err := net.ListenPacket("udp4", addr)
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan netip.AddrPort, 16)
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 1500)
		for {
			_, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			select {
			case ch <- addrPort(from):
			default:
			}
		}
	}()
	t.Cleanup(func() { pc.Close(); within(t, done, "the UDP reader to stop") })
	return pc, ch
}

// within waits for done, failing the test after a few seconds.
func within(t *testing.T, done <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Errorf("waited 10s for %s", what)
	}
}

func addrPort(a net.Addr) netip.AddrPort {
	ap, _ := netip.ParseAddrPort(a.String())
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

func port(a net.Addr) uint16 { return addrPort(a).Port() }

// at joins an address and a port.
func at(a netip.Addr, p uint16) string { return netip.AddrPortFrom(a, p).String() }

// dial connects from the branch within a few seconds.
func dial(t *testing.T, b *netns.Branch, addr string) net.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := b.Dial(ctx, "tcp", addr)
	if err != nil {
		t.Fatalf("dial %s from branch %s: %v", addr, b.Name(), err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// mustNotDial asserts that a connection from the branch does not open
// within the silence.
func mustNotDial(t *testing.T, b *netns.Branch, addr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), silence)
	defer cancel()
	if c, err := b.Dial(ctx, "tcp", addr); err == nil {
		c.Close()
		t.Fatalf("branch %s connected to %s through its firewall", b.Name(), addr)
	}
}

// echoes asserts that a round trip over c returns what was sent.
func echoes(t *testing.T, c net.Conn) {
	t.Helper()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	msg := []byte("hello from the branch")
	if _, err := c.Write(msg); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatalf("echo: %v", err)
	}
	if string(got) != string(msg) {
		t.Fatalf("echo: got %q", got)
	}
}

// received waits for one value within d.
func received[T any](t *testing.T, ch <-chan T, d time.Duration, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(d):
		var zero T
		t.Fatalf("%s: nothing within %v", what, d)
		return zero
	}
}

// nothing asserts that nothing arrives on ch within the silence.
func nothing[T any](t *testing.T, ch <-chan T, what string) {
	t.Helper()
	select {
	case v := <-ch:
		t.Fatalf("%s: arrived (%v), but the firewall should drop it", what, v)
	case <-time.After(silence):
	}
}

// branchUDP opens a UDP socket in the branch.
func branchUDP(t *testing.T, b *netns.Branch) net.PacketConn {
	t.Helper()
	pc, err := b.ListenPacket("udp4", "0.0.0.0:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	return pc
}

// send sends a datagram to addr.
func send(t *testing.T, pc net.PacketConn, addr string) {
	t.Helper()
	ua, err := net.ResolveUDPAddr("udp4", addr)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pc.WriteTo([]byte("datagram"), ua); err != nil {
		t.Fatalf("send to %s: %v", addr, err)
	}
}

// reply sends a datagram to addr and returns the source of the answer.
func reply(t *testing.T, pc net.PacketConn, addr string) netip.AddrPort {
	t.Helper()
	send(t, pc, addr)
	pc.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 1500)
	n, from, err := pc.ReadFrom(buf)
	if err != nil {
		t.Fatalf("no answer from %s: %v", addr, err)
	}
	if string(buf[:n]) != "datagram" {
		t.Fatalf("answer from %s: %q", addr, buf[:n])
	}
	return addrPort(from)
}

func TestBranchReachesHost(t *testing.T) {
	l := start(t)
	b := l.Branch("open", netns.BranchOptions{})
	if !b.IP().IsPrivate() || !b.HostIP().IsPrivate() || b.IP() == b.HostIP() {
		t.Fatalf("addresses: branch %s, host end %s", b.IP(), b.HostIP())
	}

	ln, accepted := tcpEcho(t, at(b.HostIP(), 0))
	echoes(t, dial(t, b, ln.Addr().String()))
	if got := received(t, accepted, 5*time.Second, "accept"); got[1].Addr() != b.IP() {
		t.Errorf("the host sees the connection from %v, want the branch's %v", got[1], b.IP())
	}

	// Without a firewall, UDP arrives: the control for TestFirewallNoUDP.
	sink, from := udpSink(t, at(b.HostIP(), 0))
	send(t, branchUDP(t, b), sink.LocalAddr().String())
	if got := received(t, from, 5*time.Second, "UDP from an open branch"); got.Addr() != b.IP() {
		t.Errorf("datagram from %v, want %v", got, b.IP())
	}

	if _, err := b.Dial(context.Background(), "tcp", "localhost:80"); !errors.Is(err, netns.ErrNotLiteral) {
		t.Errorf("dial by name: %v, want ErrNotLiteral", err)
	}
}

func TestFirewallNoUDP(t *testing.T) {
	l := start(t)
	b := l.Branch("noudp", netns.BranchOptions{Firewall: netns.FirewallNoUDP})

	sink, from := udpSink(t, at(b.HostIP(), 0))
	send(t, branchUDP(t, b), sink.LocalAddr().String())
	nothing(t, from, "UDP from a FirewallNoUDP branch")

	ln, _ := tcpEcho(t, at(b.HostIP(), 0))
	echoes(t, dial(t, b, ln.Addr().String()))
}

func TestFirewallTCPOnly(t *testing.T) {
	l := start(t)
	// Listening on every address lets the test know the ports before the
	// branch, and its firewall, exist; only the lab's traffic reaches them.
	allowed, _ := tcpEcho(t, "0.0.0.0:0")
	blocked, blockedAccepts := tcpEcho(t, "0.0.0.0:0")
	b := l.Branch("tcponly", netns.BranchOptions{
		Firewall: netns.FirewallTCPOnly,
		TCPPorts: []int{int(port(allowed.Addr()))},
	})

	echoes(t, dial(t, b, at(b.HostIP(), port(allowed.Addr()))))
	mustNotDial(t, b, at(b.HostIP(), port(blocked.Addr())))
	select {
	case a := <-blockedAccepts:
		t.Fatalf("the unlisted port accepted %v", a)
	default:
	}

	sink, from := udpSink(t, at(b.HostIP(), 0))
	send(t, branchUDP(t, b), sink.LocalAddr().String())
	nothing(t, from, "UDP from a FirewallTCPOnly branch")

	// Nothing the host starts gets in.
	inside, err := b.Listen("tcp", at(b.IP(), 0))
	if err != nil {
		t.Fatal(err)
	}
	serveEcho(t, inside)
	d := net.Dialer{Timeout: silence}
	if c, err := d.Dial("tcp", inside.Addr().String()); err == nil {
		c.Close()
		t.Fatal("the host connected into a FirewallTCPOnly branch")
	}
}

func TestNATNode(t *testing.T) {
	l := start(t)
	b := l.Branch("client", netns.BranchOptions{})
	public, private := l.NATNode()
	if !netip.MustParsePrefix("203.0.113.0/24").Contains(public) || !private.IsPrivate() {
		t.Fatalf("NAT node: public %s, private %s", public, private)
	}

	ln, accepted := tcpEcho(t, at(private, 0))
	p := port(ln.Addr())
	echoes(t, dial(t, b, at(public, p)))
	got := received(t, accepted, 5*time.Second, "accept via DNAT")
	if got[0] != netip.AddrPortFrom(private, p) {
		t.Errorf("accepted on %v, want the private %v", got[0], netip.AddrPortFrom(private, p))
	}
	if got[1].Addr() != b.IP() {
		t.Errorf("accepted from %v, want the branch's %v", got[1], b.IP())
	}

	echo := udpEcho(t, at(private, 0))
	up := port(echo.LocalAddr())
	if from := reply(t, branchUDP(t, b), at(public, up)); from != netip.AddrPortFrom(public, up) {
		t.Errorf("the branch's answer came from %v, want the public %v", from, netip.AddrPortFrom(public, up))
	}

	t.Run("hairpin", func(t *testing.T) {
		c, err := net.DialTimeout("tcp", at(public, p), 5*time.Second)
		if err != nil {
			t.Fatalf("the host to its own public address: %v", err)
		}
		defer c.Close()
		echoes(t, c)
		if got := received(t, accepted, 5*time.Second, "hairpin accept"); got[0] != netip.AddrPortFrom(private, p) {
			t.Errorf("hairpin accepted on %v, want %v", got[0], netip.AddrPortFrom(private, p))
		}

		pc, err := net.ListenPacket("udp4", "0.0.0.0:0")
		if err != nil {
			t.Fatal(err)
		}
		defer pc.Close()
		if from := reply(t, pc, at(public, up)); from != netip.AddrPortFrom(public, up) {
			t.Errorf("the host's answer came from %v, want %v", from, netip.AddrPortFrom(public, up))
		}
	})

	t.Run("local address", func(t *testing.T) {
		own := l.LocalAddr()
		if own == private || own == b.HostIP() {
			t.Fatalf("LocalAddr %s is not new", own)
		}
		ln, accepted := tcpEcho(t, at(own, 0))
		echoes(t, dial(t, b, ln.Addr().String()))
		if got := received(t, accepted, 5*time.Second, "accept on LocalAddr"); got[0].Addr() != own || got[1].Addr() != b.IP() {
			t.Errorf("accepted %v from %v, want %v from %v", got[0], got[1], own, b.IP())
		}
	})
}

func TestNATSymmetric(t *testing.T) {
	l := start(t)
	b := l.Branch("natted", netns.BranchOptions{NAT: netns.NATSymmetric})
	if b.SourceIP() == b.IP() {
		t.Fatalf("behind NAT, the source %s should be the router's, not the client's", b.SourceIP())
	}

	sink1, from1 := udpSink(t, at(b.HostIP(), 0))
	sink2, from2 := udpSink(t, at(b.HostIP(), 0))
	pc := branchUDP(t, b)
	send(t, pc, sink1.LocalAddr().String())
	send(t, pc, sink2.LocalAddr().String())
	s1 := received(t, from1, 5*time.Second, "datagram to the first port")
	s2 := received(t, from2, 5*time.Second, "datagram to the second port")
	if s1.Addr() != b.SourceIP() || s2.Addr() != b.SourceIP() {
		t.Errorf("datagrams from %v and %v, want the router's %v", s1, s2, b.SourceIP())
	}
	if s1.Port() == s2.Port() {
		t.Errorf("one socket got the same mapping %v for two destinations: not symmetric", s1)
	}

	// The router forwards to the host's other addresses too.
	public, private := l.NATNode()
	ln, accepted := tcpEcho(t, at(private, 0))
	echoes(t, dial(t, b, at(public, port(ln.Addr()))))
	if got := received(t, accepted, 5*time.Second, "accept via NAT and DNAT"); got[1].Addr() != b.SourceIP() {
		t.Errorf("accepted from %v, want the router's %v", got[1], b.SourceIP())
	}
	own := l.LocalAddr()
	ln2, _ := tcpEcho(t, at(own, 0))
	echoes(t, dial(t, b, ln2.Addr().String()))
}

// downRate measures, for about d, how fast the branch receives a bulk TCP
// transfer from the host, in bits per second.
func downRate(t *testing.T, b *netns.Branch, d time.Duration) float64 {
	t.Helper()
	ln, err := net.Listen("tcp", at(b.HostIP(), 0))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	sent := make(chan struct{})
	go func() {
		defer close(sent)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		c.SetWriteDeadline(time.Now().Add(d + 10*time.Second))
		chunk := make([]byte, 32<<10)
		for {
			if _, err := c.Write(chunk); err != nil {
				return // the branch hung up
			}
		}
	}()
	c := dial(t, b, ln.Addr().String())
	buf := make([]byte, 64<<10)
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(c, buf[:1]); err != nil {
		t.Fatalf("first byte: %v", err)
	}
	begin := time.Now()
	last, total := begin, 0
	c.SetReadDeadline(begin.Add(d))
	for {
		n, err := c.Read(buf)
		if n > 0 {
			total += n
			last = time.Now()
		}
		if err != nil {
			break
		}
	}
	c.Close()
	select {
	case <-sent:
	case <-time.After(10 * time.Second):
		t.Fatal("the sender did not stop")
	}
	return float64(total*8) / last.Sub(begin).Seconds()
}

func TestDownRate(t *testing.T) {
	l := start(t)
	slow := l.Branch("slow", netns.BranchOptions{DownRate: "1mbit"})
	fast := l.Branch("fast", netns.BranchOptions{})

	out, err := exec.Command("tc", "qdisc", "show", "dev", slow.HostLink()).CombinedOutput()
	if err != nil {
		t.Fatalf("tc qdisc show: %v: %s", err, out)
	}
	if !strings.Contains(string(out), "tbf") || !strings.Contains(string(out), "rate 1Mbit") {
		t.Fatalf("no 1mbit token bucket on %s: %s", slow.HostLink(), out)
	}

	limited := downRate(t, slow, 2*time.Second)
	unlimited := downRate(t, fast, 500*time.Millisecond)
	t.Logf("received %.2f Mbit/s at 1mbit, %.0f Mbit/s unlimited", limited/1e6, unlimited/1e6)
	if limited > 3e6 || limited < 0.2e6 {
		t.Errorf("at DownRate 1mbit the branch received %.2f Mbit/s, want about 1", limited/1e6)
	}
	if unlimited < 20e6 {
		t.Errorf("an unlimited branch received only %.2f Mbit/s: the measurement cannot tell the limit", unlimited/1e6)
	}
}

func TestForward(t *testing.T) {
	l := start(t)
	b := l.Branch("browser", netns.BranchOptions{})
	// A server on the namespace's own loopback, as Chromium's DevTools is.
	inside, err := b.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	serveEcho(t, inside)
	c, err := net.DialTimeout("tcp", b.Forward(t, inside.Addr().String()), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	echoes(t, c)
}

func TestCommandAndCleanup(t *testing.T) {
	deadline.Arm(t, 2*time.Minute)
	var (
		sleep  *exec.Cmd
		exited = make(chan error, 1)
		ns     string
	)
	t.Run("lab", func(t *testing.T) {
		l := netns.New(t)
		b := l.Branch("cmd", netns.BranchOptions{})
		ns = b.Namespace()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		out, err := b.Command(ctx, "ip", "-4", "-o", "addr", "show", "dev", "eth0").CombinedOutput()
		if err != nil {
			t.Fatalf("command in the namespace: %v: %s", err, out)
		}
		if !strings.Contains(string(out), b.IP().String()+"/") {
			t.Fatalf("the command did not run in the branch: %s", out)
		}

		sleep = b.Command(context.Background(), "sleep", "60")
		if err := sleep.Start(); err != nil {
			t.Fatal(err)
		}
		go func() { exited <- sleep.Wait() }()
		left := strings.Join(netns.Leftovers(os.Getpid()), "\n")
		for _, want := range []string{"namespace " + ns, "process " + strconv.Itoa(sleep.Process.Pid), "link " + b.HostLink()} {
			if !strings.Contains(left, want) {
				t.Errorf("Leftovers of a live lab lack %q:\n%s", want, left)
			}
		}
	})
	if sleep == nil {
		return
	}
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		t.Fatalf("sleep %d survived the lab's cleanup", sleep.Process.Pid)
	}
	if left := netns.Leftovers(os.Getpid()); len(left) > 0 {
		t.Fatalf("after cleanup, left behind:\n%s", strings.Join(left, "\n"))
	}
}

func TestSweep(t *testing.T) {
	deadline.Arm(t, 2*time.Minute)
	netns.New(t) // skips where namespaces cannot be made

	// A PID above pid_max never belongs to a live process; adding this
	// process's own keeps test binaries that run at once apart.
	raw, err := os.ReadFile("/proc/sys/kernel/pid_max")
	if err != nil {
		t.Fatal(err)
	}
	pidMax, err := strconv.Atoi(strings.TrimSpace(string(raw)))
	if err != nil {
		t.Fatal(err)
	}
	dead := pidMax + os.Getpid()
	ns := fmt.Sprintf("parley-%d-1-ghost", dead)
	link := "pt" + strconv.FormatInt(int64(dead), 36) + "-1v"
	peer := "pt" + strconv.FormatInt(int64(dead), 36) + "-2v"
	table := fmt.Sprintf("parley_test_%d_1", dead)
	t.Cleanup(func() { // in case the sweep fails
		exec.Command("ip", "netns", "del", ns).Run()
		exec.Command("ip", "link", "del", link).Run()
		exec.Command("nft", "delete", "table", "inet", table).Run()
	})
	for _, c := range [][]string{
		{"ip", "netns", "add", ns},
		{"ip", "link", "add", link, "type", "veth", "peer", "name", peer},
		{"nft", "add", "table", "inet", table},
	} {
		if out, err := exec.Command(c[0], c[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v: %s", c, err, out)
		}
	}
	sleep := exec.Command("ip", "netns", "exec", ns, "sleep", "60")
	if err := sleep.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { sleep.Wait(); close(exited) }()
	t.Cleanup(func() {
		sleep.Process.Kill()
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			t.Errorf("sleep %d did not die", sleep.Process.Pid)
		}
	})
	// Leftovers sees the process once ip netns exec has entered the
	// namespace. Another test binary's New may sweep all this first; then
	// there is nothing left to list.
	want := 5 // namespace, two links, table, process
	for end := time.Now().Add(5 * time.Second); len(netns.Leftovers(dead)) < want; {
		if exec.Command("ip", "netns", "pids", ns).Run() != nil {
			t.Logf("another test process swept %s first", ns)
			break
		}
		if time.Now().After(end) {
			t.Fatalf("the simulated leftovers are not all listed:\n%s", strings.Join(netns.Leftovers(dead), "\n"))
		}
		time.Sleep(20 * time.Millisecond)
	}

	netns.New(t) // sweeps
	if left := netns.Leftovers(dead); len(left) > 0 {
		t.Fatalf("New did not sweep a dead process's leftovers:\n%s", strings.Join(left, "\n"))
	}
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		t.Fatalf("the sweep left sleep %d alive", sleep.Process.Pid)
	}
}
