// Package turn is Parley's embedded TURN server (RFC 8656, on pion/turn):
// it relays media for clients that cannot reach a bridge directly, over
// UDP, TCP and TLS. Credentials are short-lived, in the TURN REST form that
// coturn's use-auth-secret checks, so the same Credentials serve an
// external coturn. Relays reach only public addresses unless the
// configuration allows more (peers.go), each user holds a bounded number of
// allocations, and each allocation a bounded bitrate (relay.go).
package turn

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"

	"github.com/pion/turn/v5"

	"github.com/parley/parley/internal/rtc"
	"github.com/parley/parley/internal/shutdown"
)

// Server is a running TURN server.
type Server struct {
	cfg    Config
	log    *slog.Logger
	pion   *turn.Server
	relays *relays
	totals totals

	streams *chanListener // every TCP and TLS connection reaches pion here
	addrs   Addrs

	mu        sync.Mutex
	closed    bool
	listeners map[net.Listener]struct{}
	conns     map[*streamConn]struct{}
	wg        sync.WaitGroup
}

// New starts a TURN server on the configured listeners. With none, it
// serves only what is handed to ServeConn and ServeListener.
func New(cfg Config) (_ *Server, err error) {
	cfg, err = cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	public, bind, guessed, err := cfg.relayAddresses()
	if err != nil {
		return nil, err
	}
	log := cfg.Logger
	s := &Server{
		cfg:       cfg,
		log:       log,
		streams:   newChanListener(),
		listeners: map[net.Listener]struct{}{},
		conns:     map[*streamConn]struct{}{},
	}
	s.relays = &relays{
		ports: &turn.RelayAddressGeneratorPortRange{
			RelayAddress: net.IP(public.AsSlice()),
			Address:      bind.String(),
			MinPort:      cfg.RelayMinPort,
			MaxPort:      cfg.RelayMaxPort,
		},
		self:       cfg.Self,
		maxPerUser: cfg.MaxAllocationsPerUser,
		bitrate:    cfg.MaxBitrate,
		log:        log,
		totals:     &s.totals,
		byAddr:     map[netip.AddrPort]*relayConn{},
		perUser:    map[string]int{},
	}

	var packetConns []turn.PacketConnConfig
	var plain []net.Listener
	defer func() {
		if err != nil {
			for _, pc := range packetConns {
				_ = pc.PacketConn.Close()
			}
			for _, l := range plain {
				_ = l.Close()
			}
		}
	}()
	if cfg.UDPListen != "" {
		pc, lerr := net.ListenPacket("udp", cfg.UDPListen)
		if lerr != nil {
			return nil, fmt.Errorf("turn: UDP listener %s: %w", cfg.UDPListen, lerr)
		}
		packetConns = append(packetConns, turn.PacketConnConfig{
			PacketConn: pc, RelayAddressGenerator: s.relays, PermissionHandler: s.permitPeer,
		})
	}
	for _, l := range []struct {
		addr string
		tls  bool
		got  *net.Addr
	}{{cfg.TCPListen, false, &s.addrs.TCP}, {cfg.TLSListen, true, &s.addrs.TLS}} {
		if l.addr == "" {
			continue
		}
		ln, lerr := net.Listen("tcp", l.addr)
		if lerr != nil {
			return nil, fmt.Errorf("turn: TCP listener %s: %w", l.addr, lerr)
		}
		*l.got = ln.Addr()
		if l.tls {
			ln = tls.NewListener(ln, cfg.TLS)
		}
		plain = append(plain, ln)
	}

	s.pion, err = turn.NewServer(turn.ServerConfig{
		Realm:             cfg.Realm,
		AuthHandler:       s.authenticate,
		QuotaHandler:      s.relays.underQuota,
		EventHandler:      s.events(),
		LoggerFactory:     rtc.LoggerFactory(log),
		PacketConnConfigs: packetConns,
		ListenerConfigs: []turn.ListenerConfig{{
			Listener: s.streams, RelayAddressGenerator: s.relays, PermissionHandler: s.permitPeer,
		}},
	})
	if err != nil {
		return nil, fmt.Errorf("turn: %w", err)
	}
	if len(packetConns) > 0 {
		s.addrs.UDP = packetConns[0].PacketConn.LocalAddr()
	}
	// ServeListener registers each listener, or closes it if Close came
	// first.
	for _, ln := range plain {
		s.wg.Go(func() {
			if err := s.ServeListener(ln); err != nil && !errors.Is(err, ErrClosed) {
				log.Warn("turn: listener stopped", "addr", ln.Addr().String(), "err", err)
			}
		})
	}

	attrs := []any{"realm", cfg.Realm, "relay_ip", public.String(), "relay_ports", fmt.Sprintf("%d-%d", cfg.RelayMinPort, cfg.RelayMaxPort)}
	if s.addrs.UDP != nil {
		attrs = append(attrs, "udp", s.addrs.UDP.String())
	}
	if s.addrs.TCP != nil {
		attrs = append(attrs, "tcp", s.addrs.TCP.String())
	}
	if s.addrs.TLS != nil {
		attrs = append(attrs, "tls", s.addrs.TLS.String())
	}
	log.Info("turn: serving", attrs...)
	if guessed {
		log.Warn("turn: relay address guessed from the host's interfaces; set the TURN public IP if clients reach this host at another address", "relay_ip", public.String())
	}
	return s, nil
}

// Addrs are the addresses of a server's own listeners; nil where it has none.
type Addrs struct {
	UDP, TCP, TLS net.Addr
}

// Addrs returns where the server listens.
func (s *Server) Addrs() Addrs { return s.addrs }

// RelayIP is the address relays are advertised at.
func (s *Server) RelayIP() netip.Addr {
	a, _ := netip.AddrFromSlice(s.relays.ports.RelayAddress)
	return a.Unmap()
}

// Close stops the server: listeners, connections and allocations.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	listeners := make([]net.Listener, 0, len(s.listeners))
	for l := range s.listeners {
		listeners = append(listeners, l)
	}
	conns := make([]*streamConn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()

	err := s.pion.Close() // the UDP sockets and the stream listener
	for _, l := range listeners {
		_ = l.Close()
	}
	for _, c := range conns {
		_ = c.Close()
	}
	// pion closes allocations after its loops end; do not leave relay
	// ports open behind the caller's back.
	for _, c := range s.relays.active() {
		_ = c.Close()
	}
	shutdown.WaitGroup(s.log, "TURN connections", shutdown.Timeout, &s.wg)
	return err
}
