package config

import (
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*Config)
		// bad lists the options the error must name; empty means valid.
		bad []string
	}{
		{"defaults", func(*Config) {}, nil},
		{"listen port 0", func(c *Config) { c.Listen = ":0" }, nil},
		{"listen IPv6", func(c *Config) { c.Listen = "[::1]:65535" }, nil},
		{"listen port 65536", func(c *Config) { c.Listen = ":65536" }, []string{"listen"}},
		{"listen port negative", func(c *Config) { c.Listen = ":-1" }, []string{"listen"}},
		{"listen empty", func(c *Config) { c.Listen = "" }, []string{"listen"}},
		{"listen bare IPv6", func(c *Config) { c.Listen = "::1" }, []string{"listen"}},
		{"udp-port 0", func(c *Config) { c.UDPPort = 0 }, nil},
		{"udp-port 65535", func(c *Config) { c.UDPPort = 65535 }, nil},
		{"udp-port 65536", func(c *Config) { c.UDPPort = 65536 }, []string{"udp-port"}},
		{"udp-port -1", func(c *Config) { c.UDPPort = -1 }, []string{"udp-port"}},
		{"public-ip v4 and v6", func(c *Config) { c.PublicIP = []string{"203.0.113.7", "2001:db8::1"} }, nil},
		{"public-ip hostname", func(c *Config) { c.PublicIP = []string{"203.0.113.7", "example.org"} }, []string{"public-ip"}},
		{"public-ip CIDR", func(c *Config) { c.PublicIP = []string{"203.0.113.0/24"} }, []string{"public-ip"}},
		{"public-ip empty string", func(c *Config) { c.PublicIP = []string{""} }, []string{"public-ip"}},
		{"data-dir empty", func(c *Config) { c.DataDir = "" }, []string{"data-dir"}},
		{"data-dir blank", func(c *Config) { c.DataDir = " \t" }, []string{"data-dir"}},
		{"log-level debug", func(c *Config) { c.LogLevel = "debug" }, nil},
		{"log-level upper case", func(c *Config) { c.LogLevel = "ERROR" }, nil},
		{"log-level empty", func(c *Config) { c.LogLevel = "" }, []string{"log-level"}},
		{"log-level trace", func(c *Config) { c.LogLevel = "trace" }, []string{"log-level"}},
		{"node-id empty", func(c *Config) { c.NodeID = "" }, nil},
		{"node-id 64", func(c *Config) { c.NodeID = strings.Repeat("n", 64) }, nil},
		{"node-id 65", func(c *Config) { c.NodeID = strings.Repeat("n", 65) }, []string{"node-id"}},
		{"node-id with dot", func(c *Config) { c.NodeID = "node.1" }, []string{"node-id"}},
		{"node-id non-ASCII", func(c *Config) { c.NodeID = "nöde" }, []string{"node-id"}},
		{"region 64", func(c *Config) { c.Region = strings.Repeat("r", 64) }, nil},
		{"region empty", func(c *Config) { c.Region = "" }, []string{"region"}},
		{"region 65", func(c *Config) { c.Region = strings.Repeat("r", 65) }, []string{"region"}},
		{"region with star", func(c *Config) { c.Region = "eu*" }, []string{"region"}},
		{"keyframe-interval 50ms", func(c *Config) { c.KeyframeInterval = 50 * time.Millisecond }, nil},
		{"keyframe-interval 10s", func(c *Config) { c.KeyframeInterval = 10 * time.Second }, nil},
		{"keyframe-interval under 50ms", func(c *Config) { c.KeyframeInterval = 50*time.Millisecond - 1 }, []string{"keyframe-interval"}},
		{"keyframe-interval over 10s", func(c *Config) { c.KeyframeInterval = 10*time.Second + 1 }, []string{"keyframe-interval"}},
		{"keyframe-interval zero", func(c *Config) { c.KeyframeInterval = 0 }, []string{"keyframe-interval"}},
		{
			"every option bad",
			func(c *Config) {
				*c = Config{Listen: "x", UDPPort: -5, PublicIP: []string{"y"}, LogLevel: "z", NodeID: "a b", Region: "", KeyframeInterval: -1}
			},
			[]string{"listen", "udp-port", "public-ip", "data-dir", "log-level", "node-id", "region", "keyframe-interval"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := Default()
			tc.modify(&c)
			err := c.Validate()
			if len(tc.bad) == 0 {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate accepted %+v", c)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error %q does not wrap ErrInvalid", err)
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(tc.bad) {
				t.Errorf("%d problems reported, want %d:\n%v", len(lines), len(tc.bad), err)
			}
			for _, name := range tc.bad {
				// Each problem names the option as a flag, an env var and a
				// YAML key.
				label := "--" + name + " (" + envName(name) + ", YAML " + yamlKey(name) + ")"
				if !strings.Contains(err.Error(), label) {
					t.Errorf("error %q does not name %s", err, label)
				}
			}
		})
	}
}

func TestParseLevel(t *testing.T) {
	tests := []struct {
		in   string
		want slog.Level
		ok   bool
	}{
		{"debug", slog.LevelDebug, true},
		{"info", slog.LevelInfo, true},
		{"warn", slog.LevelWarn, true},
		{"error", slog.LevelError, true},
		{"Info", slog.LevelInfo, true},
		{"", 0, false},
		{"verbose", 0, false},
	}
	for _, tc := range tests {
		got, err := ParseLevel(tc.in)
		if (err == nil) != tc.ok || (tc.ok && got != tc.want) {
			t.Errorf("ParseLevel(%q) = %v, %v; want %v, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}
