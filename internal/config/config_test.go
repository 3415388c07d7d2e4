package config

import (
	"errors"
	"log/slog"
	"math"
	"net/netip"
	"reflect"
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

		{"roles one", func(c *Config) { c.Roles = []string{RoleBridge} }, nil},
		{"roles two", func(c *Config) { c.Roles = []string{RoleSignal, RoleControl} }, nil},
		{"roles unknown", func(c *Config) { c.Roles = []string{"x"} }, []string{"roles"}},
		{"roles one unknown among good", func(c *Config) { c.Roles = []string{RoleSignal, "relay"} }, []string{"roles"}},
		{"roles upper case", func(c *Config) { c.Roles = []string{"Bridge"} }, []string{"roles"}},
		{"roles two unknown", func(c *Config) { c.Roles = []string{"x", "y"} }, []string{"roles", "roles"}},
		{"roles nil", func(c *Config) { c.Roles = nil }, []string{"roles"}},
		{"roles empty", func(c *Config) { c.Roles = []string{} }, []string{"roles"}},
		{"nats URL", func(c *Config) { c.NATS = "nats://nats.example.org:4222" }, nil},
		{"nats tls URL", func(c *Config) { c.NATS = "tls://10.0.0.1:4222" }, nil},
		{"nats http", func(c *Config) { c.NATS = "http://x" }, []string{"nats"}},
		{"nats without scheme", func(c *Config) { c.NATS = "10.0.0.1:4222" }, []string{"nats"}},
		{"nats without host", func(c *Config) { c.NATS = "nats://" }, []string{"nats"}},
		{"nats with nats-listen", func(c *Config) { c.NATS, c.NATSListen = "nats://x:4222", ":4222" }, []string{"nats"}},
		{"nats with cluster-listen", func(c *Config) { c.NATS, c.ClusterListen = "nats://x:4222", ":6222" }, []string{"nats"}},
		{
			"nats with a cluster",
			func(c *Config) {
				c.NATS, c.ClusterListen, c.ClusterPeers = "nats://x:4222", ":6222", []string{"nats://10.0.0.2:6222"}
			},
			[]string{"nats"},
		},
		{"nats with cluster-peers alone", func(c *Config) { c.NATS, c.ClusterPeers = "nats://x:4222", []string{"nats://10.0.0.2:6222"} }, []string{"nats", "cluster-peers"}},
		{"nats bad and with nats-listen", func(c *Config) { c.NATS, c.NATSListen = "http://x", ":4222" }, []string{"nats", "nats"}},
		{"nats-listen any host", func(c *Config) { c.NATSListen = ":4222" }, nil},
		{"nats-listen IPv6", func(c *Config) { c.NATSListen = "[::1]:65535" }, nil},
		{"nats-listen without port", func(c *Config) { c.NATSListen = "4222" }, []string{"nats-listen"}},
		{"nats-listen port 0", func(c *Config) { c.NATSListen = ":0" }, []string{"nats-listen"}},
		{"nats-listen port 65536", func(c *Config) { c.NATSListen = "127.0.0.1:65536" }, []string{"nats-listen"}},
		{"nats-listen port named", func(c *Config) { c.NATSListen = ":nats" }, []string{"nats-listen"}},
		{"cluster-listen alone", func(c *Config) { c.ClusterListen = "0.0.0.0:6222" }, nil},
		{"cluster-listen without port", func(c *Config) { c.ClusterListen = "localhost" }, []string{"cluster-listen"}},
		{"cluster-listen port 0", func(c *Config) { c.ClusterListen = ":0" }, []string{"cluster-listen"}},
		{"nats-listen and cluster-listen bad", func(c *Config) { c.NATSListen, c.ClusterListen = ":0", "x" }, []string{"nats-listen", "cluster-listen"}},
		{
			"cluster-peers with cluster-listen",
			func(c *Config) {
				c.ClusterListen, c.ClusterPeers = ":6222", []string{"nats://10.0.0.2:6222", "nats://node-3.example.org:6222"}
			},
			nil,
		},
		{"cluster-peers without cluster-listen", func(c *Config) { c.ClusterPeers = []string{"nats://10.0.0.2:6222"} }, []string{"cluster-peers"}},
		{"cluster-peers without scheme", func(c *Config) { c.ClusterListen, c.ClusterPeers = ":6222", []string{"10.0.0.2:6222"} }, []string{"cluster-peers"}},
		{"cluster-peers tls scheme", func(c *Config) { c.ClusterListen, c.ClusterPeers = ":6222", []string{"tls://10.0.0.2:6222"} }, []string{"cluster-peers"}},
		{"cluster-peers without host", func(c *Config) { c.ClusterListen, c.ClusterPeers = ":6222", []string{"nats://"} }, []string{"cluster-peers"}},
		{
			"cluster-peers two bad, no cluster-listen",
			func(c *Config) { c.ClusterPeers = []string{"a", "nats://b:6222", "http://c:6222"} },
			[]string{"cluster-peers", "cluster-peers", "cluster-peers"},
		},
		{"cluster-name 64", func(c *Config) { c.ClusterName = strings.Repeat("c", 64) }, nil},
		{"cluster-name empty", func(c *Config) { c.ClusterName = "" }, []string{"cluster-name"}},
		{"cluster-name 65", func(c *Config) { c.ClusterName = strings.Repeat("c", 65) }, []string{"cluster-name"}},
		{"cluster-name with dot", func(c *Config) { c.ClusterName = "parley.eu" }, []string{"cluster-name"}},
		{"site-map v4 and v6", func(c *Config) { c.SiteMap = []string{"10.0.0.0/8=eu", "2001:db8::/32=us_east"} }, nil},
		{"site-map unmasked", func(c *Config) { c.SiteMap = []string{"10.1.2.3/16=eu-west"} }, nil},
		{"site-map without =", func(c *Config) { c.SiteMap = []string{"10.0.0.0/8"} }, []string{"site-map"}},
		{"site-map not a CIDR", func(c *Config) { c.SiteMap = []string{"x=eu"} }, []string{"site-map"}},
		{"site-map address without length", func(c *Config) { c.SiteMap = []string{"10.0.0.1=eu"} }, []string{"site-map"}},
		{"site-map bad region", func(c *Config) { c.SiteMap = []string{"10.0.0.0/8=bad region"} }, []string{"site-map"}},
		{"site-map empty region", func(c *Config) { c.SiteMap = []string{"10.0.0.0/8="} }, []string{"site-map"}},
		{"site-map bad after good", func(c *Config) { c.SiteMap = []string{"10.0.0.0/8=eu", "x=us"} }, []string{"site-map"}},
		{"trusted-proxies v4 and v6", func(c *Config) { c.TrustedProxies = []string{"10.0.0.0/8", "::1/128"} }, nil},
		{"trusted-proxies address", func(c *Config) { c.TrustedProxies = []string{"10.0.0.1"} }, []string{"trusted-proxies"}},
		{"trusted-proxies hostname", func(c *Config) { c.TrustedProxies = []string{"10.0.0.0/8", "proxy.example.org"} }, []string{"trusted-proxies"}},
		{"trusted-proxies length 33", func(c *Config) { c.TrustedProxies = []string{"10.0.0.0/33"} }, []string{"trusted-proxies"}},
		{"trusted-proxies two bad", func(c *Config) { c.TrustedProxies = []string{"a", "b"} }, []string{"trusted-proxies", "trusted-proxies"}},
		{"stress-threshold 1", func(c *Config) { c.StressThreshold = 1 }, nil},
		{"stress-threshold small", func(c *Config) { c.StressThreshold = 0.01 }, nil},
		{"stress-threshold 0", func(c *Config) { c.StressThreshold = 0 }, []string{"stress-threshold"}},
		{"stress-threshold 1.5", func(c *Config) { c.StressThreshold = 1.5 }, []string{"stress-threshold"}},
		{"stress-threshold negative", func(c *Config) { c.StressThreshold = -0.5 }, []string{"stress-threshold"}},
		{"stress-threshold NaN", func(c *Config) { c.StressThreshold = math.NaN() }, []string{"stress-threshold"}},
		{"stress-threshold +Inf", func(c *Config) { c.StressThreshold = math.Inf(1) }, []string{"stress-threshold"}},
		{"conference-cap 0", func(c *Config) { c.ConferenceCap = 0 }, nil},
		{"conference-cap 50", func(c *Config) { c.ConferenceCap = 50 }, nil},
		{"conference-cap -1", func(c *Config) { c.ConferenceCap = -1 }, []string{"conference-cap"}},
		{"drain-timeout 1s", func(c *Config) { c.DrainTimeout = time.Second }, nil},
		{"drain-timeout 1h", func(c *Config) { c.DrainTimeout = time.Hour }, nil},
		{"drain-timeout 0", func(c *Config) { c.DrainTimeout = 0 }, []string{"drain-timeout"}},
		{"drain-timeout under 1s", func(c *Config) { c.DrainTimeout = time.Second - 1 }, []string{"drain-timeout"}},
		{"lease-ttl 1s", func(c *Config) { c.LeaseTTL = time.Second }, nil},
		{"lease-ttl 1m", func(c *Config) { c.LeaseTTL = time.Minute }, nil},
		{"lease-ttl 0", func(c *Config) { c.LeaseTTL = 0 }, []string{"lease-ttl"}},
		{"lease-ttl under 1s", func(c *Config) { c.LeaseTTL = time.Second - 1 }, []string{"lease-ttl"}},
		{"lease-ttl 2m", func(c *Config) { c.LeaseTTL = 2 * time.Minute }, []string{"lease-ttl"}},
		{"lease-ttl over 1m", func(c *Config) { c.LeaseTTL = time.Minute + 1 }, []string{"lease-ttl"}},
		{
			"zero Config",
			func(c *Config) { *c = Config{} },
			[]string{"listen", "data-dir", "log-level", "region", "keyframe-interval", "roles", "cluster-name", "stress-threshold", "drain-timeout", "lease-ttl"},
		},
		{
			// The nats-listen and cluster-listen problems also make --nats
			// report the conflict, so nats appears twice.
			"every option bad",
			func(c *Config) {
				*c = Config{
					Listen: "x", UDPPort: -5, PublicIP: []string{"y"}, LogLevel: "z", NodeID: "a b", Region: "", KeyframeInterval: -1,
					Roles: []string{"relay"}, NATS: "http://x", NATSListen: "4222", ClusterListen: ":0", ClusterPeers: []string{"p"},
					ClusterName: "a.b", SiteMap: []string{"10.0.0.0/8"}, TrustedProxies: []string{"q"}, StressThreshold: 2,
					ConferenceCap: -1, DrainTimeout: -1, LeaseTTL: time.Hour,
				}
			},
			[]string{
				"listen", "udp-port", "public-ip", "data-dir", "log-level", "node-id", "region", "keyframe-interval",
				"roles", "nats", "nats", "nats-listen", "cluster-listen", "cluster-peers", "cluster-name", "site-map",
				"trusted-proxies", "stress-threshold", "conference-cap", "drain-timeout", "lease-ttl",
			},
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
			for i, name := range tc.bad {
				// Each problem names the option as a flag, an env var and a
				// YAML key, one per line, in the order of the options.
				label := "--" + name + " (" + envName(name) + ", YAML " + yamlKey(name) + ")"
				if !strings.Contains(err.Error(), label) {
					t.Errorf("error %q does not name %s", err, label)
				}
				if i < len(lines) && !strings.Contains(lines[i], label) {
					t.Errorf("problem %d is %q, want one naming %s", i, lines[i], label)
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

func TestParseSiteMap(t *testing.T) {
	site := func(prefix, region string) Site {
		return Site{Prefix: netip.MustParsePrefix(prefix), Region: region}
	}
	tests := []struct {
		name    string
		in      []string
		want    []Site
		wantErr []string // pieces the error must contain; nil means valid
	}{
		{name: "nil", in: nil, want: nil},
		{name: "empty", in: []string{}, want: nil},
		{name: "one", in: []string{"10.0.0.0/8=eu"}, want: []Site{site("10.0.0.0/8", "eu")}},
		{name: "masked", in: []string{"10.1.2.3/16=eu-west"}, want: []Site{site("10.1.0.0/16", "eu-west")}},
		{name: "host route", in: []string{"192.0.2.7/32=edge_1"}, want: []Site{site("192.0.2.7/32", "edge_1")}},
		{name: "IPv6 masked", in: []string{"2001:db8:1::1/48=us"}, want: []Site{site("2001:db8:1::/48", "us")}},
		{name: "spaces trimmed", in: []string{" 10.0.0.0/8 = eu "}, want: []Site{site("10.0.0.0/8", "eu")}},
		{
			name: "order kept, overlaps allowed",
			in:   []string{"10.1.0.0/16=eu-west", "10.0.0.0/8=eu", "0.0.0.0/0=default"},
			want: []Site{site("10.1.0.0/16", "eu-west"), site("10.0.0.0/8", "eu"), site("0.0.0.0/0", "default")},
		},
		{name: "no =", in: []string{"10.0.0.0/8"}, wantErr: []string{`"10.0.0.0/8"`, "CIDR=region"}},
		{name: "not a CIDR", in: []string{"x=eu"}, wantErr: []string{`"x=eu"`, `"x"`, "not a CIDR"}},
		{name: "address without length", in: []string{"10.0.0.1=eu"}, wantErr: []string{`"10.0.0.1"`, "not a CIDR"}},
		{name: "length too long", in: []string{"10.0.0.0/33=eu"}, wantErr: []string{"not a CIDR"}},
		{name: "empty CIDR", in: []string{"=eu"}, wantErr: []string{"not a CIDR"}},
		{name: "region with space", in: []string{"10.0.0.0/8=bad region"}, wantErr: []string{`"bad region"`}},
		{name: "empty region", in: []string{"10.0.0.0/8="}, wantErr: []string{`region ""`}},
		{name: "second =", in: []string{"10.0.0.0/8=eu=west"}, wantErr: []string{`"eu=west"`}},
		{name: "region too long", in: []string{"10.0.0.0/8=" + strings.Repeat("r", 65)}, wantErr: []string{"region"}},
		{name: "bad after good", in: []string{"10.0.0.0/8=eu", "nope"}, wantErr: []string{`"nope"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseSiteMap(tc.in)
			if tc.wantErr == nil {
				if err != nil {
					t.Fatalf("ParseSiteMap(%q): %v", tc.in, err)
				}
				if !reflect.DeepEqual(got, tc.want) {
					t.Errorf("ParseSiteMap(%q) = %v, want %v", tc.in, got, tc.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("ParseSiteMap(%q) = %v, want an error", tc.in, got)
			}
			if got != nil {
				t.Errorf("ParseSiteMap(%q) returned %v with its error", tc.in, got)
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %s", err, w)
				}
			}
		})
	}
}

func TestHas(t *testing.T) {
	all := Default()
	for _, r := range []string{RoleSignal, RoleControl, RoleBridge} {
		if !all.Has(r) {
			t.Errorf("Default().Has(%q) = false; the default node runs every role", r)
		}
	}
	bridge := Config{Roles: []string{RoleBridge}}
	none := Config{}
	tests := []struct {
		c    *Config
		role string
		want bool
	}{
		{&bridge, RoleBridge, true},
		{&bridge, RoleSignal, false},
		{&bridge, RoleControl, false},
		{&bridge, "Bridge", false},
		{&bridge, "", false},
		{&all, "relay", false},
		{&none, RoleBridge, false},
		{&none, "", false},
	}
	for _, tc := range tests {
		if got := tc.c.Has(tc.role); got != tc.want {
			t.Errorf("Config{Roles: %q}.Has(%q) = %v, want %v", tc.c.Roles, tc.role, got, tc.want)
		}
	}
}

func TestDefaultRolesNotShared(t *testing.T) {
	a := Default()
	a.Roles[0] = "changed"
	if b := Default(); b.Roles[0] != RoleSignal {
		t.Errorf("changing one Default's roles changed the next: %q", b.Roles)
	}
}
