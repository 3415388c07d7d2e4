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
	// PublicIP lists the addresses advertised in ICE candidates. Empty means
	// the host's own addresses, loopback included.
	PublicIP []string `yaml:"public_ip"`
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
		Listen:           ":8080",
		UDPPort:          10000,
		DataDir:          "parley-data",
		LogLevel:         "info",
		Region:           "default",
		KeyframeInterval: 500 * time.Millisecond,
		Roles:            []string{RoleSignal, RoleControl, RoleBridge},
		ClusterName:      "parley",
		StressThreshold:  0.8,
		DrainTimeout:     60 * time.Second,
		LeaseTTL:         3 * time.Second,
	}
}

// Validate checks every field and returns all problems at once.
func (c *Config) Validate() error {
	var errs []error
	bad := func(name, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: %s: %s", ErrInvalid, optionLabel(name), fmt.Sprintf(format, args...)))
	}
	if _, port, err := net.SplitHostPort(c.Listen); err != nil {
		bad("listen", "%q is not host:port (for example :8080 or 127.0.0.1:8080)", c.Listen)
	} else if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		bad("listen", "port %q must be a number from 0 to 65535", port)
	}
	if c.UDPPort < 0 || c.UDPPort > 65535 {
		bad("udp-port", "%d must be from 0 to 65535 (0 picks a free port)", c.UDPPort)
	}
	for _, ip := range c.PublicIP {
		if _, err := netip.ParseAddr(ip); err != nil {
			bad("public-ip", "%q is not an IP address (give addresses such as 203.0.113.7, comma-separated)", ip)
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
	for _, l := range []struct{ name, addr string }{{"nats-listen", c.NATSListen}, {"cluster-listen", c.ClusterListen}} {
		name, addr := l.name, l.addr
		if addr == "" {
			continue
		}
		if _, port, err := net.SplitHostPort(addr); err != nil {
			bad(name, "%q is not host:port", addr)
		} else if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
			bad(name, "port %q must be a number from 1 to 65535", port)
		}
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
	return errors.Join(errs...)
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
