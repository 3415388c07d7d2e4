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
	return errors.Join(errs...)
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
