package turn

import (
	"context"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/pion/stun/v4"

	"github.com/parley/parley/test/ports"
)

// coturn finds one of coturn's programs. The interop tests must run in CI,
// so a missing coturn fails them unless PARLEY_SKIP_COTURN=1 says to skip.
func coturn(t *testing.T, program string) string {
	t.Helper()
	path, err := exec.LookPath(program)
	if err == nil {
		return path
	}
	if os.Getenv("PARLEY_SKIP_COTURN") == "1" {
		t.Skipf("%s not found, skipped because PARLEY_SKIP_COTURN=1", program)
	}
	t.Fatalf("%s not found: install coturn (scripts/test does), Debian package coturn, or set PARLEY_SKIP_COTURN=1", program)
	return ""
}

// uclientTotals matches turnutils_uclient's closing summary.
var uclientTotals = regexp.MustCompile(`start_mclient: tot_send_msgs=(\d+), tot_recv_msgs=(\d+)`)

// TestCoturnClient runs coturn's turnutils_uclient, a TURN client nobody
// here wrote, against the server: in its client-to-client mode (-y) it
// allocates relays and sends messages from one to the other through the
// server, over UDP, TCP and TLS, with REST credentials made by coturn
// itself from the shared secret (-W) or by Credentials (-u, -w).
func TestCoturnClient(t *testing.T) {
	uclient := coturn(t, "turnutils_uclient")
	const messages = 10
	for _, tc := range []struct {
		name      string
		transport string // the server's listener to use
		args      []string
		creds     string // "secret": -W, "issued": -u/-w from Credentials, "forged"
	}{
		{"udp secret", "udp", nil, "secret"},
		{"tcp secret", "tcp", []string{"-t"}, "secret"},
		{"tls secret", "tls", []string{"-t", "-S"}, "secret"},
		{"udp issued", "udp", nil, "issued"},
		{"tcp issued", "tcp", []string{"-t"}, "issued"},
		{"udp forged", "udp", nil, "forged"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, logs := testServer(t, Config{AllowPeers: loopback})
			addr := map[string]net.Addr{"udp": s.Addrs().UDP, "tcp": s.Addrs().TCP, "tls": s.Addrs().TLS}[tc.transport]
			_, port, _ := net.SplitHostPort(addr.String())

			args := append([]string{"-y", "-c", "-n", strconv.Itoa(messages), "-l", "120", "-m", "1", "-p", port}, tc.args...)
			switch tc.creds {
			case "secret":
				args = append(args, "-W", testSecret, "-u", "uclient")
			case "issued":
				user, pass := Credentials(testSecret, "uclient", time.Hour, time.Now())
				args = append(args, "-u", user, "-w", pass)
			case "forged":
				user, pass := Credentials("another secret", "uclient", time.Hour, time.Now())
				args = append(args, "-u", user, "-w", pass)
			}
			args = append(args, "127.0.0.1")

			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			out, err := exec.CommandContext(ctx, uclient, args...).CombinedOutput()
			st := s.Stats()

			if tc.creds == "forged" {
				if err == nil {
					t.Fatalf("turnutils_uclient %v succeeded with a forged credential:\n%s", args, out)
				}
				if st.RefusedAuth.Forged == 0 || st.AllocationsTotal != 0 {
					t.Fatalf("forged credential: stats %+v", st)
				}
				return
			}
			if err != nil {
				t.Fatalf("turnutils_uclient %v: %v\n%s\nserver logs:\n%s", args, err, out, logs)
			}
			m := uclientTotals.FindSubmatch(out)
			if m == nil {
				t.Fatalf("no totals in turnutils_uclient's output:\n%s", out)
			}
			sent, _ := strconv.Atoi(string(m[1]))
			received, _ := strconv.Atoi(string(m[2]))
			t.Logf("turnutils_uclient %v: sent %d, received %d; server: %d allocations, %d packets to peers, %d from peers",
				tc.args, sent, received, st.AllocationsTotal, st.PacketsToPeers, st.PacketsFromPeers)
			if sent < 2*messages || received != sent {
				t.Errorf("turnutils_uclient sent %d messages and received %d, want %d each way, all back:\n%s", sent, received, messages, out)
			}
			if st.AllocationsTotal < 2 {
				t.Errorf("%d allocations, want one per uclient session (2)", st.AllocationsTotal)
			}
			if st.PacketsToPeers < uint64(sent) || st.PacketsFromPeers < uint64(sent) {
				t.Errorf("relayed %d packets to peers and %d from peers, want at least the %d sent", st.PacketsToPeers, st.PacketsFromPeers, sent)
			}
			if st.RefusedAuth.Total() != 0 || st.RefusedPeers != 0 {
				t.Errorf("refusals: %+v", st)
			}
		})
	}
}

// TestCoturnServerAcceptsCredentials runs coturn's own server with
// use-auth-secret and checks that what Credentials issues is what it
// verifies, so a node can hand out credentials for an external coturn; and
// that expiry works there as here (gates new allocations only).
func TestCoturnServerAcceptsCredentials(t *testing.T) {
	turnserver := coturn(t, "turnserver")
	dir := t.TempDir()
	port := freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, turnserver, "-n", "--no-cli", "--no-tls", "--no-dtls",
		"--listening-ip=127.0.0.1", "--relay-ip=127.0.0.1", "--listening-port="+strconv.Itoa(port),
		"--min-port=52000", "--max-port=52999", "--realm=parley.test",
		"--use-auth-secret", "--static-auth-secret="+testSecret,
		"--db="+filepath.Join(dir, "turndb"), "--pidfile="+filepath.Join(dir, "pid"),
		"--log-file=stdout", "--simple-log")
	logs := &logBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
	})
	server := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port}
	waitFor(t, "turnserver to answer", func() bool { return stunBinding(server) })

	now := time.Now()
	user, pass := Credentials(testSecret, "alice", time.Hour, now)
	if code := newRawClient(t, server, user, pass).allocate(""); code != 0 {
		t.Fatalf("coturn refused a credential from Credentials: code %d\n%s", code, logs)
	}
	forgedUser, forgedPass := Credentials("another secret", "alice", time.Hour, now)
	if code := newRawClient(t, server, forgedUser, forgedPass).allocate(""); code != stun.CodeUnauthorized {
		t.Errorf("coturn took a forged credential: code %d", code)
	}
	expiredUser, expiredPass := Credentials(testSecret, "alice", -time.Minute, now)
	if code := newRawClient(t, server, expiredUser, expiredPass).allocate(""); code != stun.CodeUnauthorized {
		t.Errorf("coturn took an expired credential: code %d", code)
	}

	shortUser, shortPass := Credentials(testSecret, "bob", time.Second, time.Now())
	c := newRawClient(t, server, shortUser, shortPass)
	if code := c.allocate(""); code != 0 {
		t.Fatalf("Allocate: code %d", code)
	}
	expiry, _, _ := parseUsername(shortUser)
	time.Sleep(time.Until(expiry) + 100*time.Millisecond)
	if code := c.createPermission(netip.MustParseAddr("8.8.8.8")); code != 0 {
		t.Errorf("coturn: CreatePermission after expiry on the allocation: code %d, want success as here", code)
	}
}

// stunBinding reports whether a STUN server answers a Binding request.
func stunBinding(server net.Addr) bool {
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		return false
	}
	defer conn.Close()
	req := stun.MustBuild(stun.TransactionID, stun.BindingRequest)
	if _, err := conn.WriteTo(req.Raw, server); err != nil {
		return false
	}
	_ = conn.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	buf := make([]byte, 1500)
	_, _, err = conn.ReadFrom(buf)
	return err == nil
}

// freePort is a port free for both UDP and TCP on 127.0.0.1, reserved
// until t ends.
func freePort(t *testing.T) int {
	t.Helper()
	return ports.Reserve(t, "127.0.0.1")
}
