package check

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pion/stun/v4"
	"github.com/pion/turn/v5"
	"github.com/pion/webrtc/v4"

	"github.com/parley/parley/client"
	"github.com/parley/parley/internal/rtc"
	"github.com/parley/parley/protocol"
)

// turnServer is one TURN URL of the check config with its credential.
type turnServer struct {
	transport  string // udp, tcp, tls
	url        string
	host       string
	port       int
	username   string
	credential string
}

func (s turnServer) addr() string { return net.JoinHostPort(s.host, strconv.Itoa(s.port)) }

func (s turnServer) ice() protocol.ICEServer {
	return protocol.ICEServer{URLs: []string{s.url}, Username: s.username, Credential: s.credential}
}

// turnServers splits ICE servers into one entry per TURN URL.
func turnServers(servers []protocol.ICEServer) []turnServer {
	var out []turnServer
	for _, s := range servers {
		for _, raw := range s.URLs {
			u, err := stun.ParseURI(raw)
			if err != nil || (u.Scheme != stun.SchemeTypeTURN && u.Scheme != stun.SchemeTypeTURNS) {
				continue
			}
			ts := turnServer{url: raw, host: u.Host, port: u.Port, username: s.Username, credential: s.Credential}
			switch {
			case u.Scheme == stun.SchemeTypeTURNS:
				ts.transport = "tls"
			case u.Proto == stun.ProtoTypeTCP:
				ts.transport = "tcp"
			default:
				ts.transport = "udp"
			}
			out = append(out, ts)
		}
	}
	return out
}

func (t *target) turnServer(transport string) (turnServer, bool) {
	for _, s := range t.servers {
		if s.transport == transport {
			return s, true
		}
	}
	return turnServer{}, false
}

// connect joins a throwaway room with cfg tuned by tune, waits for media
// to connect and returns the path it took.
func (t *target) connect(ctx context.Context, what string, tune func(*client.Config)) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, t.opts.Timeout)
	defer cancel()
	cfg := t.clientConfig(what)
	tune(&cfg)
	s, err := client.Join(ctx, cfg)
	if err != nil {
		return "", err
	}
	defer s.Leave()
	if err := s.WaitConnected(ctx); err != nil {
		return "", &noMediaError{timeout: t.opts.Timeout, offered: offered(s.PeerConnection())}
	}
	return s.Path(), nil
}

// noMediaError is media that did not connect, with the addresses the
// bridge offered: where they are wrong, the advice can say so.
type noMediaError struct {
	timeout time.Duration
	offered []string // "203.0.113.7 udp 10000"
}

func (e *noMediaError) Error() string {
	if len(e.offered) == 0 {
		return fmt.Sprintf("media did not connect within %s; the bridge offered no address", e.timeout)
	}
	return fmt.Sprintf("media did not connect within %s to the bridge's %s", e.timeout, strings.Join(e.offered, ", "))
}

// offered lists the bridge's candidates: those in pc's remote description
// and those it trickled (pc's remote-candidate stats), as "203.0.113.7 udp
// 10000", with the type where it is not host. Peer-reflexive candidates are
// what the client learnt, not what the bridge offered.
func offered(pc *webrtc.PeerConnection) []string {
	if pc == nil {
		return nil
	}
	var out []string
	add := func(addr, transport, port, typ string) {
		c := addr + " " + strings.ToLower(transport) + " " + port
		if typ != "host" {
			c += " (" + typ + ")"
		}
		if typ != "prflx" && !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	if d := pc.RemoteDescription(); d != nil {
		for _, line := range strings.Split(d.SDP, "\n") {
			v, ok := strings.CutPrefix(strings.TrimSpace(line), "a=candidate:")
			if !ok {
				continue
			}
			// foundation component transport priority address port "typ" type
			if f := strings.Fields(v); len(f) >= 8 {
				add(f[4], f[2], f[5], f[7])
			}
		}
	}
	for _, st := range pc.GetStats() {
		if c, ok := st.(webrtc.ICECandidateStats); ok && c.Type == webrtc.StatsTypeRemoteCandidate {
			add(c.IP, c.Protocol, strconv.Itoa(int(c.Port)), c.CandidateType.String())
		}
	}
	return out
}

// offeredAdvice says what the bridge's offered addresses mean for a path
// that failed: "" when they look right.
func offeredAdvice(err error) string {
	var nm *noMediaError
	if !errors.As(err, &nm) {
		return ""
	}
	if len(nm.offered) == 0 {
		return " The bridge offered no address for this path at all: tell the server's administrator."
	}
	loopbackOnly := true
	for _, c := range nm.offered {
		if ip, err := netip.ParseAddr(strings.Fields(c)[0]); err != nil || !ip.IsLoopback() {
			loopbackOnly = false
		}
	}
	if loopbackOnly {
		return " The bridge offered only loopback addresses, which reach nothing from here: the server needs " +
			"--public-ip (its address as clients see it)."
	}
	return " The bridge offered " + strings.Join(nm.offered, ", ") + ": if that is not the server's address as seen " +
		"from here, the server's --public-ip is wrong (behind NAT it must be the public address the NAT translates " +
		"to the server)."
}

// probeJoin joins a throwaway room and leaves at once: the path checks
// join too, and a refusal (no token, no bridge) is not a network problem.
func (t *target) probeJoin(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, t.opts.Timeout)
	defer cancel()
	s, err := client.Join(ctx, t.clientConfig("join"))
	if err != nil {
		return err
	}
	s.Leave()
	return nil
}

func (t *target) clientConfig(what string) client.Config {
	return client.Config{
		URL: t.base.String(), Room: t.room(what), Name: "network check " + what, Token: t.opts.Token,
		HTTPClient: t.http, TURNTLS: t.tls, Log: t.log,
	}
}

func noTURN([]protocol.ICEServer) []protocol.ICEServer { return nil }

// pathTune confines a client to the one path an item checks, so that what
// the item reports (and the stream measured over it) took that path.
func (t *target) pathTune(item string) func(*client.Config) {
	switch item {
	case ItemUDP:
		return func(c *client.Config) {
			c.NetworkTypes = []webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeUDP6}
			c.SelectICEServers = noTURN
		}
	case ItemICETCP:
		return func(c *client.Config) {
			c.NetworkTypes = []webrtc.NetworkType{webrtc.NetworkTypeTCP4, webrtc.NetworkTypeTCP6}
			c.SelectICEServers = noTURN
		}
	}
	srv, _ := t.turnServer(strings.TrimPrefix(item, "turn-"))
	return func(c *client.Config) {
		c.ICETransportPolicy = webrtc.ICETransportPolicyRelay
		c.SelectICEServers = func([]protocol.ICEServer) []protocol.ICEServer { return []protocol.ICEServer{srv.ice()} }
	}
}

func (t *target) checkUDP(ctx context.Context) Item {
	it := Item{ID: ItemUDP, Name: itemNames[ItemUDP]}
	port := "its media port"
	if t.config != nil {
		if t.config.MediaPort != 0 {
			port = "UDP " + strconv.Itoa(t.config.MediaPort)
			it.Name += " " + strconv.Itoa(t.config.MediaPort)
		}
		if !t.config.MediaUDP {
			it.Status, it.Detail = Fail, "the server takes no media over UDP: its media port is turned off"
			it.Advice = "Calls will use a slower fallback. Ask the server's administrator to turn UDP media on " +
				"(--media-udp), and the network team to allow outbound UDP to the server's media port (10000 by default)."
			return it
		}
	}
	path, err := t.connect(ctx, "udp", t.pathTune(ItemUDP))
	if err != nil {
		it.Status, it.Detail = Fail, fmt.Sprintf("no media over UDP to %s %s: %v", t.host, port, err)
		it.Advice = fmt.Sprintf("UDP is the best path for audio and video and it does not get through between here and the server. "+
			"Ask the network team to allow outbound UDP to %s, %s (answers come back on the same flow).", t.host, port) + offeredAdvice(err)
		return it
	}
	it.Status, it.Detail = Pass, fmt.Sprintf("connected to the bridge over UDP (%s)", path)
	return it
}

func (t *target) checkICETCP(ctx context.Context) Item {
	it := Item{ID: ItemICETCP, Name: itemNames[ItemICETCP]}
	if t.config != nil && !t.config.ICETCP {
		return skipItem(ItemICETCP, "the server offers no ICE-TCP (it has no --tls-listen port)")
	}
	where := "the server's TLS port"
	if t.config != nil {
		where = "TCP " + strconv.Itoa(t.config.TLSPort)
		it.Name = "Media over TCP " + strconv.Itoa(t.config.TLSPort) + " (ICE-TCP)"
	}
	path, err := t.connect(ctx, "tcp", t.pathTune(ItemICETCP))
	if err != nil {
		it.Status, it.Detail = Fail, fmt.Sprintf("no media over ICE-TCP to %s %s: %v", t.host, where, err)
		it.Advice = "A firewall lets TCP to the server through only for TLS (it inspects the protocol) or not at all. " +
			"Where UDP is blocked too, calls then need TURN over TLS. Ask the network team to allow plain TCP to " +
			t.host + " " + where + "."
		return it
	}
	it.Status, it.Detail = Pass, fmt.Sprintf("connected to the bridge over TCP (%s)", path)
	return it
}

var transportNames = map[string]string{"udp": "UDP", "tcp": "TCP", "tls": "TLS"}

// checkTURN allocates a relay on the server's TURN URL for transport, then
// connects media to the bridge through it only.
func (t *target) checkTURN(ctx context.Context, transport string) Item {
	id := "turn-" + transport
	it := Item{ID: id, Name: itemNames[id]}
	if t.config == nil {
		return skipItem(id, "the server gave no TURN credential for a check (it predates `parley check`)")
	}
	srv, ok := t.turnServer(transport)
	if !ok {
		if len(t.config.ICEServers) == 0 {
			return skipItem(id, "the server offers no TURN to this check (no TURN configured, or guests may not join)")
		}
		return skipItem(id, "the server offers no TURN over "+transportNames[transport])
	}
	it.Name += " " + strconv.Itoa(srv.port)
	if err := t.allocate(ctx, srv); err != nil {
		it.Status, it.Detail = Fail, fmt.Sprintf("no relay from %s: %v", srv.addr(), err)
		it.Advice = turnAdvice(srv, err)
		return it
	}
	path, err := t.connect(ctx, id, t.pathTune(id))
	if err != nil {
		it.Status, it.Detail = Warn, fmt.Sprintf("relay allocated at %s, but media through it did not reach the bridge: %v", srv.addr(), err)
		it.Advice = "The TURN server works, but the relay and the bridge do not reach each other: a problem on the " +
			"server's side, not this network's. Tell the server's administrator: behind NAT, --public-ip must be the " +
			"public address the NAT translates to the bridge; a firewall on the server must let the relay reach the " +
			"bridge's media port; and a TURN server on another host than the bridge reaches a private bridge address " +
			"only if --turn-allow-peers (coturn: allowed-peer-ip) lists it." + offeredAdvice(err)
		if !t.config.MediaUDP {
			it.Advice = "The TURN server works, but relays reach a bridge over UDP only, and this server's bridge takes " +
				"no UDP media: TURN is of no use here until UDP media is turned on (--media-udp)."
		}
		return it
	}
	it.Status, it.Detail = Pass, fmt.Sprintf("relay allocated at %s; media through it reached the bridge (%s)", srv.addr(), path)
	return it
}

// errTURNUnauthorized marks a refused credential.
var errTURNUnauthorized = errors.New("credential refused")

func turnAdvice(srv turnServer, err error) string {
	if errors.Is(err, errTURNUnauthorized) {
		return "The TURN server refused the credential the Parley server issued: their shared secrets or realms " +
			"differ (--turn-secret, coturn's static-auth-secret), or the clocks disagree. Tell the server's administrator."
	}
	proto := "UDP"
	if srv.transport != "udp" {
		proto = "TCP"
	}
	return fmt.Sprintf("TURN over %s cannot get through. If this is the only path left, ask the network team to allow "+
		"outbound %s %d to %s.", transportNames[srv.transport], proto, srv.port, srv.host)
}

// allocate makes a TURN allocation with the check's credential and frees
// it again.
func (t *target) allocate(ctx context.Context, srv turnServer) error {
	ctx, cancel := context.WithTimeout(ctx, t.opts.Timeout)
	defer cancel()
	var conn net.PacketConn
	switch srv.transport {
	case "udp":
		network := "udp4"
		if ip := net.ParseIP(srv.host); ip != nil && ip.To4() == nil {
			network = "udp6"
		}
		pc, err := net.ListenPacket(network, ":0")
		if err != nil {
			return err
		}
		conn = pc
	default:
		d := net.Dialer{Timeout: t.opts.Timeout}
		c, err := d.DialContext(ctx, "tcp", srv.addr())
		if err != nil {
			return fmt.Errorf("cannot connect: %w", err)
		}
		if srv.transport == "tls" {
			cfg := t.tls.Clone()
			cfg.ServerName = srv.host
			tc := tls.Client(c, cfg)
			if err := tc.HandshakeContext(ctx); err != nil {
				_ = c.Close()
				return fmt.Errorf("TLS: %w", err)
			}
			c = tc
		}
		conn = turn.NewSTUNConn(c)
	}
	defer conn.Close()
	tc, err := turn.NewClient(&turn.ClientConfig{
		STUNServerAddr: srv.addr(), TURNServerAddr: srv.addr(), Conn: conn,
		Username: srv.username, Password: srv.credential,
		RTO: time.Second, LoggerFactory: rtc.LoggerFactory(t.log),
	})
	if err != nil {
		return err
	}
	defer tc.Close()
	if err := tc.Listen(); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() {
		relay, err := tc.Allocate()
		if err == nil {
			_ = relay.Close()
		}
		done <- err
	}()
	select {
	case err = <-done:
	case <-ctx.Done():
		return fmt.Errorf("no answer within %s", t.opts.Timeout)
	}
	if err != nil && strings.Contains(err.Error(), "401") {
		return fmt.Errorf("%w: %v", errTURNUnauthorized, err)
	}
	return err
}
