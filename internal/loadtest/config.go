package loadtest

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"time"
)

// Options are a load test's settings as the command line gives them; their
// Config method checks them. Every error names the flag to change.
type Options struct {
	URL             string
	Rooms           int
	VideoPublishers int // per room; they publish audio too
	AudioPublishers int // per room; audio only
	Subscribers     int // per room; receive only
	JoinRate        float64
	Warmup          time.Duration
	Duration        time.Duration
	Resolution      string // 180p, 360p or 720p
	Simulcast       string // on or off
	Layout          string // speaker or grid
	// MetricsURL is the server's /metrics: nil means <URL>/metrics, "" none.
	MetricsURL  *string
	AllowRemote bool
	RoomPrefix  string
	Seed        int64
}

// DefaultOptions are the flags' defaults.
func DefaultOptions() Options {
	return Options{
		URL: "http://127.0.0.1:8080", Rooms: 1, VideoPublishers: 1, Subscribers: 10,
		JoinRate: 20, Warmup: 10 * time.Second, Duration: 30 * time.Second, Resolution: "720p", Simulcast: "on",
		Layout: "speaker", RoomPrefix: "load", Seed: 1,
	}
}

// Layout is which layers receivers ask for.
type Layout int

// The layouts.
const (
	// Speaker: the room's first video publisher on stage at the test's
	// resolution, everyone else at 180p.
	Speaker Layout = iota
	// Grid: everyone at 180p.
	Grid
)

func (l Layout) String() string {
	if l == Grid {
		return "grid"
	}
	return "speaker"
}

// Config is a checked load test.
type Config struct {
	URL             string
	MetricsURL      string // "" for none
	Rooms           int
	VideoPublishers int
	AudioPublishers int
	Subscribers     int
	JoinRate        float64
	// Warmup is the time between everyone receiving media and the measured
	// phase, for bandwidth estimates and layers to ramp up: the bridge's
	// estimate takes about 7 s on loopback to climb from its initial
	// 300 kbit/s to a 720p layer.
	Warmup     time.Duration
	Duration   time.Duration
	Height     int // top layer: 180, 360 or 720
	Simulcast  bool
	Layout     Layout
	RoomPrefix string
	Seed       int64

	// Log receives the clients' warnings (nil: discarded); Progress a line
	// every few seconds while the test runs (nil: none).
	Log      *slog.Logger
	Progress io.Writer
}

// Participants is how many participants the test joins.
func (c Config) Participants() int {
	return c.Rooms * (c.VideoPublishers + c.AudioPublishers + c.Subscribers)
}

// Limits that keep a typo from starting a runaway test.
const (
	maxParticipants = 10_000
	maxJoinRate     = 1000
)

// Config checks the options and returns the test they describe.
func (o Options) Config() (Config, error) {
	c := Config{
		URL: strings.TrimRight(o.URL, "/"), Rooms: o.Rooms, VideoPublishers: o.VideoPublishers,
		AudioPublishers: o.AudioPublishers, Subscribers: o.Subscribers, JoinRate: o.JoinRate,
		Warmup: o.Warmup, Duration: o.Duration, RoomPrefix: o.RoomPrefix, Seed: o.Seed,
	}
	if err := checkURL("--url", c.URL, o.AllowRemote); err != nil {
		return Config{}, err
	}
	c.MetricsURL = c.URL + "/metrics"
	if o.MetricsURL != nil {
		c.MetricsURL = *o.MetricsURL
	}
	if c.MetricsURL != "" {
		if err := checkURL("--metrics-url", c.MetricsURL, o.AllowRemote); err != nil {
			return Config{}, err
		}
	}
	switch {
	case o.Rooms < 1:
		return Config{}, flagErr("--rooms", "must be at least 1, not %d", o.Rooms)
	case o.VideoPublishers < 0:
		return Config{}, flagErr("--video-publishers", "must not be negative, not %d", o.VideoPublishers)
	case o.AudioPublishers < 0:
		return Config{}, flagErr("--audio-publishers", "must not be negative, not %d", o.AudioPublishers)
	case o.Subscribers < 0:
		return Config{}, flagErr("--subscribers", "must not be negative, not %d", o.Subscribers)
	case o.VideoPublishers+o.AudioPublishers == 0:
		return Config{}, flagErr("--video-publishers", "and --audio-publishers are both 0: a room needs a publisher for anyone to receive anything")
	case c.Participants() > maxParticipants:
		return Config{}, flagErr("--rooms", "× (--video-publishers + --audio-publishers + --subscribers) is %d participants, over the limit of %d", c.Participants(), maxParticipants)
	case !(o.JoinRate > 0 && o.JoinRate <= maxJoinRate):
		return Config{}, flagErr("--join-rate", "must be above 0 and at most %d joins per second, not %g", maxJoinRate, o.JoinRate)
	case o.Warmup < 0:
		return Config{}, flagErr("--warmup", "must not be negative, not %s", o.Warmup)
	case o.Duration < time.Second:
		return Config{}, flagErr("--duration", "must be at least 1s, not %s", o.Duration)
	}
	switch o.Resolution {
	case "180p", "360p", "720p":
		fmt.Sscanf(o.Resolution, "%dp", &c.Height)
	default:
		return Config{}, flagErr("--resolution", "must be 180p, 360p or 720p, not %q", o.Resolution)
	}
	switch o.Simulcast {
	case "on":
		c.Simulcast = true
	case "off":
	default:
		return Config{}, flagErr("--simulcast", "must be on or off, not %q", o.Simulcast)
	}
	switch o.Layout {
	case "speaker":
		c.Layout = Speaker
	case "grid":
		c.Layout = Grid
	default:
		return Config{}, flagErr("--layout", "must be speaker or grid, not %q", o.Layout)
	}
	// Room names: <prefix>-<n> must follow the protocol's rules.
	if !validPrefix(o.RoomPrefix) {
		return Config{}, flagErr("--room-prefix", "must be 1–50 ASCII letters, digits, '-' or '_', starting with a letter or digit, not %q", o.RoomPrefix)
	}
	return c, nil
}

func flagErr(flag, format string, args ...any) error {
	return fmt.Errorf("%w: %s %s", ErrBadFlag, flag, fmt.Sprintf(format, args...))
}

func validPrefix(p string) bool {
	if len(p) == 0 || len(p) > 50 {
		return false
	}
	for i, r := range p {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case (r == '-' || r == '_') && i > 0:
		default:
			return false
		}
	}
	return true
}

// checkURL makes sure raw is an http(s) or ws(s) URL whose host is on this
// machine, unless remote targets are allowed.
func checkURL(flag, raw string, allowRemote bool) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return flagErr(flag, "must be an absolute URL such as http://127.0.0.1:8080, not %q", raw)
	}
	switch u.Scheme {
	case "http", "https", "ws", "wss":
	default:
		return flagErr(flag, "must start with http, https, ws or wss, not %q", raw)
	}
	if !allowRemote && !IsLoopback(u.Hostname()) {
		return fmt.Errorf("%w: %s %s points at %q, which is not this machine; a load test can overwhelm a server, so pass --allow-remote to load a remote one on purpose",
			ErrRemote, flag, raw, u.Hostname())
	}
	return nil
}

// IsLoopback reports whether host (a name or an address, without port) is
// the local machine's loopback: 127.0.0.0/8, ::1 or localhost.
func IsLoopback(host string) bool {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}
