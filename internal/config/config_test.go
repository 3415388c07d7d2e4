package config

import (
	"errors"
	"log/slog"
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestValidate(t *testing.T) {
	// Files the TLS and token key options name.
	dir := t.TempDir()
	file := func(name string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte("-----BEGIN PLACEHOLDER-----\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	cert, key, pub1, pub2 := file("cert.pem"), file("key.pem"), file("pub1.pem"), file("pub2.pem")
	missing := filepath.Join(dir, "missing.pem")
	turnSecret := strings.Repeat("t", 16)
	// tokens configures an HS256 secret with the issuer and audience it
	// needs.
	tokens := func(c *Config) {
		c.JWTSecret, c.JWTIssuer, c.JWTAudience = strings.Repeat("s", 32), "https://id.example.org", "parley"
	}
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

		// Edge: TLS.
		{"tls-listen :443", func(c *Config) { c.TLSListen = ":443" }, nil},
		{"tls-listen IPv6 port 0", func(c *Config) { c.TLSListen = "[::1]:0" }, nil},
		{"tls-listen without port", func(c *Config) { c.TLSListen = "443" }, []string{"tls-listen"}},
		{"tls-listen port 65536", func(c *Config) { c.TLSListen = ":65536" }, []string{"tls-listen"}},
		{"tls-listen port named", func(c *Config) { c.TLSListen = ":https" }, []string{"tls-listen"}},
		{"tls-cert and tls-key", func(c *Config) { c.TLSListen, c.TLSCert, c.TLSKey = ":443", cert, key }, nil},
		{"tls-cert without tls-key", func(c *Config) { c.TLSListen, c.TLSCert = ":443", cert }, []string{"tls-cert"}},
		{"tls-key without tls-cert", func(c *Config) { c.TLSListen, c.TLSKey = ":443", key }, []string{"tls-cert"}},
		{"tls-key alone without tls-listen", func(c *Config) { c.TLSKey = key }, []string{"tls-cert"}},
		{"tls-cert missing", func(c *Config) { c.TLSListen, c.TLSCert, c.TLSKey = ":443", missing, key }, []string{"tls-cert"}},
		{"tls-key missing", func(c *Config) { c.TLSListen, c.TLSCert, c.TLSKey = ":443", cert, missing }, []string{"tls-key"}},
		{"tls-cert and tls-key missing", func(c *Config) { c.TLSListen, c.TLSCert, c.TLSKey = ":443", missing, missing }, []string{"tls-cert", "tls-key"}},
		{"tls-cert missing without tls-key", func(c *Config) { c.TLSListen, c.TLSCert = ":443", missing }, []string{"tls-cert", "tls-cert"}},
		{"tls-cert without tls-listen", func(c *Config) { c.TLSCert, c.TLSKey = cert, key }, []string{"tls-listen"}},
		{"acme-domains", func(c *Config) { c.TLSListen, c.ACMEDomains = ":443", []string{"meet.example.org", "a.example.net"} }, nil},
		{"acme-domains without tls-listen", func(c *Config) { c.ACMEDomains = []string{"meet.example.org"} }, []string{"tls-listen"}},
		{
			"acme-domains with tls-cert",
			func(c *Config) {
				c.TLSListen, c.TLSCert, c.TLSKey, c.ACMEDomains = ":443", cert, key, []string{"meet.example.org"}
			},
			[]string{"acme-domains"},
		},
		{"acme-domains without dot", func(c *Config) { c.TLSListen, c.ACMEDomains = ":443", []string{"localhost"} }, []string{"acme-domains"}},
		{"acme-domains wildcard", func(c *Config) { c.TLSListen, c.ACMEDomains = ":443", []string{"*.example.org"} }, []string{"acme-domains"}},
		{"acme-domains with port", func(c *Config) { c.TLSListen, c.ACMEDomains = ":443", []string{"meet.example.org:443"} }, []string{"acme-domains"}},
		{"acme-domains URL", func(c *Config) { c.TLSListen, c.ACMEDomains = ":443", []string{"https://meet.example.org"} }, []string{"acme-domains"}},
		{"acme-domains with space", func(c *Config) { c.TLSListen, c.ACMEDomains = ":443", []string{"meet example.org"} }, []string{"acme-domains"}},
		{
			"acme-domains two bad after good",
			func(c *Config) { c.TLSListen, c.ACMEDomains = ":443", []string{"meet.example.org", "a", "b/c.d"} },
			[]string{"acme-domains", "acme-domains"},
		},
		{"acme-email anything", func(c *Config) { c.ACMEEmail = "not checked" }, nil},

		// Edge: media port.
		{"media-udp off with tls-listen", func(c *Config) { c.MediaUDP, c.TLSListen = false, ":443" }, nil},
		{"media-udp off without tls-listen", func(c *Config) { c.MediaUDP = false }, []string{"media-udp"}},
		{"media-udp off with tls-cert but no tls-listen", func(c *Config) { c.MediaUDP, c.TLSCert, c.TLSKey = false, cert, key }, []string{"tls-listen", "media-udp"}},

		// Edge: TURN.
		{"turn-secret alone", func(c *Config) { c.TURNSecret = turnSecret }, nil},
		{"turn-secret 15", func(c *Config) { c.TURNSecret = strings.Repeat("t", 15) }, []string{"turn-secret"}},
		{"turn-listen", func(c *Config) { c.TURNListen, c.TURNSecret = ":3478", turnSecret }, nil},
		{"turn-listen IPv6 port 0", func(c *Config) { c.TURNListen, c.TURNSecret = "[::1]:0", turnSecret }, nil},
		{"turn-listen without turn-secret", func(c *Config) { c.TURNListen = ":3478" }, []string{"turn-secret"}},
		{"turn-listen without port", func(c *Config) { c.TURNListen, c.TURNSecret = "3478", turnSecret }, []string{"turn-listen"}},
		{"turn-listen port 65536", func(c *Config) { c.TURNListen, c.TURNSecret = ":65536", turnSecret }, []string{"turn-listen"}},
		{"turn-listen bad without turn-secret", func(c *Config) { c.TURNListen = "x" }, []string{"turn-listen", "turn-secret"}},
		{"turn-realm domain", func(c *Config) { c.TURNRealm = "turn.example.org" }, nil},
		{"turn-realm token", func(c *Config) { c.TURNRealm = "realm_1-a" }, nil},
		{"turn-realm empty", func(c *Config) { c.TURNRealm = "" }, []string{"turn-realm"}},
		{"turn-realm with space", func(c *Config) { c.TURNRealm = "my realm" }, []string{"turn-realm"}},
		{"turn-realm 65", func(c *Config) { c.TURNRealm = strings.Repeat("r", 65) }, []string{"turn-realm"}},
		{"turn-relay-ports full", func(c *Config) { c.TURNRelayPorts = "1024-65535" }, nil},
		{"turn-relay-ports one port", func(c *Config) { c.TURNRelayPorts = "50000-50000" }, nil},
		{"turn-relay-ports empty", func(c *Config) { c.TURNRelayPorts = "" }, []string{"turn-relay-ports"}},
		{"turn-relay-ports below 1024", func(c *Config) { c.TURNRelayPorts = "1023-2000" }, []string{"turn-relay-ports"}},
		{"turn-relay-ports reversed", func(c *Config) { c.TURNRelayPorts = "60000-50000" }, []string{"turn-relay-ports"}},
		{"turn-relay-ports over 65535", func(c *Config) { c.TURNRelayPorts = "50000-65536" }, []string{"turn-relay-ports"}},
		{"turn-relay-ports one number", func(c *Config) { c.TURNRelayPorts = "50000" }, []string{"turn-relay-ports"}},
		{"turn-max-allocations 1", func(c *Config) { c.TURNMaxAllocations = 1 }, nil},
		{"turn-max-allocations 0", func(c *Config) { c.TURNMaxAllocations = 0 }, []string{"turn-max-allocations"}},
		{"turn-max-bitrate 0", func(c *Config) { c.TURNMaxBitrate = 0 }, nil},
		{"turn-max-bitrate 1M", func(c *Config) { c.TURNMaxBitrate = 1_000_000 }, nil},
		{"turn-max-bitrate -1", func(c *Config) { c.TURNMaxBitrate = -1 }, []string{"turn-max-bitrate"}},
		{"turn-allow-peers CIDRs and addresses", func(c *Config) { c.TURNAllowPeers = []string{"10.0.0.0/8", "10.1.2.3", "fd00::/8", "fd00::1"} }, nil},
		{"turn-allow-peers hostname", func(c *Config) { c.TURNAllowPeers = []string{"10.0.0.0/8", "bridge.local"} }, []string{"turn-allow-peers"}},
		{"turn-allow-peers length 33", func(c *Config) { c.TURNAllowPeers = []string{"10.0.0.0/33"} }, []string{"turn-allow-peers"}},
		{"turn-allow-peers two bad", func(c *Config) { c.TURNAllowPeers = []string{"a", "b"} }, []string{"turn-allow-peers", "turn-allow-peers"}},
		{
			"turn-urls",
			func(c *Config) {
				c.TURNSecret, c.TURNURLs = turnSecret, []string{"turn:turn.example.org:3478?transport=udp", "turns:turn.example.org:443?transport=tcp"}
			},
			nil,
		},
		{"turn-urls without turn-secret", func(c *Config) { c.TURNURLs = []string{"turn:turn.example.org:3478"} }, []string{"turn-secret"}},
		{"turn-urls with slashes", func(c *Config) { c.TURNSecret, c.TURNURLs = turnSecret, []string{"turn://turn.example.org:3478"} }, []string{"turn-urls"}},
		{"turn-urls stun", func(c *Config) { c.TURNSecret, c.TURNURLs = turnSecret, []string{"stun:stun.example.org:3478"} }, []string{"turn-urls"}},
		{"turn-urls without scheme", func(c *Config) { c.TURNSecret, c.TURNURLs = turnSecret, []string{"turn.example.org:3478"} }, []string{"turn-urls"}},
		{"turn-urls without host", func(c *Config) { c.TURNSecret, c.TURNURLs = turnSecret, []string{"turns:"} }, []string{"turn-urls"}},
		{
			"turn-urls with turn-listen",
			func(c *Config) {
				c.TURNSecret, c.TURNListen, c.TURNURLs = turnSecret, ":3478", []string{"turn:turn.example.org:3478"}
			},
			[]string{"turn-urls"},
		},
		{
			"turn-urls bad and with turn-listen",
			func(c *Config) { c.TURNSecret, c.TURNListen, c.TURNURLs = turnSecret, ":3478", []string{"x"} },
			[]string{"turn-urls", "turn-urls"},
		},
		{"turn-credential-ttl 1m", func(c *Config) { c.TURNCredentialTTL = time.Minute }, nil},
		{"turn-credential-ttl 168h", func(c *Config) { c.TURNCredentialTTL = 168 * time.Hour }, nil},
		{"turn-credential-ttl under 1m", func(c *Config) { c.TURNCredentialTTL = time.Minute - 1 }, []string{"turn-credential-ttl"}},
		{"turn-credential-ttl over 168h", func(c *Config) { c.TURNCredentialTTL = 168*time.Hour + 1 }, []string{"turn-credential-ttl"}},
		{"turn-credential-ttl 0", func(c *Config) { c.TURNCredentialTTL = 0 }, []string{"turn-credential-ttl"}},
		{"public-host name", func(c *Config) { c.PublicHost = "meet.example.org" }, nil},
		{"public-host IPv4", func(c *Config) { c.PublicHost = "203.0.113.7" }, nil},
		{"public-host IPv6", func(c *Config) { c.PublicHost = "2001:db8::7" }, nil},
		{"public-host with port", func(c *Config) { c.PublicHost = "meet.example.org:443" }, []string{"public-host"}},
		{"public-host URL", func(c *Config) { c.PublicHost = "https://meet.example.org" }, []string{"public-host"}},
		{"public-host with space", func(c *Config) { c.PublicHost = "meet example.org" }, []string{"public-host"}},
		{"public-host bracketed IPv6", func(c *Config) { c.PublicHost = "[2001:db8::7]" }, []string{"public-host"}},
		{"public-host IPv6 with port", func(c *Config) { c.PublicHost = "[2001:db8::7]:443" }, []string{"public-host"}},
		{"public-host IPv6 with zone", func(c *Config) { c.PublicHost = "fe80::1%eth0" }, []string{"public-host"}},

		// Rooms: identity.
		{"jwt-secret 32", tokens, nil},
		{"jwt-secret 31", func(c *Config) { tokens(c); c.JWTSecret = strings.Repeat("s", 31) }, []string{"jwt-secret"}},
		{"jwt-public-keys", func(c *Config) { tokens(c); c.JWTSecret, c.JWTPublicKeys = "", []string{pub1, pub2} }, nil},
		{"jwt-public-keys missing", func(c *Config) { tokens(c); c.JWTPublicKeys = []string{pub1, missing} }, []string{"jwt-public-keys"}},
		{"jwt-public-keys two missing", func(c *Config) { tokens(c); c.JWTPublicKeys = []string{missing, missing + "2"} }, []string{"jwt-public-keys", "jwt-public-keys"}},
		{
			"jwt-jwks-url https",
			func(c *Config) {
				tokens(c)
				c.JWTSecret, c.JWTJWKSURL = "", "https://id.example.org/.well-known/jwks.json"
			},
			nil,
		},
		{"jwt-jwks-url http", func(c *Config) { tokens(c); c.JWTJWKSURL = "http://127.0.0.1:8081/jwks" }, nil},
		{"jwt-jwks-url ftp", func(c *Config) { tokens(c); c.JWTJWKSURL = "ftp://id.example.org/jwks" }, []string{"jwt-jwks-url"}},
		{"jwt-jwks-url without scheme", func(c *Config) { tokens(c); c.JWTJWKSURL = "id.example.org/jwks" }, []string{"jwt-jwks-url"}},
		{"jwt-jwks-url without host", func(c *Config) { tokens(c); c.JWTJWKSURL = "https:///jwks" }, []string{"jwt-jwks-url"}},
		{"jwt-jwks-url unparsable", func(c *Config) { tokens(c); c.JWTJWKSURL = "https://[::1" }, []string{"jwt-jwks-url"}},
		{"jwt-issuer and jwt-audience without tokens", func(c *Config) { c.JWTIssuer, c.JWTAudience = "i", "a" }, nil},
		{"jwt-secret without jwt-issuer", func(c *Config) { tokens(c); c.JWTIssuer = "" }, []string{"jwt-issuer"}},
		{"jwt-secret without jwt-audience", func(c *Config) { tokens(c); c.JWTAudience = "" }, []string{"jwt-issuer"}},
		{"jwt-public-keys without issuer and audience", func(c *Config) { c.JWTPublicKeys = []string{pub1} }, []string{"jwt-issuer"}},
		{"jwt-jwks-url without issuer and audience", func(c *Config) { c.JWTJWKSURL = "https://id.example.org/jwks" }, []string{"jwt-issuer"}},
		{"allow-guests off with jwt-secret", func(c *Config) { tokens(c); c.AllowGuests = false }, nil},
		{"allow-guests off with jwt-public-keys", func(c *Config) { tokens(c); c.AllowGuests, c.JWTSecret, c.JWTPublicKeys = false, "", []string{pub1} }, nil},
		{
			"allow-guests off with jwt-jwks-url",
			func(c *Config) {
				tokens(c)
				c.AllowGuests, c.JWTSecret, c.JWTJWKSURL = false, "", "https://id.example.org/jwks"
			},
			nil,
		},
		{"allow-guests off without tokens", func(c *Config) { c.AllowGuests = false }, []string{"allow-guests"}},
		{"allow-guests off with only issuer and audience", func(c *Config) { c.AllowGuests, c.JWTIssuer, c.JWTAudience = false, "i", "a" }, []string{"allow-guests"}},
		{
			"jwt-algorithms all allowed",
			func(c *Config) {
				c.JWTAlgorithms = []string{"HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "ES256", "ES384", "ES512"}
			},
			nil,
		},
		{"jwt-algorithms one", func(c *Config) { c.JWTAlgorithms = []string{"ES256"} }, nil},
		{"jwt-algorithms empty", func(c *Config) { c.JWTAlgorithms = nil }, []string{"jwt-algorithms"}},
		{"jwt-algorithms none", func(c *Config) { c.JWTAlgorithms = []string{"none"} }, []string{"jwt-algorithms"}},
		{"jwt-algorithms lower case", func(c *Config) { c.JWTAlgorithms = []string{"HS256", "rs256"} }, []string{"jwt-algorithms"}},
		{"jwt-algorithms PS256", func(c *Config) { c.JWTAlgorithms = []string{"PS256"} }, []string{"jwt-algorithms"}},
		{"jwt-algorithms two bad", func(c *Config) { c.JWTAlgorithms = []string{"none", "EdDSA"} }, []string{"jwt-algorithms", "jwt-algorithms"}},
		{"jwt-leeway 0", func(c *Config) { c.JWTLeeway = 0 }, nil},
		{"jwt-leeway 5m", func(c *Config) { c.JWTLeeway = 5 * time.Minute }, nil},
		{"jwt-leeway negative", func(c *Config) { c.JWTLeeway = -1 }, []string{"jwt-leeway"}},
		{"jwt-leeway over 5m", func(c *Config) { c.JWTLeeway = 5*time.Minute + 1 }, []string{"jwt-leeway"}},
		{"jwt-room-wildcard", func(c *Config) { c.JWTRoomWildcard = true }, nil},
		{"first-moderator off", func(c *Config) { c.FirstModerator = false }, nil},

		// Rooms: limits.
		{"max-participants 2", func(c *Config) { c.MaxParticipants = 2 }, nil},
		{"max-participants 10000", func(c *Config) { c.MaxParticipants = 10000 }, nil},
		{"max-participants 1", func(c *Config) { c.MaxParticipants = 1 }, []string{"max-participants"}},
		{"max-participants 10001", func(c *Config) { c.MaxParticipants = 10001 }, []string{"max-participants"}},
		{"admin-key 16", func(c *Config) { c.AdminKey = strings.Repeat("k", 16) }, nil},
		{"admin-key 15", func(c *Config) { c.AdminKey = strings.Repeat("k", 15) }, []string{"admin-key"}},
		{"join-rate 1", func(c *Config) { c.JoinRate = 1 }, nil},
		{"join-rate 0", func(c *Config) { c.JoinRate = 0 }, []string{"join-rate"}},
		{"join-rate negative", func(c *Config) { c.JoinRate = -1 }, []string{"join-rate"}},
		{"message-rate 1", func(c *Config) { c.MessageRate = 1 }, nil},
		{"message-rate 0", func(c *Config) { c.MessageRate = 0 }, []string{"message-rate"}},
		{"room-join-rate 0", func(c *Config) { c.RoomJoinRate = 0 }, nil},
		{"room-join-rate 1000", func(c *Config) { c.RoomJoinRate = 1000 }, nil},
		{"room-join-rate negative", func(c *Config) { c.RoomJoinRate = -1 }, []string{"room-join-rate"}},
		{"chat-max-length 1", func(c *Config) { c.ChatMaxLength = 1 }, nil},
		{"chat-max-length 100000", func(c *Config) { c.ChatMaxLength = 100000 }, nil},
		{"chat-max-length 0", func(c *Config) { c.ChatMaxLength = 0 }, []string{"chat-max-length"}},
		{"chat-max-length 100001", func(c *Config) { c.ChatMaxLength = 100001 }, []string{"chat-max-length"}},

		{
			"zero Config",
			func(c *Config) { *c = Config{} },
			[]string{
				"listen", "data-dir", "log-level", "region", "keyframe-interval", "roles", "cluster-name", "stress-threshold", "drain-timeout", "lease-ttl",
				"media-udp", "turn-realm", "turn-relay-ports", "turn-max-allocations", "turn-credential-ttl",
				"allow-guests", "jwt-algorithms", "max-participants", "join-rate", "message-rate", "chat-max-length",
			},
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
					// tls-listen is left empty, which the certificate and
					// media-udp false then report.
					TLSCert: missing, TLSKey: missing + "2", ACMEDomains: []string{"meet"}, MediaUDP: false,
					TURNSecret: "short", TURNListen: "3478", TURNRealm: "a b", TURNRelayPorts: "1-2",
					TURNMaxAllocations: 0, TURNMaxBitrate: -1, TURNAllowPeers: []string{"r"}, TURNURLs: []string{"stun:s"},
					TURNCredentialTTL: time.Second, PublicHost: "h:1",
					// Tokens are configured (badly), so allow-guests has
					// nothing to report.
					AllowGuests: false, JWTSecret: "short", JWTPublicKeys: []string{missing}, JWTJWKSURL: "ftp://k",
					JWTAlgorithms: []string{"none"}, JWTLeeway: time.Hour, MaxParticipants: 1, AdminKey: "short",
					JoinRate: -1, MessageRate: -1, RoomJoinRate: -1, ChatMaxLength: -1,
				}
			},
			[]string{
				"listen", "udp-port", "public-ip", "data-dir", "log-level", "node-id", "region", "keyframe-interval",
				"roles", "nats", "nats", "nats-listen", "cluster-listen", "cluster-peers", "cluster-name", "site-map",
				"trusted-proxies", "stress-threshold", "conference-cap", "drain-timeout", "lease-ttl",
				// The certificate options are checked before tls-listen
				// that they need; acme-domains conflicts with tls-cert and
				// is no host name.
				"tls-cert", "tls-key", "acme-domains", "acme-domains", "tls-listen", "media-udp",
				// turn-urls is bad and conflicts with turn-listen.
				"turn-listen", "turn-secret", "turn-realm", "turn-relay-ports", "turn-max-allocations", "turn-max-bitrate",
				"turn-allow-peers", "turn-urls", "turn-urls", "turn-credential-ttl", "public-host",
				"jwt-secret", "jwt-public-keys", "jwt-jwks-url", "jwt-issuer", "jwt-algorithms", "jwt-leeway",
				"max-participants", "admin-key", "join-rate", "message-rate", "room-join-rate", "chat-max-length",
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

// TestValidateOrderIsStable runs Validate over a configuration with several
// problems many times: the report must come out the same each time (map
// iteration once made the tls-cert and tls-key order vary).
func TestValidateOrderIsStable(t *testing.T) {
	dir := t.TempDir()
	c := Default()
	c.TLSListen, c.TLSCert, c.TLSKey = ":443", filepath.Join(dir, "no-cert.pem"), filepath.Join(dir, "no-key.pem")
	c.TURNListen, c.AdminKey = "x", "short"
	first := c.Validate()
	if first == nil {
		t.Fatal("Validate accepted missing certificate files")
	}
	for range 100 {
		if err := c.Validate(); err == nil || err.Error() != first.Error() {
			t.Fatalf("Validate reported\n%v\nthen\n%v", first, err)
		}
	}
}

func TestParsePortRange(t *testing.T) {
	tests := []struct {
		in     string
		lo, hi uint16
		ok     bool
	}{
		{"49152-65535", 49152, 65535, true},
		{"1024-65535", 1024, 65535, true},
		{"1024-1024", 1024, 1024, true},
		{"65535-65535", 65535, 65535, true},
		{"40000-40100", 40000, 40100, true},
		{" 50000 - 50010 ", 50000, 50010, true},
		{"01024-2000", 1024, 2000, true},
		{"", 0, 0, false},
		{"-", 0, 0, false},
		{"50000", 0, 0, false},
		{"50000-", 0, 0, false},
		{"-50000", 0, 0, false},
		{"1023-2000", 0, 0, false},
		{"0-2000", 0, 0, false},
		{"2001-2000", 0, 0, false},
		{"60000-50000", 0, 0, false},
		{"50000-65536", 0, 0, false},
		{"65536-65537", 0, 0, false},
		{"50000-60000-61000", 0, 0, false},
		{"50000:60000", 0, 0, false},
		{"+50000-60000", 0, 0, false},
		{"50000-+60000", 0, 0, false},
		{"0x1000-0x2000", 0, 0, false},
		{"a-b", 0, 0, false},
		{"5e4-6e4", 0, 0, false},
		{"-1-2000", 0, 0, false},
	}
	for _, tc := range tests {
		lo, hi, err := ParsePortRange(tc.in)
		if tc.ok {
			if err != nil || lo != tc.lo || hi != tc.hi {
				t.Errorf("ParsePortRange(%q) = %d, %d, %v; want %d, %d", tc.in, lo, hi, err, tc.lo, tc.hi)
			}
			continue
		}
		if err == nil {
			t.Errorf("ParsePortRange(%q) = %d, %d; want an error", tc.in, lo, hi)
			continue
		}
		if lo != 0 || hi != 0 {
			t.Errorf("ParsePortRange(%q) returned %d, %d with its error", tc.in, lo, hi)
		}
		// The error quotes the input and says what is allowed.
		for _, w := range []string{strconv.Quote(tc.in), "min-max", "1024 <= min <= max <= 65535"} {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("ParsePortRange(%q): error %q does not mention %s", tc.in, err, w)
			}
		}
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
