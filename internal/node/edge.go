package node

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/parley/parley/internal/config"
	"github.com/parley/parley/internal/edge"
	"github.com/parley/parley/internal/mediaaddr"
	"github.com/parley/parley/internal/turn"
	"github.com/parley/parley/internal/web"
	"github.com/parley/parley/protocol"
)

// checkCredentialTTL is how long the TURN credential handed to a network
// check (GET /check/config) lasts: long enough for one run.
const checkCredentialTTL = 10 * time.Minute

// nodeEdge is the node's network edge: the one TLS port and the embedded
// TURN server, each nil when not configured.
type nodeEdge struct {
	port *edge.Edge
	http *http.Server // the node's handler, on port's HTTPS share
	turn *turn.Server
}

// prepareEdge sets up the node's network edge before the roles start: the
// one TLS port and the embedded TURN server, as configured.
func (n *Node) prepareEdge() (err error) {
	cfg := n.cfg
	defer func() {
		if err != nil {
			n.closeEdge()
		}
	}()
	if cfg.TURNSecret != "" && len(cfg.TURNURLs) == 0 {
		if cfg.TURNListen == "" && cfg.TLSListen == "" {
			n.log.Warn("turn: a secret is set but neither --turn-listen nor --tls-listen: clients cannot reach TURN, none runs")
		} else if n.edge.turn, err = n.startTURN(); err != nil {
			return err
		}
	}
	if cfg.TLSListen == "" {
		return nil
	}
	tlsCfg, source, err := edge.NewTLSConfig(edge.CertConfig{
		CertFile: cfg.TLSCert, KeyFile: cfg.TLSKey,
		ACMEDomains: cfg.ACMEDomains, ACMEEmail: cfg.ACMEEmail, ACMECacheDir: filepath.Join(cfg.DataDir, "acme"),
		Hosts:  selfSignedHosts(cfg),
		Logger: n.log,
	})
	if err != nil {
		return err
	}
	ecfg := edge.Config{Addr: cfg.TLSListen, TLS: tlsCfg, ICETCP: cfg.Has(config.RoleBridge), Logger: n.log}
	if n.edge.turn != nil {
		ecfg.TURN = n.edge.turn.ServeConn
	}
	if n.edge.port, err = edge.Listen(ecfg); err != nil {
		return fmt.Errorf("--tls-listen %s: %w", cfg.TLSListen, err)
	}
	n.log.Info("edge: one port for HTTPS, WebSocket, TURN over TLS and ICE-TCP",
		"addr", n.edge.port.Addr().String(), "certificate", source, "turn", n.edge.turn != nil, "ice_tcp", ecfg.ICETCP)
	return nil
}

// selfSignedHosts are the names a self-signed certificate is made for,
// besides localhost: --public-host and --public-ip.
func selfSignedHosts(cfg config.Config) []string {
	var hosts []string
	if cfg.PublicHost != "" {
		hosts = append(hosts, cfg.PublicHost)
	}
	for _, e := range cfg.PublicIP {
		public, _, _ := strings.Cut(e, "/") // "P/LOCAL": clients use P
		hosts = append(hosts, public)
	}
	return hosts
}

// startTURN runs the embedded TURN server: UDP and TCP on --turn-listen,
// TLS through the edge.
func (n *Node) startTURN() (*turn.Server, error) {
	cfg := n.cfg
	allow, err := turn.ParsePrefixes(cfg.TURNAllowPeers)
	if err != nil {
		return nil, fmt.Errorf("--turn-allow-peers: %w", err)
	}
	lo, hi, err := config.ParsePortRange(cfg.TURNRelayPorts)
	if err != nil {
		return nil, fmt.Errorf("--turn-relay-ports: %w", err)
	}
	tc := turn.Config{
		Realm: cfg.TURNRealm, Secret: cfg.TURNSecret,
		UDPListen: cfg.TURNListen, TCPListen: cfg.TURNListen,
		RelayMinPort: lo, RelayMaxPort: hi,
		MaxAllocationsPerUser: cfg.TURNMaxAllocations, MaxBitrate: int64(cfg.TURNMaxBitrate),
		AllowPeers: allow, Logger: n.log,
		Self: turn.Self{
			Addrs:      n.ownAddrs(),
			MediaPorts: func() []uint16 { return *n.mediaPorts.Load() },
			Translate:  n.media.Translate,
		},
	}
	if len(cfg.PublicIP) > 0 {
		// Relays are told at the first public address (its family's, for
		// the relay sockets to bind).
		for _, a := range n.media.Advertised() {
			if !a.IsLoopback() {
				tc.PublicIP = a
				break
			}
		}
	}
	s, err := turn.New(tc)
	if err != nil {
		if errors.Is(err, turn.ErrNoPublicIP) {
			return nil, fmt.Errorf("%w: set --public-ip", err)
		}
		return nil, err
	}
	return s, nil
}

// ownAddrs are the node's addresses: the host's and the public ones it is
// known by. A relay reaches only the media port on them.
func (n *Node) ownAddrs() []netip.Addr {
	own := n.media.Advertised()
	if host, err := mediaaddr.System(); err == nil {
		own = append(own, host.Addrs...)
	}
	if own == nil {
		own = []netip.Addr{}
	}
	return own
}

// iceTCPListener is the ICE-TCP share of the edge, for the bridge (nil
// without one).
func (n *Node) iceTCPListener() net.Listener {
	if n.edge.port == nil {
		return nil
	}
	return n.edge.port.ICETCP()
}

// serveEdge starts serving HTTP (the node's handler) on the edge's TLS port.
func (n *Node) serveEdge(srv *http.Server) {
	if n.edge.port == nil {
		return
	}
	n.edge.http = edge.HTTPServer(srv)
	go func() {
		if err := n.edge.http.Serve(n.edge.port.HTTP()); err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
			n.log.Warn("edge: HTTPS serving stopped", "err", err)
		}
	}()
}

// closeEdge stops the edge.
func (n *Node) closeEdge() {
	if n.edge.http != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = n.edge.http.Shutdown(ctx)
		cancel()
	}
	if n.edge.port != nil {
		_ = n.edge.port.Close()
	}
	if n.edge.turn != nil {
		_ = n.edge.turn.Close()
	}
}

// TLSAddr is the one TLS port's address (nil without --tls-listen).
func (n *Node) TLSAddr() *net.TCPAddr {
	if n.edge.port == nil {
		return nil
	}
	return n.edge.port.Addr()
}

// TURN is the embedded TURN server (nil when none runs).
func (n *Node) TURN() *turn.Server { return n.edge.turn }

// turnStats is the metrics source of the embedded TURN server (nil when
// none runs).
func (n *Node) turnStats() func() turn.Stats {
	if n.edge.turn == nil {
		return nil
	}
	return n.edge.turn.Stats
}

// iceRefresh is how often participants get fresh TURN credentials: at
// half their lifetime, when this node hands out any.
func (n *Node) iceRefresh() time.Duration {
	if n.cfg.TURNSecret == "" {
		return 0
	}
	return n.cfg.TURNCredentialTTL / 2
}

// iceServers are the STUN/TURN servers, with credentials, handed to a
// participant at join; host is the host name the client asked for.
func (n *Node) iceServers(participant, host string) []protocol.ICEServer {
	return n.turnServers(participant, host, n.cfg.TURNCredentialTTL)
}

// turnServers are the TURN URLs clients reach this node's TURN server (or
// the external one) by, with a credential for user valid for ttl.
func (n *Node) turnServers(user, host string, ttl time.Duration) []protocol.ICEServer {
	return turn.ICEServers(n.turnURLs(host), n.cfg.TURNSecret, user, ttl, time.Now())
}

// turnURLs lists the external TURN server's URLs, or the embedded one's at
// --public-host, else at the host the client asked for: UDP and TCP on
// --turn-listen, TLS on the one TLS port.
func (n *Node) turnURLs(host string) []string {
	if n.cfg.TURNSecret == "" {
		return nil
	}
	if len(n.cfg.TURNURLs) > 0 {
		return n.cfg.TURNURLs
	}
	if n.edge.turn == nil {
		return nil
	}
	if n.cfg.PublicHost != "" {
		host = n.cfg.PublicHost
	}
	host = strings.Trim(host, "[]")
	if host == "" {
		return nil
	}
	var urls []string
	addrs := n.edge.turn.Addrs()
	if addrs.UDP != nil {
		urls = append(urls, "turn:"+net.JoinHostPort(host, port(addrs.UDP))+"?transport=udp")
	}
	if addrs.TCP != nil {
		urls = append(urls, "turn:"+net.JoinHostPort(host, port(addrs.TCP))+"?transport=tcp")
	}
	if n.edge.port != nil {
		urls = append(urls, "turns:"+net.JoinHostPort(host, strconv.Itoa(n.edge.port.Addr().Port))+"?transport=tcp")
	}
	return urls
}

func port(a net.Addr) string {
	_, p, _ := net.SplitHostPort(a.String())
	return p
}

// checkConfig answers GET /check/config: TURN servers with a credential
// for this check only, and the media ports. Where guests may not join, a
// network check gets no TURN credential: the endpoint would otherwise hand
// a relay to anyone.
func (n *Node) checkConfig(host string) web.CheckConfig {
	cc := web.CheckConfig{MediaUDP: n.bridge != nil && n.cfg.MediaUDP, MediaPort: n.MediaPort()}
	if n.edge.port != nil {
		cc.TLSPort = n.edge.port.Addr().Port
		cc.ICETCP = n.bridge != nil
	}
	if n.cfg.AllowGuests {
		cc.ICEServers = n.turnServers(randomID("check-"), host, checkCredentialTTL)
	}
	return cc
}
