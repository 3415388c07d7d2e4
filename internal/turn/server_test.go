package turn

import (
	"bufio"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/pion/stun/v4"
)

// relayRoundTrip allocates through client, sends a datagram to peer through
// the relay and one back, and returns the relay's address.
func relayRoundTrip(t *testing.T, client interface {
	Allocate() (net.PacketConn, error)
}, peer net.PacketConn,
) net.Addr {
	t.Helper()
	relay, err := client.Allocate()
	if err != nil {
		t.Fatalf("Allocate: %v", err)
	}
	t.Cleanup(func() { _ = relay.Close() })

	if _, err := relay.WriteTo([]byte("ping"), peer.LocalAddr()); err != nil {
		t.Fatalf("send through relay: %v", err)
	}
	got, from, err := readWithin(peer, 2*time.Second)
	if err != nil {
		t.Fatalf("peer got nothing: %v", err)
	}
	if string(got) != "ping" {
		t.Fatalf("peer got %q, want ping", got)
	}
	if from.String() != relay.LocalAddr().String() {
		t.Fatalf("peer got the datagram from %v, want the relay address %v", from, relay.LocalAddr())
	}
	// The answer is sent until it arrives: the client may drop one that
	// overtakes the answer to its ChannelBind (a race in pion's client).
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			_, _ = peer.WriteTo([]byte("pong"), from)
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
	got, _, err = readWithin(relay, 2*time.Second)
	if err != nil {
		t.Fatalf("client got no answer through the relay: %v", err)
	}
	if string(got) != "pong" {
		t.Fatalf("client got %q, want pong", got)
	}
	return relay.LocalAddr()
}

func TestRelayOverEachTransport(t *testing.T) {
	s, _ := testServer(t, Config{AllowPeers: loopback, RelayMinPort: 42000, RelayMaxPort: 42999})
	a := s.Addrs()
	for _, tc := range []struct {
		transport string
		addr      net.Addr
	}{{"udp", a.UDP}, {"tcp", a.TCP}, {"tls", a.TLS}} {
		t.Run(tc.transport, func(t *testing.T) {
			before := s.Stats()
			user, pass := Credentials(testSecret, "alice-"+tc.transport, time.Hour, time.Now())
			relay := relayRoundTrip(t, dialTURN(t, tc.transport, tc.addr, user, pass), udpPeer(t))

			ua := relay.(*net.UDPAddr)
			if !ua.IP.Equal(net.IPv4(127, 0, 0, 1)) || ua.Port < 42000 || ua.Port > 42999 {
				t.Errorf("relay address %v: want 127.0.0.1 and a port in 42000-42999", relay)
			}
			// The server counts a packet after its write returns, which can
			// be after the peer has it.
			var st Stats
			waitFor(t, "relayed counters to count both payloads", func() bool {
				st = s.Stats()
				return st.PacketsToPeers > before.PacketsToPeers && st.PacketsFromPeers > before.PacketsFromPeers &&
					st.BytesToPeers >= before.BytesToPeers+4 && st.BytesFromPeers >= before.BytesFromPeers+4
			})
			if st.AllocationsTotal != before.AllocationsTotal+1 || st.AllocationsActive < 1 || st.DroppedOverRate != 0 {
				t.Errorf("allocations: before %+v, after %+v", before, st)
			}
		})
	}
}

// TestServeConnHandedOverTLS serves TURN over TLS connections accepted and
// terminated elsewhere, whose first bytes were read to tell STUN from HTTP,
// as on the node's shared 443.
func TestServeConnHandedOverTLS(t *testing.T) {
	s, _ := testServer(t, Config{AllowPeers: loopback})
	serverTLS, _ := testTLS(t)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", serverTLS)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				r := bufio.NewReader(c)
				first, err := r.Peek(1)
				// A STUN message starts with two zero bits; an HTTP request
				// with a letter (0x41 and up).
				if err != nil || first[0] >= 0x40 {
					_ = c.Close()
					return
				}
				if err := s.ServeConn(peekedConn{Conn: c, r: r}); err != nil {
					t.Errorf("ServeConn: %v", err)
				}
			}()
		}
	}()

	user, pass := Credentials(testSecret, "bob", time.Hour, time.Now())
	relayRoundTrip(t, dialTURN(t, "tls", ln.Addr(), user, pass), udpPeer(t))
}

func TestServeListener(t *testing.T) {
	s, _ := testServer(t, Config{AllowPeers: loopback})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- s.ServeListener(ln) }()

	user, pass := Credentials(testSecret, "carol", time.Hour, time.Now())
	relayRoundTrip(t, dialTURN(t, "tcp", ln.Addr(), user, pass), udpPeer(t))

	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	select {
	case err := <-served:
		if !errors.Is(err, ErrClosed) {
			t.Fatalf("ServeListener returned %v, want ErrClosed", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("ServeListener still running after Close")
	}
	if err := s.ServeConn(nopConn{}); !errors.Is(err, ErrClosed) {
		t.Fatalf("ServeConn after Close: %v, want ErrClosed", err)
	}
	if st := s.Stats(); st.AllocationsActive != 0 {
		t.Fatalf("%d allocations still open after Close", st.AllocationsActive)
	}
}

// TestLoopbackRefusedByDefault: the same relay as above, with no allowed
// networks, may not reach 127.0.0.1.
func TestLoopbackRefusedByDefault(t *testing.T) {
	s, logs := testServer(t, Config{})
	peer := udpPeer(t)
	user, pass := Credentials(testSecret, "mallory", time.Hour, time.Now())
	relay, err := dialTURN(t, "udp", s.Addrs().UDP, user, pass).Allocate()
	if err != nil {
		t.Fatalf("Allocate: %v", err)
	}
	defer relay.Close()

	_, err = relay.WriteTo([]byte("ping"), peer.LocalAddr())
	if err == nil {
		t.Fatal("sending to 127.0.0.1 through the relay succeeded")
	}
	if got := s.Stats().RefusedPeers; got != 1 {
		t.Errorf("refused peers = %d, want 1", got)
	}
	if _, _, err := readWithin(peer, 300*time.Millisecond); err == nil {
		t.Error("the peer on 127.0.0.1 received a datagram")
	}
	if !strings.Contains(logs.String(), "class=loopback") {
		t.Errorf("no refusal with its class in the logs:\n%s", logs)
	}
}

func TestNewConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		want error
	}{
		{"no secret", Config{}, ErrNoSecret},
		{"port range", Config{Secret: "s", RelayMinPort: 5000, RelayMaxPort: 4000}, ErrConfig},
		{"tls without cert", Config{Secret: "s", TLSListen: "127.0.0.1:0"}, ErrConfig},
		{"negative bitrate", Config{Secret: "s", MaxBitrate: -1}, ErrConfig},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := New(tc.cfg)
			if err == nil {
				_ = s.Close()
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("New: %v, want %v", err, tc.want)
			}
		})
	}
}

// TestRelayAddressDefaults: the relay address is PublicIP, else the
// listening host.
func TestRelayAddressDefaults(t *testing.T) {
	s, err := New(Config{Secret: "s", UDPListen: "127.0.0.1:0", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := s.RelayIP().String(); got != "127.0.0.1" {
		t.Errorf("relay IP %s, want the listening host 127.0.0.1", got)
	}
	public, bind, guessed, err := Config{UDPListen: ":3478", PublicIP: mustAddr("203.0.113.7")}.relayAddresses()
	if err != nil || public.String() != "203.0.113.7" || bind.String() != "0.0.0.0" || guessed {
		t.Errorf("relayAddresses = %v %v %v %v, want 203.0.113.7 bound to 0.0.0.0", public, bind, guessed, err)
	}
}

type nopConn struct{ net.Conn }

func (nopConn) Close() error { return nil }

// TestSilentConnectionsClosed: a TCP connection that never speaks, or
// stops speaking, is closed.
func TestSilentConnectionsClosed(t *testing.T) {
	s, _ := testServer(t, Config{firstBytesTimeout: 200 * time.Millisecond, idleTimeout: 400 * time.Millisecond})

	silent, err := net.Dial("tcp", s.Addrs().TCP.String())
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	_ = silent.SetReadDeadline(time.Now().Add(2 * time.Second))
	start := time.Now()
	if _, err := silent.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("silent connection: read %v, want it closed by the server", err)
	}
	t.Logf("silent connection closed after %v", time.Since(start).Round(time.Millisecond))

	c, err := net.Dial("tcp", s.Addrs().TCP.String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	req := stun.MustBuild(stun.TransactionID, stun.BindingRequest)
	if _, err := c.Write(req.Raw); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Read(make([]byte, 1500)); err != nil {
		t.Fatalf("no Binding response: %v", err)
	}
	start = time.Now()
	_, err = io.Copy(io.Discard, c)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatal("idle connection not closed")
	}
	if d := time.Since(start); d < 300*time.Millisecond {
		t.Errorf("idle connection closed after %v, before its idle timeout", d)
	}
}
