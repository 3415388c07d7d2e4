package config

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
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

// optionCases give, for each option, a value in each source. Each source's
// value differs from the default and from the others, so the test can tell
// which one won.
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
		yaml: `public_ip: [203.0.113.7, "2001:db8::1"]`, envVal: "198.51.100.1, 198.51.100.2", flagVal: "192.0.2.9",
		get: func(c Config) any { return c.PublicIP },
		def: []string(nil), fileWant: []string{"203.0.113.7", "2001:db8::1"},
		envWant: []string{"198.51.100.1", "198.51.100.2"}, flagWant: []string{"192.0.2.9"},
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
}

func TestLoadPrecedence(t *testing.T) {
	for _, oc := range optionCases {
		t.Run(oc.name, func(t *testing.T) {
			file := writeConfig(t, oc.yaml+"\n")
			flagArg := "--" + oc.name + "=" + oc.flagVal
			layers := []struct {
				name string
				args []string
				env  map[string]string
				want any
			}{
				{"defaults", nil, nil, oc.def},
				{"file by --config", []string{"--config", file}, nil, oc.fileWant},
				{"file by PARLEY_CONFIG", nil, map[string]string{"PARLEY_CONFIG": file}, oc.fileWant},
				{"env", nil, map[string]string{oc.env: oc.envVal}, oc.envWant},
				{"env over file", []string{"--config", file}, map[string]string{oc.env: oc.envVal}, oc.envWant},
				{"empty env does not override file", []string{"--config", file}, map[string]string{oc.env: ""}, oc.fileWant},
				{"flag", []string{flagArg}, nil, oc.flagWant},
				{"flag over file", []string{"--config", file, flagArg}, nil, oc.flagWant},
				{"flag over env", []string{flagArg}, map[string]string{oc.env: oc.envVal}, oc.flagWant},
				{"flag over env over file", []string{flagArg}, map[string]string{"PARLEY_CONFIG": file, oc.env: oc.envVal}, oc.flagWant},
				{"flag before --config", []string{flagArg, "--config", file}, map[string]string{oc.env: oc.envVal}, oc.flagWant},
			}
			for _, l := range layers {
				cfg, err, _ := load(t, append(l.args, oc.also...), l.env)
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
	// --nats excludes the embedded server's listeners, so one file cannot
	// set every option: the first sets all but nats, the second nats.
	tests := []struct {
		name string
		yaml string
		want Config
	}{
		{
			name: "embedded cluster",
			yaml: `# every option but nats
listen: 0.0.0.0:443
udp_port: 3478
public_ip:
  - 203.0.113.7
  - 2001:db8::1
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
`,
			want: Config{
				Listen:           "0.0.0.0:443",
				UDPPort:          3478,
				PublicIP:         []string{"203.0.113.7", "2001:db8::1"},
				DataDir:          "/data",
				LogLevel:         "WARN",
				NodeID:           "n1",
				Region:           "eu",
				KeyframeInterval: 750 * time.Millisecond,
				Roles:            []string{"control", "bridge"},
				NATSListen:       "0.0.0.0:4222",
				ClusterListen:    "0.0.0.0:6222",
				ClusterPeers:     []string{"nats://10.0.0.2:6222", "nats://10.0.0.3:6222"},
				ClusterName:      "eu-cluster",
				SiteMap:          []string{"10.1.0.0/16=eu-west", "2001:db8::/32=us"},
				TrustedProxies:   []string{"10.0.0.0/8", "::1/128"},
				StressThreshold:  0.75,
				ConferenceCap:    40,
				DrainTimeout:     5 * time.Minute,
				LeaseTTL:         10 * time.Second,
			},
		},
		{
			name: "external NATS",
			yaml: "roles: signal\nnats: tls://nats.example.org:4222\n",
			want: func() Config {
				c := Default()
				c.Roles = []string{"signal"}
				c.NATS = "tls://nats.example.org:4222"
				return c
			}(),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err, _ := load(t, []string{"--config=" + writeConfig(t, tc.yaml)}, nil)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if !reflect.DeepEqual(cfg, tc.want) {
				t.Errorf("Load =\n %+v\nwant\n %+v", cfg, tc.want)
			}
		})
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
}

func TestLoadListForms(t *testing.T) {
	for _, lc := range listCases {
		t.Run(lc.name, func(t *testing.T) {
			key, flagName := yamlKey(lc.name), "--"+lc.name
			a, b, c := lc.items[0], lc.items[1], lc.items[2]
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
				want = append(want, "-"+oc.name+" ", oc.env, strings.ReplaceAll(oc.name, "-", "_"))
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
