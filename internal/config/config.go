// Package config holds Parley's typed configuration: its defaults, how it is
// loaded (YAML file, then PARLEY_* environment variables, then flags, each
// overriding the one before) and its validation. Every option exists in all
// three forms; errors name the option and say what is allowed.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// ErrInvalid is wrapped by every validation error.
var ErrInvalid = errors.New("invalid configuration")

// Config is the configuration of one Parley node.
type Config struct {
	// Listen is the TCP address of the HTTP server (web client, /ws).
	Listen string `yaml:"listen"`
	// UDPPort is the one UDP port that carries all media of the node's bridge.
	// 0 picks a free port (tests use it).
	UDPPort int `yaml:"udp_port"`
	// PublicIP lists the addresses advertised in ICE candidates: "P" (an
	// address of this host, or one a 1:1 NAT translates to it) or "P/LOCAL"
	// (translated to this host's LOCAL). Empty means the host's own
	// addresses (the --listen address alone when it names one).
	PublicIP []string `yaml:"public_ip"`
	// MediaLoopback offers loopback candidates too, for clients on this
	// host only (development, tests).
	MediaLoopback bool `yaml:"media_loopback"`
	// DataDir is where the node keeps state (the bus's store, later recordings).
	DataDir string `yaml:"data_dir"`
	// LogLevel is debug, info, warn or error.
	LogLevel string `yaml:"log_level"`
	// NodeID names this node on the bus; empty picks one at start.
	NodeID string `yaml:"node_id"`
	// Region names the node's region.
	Region string `yaml:"region"`
	// KeyframeInterval is the shortest time between two keyframe requests the
	// bridge forwards to one publisher.
	KeyframeInterval time.Duration `yaml:"keyframe_interval"`

	// Roles the node runs: signal, control, bridge.
	Roles []string `yaml:"roles"`
	// NATS is the URL of an external NATS cluster (with JetStream); empty runs
	// the embedded server.
	NATS string `yaml:"nats"`
	// NATSListen is where the embedded server takes other nodes' clients
	// ("" takes none).
	NATSListen string `yaml:"nats_listen"`
	// ClusterListen is where the embedded server takes routes from the other
	// embedded servers of a cluster ("" for none).
	ClusterListen string `yaml:"cluster_listen"`
	// ClusterPeers are the route URLs (nats://host:port) of the other
	// embedded servers.
	ClusterPeers []string `yaml:"cluster_peers"`
	// ClusterName names the NATS cluster.
	ClusterName string `yaml:"cluster_name"`
	// SiteMap maps client networks to regions: "CIDR=region" entries.
	SiteMap []string `yaml:"site_map"`
	// TrustedProxies are the networks of front proxies whose
	// X-Forwarded-For names the client's address.
	TrustedProxies []string `yaml:"trusted_proxies"`
	// StressThreshold is the bridge stress (0..1) above which control puts no
	// new conference on a bridge.
	StressThreshold float64 `yaml:"stress_threshold"`
	// ConferenceCap caps the participants of one conference on one bridge
	// (0: no cap). It takes effect only where bridges cascade.
	ConferenceCap int `yaml:"conference_cap"`
	// DrainTimeout is how long a draining node waits for its conferences to
	// move before it exits anyway.
	DrainTimeout time.Duration `yaml:"drain_timeout"`
	// LeaseTTL is how long a room stays with a control node that stopped
	// refreshing its lease.
	LeaseTTL time.Duration `yaml:"lease_ttl"`

	// TLSListen is the one TCP port for everything in production (443):
	// HTTPS, WebSocket, TURN over TLS and ICE-TCP, told apart by their
	// first bytes. Empty serves plain HTTP on Listen only.
	TLSListen string `yaml:"tls_listen"`
	// TLSCert and TLSKey are PEM files; without them ACME (ACMEDomains) or,
	// failing that, a self-signed certificate for development is used.
	TLSCert string `yaml:"tls_cert"`
	TLSKey  string `yaml:"tls_key"`
	// ACMEDomains are the host names to get certificates for from Let's
	// Encrypt (ACME); ACMEEmail is the account's contact.
	ACMEDomains []string `yaml:"acme_domains"`
	ACMEEmail   string   `yaml:"acme_email"`
	// MediaUDP turns the bridge's UDP media port off when false: clients
	// then reach it over ICE-TCP or TURN only.
	MediaUDP bool `yaml:"media_udp"`

	// TURNSecret is the shared secret of TURN REST credentials; set, it
	// runs the embedded TURN server (or signs for TURNURLs).
	TURNSecret string `yaml:"turn_secret"`
	// TURNListen is the embedded TURN server's UDP and TCP port ("" for
	// none; TURN over TLS always rides on TLSListen).
	TURNListen string `yaml:"turn_listen"`
	// TURNRealm is the TURN realm.
	TURNRealm string `yaml:"turn_realm"`
	// TURNRelayPorts is the relay port range, "min-max".
	TURNRelayPorts string `yaml:"turn_relay_ports"`
	// TURNMaxAllocations caps allocations per user.
	TURNMaxAllocations int `yaml:"turn_max_allocations"`
	// TURNMaxBitrate caps each allocation, bits per second each way (0: none).
	TURNMaxBitrate int `yaml:"turn_max_bitrate"`
	// TURNAllowPeers are CIDRs relaying may reach despite the deny list
	// (the bridges' private addresses, for example).
	TURNAllowPeers []string `yaml:"turn_allow_peers"`
	// TURNURLs names an external TURN server (coturn with use-auth-secret);
	// set, no embedded one runs and participants get these URLs.
	TURNURLs []string `yaml:"turn_urls"`
	// TURNCredentialTTL is how long issued TURN credentials are valid.
	TURNCredentialTTL time.Duration `yaml:"turn_credential_ttl"`
	// PublicHost is the host name clients use to reach the node, in the
	// TURN URLs they are given; empty uses the host of their request.
	PublicHost string `yaml:"public_host"`

	// AllowGuests lets people without a token join.
	AllowGuests bool `yaml:"allow_guests"`
	// JWTSecret verifies HS256 tokens; JWTPublicKeys (PEM files) and
	// JWTJWKSURL verify RS256 and ES256 ones.
	JWTSecret     string   `yaml:"jwt_secret"`
	JWTPublicKeys []string `yaml:"jwt_public_keys"`
	JWTJWKSURL    string   `yaml:"jwt_jwks_url"`
	// JWTIssuer and JWTAudience must match a token's iss and aud.
	JWTIssuer   string `yaml:"jwt_issuer"`
	JWTAudience string `yaml:"jwt_audience"`
	// JWTAlgorithms is the allow-list of signing algorithms.
	JWTAlgorithms []string `yaml:"jwt_algorithms"`
	// JWTLeeway is the clock skew allowed on exp, nbf and iat.
	JWTLeeway time.Duration `yaml:"jwt_leeway"`
	// JWTRoomWildcard lets a token's room claim "*" open every room.
	JWTRoomWildcard bool `yaml:"jwt_room_wildcard"`
	// FirstModerator makes the first to join a room its moderator when no
	// token names one.
	FirstModerator bool `yaml:"first_moderator"`
	// MaxParticipants caps each room.
	MaxParticipants int `yaml:"max_participants"`
	// AdminKey guards the admin API (/api/v1, /admin); empty turns the API
	// off (drain then answers from this machine only).
	AdminKey string `yaml:"admin_key"`
	// JoinRate is how many joins one address may attempt per minute.
	JoinRate int `yaml:"join_rate"`
	// MessageRate is how many messages one client may send per second.
	MessageRate int `yaml:"message_rate"`
	// RoomJoinRate is how many joins one room takes per minute, from all
	// addresses together; 0: twice MaxParticipants, at least 120, so that
	// a full room can gather in half a minute.
	RoomJoinRate int `yaml:"room_join_rate"`
	// ChatMaxLength caps a chat message, in characters.
	ChatMaxLength int `yaml:"chat_max_length"`
}

// Roles a node can run.
const (
	RoleSignal  = "signal"
	RoleControl = "control"
	RoleBridge  = "bridge"
)

// Has reports whether the node runs role.
func (c *Config) Has(role string) bool {
	for _, r := range c.Roles {
		if r == role {
			return true
		}
	}
	return false
}

// Default returns the configuration used when nothing is set.
func Default() Config {
	return Config{
		Listen:             ":8080",
		UDPPort:            10000,
		DataDir:            "parley-data",
		LogLevel:           "info",
		Region:             "default",
		KeyframeInterval:   500 * time.Millisecond,
		Roles:              []string{RoleSignal, RoleControl, RoleBridge},
		ClusterName:        "parley",
		StressThreshold:    0.8,
		DrainTimeout:       60 * time.Second,
		LeaseTTL:           3 * time.Second,
		MediaUDP:           true,
		TURNRealm:          "parley",
		TURNRelayPorts:     "49152-65535",
		TURNMaxAllocations: 10,
		TURNCredentialTTL:  12 * time.Hour,
		AllowGuests:        true,
		JWTAlgorithms:      []string{"HS256", "RS256", "ES256"},
		JWTLeeway:          30 * time.Second,
		FirstModerator:     true,
		MaxParticipants:    100,
		JoinRate:           120,
		MessageRate:        50,
		ChatMaxLength:      2000,
	}
}

// Validate checks every field and returns all problems at once.
func (c *Config) Validate() error {
	var errs []error
	bad := func(name, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: %s: %s", ErrInvalid, optionLabel(name), fmt.Sprintf(format, args...)))
	}
	checkHostPort(bad, "listen", c.Listen, " (for example :8080 or 127.0.0.1:8080)", 0)
	if c.UDPPort < 0 || c.UDPPort > 65535 {
		bad("udp-port", "%d must be from 0 to 65535 (0 picks a free port)", c.UDPPort)
	}
	for _, e := range c.PublicIP {
		pub, local, pinned := strings.Cut(e, "/")
		if _, err := netip.ParseAddr(pub); err != nil {
			bad("public-ip", "%q is not an IP address (give addresses such as 203.0.113.7, or 203.0.113.7/10.0.0.5 where a NAT translates the first to this host's second; comma-separated)", e)
		} else if _, err := netip.ParseAddr(local); pinned && err != nil {
			bad("public-ip", "%q: %q is not an IP address of this host (give 203.0.113.7/10.0.0.5)", e, local)
		}
	}
	if strings.TrimSpace(c.DataDir) == "" {
		bad("data-dir", "must not be empty")
	}
	if _, err := ParseLevel(c.LogLevel); err != nil {
		bad("log-level", "%q must be debug, info, warn or error", c.LogLevel)
	}
	if c.NodeID != "" && !validToken(c.NodeID) {
		bad("node-id", "%q may hold only letters, digits, '-' and '_' (at most 64)", c.NodeID)
	}
	if !validToken(c.Region) {
		bad("region", "%q must be 1-64 letters, digits, '-' or '_'", c.Region)
	}
	if c.KeyframeInterval < 50*time.Millisecond || c.KeyframeInterval > 10*time.Second {
		bad("keyframe-interval", "%s must be between 50ms and 10s", c.KeyframeInterval)
	}
	if len(c.Roles) == 0 {
		bad("roles", "name at least one of signal, control, bridge")
	}
	for _, r := range c.Roles {
		if r != RoleSignal && r != RoleControl && r != RoleBridge {
			bad("roles", "%q is not a role; roles are signal, control and bridge", r)
		}
	}
	if c.NATS != "" {
		if u, err := url.Parse(c.NATS); err != nil || u.Host == "" || (u.Scheme != "nats" && u.Scheme != "tls") {
			bad("nats", "%q is not a NATS URL (nats://host:4222)", c.NATS)
		}
		if c.NATSListen != "" || c.ClusterListen != "" || len(c.ClusterPeers) > 0 {
			bad("nats", "an external NATS leaves no embedded server to listen or cluster; drop --nats-listen, --cluster-listen and --cluster-peers")
		}
	}
	if c.NATSListen != "" {
		checkHostPort(bad, "nats-listen", c.NATSListen, "", 1)
	}
	if c.ClusterListen != "" {
		checkHostPort(bad, "cluster-listen", c.ClusterListen, "", 1)
	}
	for _, peer := range c.ClusterPeers {
		if u, err := url.Parse(peer); err != nil || u.Host == "" || u.Scheme != "nats" {
			bad("cluster-peers", "%q is not a route URL (nats://host:6222)", peer)
		}
	}
	if len(c.ClusterPeers) > 0 && c.ClusterListen == "" {
		bad("cluster-peers", "needs --cluster-listen, the port the peers connect back to")
	}
	if !validToken(c.ClusterName) {
		bad("cluster-name", "%q must be 1-64 letters, digits, '-' or '_'", c.ClusterName)
	}
	if _, err := ParseSiteMap(c.SiteMap); err != nil {
		bad("site-map", "%v", err)
	}
	for _, p := range c.TrustedProxies {
		if _, err := netip.ParsePrefix(p); err != nil {
			bad("trusted-proxies", "%q is not a CIDR (for example 10.0.0.0/8)", p)
		}
	}
	if !(c.StressThreshold > 0 && c.StressThreshold <= 1) { // NaN too
		bad("stress-threshold", "%g must be above 0 and at most 1", c.StressThreshold)
	}
	if c.ConferenceCap < 0 {
		bad("conference-cap", "%d must not be negative (0: no cap)", c.ConferenceCap)
	}
	if c.DrainTimeout < time.Second {
		bad("drain-timeout", "%s must be at least 1s", c.DrainTimeout)
	}
	if c.LeaseTTL < time.Second || c.LeaseTTL > time.Minute {
		bad("lease-ttl", "%s must be between 1s and 1m", c.LeaseTTL)
	}
	c.validateEdge(bad)
	c.validateRooms(bad)
	return errors.Join(errs...)
}

// checkHostPort reports name unless addr is host:port with a port from
// minPort to 65535; example, if any, ends the message of a malformed addr.
func checkHostPort(bad func(name, format string, args ...any), name, addr, example string, minPort int) {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		bad(name, "%q is not host:port%s", addr, example)
		return
	}
	if p, err := strconv.Atoi(port); err != nil || p < minPort || p > 65535 {
		bad(name, "port %q must be a number from %d to 65535", port, minPort)
	}
}

// Site maps a client network to a region.
type Site struct {
	Prefix netip.Prefix
	Region string
}

// ParseSiteMap parses "CIDR=region" entries.
func ParseSiteMap(entries []string) ([]Site, error) {
	var out []Site
	for _, e := range entries {
		cidr, region, ok := strings.Cut(e, "=")
		if !ok {
			return nil, fmt.Errorf("%q is not CIDR=region (for example 10.1.0.0/16=eu-west)", e)
		}
		p, err := netip.ParsePrefix(strings.TrimSpace(cidr))
		if err != nil {
			return nil, fmt.Errorf("%q: %q is not a CIDR", e, cidr)
		}
		region = strings.TrimSpace(region)
		if !validToken(region) {
			return nil, fmt.Errorf("%q: region %q must be letters, digits, '-' or '_'", e, region)
		}
		out = append(out, Site{Prefix: p.Masked(), Region: region})
	}
	return out, nil
}

// ParseLevel maps a log level name to slog's level.
func ParseLevel(s string) (slog.Level, error) {
	var l slog.Level
	err := l.UnmarshalText([]byte(s))
	return l, err
}

func validToken(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}
