package client

import (
	"context"
	"crypto/tls"
	"net"
	"strconv"
	"time"

	"github.com/pion/stun/v4"
	"github.com/pion/webrtc/v4"
)

// Paths media can take to the bridge, as Path reports them.
const (
	PathUDP      = "udp"       // directly, over UDP
	PathTCP      = "tcp"       // directly, over ICE-TCP
	PathRelayUDP = "relay-udp" // through TURN, reached over UDP
	PathRelayTCP = "relay-tcp" // through TURN, reached over TCP
	PathRelayTLS = "relay-tls" // through TURN, reached over TLS
)

// webrtcICEServers are the TURN servers of the join, as chosen by
// Config.SelectICEServers.
func (s *Session) webrtcICEServers() []webrtc.ICEServer {
	s.mu.Lock()
	chosen := s.iceServers
	s.mu.Unlock()
	if s.cfg.SelectICEServers != nil {
		chosen = s.cfg.SelectICEServers(chosen)
	}
	var out []webrtc.ICEServer
	for _, is := range chosen {
		out = append(out, webrtc.ICEServer{URLs: is.URLs, Username: is.Username, Credential: is.Credential})
	}
	return out
}

// settingEngine is a copy of the configured (or default) settings with
// the network types of Config.NetworkTypes and, with Config.TURNTLS, a
// dialer that verifies TURN servers over TLS with it.
func (s *Session) settingEngine(servers []webrtc.ICEServer) *webrtc.SettingEngine {
	var se webrtc.SettingEngine
	if s.cfg.SettingEngine != nil {
		se = *s.cfg.SettingEngine
	} else {
		se = *DefaultSettingEngine(s.log)
	}
	networks := s.cfg.NetworkTypes
	if s.cfg.ICETransportPolicy == webrtc.ICETransportPolicyRelay {
		// Relayed candidates are UDP whatever carries them to the TURN
		// server; pion would still dial the bridge's ICE-TCP candidates
		// directly from TCP ones.
		networks = []webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeUDP6}
	}
	if len(networks) > 0 {
		se.SetNetworkTypes(networks)
	}
	if s.cfg.TURNTLS != nil {
		if d := newTURNDialer(servers, s.cfg.TURNTLS); d != nil {
			se.SetICEProxyDialer(d)
		}
	}
	// The session ends or replaces its PeerConnection itself (leave,
	// restart): pion closing it on the bridge's DTLS close_notify, on a
	// goroutine of its own, would race with Path's GetStats.
	se.DisableCloseByDTLS(true)
	return &se
}

// turnDialer connects to TURN servers over TCP, and over TLS to those of
// turns: URLs. pion hands TURN-over-TCP dials to a proxy dialer when one
// is set and then speaks TURN on what it returns; its own TLS would only
// trust the system's roots.
type turnDialer struct {
	tls map[string]*tls.Config // by the host:port pion dials
}

func newTURNDialer(servers []webrtc.ICEServer, base *tls.Config) *turnDialer {
	d := &turnDialer{tls: map[string]*tls.Config{}}
	for _, srv := range servers {
		for _, raw := range srv.URLs {
			u, err := stun.ParseURI(raw)
			if err != nil || u.Scheme != stun.SchemeTypeTURNS {
				continue
			}
			cfg := base.Clone()
			if cfg.ServerName == "" {
				cfg.ServerName = u.Host
			}
			d.tls[net.JoinHostPort(u.Host, strconv.Itoa(u.Port))] = cfg
		}
	}
	if len(d.tls) == 0 {
		return nil
	}
	return d
}

// turnDialTimeout bounds connecting to a TURN server, TLS included.
const turnDialTimeout = 10 * time.Second

func (d *turnDialer) Dial(network, addr string) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), turnDialTimeout)
	defer cancel()
	c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	cfg := d.tls[addr]
	if cfg == nil {
		return c, nil
	}
	tc := tls.Client(c, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		_ = c.Close()
		return nil, err
	}
	return tc, nil
}

// Path says how the session's media reaches the bridge: PathUDP, PathTCP,
// PathRelayUDP, PathRelayTCP or PathRelayTLS, from the selected ICE
// candidate pair; "" while none is selected.
func (s *Session) Path() string {
	s.closing.RLock()
	defer s.closing.RUnlock()
	return PathOf(s.PeerConnection())
}

// PathOf says how a PeerConnection's media flows (see Session.Path). It
// reads the connection's stats: the caller must not close pc meanwhile.
func PathOf(pc *webrtc.PeerConnection) string {
	if pc == nil || pc.SCTP() == nil || pc.SCTP().Transport() == nil {
		return ""
	}
	pair, ok := pc.SCTP().Transport().ICETransport().GetSelectedCandidatePairStats()
	if !ok {
		return ""
	}
	local, ok := pc.GetStats()[pair.LocalCandidateID].(webrtc.ICECandidateStats)
	if !ok {
		return ""
	}
	if local.CandidateType == webrtc.ICECandidateTypeRelay {
		if local.RelayProtocol == "" {
			return PathRelayUDP
		}
		return "relay-" + local.RelayProtocol
	}
	if local.Protocol == "tcp" {
		return PathTCP
	}
	return PathUDP
}
