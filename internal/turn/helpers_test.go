package turn

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/pion/stun/v4"
	"github.com/pion/turn/v5"

	"github.com/parley/parley/internal/edge"
	"github.com/parley/parley/internal/rtc"
)

const testSecret = "correct horse battery staple"

var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}

// logBuffer collects a server's logs for assertions; safe for the server's
// goroutines, and fine to write to after the test ends.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// testServer starts a server on loopback with every listener. cfg's
// listeners, secret and logger are filled in where empty.
func testServer(t *testing.T, cfg Config) (*Server, *logBuffer) {
	t.Helper()
	logs := &logBuffer{}
	if cfg.Secret == "" {
		cfg.Secret = testSecret
	}
	if cfg.UDPListen == "" {
		cfg.UDPListen = "127.0.0.1:0"
	}
	if cfg.TCPListen == "" {
		cfg.TCPListen = "127.0.0.1:0"
	}
	if cfg.TLSListen == "" {
		cfg.TLSListen = "127.0.0.1:0"
		cfg.TLS, _ = testTLS(t)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, logs
}

var (
	tlsOnce   sync.Once
	tlsServer *tls.Config
	tlsRoots  *x509.CertPool
)

// testTLS returns a server config with a self-signed certificate for
// "turn.test" and 127.0.0.1, and the pool that trusts it.
func testTLS(t *testing.T) (*tls.Config, *x509.CertPool) {
	t.Helper()
	tlsOnce.Do(func() {
		cert, err := edge.SelfSigned([]string{"turn.test"}, time.Now())
		if err != nil {
			panic(err)
		}
		tlsRoots = x509.NewCertPool()
		tlsRoots.AddCert(cert.Leaf)
		tlsServer = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	})
	return tlsServer, tlsRoots
}

// dialTURN connects a pion TURN client to addr over transport ("udp",
// "tcp" or "tls") with the given credentials.
func dialTURN(t *testing.T, transport string, addr net.Addr, username, password string) *turn.Client {
	t.Helper()
	var conn net.PacketConn
	switch transport {
	case "udp":
		c, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		conn = c
	case "tcp":
		c, err := net.DialTimeout("tcp", addr.String(), 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		conn = turn.NewSTUNConn(c)
	case "tls":
		_, roots := testTLS(t)
		d := &tls.Dialer{Config: &tls.Config{RootCAs: roots, ServerName: "turn.test", MinVersion: tls.VersionTLS12}}
		c, err := d.Dial("tcp", addr.String())
		if err != nil {
			t.Fatal(err)
		}
		conn = turn.NewSTUNConn(c)
	default:
		t.Fatalf("unknown transport %q", transport)
	}
	client, err := turn.NewClient(&turn.ClientConfig{
		STUNServerAddr: addr.String(),
		TURNServerAddr: addr.String(),
		Conn:           conn,
		Username:       username,
		Password:       password,
		RTO:            100 * time.Millisecond,
		LoggerFactory:  rtc.LoggerFactory(slog.New(slog.DiscardHandler)),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := client.Listen(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		client.Close()
		_ = conn.Close()
	})
	return client
}

// udpPeer is a UDP socket on loopback standing for a peer of the relay.
func udpPeer(t *testing.T) net.PacketConn {
	t.Helper()
	c, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// readWithin reads one packet or fails after d.
func readWithin(c net.PacketConn, d time.Duration) ([]byte, net.Addr, error) {
	_ = c.SetReadDeadline(time.Now().Add(d))
	buf := make([]byte, 1600)
	n, from, err := c.ReadFrom(buf)
	if err != nil {
		return nil, nil, err
	}
	return buf[:n], from, nil
}

// turnCode is the STUN error code of a pion client error, 0 if none.
func turnCode(err error) stun.ErrorCode {
	var te *stun.TurnError
	if errors.As(err, &te) {
		return te.ErrorCodeAttr.Code
	}
	return 0
}

// waitFor polls cond for up to two seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

// peekedConn is what the node's shared port hands over: a connection whose
// first bytes were read to choose a protocol, replayed before the rest.
type peekedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c peekedConn) Read(p []byte) (int, error) { return c.r.Read(p) }
