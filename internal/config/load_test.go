package config

import (
	"bytes"
	"errors"
	"flag"
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
				cfg, err, _ := load(t, l.args, l.env)
				if err != nil {
					t.Errorf("%s: Load: %v", l.name, err)
					continue
				}
				if got := oc.get(cfg); !reflect.DeepEqual(got, l.want) {
					t.Errorf("%s: %s = %#v, want %#v", l.name, oc.name, got, l.want)
				}
				// Setting one option leaves every other at its default.
				for _, other := range optionCases {
					if other.name == oc.name {
						continue
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
	file := writeConfig(t, `# every option
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
`)
	cfg, err, _ := load(t, []string{"--config=" + file}, nil)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	want := Config{
		Listen:           "0.0.0.0:443",
		UDPPort:          3478,
		PublicIP:         []string{"203.0.113.7", "2001:db8::1"},
		DataDir:          "/data",
		LogLevel:         "WARN",
		NodeID:           "n1",
		Region:           "eu",
		KeyframeInterval: 750 * time.Millisecond,
	}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("Load =\n %+v\nwant\n %+v", cfg, want)
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

func TestLoadPublicIPForms(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		args []string
		want []string
	}{
		{"block list", "public_ip:\n  - 203.0.113.7\n  - 2001:db8::1\n", nil, []string{"203.0.113.7", "2001:db8::1"}},
		{"flow list", "public_ip: [203.0.113.7, 198.51.100.1]\n", nil, []string{"203.0.113.7", "198.51.100.1"}},
		{"scalar", "public_ip: 203.0.113.7\n", nil, []string{"203.0.113.7"}},
		{"comma-separated scalar", "public_ip: \"203.0.113.7, 198.51.100.1,\"\n", nil, []string{"203.0.113.7", "198.51.100.1"}},
		{"empty list", "public_ip: []\n", nil, nil},
		{"null keeps default", "public_ip:\n", nil, nil},
		{"flag replaces the file's list", "public_ip: [203.0.113.7, 198.51.100.1]\n", []string{"--public-ip", "192.0.2.1"}, []string{"192.0.2.1"}},
		{"empty flag clears the file's list", "public_ip: [203.0.113.7]\n", []string{"--public-ip="}, nil},
		{"repeated flag keeps the last", "", []string{"--public-ip", "192.0.2.1", "--public-ip", "192.0.2.2,192.0.2.3"}, []string{"192.0.2.2", "192.0.2.3"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"--config", writeConfig(t, tc.yaml)}, tc.args...)
			cfg, err, _ := load(t, args, nil)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if !reflect.DeepEqual(cfg.PublicIP, tc.want) {
				t.Errorf("PublicIP = %#v, want %#v", cfg.PublicIP, tc.want)
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

		{
			name: "every problem is reported at once",
			args: []string{"--udp-port", "70000", "--log-level", "loud", "--region", "a b"},
			want: []string{"--udp-port", "--log-level", "--region"}, invalid: true,
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
