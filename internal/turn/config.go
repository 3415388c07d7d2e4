package turn

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"time"
)

// Defaults of the zero Config.
const (
	DefaultRealm                 = "parley"
	DefaultRelayMinPort          = 49152
	DefaultRelayMaxPort          = 65535
	DefaultMaxAllocationsPerUser = 10
)

// Config configures an embedded TURN server. The zero value of each field
// but Secret is usable: no listeners (connections come through ServeConn),
// the default realm, port range and per-user cap, no bitrate cap, and no
// allowed peers beyond public addresses.
type Config struct {
	// Realm is the TURN realm clients authenticate in.
	Realm string
	// Secret is the shared secret of the TURN REST scheme (coturn's
	// static-auth-secret); Credentials issues passwords from it. Required.
	Secret string

	// UDPListen and TCPListen are addresses such as ":3478"; empty listens
	// on none.
	UDPListen, TCPListen string
	// TLSListen is an address for TURN over TLS (such as ":5349"), served
	// with TLS; empty listens on none. Connections already accepted and
	// TLS-terminated elsewhere go to ServeConn instead.
	TLSListen string
	TLS       *tls.Config

	// PublicIP is the relay address clients are told (XOR-RELAYED-ADDRESS)
	// and peers send to. Zero means the listening host's address, or, when
	// listening on all interfaces, the host's primary address.
	PublicIP netip.Addr

	// RelayMinPort and RelayMaxPort bound the relay sockets' ports
	// (inclusive). Zero means 49152–65535.
	RelayMinPort, RelayMaxPort uint16

	// MaxAllocationsPerUser caps one user's concurrent allocations (the
	// user of the REST username, not the expiry). Zero means
	// DefaultMaxAllocationsPerUser; negative means no cap.
	MaxAllocationsPerUser int
	// MaxBitrate caps each allocation, in each direction, in bits per
	// second; packets above it are dropped. Zero means no cap.
	MaxBitrate int64

	// AllowPeers are networks a relay may reach even though peer filtering
	// refuses them by default (the bridges' own private addresses, for
	// example). See Classify and ParsePrefixes.
	AllowPeers []netip.Prefix

	// Self is the node this server runs on: relays reach its own
	// addresses only at its media ports.
	Self Self

	Logger *slog.Logger

	// Timeouts of stream connections (see streams.go); tests shorten them.
	firstBytesTimeout, idleTimeout time.Duration
}

// withDefaults fills in the defaults and checks the rest.
func (c Config) withDefaults() (Config, error) {
	if c.Secret == "" {
		return c, ErrNoSecret
	}
	if c.Realm == "" {
		c.Realm = DefaultRealm
	}
	if c.RelayMinPort == 0 && c.RelayMaxPort == 0 {
		c.RelayMinPort, c.RelayMaxPort = DefaultRelayMinPort, DefaultRelayMaxPort
	}
	if c.RelayMinPort == 0 || c.RelayMaxPort < c.RelayMinPort {
		return c, fmt.Errorf("%w: relay port range %d-%d: want 1 <= min <= max", ErrConfig, c.RelayMinPort, c.RelayMaxPort)
	}
	switch {
	case c.MaxAllocationsPerUser == 0:
		c.MaxAllocationsPerUser = DefaultMaxAllocationsPerUser
	case c.MaxAllocationsPerUser < 0:
		c.MaxAllocationsPerUser = 0
	}
	if c.MaxBitrate < 0 {
		return c, fmt.Errorf("%w: max bitrate %d: want 0 (no cap) or more", ErrConfig, c.MaxBitrate)
	}
	if c.TLSListen != "" && c.TLS == nil {
		return c, fmt.Errorf("%w: TLS listener %s has no certificate (TLS config)", ErrConfig, c.TLSListen)
	}
	for _, p := range c.AllowPeers {
		if !p.IsValid() {
			return c, fmt.Errorf("%w: allowed peer %v", ErrBadPrefix, p)
		}
	}
	if c.firstBytesTimeout == 0 {
		c.firstBytesTimeout = defaultFirstBytesTimeout
	}
	if c.idleTimeout == 0 {
		c.idleTimeout = defaultIdleTimeout
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.PublicIP.IsValid() {
		c.PublicIP = c.PublicIP.Unmap()
	}
	return c, nil
}

// relayAddresses picks the address told to clients and the one relay
// sockets bind to. guessed is true when the public address came from the
// host's interfaces rather than from the configuration.
func (c Config) relayAddresses() (public, bind netip.Addr, guessed bool, err error) {
	listenHost := netip.Addr{}
	for _, l := range []string{c.UDPListen, c.TCPListen, c.TLSListen} {
		if l == "" {
			continue
		}
		host, _, err := net.SplitHostPort(l)
		if err != nil {
			return public, bind, false, fmt.Errorf("%w: listen address %q: %v", ErrConfig, l, err)
		}
		if a, err := netip.ParseAddr(host); err == nil && !a.IsUnspecified() {
			listenHost = a.Unmap()
			break
		}
	}
	public = c.PublicIP
	if !public.IsValid() {
		public = listenHost
	}
	if !public.IsValid() {
		if public, err = primaryAddr(); err != nil {
			return public, bind, false, err
		}
		guessed = true
	}
	bind = listenHost
	if !bind.IsValid() || bind.Is4() != public.Is4() {
		bind = netip.IPv4Unspecified()
		if public.Is6() {
			bind = netip.IPv6Unspecified()
		}
	}
	return public, bind, guessed, nil
}

// primaryAddr is the host's address on its default route, else its first
// global unicast address.
func primaryAddr() (netip.Addr, error) {
	// Connecting a UDP socket sends nothing; it only picks a route.
	if conn, err := net.Dial("udp4", "192.0.2.1:9"); err == nil {
		defer conn.Close()
		if ua, ok := conn.LocalAddr().(*net.UDPAddr); ok {
			if a := ua.AddrPort().Addr().Unmap(); a.IsGlobalUnicast() {
				return a, nil
			}
		}
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return netip.Addr{}, fmt.Errorf("%w: %v", ErrNoPublicIP, err)
	}
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok {
			if ip, ok := netip.AddrFromSlice(ipn.IP); ok && ip.Unmap().IsGlobalUnicast() {
				return ip.Unmap(), nil
			}
		}
	}
	return netip.Addr{}, ErrNoPublicIP
}

// Self describes the node a TURN server runs on. A relay is a way into the
// host for anyone holding a credential, guests included: on the node's own
// addresses it reaches the bridge's media port and nothing else, whatever
// AllowPeers says.
type Self struct {
	// Addrs are the host's own addresses and the public ones it is known by;
	// all of 127.0.0.0/8, ::1 and the unspecified addresses are its own too.
	Addrs []netip.Addr
	// MediaPorts are the UDP ports a relay may reach on them: the bridge's
	// media port, once known (nil: none, the node runs no bridge).
	MediaPorts func() []uint16
	// Translate gives the local address a public one of the node's stands
	// for behind 1:1 NAT: a relay sends there directly rather than out
	// through the NAT and back.
	Translate func(netip.Addr) (netip.Addr, bool)
}

// own reports whether ip is an address of the node. A server told nothing
// of its node (tests, a TURN server of its own) knows no own address: the
// refused classes still keep loopback out.
func (s Self) own(ip netip.Addr) bool {
	if s.Addrs == nil && s.MediaPorts == nil {
		return false
	}
	ip = ip.Unmap()
	return ip.IsLoopback() || ip.IsUnspecified() || slices.Contains(s.Addrs, ip)
}

// mediaPort reports whether port is one of the node's media ports.
func (s Self) mediaPort(port uint16) bool {
	return s.MediaPorts != nil && slices.Contains(s.MediaPorts(), port)
}
