package config

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// EnvPrefix starts the name of every environment variable Parley reads.
const EnvPrefix = "PARLEY_"

// option binds one configuration field to its flag, environment variable and
// YAML key; the three names derive from one.
type option struct {
	name  string // flag name; the env var and YAML key derive from it
	help  string
	value flag.Value
}

func (o option) env() string { return envName(o.name) }

func envName(name string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

func yamlKey(name string) string { return strings.ReplaceAll(name, "-", "_") }

// optionLabel names an option in all its forms, for error messages.
func optionLabel(name string) string {
	return fmt.Sprintf("--%s (%s, YAML %s)", name, envName(name), yamlKey(name))
}

func options(c *Config) []option {
	return []option{
		{"listen", "TCP address of the HTTP server: web client and signaling at /ws", (*stringValue)(&c.Listen)},
		{"udp-port", "UDP port for all media of this node's bridge (0 picks a free port)", (*intValue)(&c.UDPPort)},
		{"public-ip", "comma-separated addresses clients reach the bridge at: this host's, or P/LOCAL where a 1:1 NAT translates P to this host's LOCAL (default: the host's addresses, only --listen's when it names one)", (*listValue)(&c.PublicIP)},
		{"media-loopback", "offer loopback media candidates too, for browsers on this host (development, tests)", (*boolValue)(&c.MediaLoopback)},
		{"data-dir", "directory for the node's state", (*stringValue)(&c.DataDir)},
		{"log-level", "debug, info, warn or error", (*stringValue)(&c.LogLevel)},
		{"node-id", "name of this node on the bus (default: random)", (*stringValue)(&c.NodeID)},
		{"region", "region of this node, used to place participants on bridges", (*stringValue)(&c.Region)},
		{"keyframe-interval", "shortest time between keyframe requests forwarded to one publisher", (*durationValue)(&c.KeyframeInterval)},
		{"roles", "comma-separated roles this node runs: signal, control, bridge", (*listValue)(&c.Roles)},
		{"nats", "URL of an external NATS cluster with JetStream (default: the embedded server)", (*stringValue)(&c.NATS)},
		{"nats-listen", "host:port where the embedded NATS server takes other nodes (default: none)", (*stringValue)(&c.NATSListen)},
		{"cluster-listen", "host:port where the embedded NATS server takes routes from its cluster peers (default: none)", (*stringValue)(&c.ClusterListen)},
		{"cluster-peers", "comma-separated route URLs (nats://host:port) of the other embedded NATS servers", (*listValue)(&c.ClusterPeers)},
		{"cluster-name", "name of the NATS cluster", (*stringValue)(&c.ClusterName)},
		{"site-map", "comma-separated CIDR=region entries placing clients' networks in regions", (*listValue)(&c.SiteMap)},
		{"trusted-proxies", "comma-separated CIDRs of front proxies whose X-Forwarded-For is believed", (*listValue)(&c.TrustedProxies)},
		{"stress-threshold", "bridge stress (0..1) above which it gets no new conference", (*floatValue)(&c.StressThreshold)},
		{"conference-cap", "most participants of one conference on one bridge, where bridges cascade (0: no cap)", (*intValue)(&c.ConferenceCap)},
		{"drain-timeout", "how long a draining node waits for its conferences to move before exiting", (*durationValue)(&c.DrainTimeout)},
		{"lease-ttl", "how long a room stays with a control node that stopped refreshing its lease", (*durationValue)(&c.LeaseTTL)},
		{"tls-listen", "the one TCP port for HTTPS, WebSocket, TURN over TLS and ICE-TCP, e.g. :443 (default: none, plain HTTP on --listen)", (*stringValue)(&c.TLSListen)},
		{"tls-cert", "PEM certificate file for --tls-listen", (*stringValue)(&c.TLSCert)},
		{"tls-key", "PEM private key file for --tls-listen", (*stringValue)(&c.TLSKey)},
		{"acme-domains", "comma-separated host names to get certificates for from Let's Encrypt (ACME)", (*listValue)(&c.ACMEDomains)},
		{"acme-email", "contact address of the ACME account", (*stringValue)(&c.ACMEEmail)},
		{"media-udp", "serve media on --udp-port (false: ICE-TCP on --tls-listen only; TURN relays then cannot reach the bridge, they relay UDP)", (*boolValue)(&c.MediaUDP)},
		{"turn-secret", "shared secret of TURN REST credentials (enables TURN)", (*stringValue)(&c.TURNSecret)},
		{"turn-listen", "UDP and TCP address of the embedded TURN server, e.g. :3478 (TURN over TLS rides on --tls-listen)", (*stringValue)(&c.TURNListen)},
		{"turn-realm", "TURN realm", (*stringValue)(&c.TURNRealm)},
		{"turn-relay-ports", "relay port range of the embedded TURN server, min-max", (*stringValue)(&c.TURNRelayPorts)},
		{"turn-max-allocations", "most TURN allocations per user", (*intValue)(&c.TURNMaxAllocations)},
		{"turn-max-bitrate", "bits per second per TURN allocation, each way (0: no cap)", (*intValue)(&c.TURNMaxBitrate)},
		{"turn-allow-peers", "comma-separated CIDRs TURN may relay to despite its deny list", (*listValue)(&c.TURNAllowPeers)},
		{"turn-urls", "comma-separated URLs of an external TURN server (coturn with use-auth-secret) instead of the embedded one", (*listValue)(&c.TURNURLs)},
		{"turn-credential-ttl", "how long issued TURN credentials are valid", (*durationValue)(&c.TURNCredentialTTL)},
		{"public-host", "host name clients reach the node by, for the TURN URLs they get (default: the host they asked for)", (*stringValue)(&c.PublicHost)},
		{"allow-guests", "let people without a token join", (*boolValue)(&c.AllowGuests)},
		{"jwt-secret", "secret verifying HS256 join tokens (at least 32 characters)", (*stringValue)(&c.JWTSecret)},
		{"jwt-public-keys", "comma-separated PEM files of public keys verifying RS256/ES256 join tokens", (*listValue)(&c.JWTPublicKeys)},
		{"jwt-jwks-url", "URL of a JWKS document with the keys verifying join tokens", (*stringValue)(&c.JWTJWKSURL)},
		{"jwt-issuer", "issuer (iss) join tokens must name", (*stringValue)(&c.JWTIssuer)},
		{"jwt-audience", "audience (aud) join tokens must name", (*stringValue)(&c.JWTAudience)},
		{"jwt-algorithms", "comma-separated signing algorithms join tokens may use", (*listValue)(&c.JWTAlgorithms)},
		{"jwt-leeway", "clock skew allowed on a token's exp, nbf and iat", (*durationValue)(&c.JWTLeeway)},
		{"jwt-room-wildcard", "let a token's room claim \"*\" open every room", (*boolValue)(&c.JWTRoomWildcard)},
		{"first-moderator", "make the first to join a room its moderator when no token names one", (*boolValue)(&c.FirstModerator)},
		{"max-participants", "most participants in one room", (*intValue)(&c.MaxParticipants)},
		{"admin-key", "API key of the admin API at /api/v1 (empty: the API is off)", (*stringValue)(&c.AdminKey)},
		{"join-rate", "joins one address may attempt per minute", (*intValue)(&c.JoinRate)},
		{"message-rate", "messages one client may send per second", (*intValue)(&c.MessageRate)},
		{"room-join-rate", "joins one room takes per minute, from all addresses (0: twice max-participants, at least 120)", (*intValue)(&c.RoomJoinRate)},
		{"chat-max-length", "longest chat message, in characters", (*intValue)(&c.ChatMaxLength)},
	}
}

// Load builds the configuration from defaults, the YAML file named by
// --config or PARLEY_CONFIG, PARLEY_* environment variables and the flags in
// args, in that order of precedence (flags win), then validates it. usage is
// written on -h; errors name the offending option.
func Load(cmd string, args []string, getenv func(string) string, usage io.Writer) (Config, error) {
	cfg := Default()
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.SetOutput(usage)
	var configFile string
	fs.StringVar(&configFile, "config", getenv(EnvPrefix+"CONFIG"), "YAML configuration file (env PARLEY_CONFIG)")
	opts := options(&cfg)
	for _, o := range opts {
		fs.Var(o.value, o.name, fmt.Sprintf("%s (env %s, YAML %s)", o.help, o.env(), yamlKey(o.name)))
	}
	fs.Usage = func() {
		fmt.Fprintf(usage, "Usage: parley %s [options]\n\nEach option can also be set as an environment variable or a key in the\nYAML file given by --config. Flags override the environment, which\noverrides the file.\n\nOptions:\n", cmd)
		fs.PrintDefaults()
	}
	// First pass: only to learn --config; values are set again below in the
	// right order.
	if err := parseFlags(fs, args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("%w: unexpected argument %q (options start with --)", ErrInvalid, fs.Arg(0))
	}
	cfg = Default()
	if configFile != "" {
		if err := loadYAML(configFile, &cfg); err != nil {
			return cfg, err
		}
	}
	for _, o := range opts {
		if v := getenv(o.env()); v != "" {
			if err := o.value.Set(v); err != nil {
				return cfg, fmt.Errorf("%w: %s=%q: %v", ErrInvalid, o.env(), v, err)
			}
		}
	}
	if err := parseFlags(fs, args); err != nil {
		return cfg, err
	}
	return cfg, cfg.Validate()
}

// parseFlags parses args, naming options the way users write them (--name)
// in errors.
func parseFlags(fs *flag.FlagSet, args []string) error {
	err := fs.Parse(args)
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return err
	}
	return fmt.Errorf("%w: %s", ErrInvalid, strings.Replace(err.Error(), "flag -", "flag --", 1))
}

func loadYAML(path string, cfg *Config) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("%w: --config: %v", ErrInvalid, err)
	}
	// Decode into nodes first so that each key is set through the same parser
	// as its flag, from the text as written (a secret like 0x1F stays as it
	// is, not turned into a number and back).
	var raw map[string]yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&raw); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("%w: %s: not valid YAML: %v", ErrInvalid, path, err)
	}
	byKey := map[string]option{}
	for _, o := range options(cfg) {
		byKey[yamlKey(o.name)] = o
	}
	for key, node := range raw {
		o, ok := byKey[key]
		if !ok {
			return fmt.Errorf("%w: %s: unknown key %q", ErrInvalid, path, key)
		}
		var s string
		switch node.Kind {
		case yaml.SequenceNode:
			if _, ok := o.value.(*listValue); !ok {
				return fmt.Errorf("%w: %s: key %s: must be a single value, not a list", ErrInvalid, path, key)
			}
			parts := make([]string, 0, len(node.Content))
			for _, item := range node.Content {
				if item.Kind != yaml.ScalarNode {
					return fmt.Errorf("%w: %s: key %s: list items must be single values", ErrInvalid, path, key)
				}
				parts = append(parts, item.Value)
			}
			s = strings.Join(parts, ",")
		case yaml.MappingNode:
			return fmt.Errorf("%w: %s: key %s: must be a single value, not a mapping", ErrInvalid, path, key)
		case yaml.ScalarNode:
			if node.Tag == "!!null" {
				continue
			}
			s = node.Value
		default:
			return fmt.Errorf("%w: %s: key %s: must be a single value", ErrInvalid, path, key)
		}
		if err := o.value.Set(s); err != nil {
			return fmt.Errorf("%w: %s: key %s: %v", ErrInvalid, path, key, err)
		}
	}
	return nil
}

type stringValue string

func (v *stringValue) String() string     { return string(*v) }
func (v *stringValue) Set(s string) error { *v = stringValue(s); return nil }

type intValue int

func (v *intValue) String() string { return strconv.Itoa(int(*v)) }
func (v *intValue) Set(s string) error {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return fmt.Errorf("%q is not a whole number", s)
	}
	*v = intValue(n)
	return nil
}

type boolValue bool

func (v *boolValue) String() string { return strconv.FormatBool(bool(*v)) }
func (v *boolValue) Set(s string) error {
	b, err := strconv.ParseBool(strings.TrimSpace(s))
	if err != nil {
		return fmt.Errorf("%q is not true or false", s)
	}
	*v = boolValue(b)
	return nil
}

// IsBoolFlag lets --media-udp stand alone for true, as --media-udp=false
// turns it off.
func (v *boolValue) IsBoolFlag() bool { return true }

type floatValue float64

func (v *floatValue) String() string { return strconv.FormatFloat(float64(*v), 'g', -1, 64) }
func (v *floatValue) Set(s string) error {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil {
		return fmt.Errorf("%q is not a number", s)
	}
	*v = floatValue(f)
	return nil
}

type durationValue time.Duration

func (v *durationValue) String() string { return time.Duration(*v).String() }
func (v *durationValue) Set(s string) error {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return fmt.Errorf("%q is not a duration (for example 500ms or 2s)", s)
	}
	*v = durationValue(d)
	return nil
}

// listValue is a comma-separated list; each Set replaces the whole list so
// that a flag overrides the file instead of adding to it.
type listValue []string

func (v *listValue) String() string { return strings.Join(*v, ",") }
func (v *listValue) Set(s string) error {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	*v = out
	return nil
}
