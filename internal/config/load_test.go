package config

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// fakeEnv returns a getenv that reads only vars.
func fakeEnv(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

// writeConfig writes a YAML file in a fresh directory and returns its path.
func writeConfig(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "parley.yaml")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func load(t *testing.T, args []string, env map[string]string) (Config, error, string) {
	t.Helper()
	var usage bytes.Buffer
	cfg, err := Load("serve", args, fakeEnv(env), &usage)
	return cfg, err, usage.String()
}

// Secrets just long enough to be valid.
const (
	testJWTSecret  = "0123456789abcdef0123456789abcdef" // 32 characters
	testTURNSecret = "0123456789abcdef"                 // 16 characters
)

// Companion flags for options valid only together with others.
var (
	// issuerFlags pin the issuer and audience that any token key needs.
	issuerFlags = []string{"--jwt-issuer=https://id.example.org", "--jwt-audience=parley"}
	// tokenFlags configure tokens, which refusing guests needs.
	tokenFlags = append([]string{"--jwt-secret=" + testJWTSecret}, issuerFlags...)
)

// testFiles are the files that option values in the tables name as
// $DIR/<name>; fileDir creates them.
var testFiles = []string{
	"cert.pem", "key.pem", "file.crt", "env.crt", "flag.crt", "file.key", "env.key", "flag.key",
	"a.pem", "b.pem", "c.pem", "d.pem",
}

// fileDir creates testFiles in a fresh directory and returns its path.
func fileDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range testFiles {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("-----BEGIN PLACEHOLDER-----\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// expand replaces $DIR by dir in a string, a []string or a Config's
// string and list fields; other values are returned as they are.
func expand(dir string, v any) any {
	switch v := v.(type) {
	case string:
		return strings.ReplaceAll(v, "$DIR", dir)
	case []string:
		return expandAll(dir, v)
	}
	return v
}

func expandAll(dir string, ss []string) []string {
	if ss == nil {
		return nil
	}
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = strings.ReplaceAll(s, "$DIR", dir)
	}
	return out
}

// optionCases give, for each option, a value in each source. Each source's
// value differs from the default and from the others, so the test can tell
// which one won; boolean options have one value besides the default, so all
// three sources set that one and TestLoadBoolPrecedence mixes them. "$DIR"
// in any value stands for a directory holding testFiles.
var optionCases = []struct {
	name     string // flag name
	env      string
	yaml     string // the YAML line setting fileWant
	envVal   string
	flagVal  string
	get      func(Config) any
	def      any
	fileWant any
	envWant  any
	flagWant any
	// also are flags that every load of this option adds, for options that
	// are valid only together with another (that one is then not checked
	// for its default).
	also []string
}{
	{
		name: "listen", env: "PARLEY_LISTEN",
		yaml: `listen: "127.0.0.1:9000"`, envVal: "127.0.0.1:9001", flagVal: "[::1]:9002",
		get: func(c Config) any { return c.Listen },
		def: ":8080", fileWant: "127.0.0.1:9000", envWant: "127.0.0.1:9001", flagWant: "[::1]:9002",
	},
	{
		name: "udp-port", env: "PARLEY_UDP_PORT",
		yaml: `udp_port: 10001`, envVal: " 10002 ", flagVal: "0",
		get: func(c Config) any { return c.UDPPort },
		def: 10000, fileWant: 10001, envWant: 10002, flagWant: 0,
	},
	{
		name: "public-ip", env: "PARLEY_PUBLIC_IP",
		yaml: `public_ip: [203.0.113.7, "2001:db8::1"]`, envVal: "198.51.100.1, 198.51.100.2", flagVal: "192.0.2.9/10.0.0.5",
		get: func(c Config) any { return c.PublicIP },
		def: []string(nil), fileWant: []string{"203.0.113.7", "2001:db8::1"},
		envWant: []string{"198.51.100.1", "198.51.100.2"}, flagWant: []string{"192.0.2.9/10.0.0.5"},
	},
	{
		name: "media-loopback", env: "PARLEY_MEDIA_LOOPBACK",
		yaml: `media_loopback: true`, envVal: "true", flagVal: "true",
		get: func(c Config) any { return c.MediaLoopback },
		def: false, fileWant: true, envWant: true, flagWant: true,
	},
	{
		name: "data-dir", env: "PARLEY_DATA_DIR",
		yaml: `data_dir: /var/lib/parley`, envVal: "/srv/parley", flagVal: "./data",
		get: func(c Config) any { return c.DataDir },
		def: "parley-data", fileWant: "/var/lib/parley", envWant: "/srv/parley", flagWant: "./data",
	},
	{
		name: "log-level", env: "PARLEY_LOG_LEVEL",
		yaml: `log_level: debug`, envVal: "warn", flagVal: "error",
		get: func(c Config) any { return c.LogLevel },
		def: "info", fileWant: "debug", envWant: "warn", flagWant: "error",
	},
	{
		name: "node-id", env: "PARLEY_NODE_ID",
		yaml: `node_id: node-a`, envVal: "node-b", flagVal: "node_c",
		get: func(c Config) any { return c.NodeID },
		def: "", fileWant: "node-a", envWant: "node-b", flagWant: "node_c",
	},
	{
		name: "region", env: "PARLEY_REGION",
		yaml: `region: eu-west`, envVal: "us_east", flagVal: "ap1",
		get: func(c Config) any { return c.Region },
		def: "default", fileWant: "eu-west", envWant: "us_east", flagWant: "ap1",
	},
	{
		name: "keyframe-interval", env: "PARLEY_KEYFRAME_INTERVAL",
		yaml: `keyframe_interval: 1s`, envVal: "250ms", flagVal: "2s",
		get: func(c Config) any { return c.KeyframeInterval },
		def: 500 * time.Millisecond, fileWant: time.Second, envWant: 250 * time.Millisecond, flagWant: 2 * time.Second,
	},
	{
		name: "roles", env: "PARLEY_ROLES",
		yaml: `roles: [signal, control]`, envVal: " bridge ", flagVal: "signal,bridge",
		get: func(c Config) any { return c.Roles },
		def: []string{"signal", "control", "bridge"}, fileWant: []string{"signal", "control"},
		envWant: []string{"bridge"}, flagWant: []string{"signal", "bridge"},
	},
	{
		name: "nats", env: "PARLEY_NATS",
		yaml: `nats: nats://nats-a.example.org:4222`, envVal: "tls://10.0.0.5:4222", flagVal: "nats://127.0.0.1:4223",
		get: func(c Config) any { return c.NATS },
		def: "", fileWant: "nats://nats-a.example.org:4222", envWant: "tls://10.0.0.5:4222", flagWant: "nats://127.0.0.1:4223",
	},
	{
		name: "nats-listen", env: "PARLEY_NATS_LISTEN",
		yaml: `nats_listen: ":4222"`, envVal: "127.0.0.1:4223", flagVal: "[::1]:4224",
		get: func(c Config) any { return c.NATSListen },
		def: "", fileWant: ":4222", envWant: "127.0.0.1:4223", flagWant: "[::1]:4224",
	},
	{
		name: "cluster-listen", env: "PARLEY_CLUSTER_LISTEN",
		yaml: `cluster_listen: 0.0.0.0:6222`, envVal: ":6223", flagVal: "10.0.0.1:6224",
		get: func(c Config) any { return c.ClusterListen },
		def: "", fileWant: "0.0.0.0:6222", envWant: ":6223", flagWant: "10.0.0.1:6224",
	},
	{
		name: "cluster-peers", env: "PARLEY_CLUSTER_PEERS",
		yaml:   `cluster_peers: ["nats://10.0.0.2:6222", "nats://10.0.0.3:6222"]`,
		envVal: "nats://node-b:6222, nats://node-c:6222", flagVal: "nats://[fd00::4]:6222",
		get: func(c Config) any { return c.ClusterPeers },
		def: []string(nil), fileWant: []string{"nats://10.0.0.2:6222", "nats://10.0.0.3:6222"},
		envWant: []string{"nats://node-b:6222", "nats://node-c:6222"}, flagWant: []string{"nats://[fd00::4]:6222"},
		also: []string{"--cluster-listen=:6222"},
	},
	{
		name: "cluster-name", env: "PARLEY_CLUSTER_NAME",
		yaml: `cluster_name: eu-cluster`, envVal: "us_cluster", flagVal: "c3",
		get: func(c Config) any { return c.ClusterName },
		def: "parley", fileWant: "eu-cluster", envWant: "us_cluster", flagWant: "c3",
	},
	{
		name: "site-map", env: "PARLEY_SITE_MAP",
		yaml:   `site_map: ["10.0.0.0/8=eu", "192.168.0.0/16=us"]`,
		envVal: "10.1.0.0/16=eu-west, 10.2.0.0/16=eu-east", flagVal: "0.0.0.0/0=default",
		get: func(c Config) any { return c.SiteMap },
		def: []string(nil), fileWant: []string{"10.0.0.0/8=eu", "192.168.0.0/16=us"},
		envWant: []string{"10.1.0.0/16=eu-west", "10.2.0.0/16=eu-east"}, flagWant: []string{"0.0.0.0/0=default"},
	},
	{
		name: "trusted-proxies", env: "PARLEY_TRUSTED_PROXIES",
		yaml: `trusted_proxies: [10.0.0.0/8, "fd00::/8"]`, envVal: "172.16.0.0/12", flagVal: "127.0.0.1/32,::1/128",
		get: func(c Config) any { return c.TrustedProxies },
		def: []string(nil), fileWant: []string{"10.0.0.0/8", "fd00::/8"},
		envWant: []string{"172.16.0.0/12"}, flagWant: []string{"127.0.0.1/32", "::1/128"},
	},
	{
		name: "stress-threshold", env: "PARLEY_STRESS_THRESHOLD",
		yaml: `stress_threshold: 0.9`, envVal: " 0.5 ", flagVal: "1",
		get: func(c Config) any { return c.StressThreshold },
		def: 0.8, fileWant: 0.9, envWant: 0.5, flagWant: 1.0,
	},
	{
		name: "conference-cap", env: "PARLEY_CONFERENCE_CAP",
		yaml: `conference_cap: 50`, envVal: "25", flagVal: "8",
		get: func(c Config) any { return c.ConferenceCap },
		def: 0, fileWant: 50, envWant: 25, flagWant: 8,
	},
	{
		name: "drain-timeout", env: "PARLEY_DRAIN_TIMEOUT",
		yaml: `drain_timeout: 90s`, envVal: "2m", flagVal: "1s",
		get: func(c Config) any { return c.DrainTimeout },
		def: time.Minute, fileWant: 90 * time.Second, envWant: 2 * time.Minute, flagWant: time.Second,
	},
	{
		name: "lease-ttl", env: "PARLEY_LEASE_TTL",
		yaml: `lease_ttl: 5s`, envVal: "10s", flagVal: "1m",
		get: func(c Config) any { return c.LeaseTTL },
		def: 3 * time.Second, fileWant: 5 * time.Second, envWant: 10 * time.Second, flagWant: time.Minute,
	},
	{
		name: "tls-listen", env: "PARLEY_TLS_LISTEN",
		yaml: `tls_listen: ":443"`, envVal: "127.0.0.1:8443", flagVal: "[::1]:9443",
		get: func(c Config) any { return c.TLSListen },
		def: "", fileWant: ":443", envWant: "127.0.0.1:8443", flagWant: "[::1]:9443",
	},
	{
		name: "tls-cert", env: "PARLEY_TLS_CERT",
		yaml: `tls_cert: "$DIR/file.crt"`, envVal: "$DIR/env.crt", flagVal: "$DIR/flag.crt",
		get: func(c Config) any { return c.TLSCert },
		def: "", fileWant: "$DIR/file.crt", envWant: "$DIR/env.crt", flagWant: "$DIR/flag.crt",
		also: []string{"--tls-key=$DIR/key.pem", "--tls-listen=:443"},
	},
	{
		name: "tls-key", env: "PARLEY_TLS_KEY",
		yaml: `tls_key: "$DIR/file.key"`, envVal: "$DIR/env.key", flagVal: "$DIR/flag.key",
		get: func(c Config) any { return c.TLSKey },
		def: "", fileWant: "$DIR/file.key", envWant: "$DIR/env.key", flagWant: "$DIR/flag.key",
		also: []string{"--tls-cert=$DIR/cert.pem", "--tls-listen=:443"},
	},
	{
		name: "acme-domains", env: "PARLEY_ACME_DOMAINS",
		yaml: `acme_domains: [meet.example.com, www.example.com]`, envVal: "a.example.org, b.example.org", flagVal: "meet.example.net",
		get: func(c Config) any { return c.ACMEDomains },
		def: []string(nil), fileWant: []string{"meet.example.com", "www.example.com"},
		envWant: []string{"a.example.org", "b.example.org"}, flagWant: []string{"meet.example.net"},
		also: []string{"--tls-listen=:443"},
	},
	{
		name: "acme-email", env: "PARLEY_ACME_EMAIL",
		yaml: `acme_email: ops@example.com`, envVal: "admin@example.org", flagVal: "me@example.net",
		get: func(c Config) any { return c.ACMEEmail },
		def: "", fileWant: "ops@example.com", envWant: "admin@example.org", flagWant: "me@example.net",
	},
	{
		name: "media-udp", env: "PARLEY_MEDIA_UDP",
		yaml: `media_udp: false`, envVal: "false", flagVal: "false",
		get: func(c Config) any { return c.MediaUDP },
		def: true, fileWant: false, envWant: false, flagWant: false,
		also: []string{"--tls-listen=:443"},
	},
	{
		name: "turn-secret", env: "PARLEY_TURN_SECRET",
		yaml: `turn_secret: file-secret-0123456789`, envVal: "env-secret-0123456789", flagVal: testTURNSecret,
		get: func(c Config) any { return c.TURNSecret },
		def: "", fileWant: "file-secret-0123456789", envWant: "env-secret-0123456789", flagWant: testTURNSecret,
	},
	{
		name: "turn-listen", env: "PARLEY_TURN_LISTEN",
		yaml: `turn_listen: ":3478"`, envVal: "127.0.0.1:3479", flagVal: "[::1]:3480",
		get: func(c Config) any { return c.TURNListen },
		def: "", fileWant: ":3478", envWant: "127.0.0.1:3479", flagWant: "[::1]:3480",
		also: []string{"--turn-secret=" + testTURNSecret},
	},
	{
		name: "turn-realm", env: "PARLEY_TURN_REALM",
		yaml: `turn_realm: turn.example.org`, envVal: "realm_b", flagVal: "realm-c",
		get: func(c Config) any { return c.TURNRealm },
		def: "parley", fileWant: "turn.example.org", envWant: "realm_b", flagWant: "realm-c",
	},
	{
		name: "turn-relay-ports", env: "PARLEY_TURN_RELAY_PORTS",
		yaml: `turn_relay_ports: 40000-40100`, envVal: "50000-50010", flagVal: "1024-1024",
		get: func(c Config) any { return c.TURNRelayPorts },
		def: "49152-65535", fileWant: "40000-40100", envWant: "50000-50010", flagWant: "1024-1024",
	},
	{
		name: "turn-max-allocations", env: "PARLEY_TURN_MAX_ALLOCATIONS",
		yaml: `turn_max_allocations: 20`, envVal: " 5 ", flagVal: "1",
		get: func(c Config) any { return c.TURNMaxAllocations },
		def: 10, fileWant: 20, envWant: 5, flagWant: 1,
	},
	{
		name: "turn-max-bitrate", env: "PARLEY_TURN_MAX_BITRATE",
		yaml: `turn_max_bitrate: 2000000`, envVal: "500000", flagVal: "1",
		get: func(c Config) any { return c.TURNMaxBitrate },
		def: 0, fileWant: 2000000, envWant: 500000, flagWant: 1,
	},
	{
		name: "turn-allow-peers", env: "PARLEY_TURN_ALLOW_PEERS",
		yaml: `turn_allow_peers: [10.0.0.0/8, "fd00::1"]`, envVal: "192.168.1.10, 172.16.0.0/12", flagVal: "127.0.0.1",
		get: func(c Config) any { return c.TURNAllowPeers },
		def: []string(nil), fileWant: []string{"10.0.0.0/8", "fd00::1"},
		envWant: []string{"192.168.1.10", "172.16.0.0/12"}, flagWant: []string{"127.0.0.1"},
	},
	{
		name: "turn-urls", env: "PARLEY_TURN_URLS",
		yaml:   `turn_urls: ["turn:turn.example.org:3478?transport=udp", "turns:turn.example.org:443?transport=tcp"]`,
		envVal: "turn:10.0.0.1:3478", flagVal: "turns:t.example.net:5349?transport=tcp",
		get: func(c Config) any { return c.TURNURLs },
		def: []string(nil), fileWant: []string{"turn:turn.example.org:3478?transport=udp", "turns:turn.example.org:443?transport=tcp"},
		envWant: []string{"turn:10.0.0.1:3478"}, flagWant: []string{"turns:t.example.net:5349?transport=tcp"},
		also: []string{"--turn-secret=" + testTURNSecret},
	},
	{
		name: "turn-credential-ttl", env: "PARLEY_TURN_CREDENTIAL_TTL",
		yaml: `turn_credential_ttl: 24h`, envVal: "1h", flagVal: "1m",
		get: func(c Config) any { return c.TURNCredentialTTL },
		def: 12 * time.Hour, fileWant: 24 * time.Hour, envWant: time.Hour, flagWant: time.Minute,
	},
	{
		name: "public-host", env: "PARLEY_PUBLIC_HOST",
		yaml: `public_host: meet.example.org`, envVal: "203.0.113.9", flagVal: "2001:db8::9",
		get: func(c Config) any { return c.PublicHost },
		def: "", fileWant: "meet.example.org", envWant: "203.0.113.9", flagWant: "2001:db8::9",
	},
	{
		name: "allow-guests", env: "PARLEY_ALLOW_GUESTS",
		yaml: `allow_guests: false`, envVal: "false", flagVal: "false",
		get: func(c Config) any { return c.AllowGuests },
		def: true, fileWant: false, envWant: false, flagWant: false,
		also: tokenFlags,
	},
	{
		name: "jwt-secret", env: "PARLEY_JWT_SECRET",
		yaml: `jwt_secret: file-secret-0123456789abcdef0123456789`, envVal: "env-secret-0123456789abcdef0123456789", flagVal: testJWTSecret,
		get: func(c Config) any { return c.JWTSecret },
		def: "", fileWant: "file-secret-0123456789abcdef0123456789", envWant: "env-secret-0123456789abcdef0123456789", flagWant: testJWTSecret,
		also: issuerFlags,
	},
	{
		name: "jwt-public-keys", env: "PARLEY_JWT_PUBLIC_KEYS",
		yaml: `jwt_public_keys: ["$DIR/a.pem", "$DIR/b.pem"]`, envVal: "$DIR/c.pem", flagVal: "$DIR/d.pem,$DIR/a.pem",
		get: func(c Config) any { return c.JWTPublicKeys },
		def: []string(nil), fileWant: []string{"$DIR/a.pem", "$DIR/b.pem"},
		envWant: []string{"$DIR/c.pem"}, flagWant: []string{"$DIR/d.pem", "$DIR/a.pem"},
		also: issuerFlags,
	},
	{
		name: "jwt-jwks-url", env: "PARLEY_JWT_JWKS_URL",
		yaml: `jwt_jwks_url: https://id.example.org/.well-known/jwks.json`, envVal: "http://127.0.0.1:8081/jwks", flagVal: "https://[::1]/keys",
		get: func(c Config) any { return c.JWTJWKSURL },
		def: "", fileWant: "https://id.example.org/.well-known/jwks.json", envWant: "http://127.0.0.1:8081/jwks", flagWant: "https://[::1]/keys",
		also: issuerFlags,
	},
	{
		name: "jwt-issuer", env: "PARLEY_JWT_ISSUER",
		yaml: `jwt_issuer: https://id.example.org`, envVal: "issuer-b", flagVal: "https://auth.example.net/",
		get: func(c Config) any { return c.JWTIssuer },
		def: "", fileWant: "https://id.example.org", envWant: "issuer-b", flagWant: "https://auth.example.net/",
	},
	{
		name: "jwt-audience", env: "PARLEY_JWT_AUDIENCE",
		yaml: `jwt_audience: parley`, envVal: "meet", flagVal: "https://meet.example.org",
		get: func(c Config) any { return c.JWTAudience },
		def: "", fileWant: "parley", envWant: "meet", flagWant: "https://meet.example.org",
	},
	{
		name: "jwt-algorithms", env: "PARLEY_JWT_ALGORITHMS",
		yaml: `jwt_algorithms: [RS256, ES256]`, envVal: " HS512 ", flagVal: "ES384,RS384",
		get: func(c Config) any { return c.JWTAlgorithms },
		def: []string{"HS256", "RS256", "ES256"}, fileWant: []string{"RS256", "ES256"},
		envWant: []string{"HS512"}, flagWant: []string{"ES384", "RS384"},
	},
	{
		name: "jwt-leeway", env: "PARLEY_JWT_LEEWAY",
		yaml: `jwt_leeway: 1m`, envVal: "0s", flagVal: "5m",
		get: func(c Config) any { return c.JWTLeeway },
		def: 30 * time.Second, fileWant: time.Minute, envWant: time.Duration(0), flagWant: 5 * time.Minute,
	},
	{
		name: "jwt-room-wildcard", env: "PARLEY_JWT_ROOM_WILDCARD",
		yaml: `jwt_room_wildcard: true`, envVal: "true", flagVal: "true",
		get: func(c Config) any { return c.JWTRoomWildcard },
		def: false, fileWant: true, envWant: true, flagWant: true,
	},
	{
		name: "first-moderator", env: "PARLEY_FIRST_MODERATOR",
		yaml: `first_moderator: false`, envVal: "false", flagVal: "false",
		get: func(c Config) any { return c.FirstModerator },
		def: true, fileWant: false, envWant: false, flagWant: false,
	},
	{
		name: "max-participants", env: "PARLEY_MAX_PARTICIPANTS",
		yaml: `max_participants: 2`, envVal: "500", flagVal: "10000",
		get: func(c Config) any { return c.MaxParticipants },
		def: 100, fileWant: 2, envWant: 500, flagWant: 10000,
	},
	{
		name: "admin-key", env: "PARLEY_ADMIN_KEY",
		yaml: `admin_key: file-admin-key-0123`, envVal: "env-admin-key-0123", flagVal: "0123456789abcdef",
		get: func(c Config) any { return c.AdminKey },
		def: "", fileWant: "file-admin-key-0123", envWant: "env-admin-key-0123", flagWant: "0123456789abcdef",
	},
	{
		name: "join-rate", env: "PARLEY_JOIN_RATE",
		yaml: `join_rate: 60`, envVal: "1", flagVal: "1000",
		get: func(c Config) any { return c.JoinRate },
		def: 120, fileWant: 60, envWant: 1, flagWant: 1000,
	},
	{
		name: "message-rate", env: "PARLEY_MESSAGE_RATE",
		yaml: `message_rate: 10`, envVal: "1", flagVal: "200",
		get: func(c Config) any { return c.MessageRate },
		def: 50, fileWant: 10, envWant: 1, flagWant: 200,
	},
	{
		name: "room-join-rate", env: "PARLEY_ROOM_JOIN_RATE",
		yaml: `room_join_rate: 60`, envVal: "1", flagVal: "1000",
		get: func(c Config) any { return c.RoomJoinRate },
		def: 0, fileWant: 60, envWant: 1, flagWant: 1000,
	},
	{
		name: "chat-max-length", env: "PARLEY_CHAT_MAX_LENGTH",
		yaml: `chat_max_length: 500`, envVal: "1", flagVal: "100000",
		get: func(c Config) any { return c.ChatMaxLength },
		def: 2000, fileWant: 500, envWant: 1, flagWant: 100000,
	},
}

func TestLoadPrecedence(t *testing.T) {
	for _, oc := range optionCases {
		t.Run(oc.name, func(t *testing.T) {
			dir := fileDir(t)
			file := writeConfig(t, expand(dir, oc.yaml).(string)+"\n")
			envVal := expand(dir, oc.envVal).(string)
			flagArg := "--" + oc.name + "=" + expand(dir, oc.flagVal).(string)
			fileWant, envWant, flagWant := expand(dir, oc.fileWant), expand(dir, oc.envWant), expand(dir, oc.flagWant)
			also := expandAll(dir, oc.also)
			// The defaults layer sets nothing, not even the companions in
			// also (--tls-key alone would be invalid); every other layer
			// adds them.
			layers := []struct {
				name string
				args []string
				env  map[string]string
				want any
			}{
				{"defaults", nil, nil, oc.def},
				{"file by --config", []string{"--config", file}, nil, fileWant},
				{"file by PARLEY_CONFIG", nil, map[string]string{"PARLEY_CONFIG": file}, fileWant},
				{"env", nil, map[string]string{oc.env: envVal}, envWant},
				{"env over file", []string{"--config", file}, map[string]string{oc.env: envVal}, envWant},
				{"empty env does not override file", []string{"--config", file}, map[string]string{oc.env: ""}, fileWant},
				{"flag", []string{flagArg}, nil, flagWant},
				{"flag over file", []string{"--config", file, flagArg}, nil, flagWant},
				{"flag over env", []string{flagArg}, map[string]string{oc.env: envVal}, flagWant},
				{"flag over env over file", []string{flagArg}, map[string]string{"PARLEY_CONFIG": file, oc.env: envVal}, flagWant},
				{"flag before --config", []string{flagArg, "--config", file}, map[string]string{oc.env: envVal}, flagWant},
			}
			for i, l := range layers {
				args := l.args
				if i > 0 {
					args = append(args, also...)
				}
				cfg, err, _ := load(t, args, l.env)
				if err != nil {
					t.Errorf("%s: Load: %v", l.name, err)
					continue
				}
				if got := oc.get(cfg); !reflect.DeepEqual(got, l.want) {
					t.Errorf("%s: %s = %#v, want %#v", l.name, oc.name, got, l.want)
				}
				// Setting one option leaves every other at its default.
			others:
				for _, other := range optionCases {
					if other.name == oc.name {
						continue
					}
					for _, a := range oc.also {
						if strings.HasPrefix(a, "--"+other.name+"=") {
							continue others
						}
					}
					if got := other.get(cfg); !reflect.DeepEqual(got, other.def) {
						t.Errorf("%s: setting %s changed %s to %#v", l.name, oc.name, other.name, got)
					}
				}
			}
		})
	}
}

// TestLoadBoolPrecedence mixes true and false across the sources of each
// boolean option, which TestLoadPrecedence cannot (all its sources set the
// one value that is not the default), and checks the spellings each source
// takes.
func TestLoadBoolPrecedence(t *testing.T) {
	n := 0
	for _, oc := range optionCases {
		def, ok := oc.def.(bool)
		if !ok {
			continue
		}
		n++
		t.Run(oc.name, func(t *testing.T) {
			key := yamlKey(oc.name)
			set, unset := strconv.FormatBool(!def), strconv.FormatBool(def)
			tests := []struct {
				name string
				yaml string // written to a file given by --config when set
				env  string
				args []string
				want bool
			}{
				{name: "file", yaml: key + ": " + set, want: !def},
				{name: "file quoted", yaml: key + `: "` + set + `"`, want: !def},
				{name: "file null keeps default", yaml: key + ":", want: def},
				{name: "env over file", yaml: key + ": " + set, env: unset, want: def},
				{name: "flag over env", env: set, args: []string{"--" + oc.name + "=" + unset}, want: def},
				{name: "flag over file", yaml: key + ": " + set, args: []string{"--" + oc.name + "=" + unset}, want: def},
				{name: "flag over env over file", yaml: key + ": " + unset, env: set, args: []string{"--" + oc.name + "=" + unset}, want: def},
				{name: "bare flag is true", yaml: key + ": false", env: "false", args: []string{"--" + oc.name}, want: true},
				{name: "single dash", args: []string{"-" + oc.name + "=" + set}, want: !def},
				{name: "env 0", env: "0", want: false},
				{name: "env 1", env: "1", want: true},
				{name: "env upper case FALSE", env: " FALSE ", want: false},
				{name: "env upper case TRUE", env: "TRUE", want: true},
				{name: "env t", env: "t", want: true},
				{name: "env f", env: "f", want: false},
				{name: "flag 0", args: []string{"--" + oc.name + "=0"}, want: false},
				{name: "flag True", args: []string{"--" + oc.name + "=True"}, want: true},
			}
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					var args []string
					if tc.yaml != "" {
						args = []string{"--config", writeConfig(t, tc.yaml+"\n")}
					}
					args = append(append(args, tc.args...), oc.also...)
					var env map[string]string
					if tc.env != "" {
						env = map[string]string{oc.env: tc.env}
					}
					cfg, err, _ := load(t, args, env)
					if err != nil {
						t.Fatalf("Load: %v", err)
					}
					if got := oc.get(cfg); got != tc.want {
						t.Errorf("%s = %v, want %v", oc.name, got, tc.want)
					}
				})
			}
		})
	}
	var c Config
	want := 0
	for _, o := range options(&c) {
		if _, ok := o.value.(*boolValue); ok {
			want++
		}
	}
	if n != want || n == 0 {
		t.Errorf("%d boolean options tested, Load has %d", n, want)
	}
}

func TestLoadDefaults(t *testing.T) {
	cfg, err, _ := load(t, nil, nil)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if !reflect.DeepEqual(cfg, Default()) {
		t.Errorf("Load with nothing set = %+v, want Default() %+v", cfg, Default())
	}
}

func TestLoadWholeFile(t *testing.T) {
	// Some options exclude others, so one file cannot set every option:
	// --nats excludes the embedded server's listeners, --acme-domains the
	// certificate files and --turn-urls --turn-listen. The first file sets
	// all but nats, acme_domains and turn_urls, the second those. "$DIR"
	// stands for a directory holding testFiles.
	tests := []struct {
		name string
		yaml string
		want func(dir string) Config
	}{
		{
			name: "embedded cluster",
			yaml: `# every option but nats, acme_domains and turn_urls
listen: 0.0.0.0:80
udp_port: 3478
public_ip:
  - 203.0.113.7
  - 2001:db8::1
media_loopback: true
data_dir: /data
log_level: WARN
node_id: n1
region: eu
keyframe_interval: 750ms
roles:
  - control
  - bridge
nats_listen: 0.0.0.0:4222
cluster_listen: 0.0.0.0:6222
cluster_peers:
  - nats://10.0.0.2:6222
  - nats://10.0.0.3:6222
cluster_name: eu-cluster
site_map:
  - 10.1.0.0/16=eu-west
  - 2001:db8::/32=us
trusted_proxies:
  - 10.0.0.0/8
  - ::1/128
stress_threshold: 0.75
conference_cap: 40
drain_timeout: 5m
lease_ttl: 10s
tls_listen: ":443"
tls_cert: $DIR/cert.pem
tls_key: $DIR/key.pem
acme_email: ops@example.com
media_udp: false
turn_secret: turn-secret-0123456789
turn_listen: ":3479"
turn_realm: meet.example.com
turn_relay_ports: 40000-41000
turn_max_allocations: 4
turn_max_bitrate: 3000000
turn_allow_peers:
  - 10.2.0.0/16
  - 10.3.0.4
turn_credential_ttl: 2h
public_host: meet.example.com
allow_guests: false
jwt_secret: jwt-secret-0123456789abcdef0123456789
jwt_public_keys:
  - $DIR/a.pem
  - $DIR/b.pem
jwt_jwks_url: https://id.example.com/jwks.json
jwt_issuer: https://id.example.com
jwt_audience: meet
jwt_algorithms: [HS256, ES256]
jwt_leeway: 10s
jwt_room_wildcard: true
first_moderator: false
max_participants: 50
admin_key: admin-key-0123456789
join_rate: 30
message_rate: 20
room_join_rate: 600
chat_max_length: 4000
`,
			want: func(dir string) Config {
				return Config{
					Listen:             "0.0.0.0:80",
					UDPPort:            3478,
					PublicIP:           []string{"203.0.113.7", "2001:db8::1"},
					MediaLoopback:      true,
					DataDir:            "/data",
					LogLevel:           "WARN",
					NodeID:             "n1",
					Region:             "eu",
					KeyframeInterval:   750 * time.Millisecond,
					Roles:              []string{"control", "bridge"},
					NATSListen:         "0.0.0.0:4222",
					ClusterListen:      "0.0.0.0:6222",
					ClusterPeers:       []string{"nats://10.0.0.2:6222", "nats://10.0.0.3:6222"},
					ClusterName:        "eu-cluster",
					SiteMap:            []string{"10.1.0.0/16=eu-west", "2001:db8::/32=us"},
					TrustedProxies:     []string{"10.0.0.0/8", "::1/128"},
					StressThreshold:    0.75,
					ConferenceCap:      40,
					DrainTimeout:       5 * time.Minute,
					LeaseTTL:           10 * time.Second,
					TLSListen:          ":443",
					TLSCert:            filepath.Join(dir, "cert.pem"),
					TLSKey:             filepath.Join(dir, "key.pem"),
					ACMEEmail:          "ops@example.com",
					MediaUDP:           false,
					TURNSecret:         "turn-secret-0123456789",
					TURNListen:         ":3479",
					TURNRealm:          "meet.example.com",
					TURNRelayPorts:     "40000-41000",
					TURNMaxAllocations: 4,
					TURNMaxBitrate:     3000000,
					TURNAllowPeers:     []string{"10.2.0.0/16", "10.3.0.4"},
					TURNCredentialTTL:  2 * time.Hour,
					PublicHost:         "meet.example.com",
					AllowGuests:        false,
					JWTSecret:          "jwt-secret-0123456789abcdef0123456789",
					JWTPublicKeys:      []string{filepath.Join(dir, "a.pem"), filepath.Join(dir, "b.pem")},
					JWTJWKSURL:         "https://id.example.com/jwks.json",
					JWTIssuer:          "https://id.example.com",
					JWTAudience:        "meet",
					JWTAlgorithms:      []string{"HS256", "ES256"},
					JWTLeeway:          10 * time.Second,
					JWTRoomWildcard:    true,
					FirstModerator:     false,
					MaxParticipants:    50,
					AdminKey:           "admin-key-0123456789",
					JoinRate:           30,
					MessageRate:        20,
					RoomJoinRate:       600,
					ChatMaxLength:      4000,
				}
			},
		},
		{
			name: "external NATS, ACME and external TURN",
			yaml: `roles: signal
nats: tls://nats.example.org:4222
tls_listen: ":443"
acme_domains: [meet.example.org, www.example.org]
turn_secret: turn-secret-0123456789
turn_urls:
  - turn:turn.example.org:3478?transport=udp
  - turns:turn.example.org:443?transport=tcp
`,
			want: func(string) Config {
				c := Default()
				c.Roles = []string{"signal"}
				c.NATS = "tls://nats.example.org:4222"
				c.TLSListen = ":443"
				c.ACMEDomains = []string{"meet.example.org", "www.example.org"}
				c.TURNSecret = "turn-secret-0123456789"
				c.TURNURLs = []string{"turn:turn.example.org:3478?transport=udp", "turns:turn.example.org:443?transport=tcp"}
				return c
			},
		},
	}
	// Every field of Config is set away from its default by one file.
	set := map[string]bool{}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := fileDir(t)
			cfg, err, _ := load(t, []string{"--config=" + writeConfig(t, strings.ReplaceAll(tc.yaml, "$DIR", dir))}, nil)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			want := tc.want(dir)
			if !reflect.DeepEqual(cfg, want) {
				t.Errorf("Load =\n %+v\nwant\n %+v", cfg, want)
			}
			got, def := reflect.ValueOf(cfg), reflect.ValueOf(Default())
			for i := range got.NumField() {
				if !reflect.DeepEqual(got.Field(i).Interface(), def.Field(i).Interface()) {
					set[got.Type().Field(i).Name] = true
				}
			}
		})
	}
	typ := reflect.TypeFor[Config]()
	for i := range typ.NumField() {
		if f := typ.Field(i); !set[f.Name] {
			t.Errorf("no file sets %s (YAML %s)", f.Name, f.Tag.Get("yaml"))
		}
	}
}

func TestLoadConfigFlagOverridesConfigEnv(t *testing.T) {
	fromEnv := writeConfig(t, "region: from-env\nudp_port: 1\n")
	fromFlag := writeConfig(t, "region: from-flag\n")
	cfg, err, _ := load(t, []string{"--config", fromFlag}, map[string]string{"PARLEY_CONFIG": fromEnv})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if cfg.Region != "from-flag" || cfg.UDPPort != Default().UDPPort {
		t.Errorf("region %q, udp-port %d: want only the --config file read (from-flag, %d)", cfg.Region, cfg.UDPPort, Default().UDPPort)
	}
}

// listCases are the list options, each with three valid items.
var listCases = []struct {
	name  string // flag name
	items [3]string
	get   func(Config) []string
	def   []string
	// emptyOK is false where an empty list fails validation.
	emptyOK bool
	also    []string // flags the option needs to validate
}{
	{name: "public-ip", items: [3]string{"203.0.113.7", "2001:db8::1", "198.51.100.1"}, get: func(c Config) []string { return c.PublicIP }, emptyOK: true},
	{name: "roles", items: [3]string{"signal", "control", "bridge"}, get: func(c Config) []string { return c.Roles }, def: []string{"signal", "control", "bridge"}},
	{
		name: "cluster-peers", items: [3]string{"nats://10.0.0.2:6222", "nats://[fd00::3]:6222", "nats://node-4:6222"},
		get: func(c Config) []string { return c.ClusterPeers }, emptyOK: true, also: []string{"--cluster-listen=:6222"},
	},
	{name: "site-map", items: [3]string{"10.0.0.0/8=eu", "2001:db8::/32=us", "0.0.0.0/0=default"}, get: func(c Config) []string { return c.SiteMap }, emptyOK: true},
	{name: "trusted-proxies", items: [3]string{"10.0.0.0/8", "::1/128", "172.16.0.0/12"}, get: func(c Config) []string { return c.TrustedProxies }, emptyOK: true},
	{
		name: "acme-domains", items: [3]string{"meet.example.com", "www.example.org", "a.b.example.net"},
		get: func(c Config) []string { return c.ACMEDomains }, emptyOK: true, also: []string{"--tls-listen=:443"},
	},
	{name: "turn-allow-peers", items: [3]string{"10.0.0.0/8", "fd00::1", "192.168.1.10"}, get: func(c Config) []string { return c.TURNAllowPeers }, emptyOK: true},
	{
		name: "turn-urls", items: [3]string{"turn:turn.example.org:3478?transport=udp", "turns:turn.example.org:443?transport=tcp", "turn:10.0.0.1:3478"},
		get: func(c Config) []string { return c.TURNURLs }, emptyOK: true, also: []string{"--turn-secret=" + testTURNSecret},
	},
	{
		name: "jwt-public-keys", items: [3]string{"$DIR/a.pem", "$DIR/b.pem", "$DIR/c.pem"},
		get: func(c Config) []string { return c.JWTPublicKeys }, emptyOK: true, also: issuerFlags,
	},
	{
		name: "jwt-algorithms", items: [3]string{"HS256", "RS384", "ES512"},
		get: func(c Config) []string { return c.JWTAlgorithms }, def: []string{"HS256", "RS256", "ES256"},
	},
}

func TestLoadListForms(t *testing.T) {
	for _, lc := range listCases {
		t.Run(lc.name, func(t *testing.T) {
			key, flagName := yamlKey(lc.name), "--"+lc.name
			dir := fileDir(t)
			a, b, c := expand(dir, lc.items[0]).(string), expand(dir, lc.items[1]).(string), expand(dir, lc.items[2]).(string)
			// YAML needs quotes around items such as 2001:db8::1 only in
			// places; quote them all in flow lists and scalars.
			tests := []struct {
				name string
				yaml string
				args []string
				want []string
				// empty is set where the result is the empty list.
				empty bool
			}{
				{name: "block list", yaml: fmt.Sprintf("%s:\n  - %s\n  - %s\n", key, a, b), want: []string{a, b}},
				{name: "flow list", yaml: fmt.Sprintf("%s: [%q, %q]\n", key, a, c), want: []string{a, c}},
				{name: "one-item list", yaml: fmt.Sprintf("%s: [%q]\n", key, b), want: []string{b}},
				{name: "scalar", yaml: fmt.Sprintf("%s: %q\n", key, a), want: []string{a}},
				{name: "comma-separated scalar", yaml: fmt.Sprintf("%s: \"%s, %s,\"\n", key, a, b), want: []string{a, b}},
				{name: "empty list", yaml: key + ": []\n", empty: true},
				{name: "null keeps default", yaml: key + ":\n", want: lc.def},
				{name: "flag replaces the file's list", yaml: fmt.Sprintf("%s: [%q, %q]\n", key, a, b), args: []string{flagName, c}, want: []string{c}},
				{name: "env replaces the file's list", yaml: fmt.Sprintf("%s: [%q, %q]\n", key, a, b), want: []string{b, c}},
				{name: "empty flag clears the file's list", yaml: fmt.Sprintf("%s: [%q]\n", key, a), args: []string{flagName + "="}, empty: true},
				{name: "repeated flag keeps the last", args: []string{flagName, a, flagName, b + "," + c}, want: []string{b, c}},
			}
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					args := append([]string{"--config", writeConfig(t, tc.yaml)}, tc.args...)
					args = append(args, lc.also...)
					var env map[string]string
					if strings.HasPrefix(tc.name, "env") {
						env = map[string]string{envName(lc.name): b + " , " + c}
					}
					cfg, err, _ := load(t, args, env)
					if tc.empty && !lc.emptyOK {
						if err == nil || !strings.Contains(err.Error(), flagName+" (") {
							t.Errorf("Load with an empty %s: error %v, want one naming %s", lc.name, err, flagName)
						}
						return
					}
					if err != nil {
						t.Fatalf("Load: %v", err)
					}
					if got := lc.get(cfg); !reflect.DeepEqual(got, tc.want) {
						t.Errorf("%s = %#v, want %#v", lc.name, got, tc.want)
					}
				})
			}
		})
	}
}

func TestLoadNullYAMLValueKeepsDefault(t *testing.T) {
	cfg, err, _ := load(t, []string{"--config", writeConfig(t, "region:\nlog_level: ~\n")}, nil)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if cfg.Region != "default" || cfg.LogLevel != "info" {
		t.Errorf("region %q, log-level %q: want the defaults", cfg.Region, cfg.LogLevel)
	}
}

func TestLoadEmptyFile(t *testing.T) {
	for _, content := range []string{"", "# nothing here\n", "---\n"} {
		cfg, err, _ := load(t, []string{"--config", writeConfig(t, content)}, nil)
		if err != nil {
			t.Errorf("Load(%q): %v", content, err)
			continue
		}
		if !reflect.DeepEqual(cfg, Default()) {
			t.Errorf("Load(%q) = %+v, want the defaults", content, cfg)
		}
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		yaml string // written to a file given by --config when set
		// want lists pieces the error must contain. "$FILE" stands for
		// the config file's path.
		want []string
		// invalid is set when the error must wrap ErrInvalid (errors found
		// after flag parsing).
		invalid bool
	}{
		{name: "udp-port too large by flag", args: []string{"--udp-port", "70000"}, want: []string{"--udp-port", "70000"}, invalid: true},
		{name: "udp-port too large by env", env: map[string]string{"PARLEY_UDP_PORT": "70000"}, want: []string{"--udp-port", "PARLEY_UDP_PORT", "70000"}, invalid: true},
		{name: "udp-port too large by file", yaml: "udp_port: 70000\n", want: []string{"--udp-port", "udp_port", "70000"}, invalid: true},
		{name: "udp-port negative", args: []string{"--udp-port=-1"}, want: []string{"--udp-port", "-1"}, invalid: true},
		{name: "udp-port not a number by flag", args: []string{"--udp-port", "ten"}, want: []string{"-udp-port", `"ten"`, "whole number"}},
		{name: "udp-port not a number by env", env: map[string]string{"PARLEY_UDP_PORT": "ten"}, want: []string{"PARLEY_UDP_PORT", `"ten"`, "whole number"}, invalid: true},
		{name: "udp-port not a number by file", yaml: "udp_port: ten\n", want: []string{"$FILE", "udp_port", `"ten"`, "whole number"}, invalid: true},

		{name: "public-ip bad by flag", args: []string{"--public-ip", "203.0.113.7,nope"}, want: []string{"--public-ip", `"nope"`}, invalid: true},
		{name: "public-ip bad by env", env: map[string]string{"PARLEY_PUBLIC_IP": "example.org"}, want: []string{"--public-ip", `"example.org"`}, invalid: true},
		{name: "public-ip bad in file list", yaml: "public_ip: [203.0.113.7, 300.1.1.1]\n", want: []string{"--public-ip", `"300.1.1.1"`}, invalid: true},
		{name: "public-ip with port", args: []string{"--public-ip", "203.0.113.7:10000"}, want: []string{"--public-ip"}, invalid: true},
		{name: "public-ip with a bad local address", args: []string{"--public-ip", "203.0.113.7/ten"}, want: []string{"--public-ip", `"ten"`}, invalid: true},

		{name: "duration bad by flag", args: []string{"--keyframe-interval", "fast"}, want: []string{"-keyframe-interval", `"fast"`, "not a duration"}},
		{name: "duration bad by env", env: map[string]string{"PARLEY_KEYFRAME_INTERVAL": "fast"}, want: []string{"PARLEY_KEYFRAME_INTERVAL", `"fast"`, "not a duration"}, invalid: true},
		{name: "duration without unit in file", yaml: "keyframe_interval: 500\n", want: []string{"$FILE", "keyframe_interval", `"500"`, "not a duration"}, invalid: true},
		{name: "duration too short", args: []string{"--keyframe-interval", "10ms"}, want: []string{"--keyframe-interval", "10ms", "50ms"}, invalid: true},
		{name: "duration too long", env: map[string]string{"PARLEY_KEYFRAME_INTERVAL": "1m"}, want: []string{"--keyframe-interval", "1m0s", "10s"}, invalid: true},

		{name: "listen without port", args: []string{"--listen", "localhost"}, want: []string{"--listen", `"localhost"`}, invalid: true},
		{name: "listen port too large", env: map[string]string{"PARLEY_LISTEN": ":99999"}, want: []string{"--listen", "99999"}, invalid: true},
		{name: "listen port named", yaml: "listen: \":http\"\n", want: []string{"--listen", `"http"`}, invalid: true},
		{name: "data-dir blank", args: []string{"--data-dir", "  "}, want: []string{"--data-dir"}, invalid: true},
		{name: "log-level unknown", args: []string{"--log-level", "loud"}, want: []string{"--log-level", `"loud"`}, invalid: true},
		{name: "node-id with dot", args: []string{"--node-id", "a.b"}, want: []string{"--node-id", `"a.b"`}, invalid: true},
		{name: "node-id too long", args: []string{"--node-id", strings.Repeat("n", 65)}, want: []string{"--node-id"}, invalid: true},
		{name: "region empty", args: []string{"--region="}, want: []string{"--region"}, invalid: true},
		{name: "region with space", yaml: "region: eu west\n", want: []string{"--region", `"eu west"`}, invalid: true},

		{name: "roles unknown by flag", args: []string{"--roles", "x"}, want: []string{"--roles", `"x"`}, invalid: true},
		{name: "roles unknown by env", env: map[string]string{"PARLEY_ROLES": "signal,relay"}, want: []string{"--roles", "PARLEY_ROLES", `"relay"`}, invalid: true},
		{name: "roles upper case in file list", yaml: "roles: [signal, Bridge]\n", want: []string{"--roles", "YAML roles", `"Bridge"`}, invalid: true},
		{name: "roles empty by flag", args: []string{"--roles="}, want: []string{"--roles", "at least one"}, invalid: true},
		{name: "roles only commas by env", env: map[string]string{"PARLEY_ROLES": " , "}, want: []string{"--roles", "at least one"}, invalid: true},

		{name: "nats http URL", args: []string{"--nats", "http://x"}, want: []string{"--nats (", `"http://x"`, "nats://"}, invalid: true},
		{name: "nats without scheme by env", env: map[string]string{"PARLEY_NATS": "nats.example.org:4222"}, want: []string{"--nats (", "PARLEY_NATS", `"nats.example.org:4222"`}, invalid: true},
		{name: "nats with cluster-listen", args: []string{"--nats", "nats://x:4222", "--cluster-listen", ":6222"}, want: []string{"--nats (", "--cluster-listen"}, invalid: true},
		{name: "nats with nats-listen by env", env: map[string]string{"PARLEY_NATS": "nats://x:4222", "PARLEY_NATS_LISTEN": ":4222"}, want: []string{"--nats (", "--nats-listen"}, invalid: true},
		{name: "nats with a cluster in file", yaml: "nats: nats://x:4222\ncluster_listen: \":6222\"\ncluster_peers: [\"nats://y:6222\"]\n", want: []string{"--nats (", "--cluster-peers"}, invalid: true},
		{name: "nats-listen without port", args: []string{"--nats-listen", "4222"}, want: []string{"--nats-listen", `"4222"`}, invalid: true},
		{name: "nats-listen port 0", env: map[string]string{"PARLEY_NATS_LISTEN": ":0"}, want: []string{"--nats-listen", `"0"`, "1 to 65535"}, invalid: true},
		{name: "cluster-listen port too large", yaml: "cluster_listen: \":70000\"\n", want: []string{"--cluster-listen", `"70000"`}, invalid: true},
		{name: "cluster-peers without cluster-listen", args: []string{"--cluster-peers", "nats://10.0.0.2:6222"}, want: []string{"--cluster-peers", "needs --cluster-listen"}, invalid: true},
		{name: "cluster-peers not a URL", args: []string{"--cluster-listen", ":6222", "--cluster-peers", "10.0.0.2:6222"}, want: []string{"--cluster-peers", `"10.0.0.2:6222"`, "nats://"}, invalid: true},
		{name: "cluster-name with space", args: []string{"--cluster-name", "eu cluster"}, want: []string{"--cluster-name", `"eu cluster"`}, invalid: true},
		{name: "cluster-name empty", env: map[string]string{"PARLEY_CLUSTER_NAME": " "}, want: []string{"--cluster-name"}, invalid: true},

		{name: "site-map without =", args: []string{"--site-map", "10.0.0.0/8"}, want: []string{"--site-map", `"10.0.0.0/8"`, "CIDR=region"}, invalid: true},
		{name: "site-map not a CIDR by env", env: map[string]string{"PARLEY_SITE_MAP": "x=eu"}, want: []string{"--site-map", `"x"`, "not a CIDR"}, invalid: true},
		{name: "site-map bad region in file", yaml: "site_map: [\"10.0.0.0/8=bad region\"]\n", want: []string{"--site-map", "YAML site_map", `"bad region"`}, invalid: true},
		{name: "site-map as a YAML mapping", yaml: "site_map:\n  10.0.0.0/8: eu\n", want: []string{"$FILE", "site_map", "not a mapping"}, invalid: true},
		{name: "trusted-proxies address", args: []string{"--trusted-proxies", "10.0.0.0/8,10.0.0.1"}, want: []string{"--trusted-proxies", `"10.0.0.1"`, "not a CIDR"}, invalid: true},
		{name: "trusted-proxies hostname in file", yaml: "trusted_proxies: [proxy.example.org]\n", want: []string{"--trusted-proxies", `"proxy.example.org"`}, invalid: true},

		{name: "stress-threshold 0", args: []string{"--stress-threshold", "0"}, want: []string{"--stress-threshold", "above 0"}, invalid: true},
		{name: "stress-threshold 1.5 by env", env: map[string]string{"PARLEY_STRESS_THRESHOLD": "1.5"}, want: []string{"--stress-threshold", "1.5", "at most 1"}, invalid: true},
		{name: "stress-threshold NaN", args: []string{"--stress-threshold", "NaN"}, want: []string{"--stress-threshold", "NaN"}, invalid: true},
		{name: "stress-threshold not a number by flag", args: []string{"--stress-threshold", "high"}, want: []string{"-stress-threshold", `"high"`, "not a number"}},
		{name: "stress-threshold not a number by env", env: map[string]string{"PARLEY_STRESS_THRESHOLD": "80%"}, want: []string{"PARLEY_STRESS_THRESHOLD", `"80%"`, "not a number"}, invalid: true},
		{name: "stress-threshold not a number by file", yaml: "stress_threshold: high\n", want: []string{"$FILE", "stress_threshold", `"high"`, "not a number"}, invalid: true},
		{name: "stress-threshold as a YAML list", yaml: "stress_threshold: [0.5]\n", want: []string{"$FILE", "stress_threshold", "not a list"}, invalid: true},
		{name: "conference-cap -1", args: []string{"--conference-cap=-1"}, want: []string{"--conference-cap", "-1", "negative"}, invalid: true},
		{name: "conference-cap fraction in file", yaml: "conference_cap: 2.5\n", want: []string{"$FILE", "conference_cap", `"2.5"`, "whole number"}, invalid: true},
		{name: "drain-timeout 0", args: []string{"--drain-timeout", "0"}, want: []string{"--drain-timeout", "0s", "at least 1s"}, invalid: true},
		{name: "drain-timeout without unit in file", yaml: "drain_timeout: 60\n", want: []string{"$FILE", "drain_timeout", `"60"`, "not a duration"}, invalid: true},
		{name: "lease-ttl 0", env: map[string]string{"PARLEY_LEASE_TTL": "0s"}, want: []string{"--lease-ttl", "0s", "between 1s and 1m"}, invalid: true},
		{name: "lease-ttl 2m", args: []string{"--lease-ttl", "2m"}, want: []string{"--lease-ttl", "2m0s", "between 1s and 1m"}, invalid: true},
		{name: "nats as a YAML list", yaml: "nats: [nats://a:4222, nats://b:4222]\n", want: []string{"$FILE", "key nats", "not a list"}, invalid: true},

		{name: "media-udp not a bool by flag", args: []string{"--tls-listen", ":443", "--media-udp=maybe"}, want: []string{"-media-udp", `"maybe"`, "not true or false"}, invalid: true},
		{name: "media-udp false as a separate argument", args: []string{"--tls-listen", ":443", "--media-udp", "false"}, want: []string{"unexpected argument", `"false"`}, invalid: true},
		{name: "media-udp not a bool by env", env: map[string]string{"PARLEY_MEDIA_UDP": "off"}, want: []string{"PARLEY_MEDIA_UDP", `"off"`, "not true or false"}, invalid: true},
		{name: "allow-guests no in file", yaml: "allow_guests: no\n", want: []string{"$FILE", "allow_guests", `"no"`, "not true or false"}, invalid: true},
		{name: "first-moderator as a YAML list", yaml: "first_moderator: [true]\n", want: []string{"$FILE", "first_moderator", "not a list"}, invalid: true},
		{name: "jwt-room-wildcard empty flag", args: []string{"--jwt-room-wildcard="}, want: []string{"-jwt-room-wildcard", "not true or false"}, invalid: true},
		{name: "media-udp false without tls-listen by flag", args: []string{"--media-udp=false"}, want: []string{"--media-udp (PARLEY_MEDIA_UDP, YAML media_udp)", "set --tls-listen"}, invalid: true},
		{name: "media-udp false without tls-listen by env", env: map[string]string{"PARLEY_MEDIA_UDP": "false"}, want: []string{"--media-udp (", "set --tls-listen"}, invalid: true},
		{name: "media-udp false without tls-listen in file", yaml: "media_udp: false\n", want: []string{"--media-udp (", "set --tls-listen"}, invalid: true},
		{name: "allow-guests false without tokens in file", yaml: "allow_guests: false\n", want: []string{"--allow-guests (PARLEY_ALLOW_GUESTS, YAML allow_guests)", "--jwt-secret"}, invalid: true},
		{
			name: "allow-guests false with only issuer and audience by env",
			env:  map[string]string{"PARLEY_ALLOW_GUESTS": "false", "PARLEY_JWT_ISSUER": "i", "PARLEY_JWT_AUDIENCE": "a"},
			want: []string{"--allow-guests (", "nobody can join"}, invalid: true,
		},
		{name: "tls-cert without tls-key", args: []string{"--tls-listen", ":443", "--tls-cert", "/nonexistent/cert.pem"}, want: []string{"--tls-cert (", "--tls-key", `"/nonexistent/cert.pem"`}, invalid: true},
		{
			name: "tls files missing by env",
			env:  map[string]string{"PARLEY_TLS_LISTEN": ":443", "PARLEY_TLS_CERT": "/nonexistent/cert.pem", "PARLEY_TLS_KEY": "/nonexistent/key.pem"},
			want: []string{"--tls-cert (", "--tls-key (PARLEY_TLS_KEY, YAML tls_key)", `"/nonexistent/key.pem"`}, invalid: true,
		},
		{name: "tls-listen without port", args: []string{"--tls-listen", "443"}, want: []string{"--tls-listen (", `"443"`}, invalid: true},
		{name: "acme-domains without tls-listen", args: []string{"--acme-domains", "meet.example.org"}, want: []string{"--tls-listen (", "set --tls-listen"}, invalid: true},
		{name: "acme-domains bad host in file", yaml: "tls_listen: \":443\"\nacme_domains: [localhost]\n", want: []string{"--acme-domains (", `"localhost"`}, invalid: true},
		{name: "turn-listen without turn-secret", args: []string{"--turn-listen", ":3478"}, want: []string{"--turn-secret (", "shared secret"}, invalid: true},
		{name: "turn-secret short by env", env: map[string]string{"PARLEY_TURN_SECRET": "short"}, want: []string{"--turn-secret (", "16 characters"}, invalid: true},
		{
			name: "turn-urls with turn-listen",
			args: []string{"--turn-secret", testTURNSecret, "--turn-listen", ":3478", "--turn-urls", "turn:t.example.org:3478"},
			want: []string{"--turn-urls (", "drop --turn-listen"}, invalid: true,
		},
		{name: "turn-relay-ports low in file", yaml: "turn_relay_ports: 80-90\n", want: []string{"--turn-relay-ports (", `"80-90"`, "1024 <= min"}, invalid: true},
		{name: "turn-max-allocations not a number in file", yaml: "turn_max_allocations: many\n", want: []string{"$FILE", "turn_max_allocations", `"many"`, "whole number"}, invalid: true},
		{name: "turn-credential-ttl short by env", env: map[string]string{"PARLEY_TURN_CREDENTIAL_TTL": "30s"}, want: []string{"--turn-credential-ttl (", "30s", "between 1m and 168h"}, invalid: true},
		{name: "public-host with port", args: []string{"--public-host", "meet.example.org:443"}, want: []string{"--public-host (", `"meet.example.org:443"`}, invalid: true},
		{name: "jwt-secret short", args: append([]string{"--jwt-secret", "short"}, issuerFlags...), want: []string{"--jwt-secret (", "32 characters"}, invalid: true},
		{name: "jwt-secret without issuer", args: []string{"--jwt-secret", testJWTSecret}, want: []string{"--jwt-issuer (", "--jwt-audience"}, invalid: true},
		{
			name: "jwt-public-keys missing by env",
			env:  map[string]string{"PARLEY_JWT_PUBLIC_KEYS": "/nonexistent/key.pem", "PARLEY_JWT_ISSUER": "i", "PARLEY_JWT_AUDIENCE": "a"},
			want: []string{"--jwt-public-keys (", `"/nonexistent/key.pem"`}, invalid: true,
		},
		{name: "jwt-jwks-url ftp", args: append([]string{"--jwt-jwks-url", "ftp://id.example.org/jwks"}, issuerFlags...), want: []string{"--jwt-jwks-url (", `"ftp://id.example.org/jwks"`}, invalid: true},
		{name: "jwt-algorithms none in file", yaml: "jwt_algorithms: [none]\n", want: []string{"--jwt-algorithms (", `"none"`}, invalid: true},
		{name: "jwt-leeway 10m", args: []string{"--jwt-leeway", "10m"}, want: []string{"--jwt-leeway (", "10m0s", "between 0 and 5m"}, invalid: true},
		{name: "max-participants 1", args: []string{"--max-participants", "1"}, want: []string{"--max-participants (", "between 2 and 10000"}, invalid: true},
		{name: "admin-key short by env", env: map[string]string{"PARLEY_ADMIN_KEY": "secret"}, want: []string{"--admin-key (", "16 characters"}, invalid: true},
		{name: "join-rate 0", args: []string{"--join-rate", "0"}, want: []string{"--join-rate (", "at least 1"}, invalid: true},
		{name: "message-rate 0 in file", yaml: "message_rate: 0\n", want: []string{"--message-rate (", "at least 1"}, invalid: true},
		{name: "chat-max-length too long", env: map[string]string{"PARLEY_CHAT_MAX_LENGTH": "100001"}, want: []string{"--chat-max-length (", "100001"}, invalid: true},

		{
			name: "every problem is reported at once",
			args: []string{"--udp-port", "70000", "--log-level", "loud", "--region", "a b", "--roles", "x", "--lease-ttl", "0"},
			want: []string{"--udp-port", "--log-level", "--region", "--roles", "--lease-ttl"}, invalid: true,
		},

		{name: "unknown YAML key", yaml: "bogus: 1\n", want: []string{"$FILE", `unknown key "bogus"`}, invalid: true},
		{name: "flag spelling as YAML key", yaml: "udp-port: 1\n", want: []string{`unknown key "udp-port"`}, invalid: true},
		{name: "env spelling as YAML key", yaml: "PARLEY_REGION: eu\n", want: []string{`unknown key "PARLEY_REGION"`}, invalid: true},
		{name: "malformed YAML", yaml: "listen: [\n", want: []string{"$FILE", "not valid YAML"}, invalid: true},
		{name: "YAML that is not a mapping", yaml: "- listen\n- region\n", want: []string{"$FILE", "not valid YAML"}, invalid: true},
		{name: "tab-indented YAML", yaml: "public_ip:\n\t- 203.0.113.7\n", want: []string{"$FILE", "not valid YAML"}, invalid: true},
		{name: "missing file by flag", args: []string{"--config", "/nonexistent/parley.yaml"}, want: []string{"--config", "/nonexistent/parley.yaml"}, invalid: true},
		{name: "missing file by env", env: map[string]string{"PARLEY_CONFIG": "/nonexistent/env.yaml"}, want: []string{"--config", "/nonexistent/env.yaml"}, invalid: true},

		{name: "positional argument", args: []string{"serve"}, want: []string{"unexpected argument", `"serve"`}, invalid: true},
		{name: "positional after flags", args: []string{"--region", "eu", "extra"}, want: []string{"unexpected argument", `"extra"`}, invalid: true},
		{name: "unknown flag", args: []string{"--udp_port", "1"}, want: []string{"-udp_port"}},
		{name: "flag without value", args: []string{"--region"}, want: []string{"-region"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := tc.args
			file := ""
			if tc.yaml != "" {
				file = writeConfig(t, tc.yaml)
				args = append([]string{"--config", file}, args...)
			}
			_, err, _ := load(t, args, tc.env)
			if err == nil {
				t.Fatal("Load succeeded, want an error")
			}
			for _, w := range tc.want {
				if w == "$FILE" {
					w = file
				}
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if tc.invalid && !errors.Is(err, ErrInvalid) {
				t.Errorf("error %q does not wrap ErrInvalid", err)
			}
			if errors.Is(err, flag.ErrHelp) {
				t.Errorf("error %q is flag.ErrHelp", err)
			}
		})
	}
}

func TestLoadHelp(t *testing.T) {
	for _, arg := range []string{"--help", "-h", "-help"} {
		t.Run(arg, func(t *testing.T) {
			_, err, usage := load(t, []string{arg}, nil)
			if !errors.Is(err, flag.ErrHelp) {
				t.Fatalf("Load(%s) error = %v, want flag.ErrHelp", arg, err)
			}
			want := []string{"Usage: parley serve", "-config", "PARLEY_CONFIG"}
			for _, oc := range optionCases {
				// A boolean flag takes no value, so its name ends the line.
				end := " "
				if _, ok := oc.def.(bool); ok {
					end = "\n"
				}
				want = append(want, "-"+oc.name+end, oc.env, strings.ReplaceAll(oc.name, "-", "_"))
			}
			for _, w := range want {
				if !strings.Contains(usage, w) {
					t.Errorf("usage does not mention %q:\n%s", w, usage)
				}
			}
		})
	}
}

// TestOptionCasesCoverEveryOption keeps the tables above in step with the
// options Load knows.
func TestOptionCasesCoverEveryOption(t *testing.T) {
	var c Config
	opts := options(&c)
	if len(opts) != len(optionCases) {
		t.Errorf("Load has %d options, the tests cover %d", len(opts), len(optionCases))
	}
	for i, o := range opts {
		if i >= len(optionCases) {
			break
		}
		if oc := optionCases[i]; o.name != oc.name || o.env() != oc.env {
			t.Errorf("option %d is %s (%s), test covers %s (%s)", i, o.name, o.env(), oc.name, oc.env)
		}
	}
	// Every list option has its forms tested.
	lists := map[string]bool{}
	for _, lc := range listCases {
		lists[lc.name] = true
	}
	for _, o := range opts {
		if _, ok := o.value.(*listValue); ok && !lists[o.name] {
			t.Errorf("list option %s has no listCases entry", o.name)
		}
	}
	// Every field of Config has an option under its YAML key.
	keys := map[string]bool{}
	for _, o := range opts {
		keys[yamlKey(o.name)] = true
	}
	typ := reflect.TypeFor[Config]()
	for i := range typ.NumField() {
		f := typ.Field(i)
		if key := f.Tag.Get("yaml"); !keys[key] {
			t.Errorf("field %s (YAML %q) has no option", f.Name, key)
		}
	}
}
