// Package check is `parley check`: a readiness check of the network
// between the machine it runs on (in a branch office, say) and a Parley
// server. It tries what a participant's client would, one path at a time:
// DNS, TCP and TLS to the server, WebSocket signaling, media directly over
// UDP and over ICE-TCP, TURN over UDP, TCP and TLS, then measures round
// trip, jitter and loss of a media-rate stream through the bridge and the
// path MTU. Each item passes, warns or fails with advice in plain words;
// the report also says whether a call can work at all and on which path.
package check

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/parley/parley/internal/web"
)

// Status is an item's verdict.
type Status string

// Verdicts. Skip is for what does not apply: a path the server does not
// offer, or a check that needs an earlier one that failed.
const (
	Pass Status = "pass"
	Warn Status = "warn"
	Fail Status = "fail"
	Skip Status = "skip"
)

// Item ids, in report order.
const (
	ItemDNS       = "dns"
	ItemTCP       = "tcp"
	ItemTLS       = "tls"
	ItemSignaling = "signaling"
	ItemUDP       = "udp"
	ItemICETCP    = "ice-tcp"
	ItemTURNUDP   = "turn-udp"
	ItemTURNTCP   = "turn-tcp"
	ItemTURNTLS   = "turn-tls"
	ItemRTT       = "rtt"
	ItemJitter    = "jitter"
	ItemLoss      = "loss"
	ItemMTU       = "mtu"
)

// Item is one line of the report.
type Item struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Status Status `json:"status"`
	// Detail says what was found; Advice, for warnings and failures, what
	// it means and what to do.
	Detail string `json:"detail"`
	Advice string `json:"advice,omitempty"`
	// Value is the measured figure, in Unit (ms, %, bytes), where there is one.
	Value *float64 `json:"value,omitempty"`
	Unit  string   `json:"unit,omitempty"`
}

// Report is the outcome of a check.
type Report struct {
	URL   string `json:"url"`
	Items []Item `json:"items"`
	// CanCall says whether a call can work from here: signaling and at
	// least one media path got through.
	CanCall bool `json:"canCall"`
	// Path is the media path a participant here would use (udp, tcp,
	// relay-udp, relay-tcp, relay-tls), "" when none works.
	Path    string `json:"path"`
	Summary string `json:"summary"`
}

// Item returns the report's item with id.
func (r *Report) Item(id string) (Item, bool) {
	for _, it := range r.Items {
		if it.ID == id {
			return it, true
		}
	}
	return Item{}, false
}

// Options configure a check.
type Options struct {
	// URL is the server's address as participants open it
	// (https://meet.example.org).
	URL string
	// Duration of the media stream measured for round trip, jitter and
	// loss; 0 means DefaultDuration.
	Duration time.Duration
	// Roots verify the server's certificate; nil uses the system's.
	Roots *x509.CertPool
	// Token is a join token, for servers that admit no guests.
	Token string
	// Timeout bounds each connection attempt; 0 means DefaultTimeout.
	Timeout time.Duration
	Logger  *slog.Logger
}

// Defaults of the zero Options.
const (
	DefaultDuration = 10 * time.Second
	DefaultTimeout  = 10 * time.Second
)

// ErrURL means the server URL cannot be used.
var ErrURL = errors.New("check: server URL")

// target is the server as the check reaches it.
type target struct {
	opts    Options
	log     *slog.Logger
	base    *url.URL // http or https, no path
	host    string   // without brackets
	port    int
	tls     *tls.Config // for https, WebSocket and TURN over TLS
	http    *http.Client
	runID   string // rooms and names of this run
	config  *web.CheckConfig
	servers []turnServer // from the config
}

// Run checks the network path to the server at o.URL. The error is only
// for a URL that cannot be checked; everything else is in the report.
func Run(ctx context.Context, o Options) (*Report, error) {
	t, err := newTarget(o)
	if err != nil {
		return nil, err
	}
	r := &Report{URL: t.base.String()}
	add := func(it Item) { r.Items = append(r.Items, it) }

	// Reachability, in order: each needs the one before.
	steps := []func(context.Context) Item{t.checkDNS, t.checkTCP, t.checkTLS, t.checkSignaling}
	for i, step := range steps {
		it := step(ctx)
		add(it)
		if it.Status == Fail && it.ID != ItemTLS {
			for _, skipped := range []string{ItemDNS, ItemTCP, ItemTLS, ItemSignaling}[i+1:] {
				add(skipItem(skipped, "needs "+it.Name))
			}
			for _, id := range mediaItems {
				add(skipItem(id, "needs "+it.Name))
			}
			r.finish()
			return r, nil
		}
	}

	t.fetchConfig(ctx)
	if err := t.probeJoin(ctx); err != nil {
		for _, id := range mediaItems {
			add(skipItem(id, "the server did not let the check join a room"))
		}
		r.finish()
		r.Summary = "Signaling works, but media was not checked: the server did not let the check join a room (" +
			err.Error() + "). If it admits only participants with a token, give one with --token."
		return r, nil
	}
	// The paths, all at once: a blocked one costs its timeout only once.
	paths := map[string]*Item{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for id, check := range map[string]func(context.Context) Item{
		ItemUDP:     t.checkUDP,
		ItemICETCP:  t.checkICETCP,
		ItemTURNUDP: func(ctx context.Context) Item { return t.checkTURN(ctx, "udp") },
		ItemTURNTCP: func(ctx context.Context) Item { return t.checkTURN(ctx, "tcp") },
		ItemTURNTLS: func(ctx context.Context) Item { return t.checkTURN(ctx, "tls") },
		ItemMTU:     t.checkMTU,
	} {
		wg.Go(func() {
			it := check(ctx)
			mu.Lock()
			paths[id] = &it
			mu.Unlock()
		})
	}
	wg.Wait()
	for _, id := range []string{ItemUDP, ItemICETCP, ItemTURNUDP, ItemTURNTCP, ItemTURNTLS} {
		add(*paths[id])
	}
	adviseFallback(r)
	if best, path := r.best(); path == "" {
		for _, id := range []string{ItemRTT, ItemJitter, ItemLoss} {
			add(skipItem(id, "needs a media path"))
		}
	} else {
		for _, it := range t.checkQuality(ctx, best.ID, path) {
			add(it)
		}
	}
	add(*paths[ItemMTU])
	r.finish()
	return r, nil
}

// mediaItems are the items after signaling.
var mediaItems = []string{ItemUDP, ItemICETCP, ItemTURNUDP, ItemTURNTCP, ItemTURNTLS, ItemRTT, ItemJitter, ItemLoss, ItemMTU}

func newTarget(o Options) (*target, error) {
	if o.Duration <= 0 {
		o.Duration = DefaultDuration
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	u, err := url.Parse(o.URL)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("%w %q: give the address participants open, such as https://meet.example.org", ErrURL, o.URL)
	}
	switch u.Scheme {
	case "https", "wss":
		u.Scheme = "https"
	case "http", "ws":
		u.Scheme = "http"
	default:
		return nil, fmt.Errorf("%w %q: must start with https:// (or http://)", ErrURL, o.URL)
	}
	base := &url.URL{Scheme: u.Scheme, Host: u.Host}
	port := 443
	if u.Scheme == "http" {
		port = 80
	}
	if p := u.Port(); p != "" {
		if port, err = strconv.Atoi(p); err != nil {
			return nil, fmt.Errorf("%w %q: bad port", ErrURL, o.URL)
		}
	}
	var id [4]byte
	_, _ = rand.Read(id[:])
	t := &target{
		opts: o, log: log, base: base, host: u.Hostname(), port: port,
		tls:   &tls.Config{RootCAs: o.Roots, ServerName: u.Hostname(), MinVersion: tls.VersionTLS12},
		runID: hex.EncodeToString(id[:]),
	}
	t.http = &http.Client{Timeout: o.Timeout, Transport: &http.Transport{TLSClientConfig: t.tls}}
	return t, nil
}

func (t *target) addr() string { return net.JoinHostPort(t.host, strconv.Itoa(t.port)) }

// room names a throwaway room of this run.
func (t *target) room(what string) string { return "check-" + t.runID + "-" + what }

func skipItem(id, why string) Item {
	return Item{ID: id, Name: itemNames[id], Status: Skip, Detail: "not checked: " + why}
}

var itemNames = map[string]string{
	ItemDNS:       "DNS",
	ItemTCP:       "TCP connection",
	ItemTLS:       "TLS certificate",
	ItemSignaling: "WebSocket signaling",
	ItemUDP:       "Media over UDP",
	ItemICETCP:    "Media over TCP (ICE-TCP)",
	ItemTURNUDP:   "TURN over UDP",
	ItemTURNTCP:   "TURN over TCP",
	ItemTURNTLS:   "TURN over TLS",
	ItemRTT:       "Round trip",
	ItemJitter:    "Jitter",
	ItemLoss:      "Packet loss",
	ItemMTU:       "Path MTU",
}

func value(v float64) *float64 { return &v }
