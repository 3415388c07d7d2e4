package test

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/turn/v5"
	"github.com/pion/webrtc/v4"

	"github.com/parley/parley/client"
	"github.com/parley/parley/internal/config"
	"github.com/parley/parley/internal/node"
	"github.com/parley/parley/internal/synth"
	"github.com/parley/parley/internal/web"
	"github.com/parley/parley/protocol"
	"github.com/parley/parley/test/harness"
)

const testTURNSecret = "edge-test-secret-0123456789"

// edgeConfig is a node with the one TLS port on loopback (a certificate
// from files), the embedded TURN server on UDP and TCP, and TURN allowed
// to relay to loopback, where the bridge is.
func edgeConfig(t testing.TB) (config.Config, *x509.CertPool) {
	cfg := harness.Config(t)
	certFile, keyFile, roots := harness.CertFiles(t)
	cfg.TLSListen = "127.0.0.1:0"
	cfg.TLSCert, cfg.TLSKey = certFile, keyFile
	cfg.TURNSecret = testTURNSecret
	cfg.TURNListen = "127.0.0.1:0"
	cfg.TURNAllowPeers = []string{"127.0.0.1"}
	return cfg, roots
}

func tlsBase(n *node.Node) string { return "https://" + n.TLSAddr().String() }

func httpsClient(roots *x509.CertPool) *http.Client {
	return &http.Client{
		Timeout:   10 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}},
	}
}

// edgePeer is a Go client that publishes a microphone (at speaking level)
// and a camera and counts the packets it receives from each publisher.
type edgePeer struct {
	name string
	s    *client.Session

	mu      sync.Mutex
	packets map[string]int // by publisher
}

func joinEdgePeer(t *testing.T, ctx context.Context, base, room, name string, roots *x509.CertPool, tune func(*client.Config)) *edgePeer {
	t.Helper()
	p := &edgePeer{name: name, packets: map[string]int{}}
	mic, err := synth.NewAudio(name+"-mic", name, 0)
	if err != nil {
		t.Fatal(err)
	}
	mic.SetLevel(50)
	cam, err := synth.NewVideo(name+"-camera", name, synth.DefaultSimulcast()[0])
	if err != nil {
		t.Fatal(err)
	}
	cfg := client.Config{
		URL: base, Room: room, Name: name, Log: testLogger(t),
		Tracks:     []webrtc.TrackLocal{mic, cam},
		HTTPClient: httpsClient(roots),
		TURNTLS:    &tls.Config{RootCAs: roots},
		OnTrack:    p.onTrack,
	}
	if tune != nil {
		tune(&cfg)
	}
	s, err := client.Join(ctx, cfg)
	if err != nil {
		t.Fatalf("%s: join: %v", name, err)
	}
	p.s = s
	sctx, cancel := context.WithCancel(context.Background())
	go mic.Run(sctx)
	go cam.Run(sctx)
	t.Cleanup(func() {
		cancel()
		s.Close()
	})
	return p
}

func (p *edgePeer) onTrack(rt *client.RemoteTrack) {
	buf := make([]byte, 1500)
	for {
		if _, _, err := rt.Track.Read(buf); err != nil {
			return
		}
		p.mu.Lock()
		p.packets[rt.Participant]++
		p.mu.Unlock()
	}
}

func (p *edgePeer) from(other *edgePeer) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.packets[other.s.ID()]
}

// meetBoth waits until a and b each receive a steady stream from the
// other over the path want.
func meetBoth(t *testing.T, a, b *edgePeer, want string) {
	t.Helper()
	eventually(t, 30*time.Second, "media both ways", func() error {
		if n, m := a.from(b), b.from(a); n < 100 || m < 100 {
			return fmt.Errorf("%s has %d packets from %s, %s has %d from %s", a.name, n, b.name, b.name, m, a.name)
		}
		return nil
	})
	for _, p := range []*edgePeer{a, b} {
		if got := p.s.Path(); got != want {
			t.Errorf("%s: media path %q, want %q", p.name, got, want)
		}
	}
}

// checkConfig fetches GET /check/config.
func checkConfig(t testing.TB, hc *http.Client, base string) web.CheckConfig {
	t.Helper()
	resp, err := hc.Get(base + "/check/config")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var cc web.CheckConfig
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /check/config: %s", resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&cc); err != nil {
		t.Fatal(err)
	}
	return cc
}

// turnURL finds the URL of a transport ("udp", "tcp", "tls") among servers.
func turnURL(servers []protocol.ICEServer, transport string) (protocol.ICEServer, bool) {
	for _, s := range servers {
		for _, u := range s.URLs {
			tls := strings.HasPrefix(u, "turns:")
			if tls && transport == "tls" || !tls && strings.HasSuffix(u, "transport="+transport) {
				return protocol.ICEServer{URLs: []string{u}, Username: s.Username, Credential: s.Credential}, true
			}
		}
	}
	return protocol.ICEServer{}, false
}

// allocateTLS allocates a TURN relay over TLS at addr and keeps it until
// the test ends.
func allocateTLS(t *testing.T, addr string, roots *x509.CertPool, srv protocol.ICEServer) net.PacketConn {
	t.Helper()
	conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: roots})
	if err != nil {
		t.Fatalf("TLS to %s: %v", addr, err)
	}
	c, err := turn.NewClient(&turn.ClientConfig{
		STUNServerAddr: addr, TURNServerAddr: addr, Conn: turn.NewSTUNConn(conn),
		Username: srv.Username, Password: srv.Credential,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Listen(); err != nil {
		t.Fatal(err)
	}
	relay, err := c.Allocate()
	if err != nil {
		c.Close()
		t.Fatalf("TURN over TLS: allocate: %v", err)
	}
	t.Cleanup(func() {
		_ = relay.Close()
		c.Close()
	})
	return relay
}

// closedWithin reports whether the server closes c within d.
func closedWithin(c net.Conn, d time.Duration) error {
	_ = c.SetReadDeadline(time.Now().Add(d))
	_, err := io.Copy(io.Discard, c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return fmt.Errorf("still open after %s", d)
	}
	return nil
}

// The one TLS port serves HTTPS, WebSocket signaling, TURN over TLS and
// ICE-TCP at once, while a garbage connection and a slow one sit on it:
// those are dropped and nothing else notices.
func TestEdgeOnePort(t *testing.T) {
	cfg, roots := edgeConfig(t)
	n := harness.StartNode(t, &cfg)
	base := tlsBase(n)
	addr := n.TLSAddr().String()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	// A slowloris: one byte of a TLS record, then nothing. And garbage.
	slow, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	if _, err := slow.Write([]byte{0x16}); err != nil {
		t.Fatal(err)
	}
	slowSince := time.Now()
	garbage, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer garbage.Close()
	junk := make([]byte, 256)
	_, _ = rand.Read(junk)
	junk[0] = 0x42 // not a letter of an HTTP method, not TLS, not STUN
	if _, err := garbage.Write(junk); err != nil {
		t.Fatal(err)
	}
	if err := closedWithin(garbage, 2*time.Second); err != nil {
		t.Errorf("garbage connection: %v", err)
	}

	// HTTPS.
	hc := httpsClient(roots)
	resp, err := hc.Get(base + "/healthz")
	if err != nil {
		t.Fatalf("HTTPS on the TLS port: %v", err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /healthz over TLS: %s", resp.Status)
	}
	// Plain HTTP on the same port is sent to HTTPS.
	plain := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err = plain.Get("http://" + addr + "/some-room?x=1")
	if err != nil {
		t.Fatalf("plain HTTP on the TLS port: %v", err)
	}
	_ = resp.Body.Close()
	if want := base + "/some-room?x=1"; resp.StatusCode != http.StatusPermanentRedirect || resp.Header.Get("Location") != want {
		t.Errorf("plain HTTP: %s to %q, want 308 to %q", resp.Status, resp.Header.Get("Location"), want)
	}

	// TURN over TLS, with the credential a network check gets.
	cc := checkConfig(t, hc, base)
	if cc.TLSPort != n.TLSAddr().Port || !cc.ICETCP || !cc.MediaUDP || cc.MediaPort != n.MediaPort() {
		t.Errorf("check config %+v: want TLS port %d with ICE-TCP, media UDP on %d", cc, n.TLSAddr().Port, n.MediaPort())
	}
	srv, ok := turnURL(cc.ICEServers, "tls")
	if !ok || !strings.HasPrefix(srv.URLs[0], "turns:127.0.0.1:"+strconv.Itoa(n.TLSAddr().Port)) {
		t.Fatalf("no TURN over TLS on the TLS port in %+v", cc.ICEServers)
	}
	relay := allocateTLS(t, addr, roots, srv)
	t.Logf("TURN over TLS relay at %s", relay.LocalAddr())

	// A meeting whose signaling and media both use the port: WebSocket
	// over TLS, media over ICE-TCP.
	tcpOnly := func(c *client.Config) {
		c.NetworkTypes = []webrtc.NetworkType{webrtc.NetworkTypeTCP4}
		c.SelectICEServers = func([]protocol.ICEServer) []protocol.ICEServer { return nil }
	}
	a := joinEdgePeer(t, ctx, base, "one-port", "ann", roots, tcpOnly)
	b := joinEdgePeer(t, ctx, base, "one-port", "bob", roots, tcpOnly)
	meetBoth(t, a, b, client.PathTCP)

	// The slow connection was dropped after its few seconds; the rest
	// went on meanwhile.
	if err := closedWithin(slow, 10*time.Second); err != nil {
		t.Errorf("slow connection: %v", err)
	} else if took := time.Since(slowSince); took < 3*time.Second {
		t.Errorf("slow connection dropped after %s, before its first-bytes timeout", took)
	}
	resp, err = hc.Get(base + "/healthz")
	if err != nil {
		t.Fatalf("HTTPS after the bad connections: %v", err)
	}
	_ = resp.Body.Close()
	before := a.from(b)
	eventually(t, 10*time.Second, "media goes on", func() error {
		if a.from(b) < before+50 {
			return fmt.Errorf("%d → %d packets", before, a.from(b))
		}
		return nil
	})
}

// Media relayed through the embedded TURN server over each transport: UDP
// and TCP on --turn-listen, TLS on the one TLS port.
func TestEdgeRelayMeeting(t *testing.T) {
	cfg, roots := edgeConfig(t)
	n := harness.StartNode(t, &cfg)
	base := tlsBase(n)
	for _, tc := range []struct{ transport, path string }{
		{"udp", client.PathRelayUDP},
		{"tcp", client.PathRelayTCP},
		{"tls", client.PathRelayTLS},
	} {
		t.Run(tc.transport, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			before := n.TURN().Stats()
			relayOnly := func(c *client.Config) {
				c.ICETransportPolicy = webrtc.ICETransportPolicyRelay
				c.SelectICEServers = func(all []protocol.ICEServer) []protocol.ICEServer {
					if s, ok := turnURL(all, tc.transport); ok {
						return []protocol.ICEServer{s}
					}
					t.Errorf("no TURN over %s among %+v", tc.transport, all)
					return nil
				}
			}
			room := "relay-" + tc.transport
			a := joinEdgePeer(t, ctx, base, room, "ann", roots, relayOnly)
			b := joinEdgePeer(t, ctx, base, room, "bob", roots, relayOnly)
			meetBoth(t, a, b, tc.path)
			after := n.TURN().Stats()
			if after.AllocationsTotal < before.AllocationsTotal+2 || after.PacketsToPeers <= before.PacketsToPeers+200 {
				t.Errorf("TURN stats before %+v, after %+v: want two more allocations and relayed media", before, after)
			}
		})
	}
	m := scrape(t, harness.URL(n))
	if m["parley_turn_allocations_total"] < 6 || m[`parley_turn_relayed_packets_total{direction="to_peers"}`] == 0 {
		t.Errorf("TURN metrics: allocations %v, relayed to peers %v", m["parley_turn_allocations_total"], m[`parley_turn_relayed_packets_total{direction="to_peers"}`])
	}
}

// With the bridge's UDP port off, a meeting still works: over ICE-TCP on
// the TLS port, for clients that do not even try UDP.
func TestEdgeMeetingWithoutUDP(t *testing.T) {
	cfg, roots := edgeConfig(t)
	cfg.MediaUDP = false
	cfg.TURNSecret, cfg.TURNListen, cfg.TURNAllowPeers = "", "", nil
	n := harness.StartNode(t, &cfg)
	if n.MediaPort() != 0 {
		t.Fatalf("media port %d with --media-udp=false", n.MediaPort())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	tcpOnly := func(c *client.Config) {
		c.NetworkTypes = []webrtc.NetworkType{webrtc.NetworkTypeTCP4, webrtc.NetworkTypeTCP6}
	}
	a := joinEdgePeer(t, ctx, tlsBase(n), "no-udp", "ann", roots, tcpOnly)
	b := joinEdgePeer(t, ctx, tlsBase(n), "no-udp", "bob", roots, nil) // the default client falls back by itself
	meetBoth(t, a, b, client.PathTCP)
}
