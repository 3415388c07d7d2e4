// Package node assembles a Parley node from its roles: the bus (an embedded
// NATS server), the bridge, control, and the HTTP edge with signaling. One
// node runs every role; the roles still talk only over the bus, so a single
// node takes the same path as a cluster.
package node

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parley/parley/internal/auth"
	"github.com/parley/parley/internal/bridge"
	"github.com/parley/parley/internal/bus"
	"github.com/parley/parley/internal/config"
	"github.com/parley/parley/internal/control"
	"github.com/parley/parley/internal/mediaaddr"
	"github.com/parley/parley/internal/metrics"
	"github.com/parley/parley/internal/signal"
	"github.com/parley/parley/internal/web"
)

// Version is the build's version, set by the linker for releases.
var Version = "dev"

// Node is a running Parley node.
type Node struct {
	cfg          config.Config
	log          *slog.Logger
	embedded     *bus.Embedded
	bus          *bus.Bus
	bridge       *bridge.Bridge
	control      *control.Control
	signal       *signal.Server
	http         *http.Server
	listener     net.Listener
	edge         nodeEdge       // the one TLS port and TURN (edge.go)
	media        mediaaddr.Plan // where the bridge takes media
	mediaPorts   atomic.Pointer[[]uint16]
	served       chan error
	verifier     *auth.Verifier
	draining     atomic.Bool
	drainStarted chan struct{}
	drained      chan struct{}
	closing      chan struct{}
	closeOnce    sync.Once
}

// Start brings every role up. On error, whatever started is stopped again.
func Start(ctx context.Context, cfg config.Config, log *slog.Logger) (n *Node, err error) {
	if cfg.NodeID == "" {
		cfg.NodeID = randomID("node-")
	}
	log = log.With("node", cfg.NodeID)
	n = &Node{cfg: cfg, log: log, served: make(chan error, 1), drainStarted: make(chan struct{}), drained: make(chan struct{}), closing: make(chan struct{})}
	n.mediaPorts.Store(&[]uint16{})
	started := n // the error returns below set n to nil
	defer func() {
		if err != nil {
			started.Close()
		}
	}()

	if err = n.startBus(); err != nil {
		return nil, err
	}
	if cfg.Has(config.RoleBridge) || cfg.TURNSecret != "" {
		if n.media, err = planMedia(cfg); err != nil {
			return nil, err
		}
		log.Info("media addresses", "plan", n.media.String())
	}
	// The edge (the one TLS port, TURN) comes first: the bridge takes its
	// ICE-TCP connections from it.
	if err = n.prepareEdge(); err != nil {
		return nil, err
	}
	if cfg.Has(config.RoleBridge) {
		n.bridge, err = bridge.New(bridge.Config{
			ID: cfg.NodeID, Region: cfg.Region, Version: Version, UDPPort: cfg.UDPPort, Media: n.media,
			KeyframeInterval: cfg.KeyframeInterval, Bus: n.bus, Log: log,
			NoUDP: !cfg.MediaUDP, TCPListener: n.iceTCPListener(),
		})
		if err != nil {
			return nil, fmt.Errorf("--udp-port %d: %w", cfg.UDPPort, err)
		}
		if cfg.MediaUDP {
			n.mediaPorts.Store(&[]uint16{uint16(n.bridge.UDPPort())})
		}
		if err = n.bridge.Start(ctx); err != nil {
			return nil, err
		}
	}
	if cfg.Has(config.RoleControl) {
		n.control = control.New(control.Config{
			NodeID: cfg.NodeID, Region: cfg.Region, Bus: n.bus, Log: log,
			LeaseTTL: cfg.LeaseTTL, LeaseReplicas: n.leaseReplicas(),
			StressThreshold: cfg.StressThreshold, ConferenceCap: cfg.ConferenceCap,
			ICEServers: n.iceServers, ICERefresh: n.iceRefresh(),
			FirstModerator: cfg.FirstModerator, MaxParticipants: cfg.MaxParticipants, ChatMaxLength: cfg.ChatMaxLength,
			RoomJoinRate: cfg.RoomJoinRate,
		})
		if err = n.control.Start(ctx); err != nil {
			return nil, err
		}
	}
	sources := metrics.Sources{}
	if cfg.Has(config.RoleSignal) {
		sites, _ := config.ParseSiteMap(cfg.SiteMap) // validated with the config
		verifier, verr := n.newTokenVerifier(ctx)
		if verr != nil {
			return nil, verr
		}
		n.signal = signal.New(signal.Config{
			NodeID: cfg.NodeID, Bus: n.bus, Log: log, Sites: sites, TrustedProxies: cfg.TrustedProxies,
			AllowGuests: cfg.AllowGuests, Verifier: verifier, JoinRate: cfg.JoinRate, MessageRate: cfg.MessageRate,
		})
		sources.Sessions = n.signal.Sessions
	}
	if n.bridge != nil {
		sources.Bridge = n.bridge.Stats
	}
	sources.Turn = n.turnStats()

	if n.listener, err = net.Listen("tcp", cfg.Listen); err != nil {
		return nil, fmt.Errorf("--listen %s: %w", cfg.Listen, err)
	}
	opts := web.Options{Ready: n.Ready, Log: log, Metrics: metrics.Handler(sources), Drain: n.startDrain, CheckConfig: n.checkConfig,
		API: n.adminAPI(), AdminKey: cfg.AdminKey}
	if n.signal != nil {
		opts.Signal = n.signal
		opts.ClientAddr = n.signal.ClientAddr
	}
	n.http = &http.Server{
		Handler:           web.Handler(opts),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	go func() { n.served <- n.http.Serve(n.listener) }()
	n.serveEdge(n.http)
	log.Info("parley is serving", "http", n.listener.Addr().String(), "roles", strings.Join(cfg.Roles, ","), "media_port", n.MediaPort(), "region", cfg.Region, "version", Version)
	return n, nil
}

// startBus connects to the external NATS, or starts the embedded server
// (clustered with its peers when configured) and connects in process.
func (n *Node) startBus() error {
	cfg := n.cfg
	opts := bus.Options{URL: cfg.NATS, Name: "parley-" + cfg.NodeID, Log: n.log}
	if cfg.NATS == "" {
		var err error
		n.embedded, err = bus.StartEmbedded(n.embeddedOptions())
		if err != nil {
			return err
		}
		opts.Embedded = n.embedded
	}
	var err error
	n.bus, err = bus.Connect(opts)
	if err != nil && cfg.NATS != "" {
		return fmt.Errorf("--nats %s: %w", cfg.NATS, err)
	}
	return err
}

func (n *Node) embeddedOptions() bus.EmbeddedOptions {
	return bus.EmbeddedOptions{
		Name: n.cfg.NodeID, StoreDir: n.cfg.DataDir, Log: n.log,
		Listen:      n.cfg.NATSListen,
		ClusterName: n.cfg.ClusterName, ClusterListen: n.cfg.ClusterListen, Routes: n.cfg.ClusterPeers,
	}
}

// leaseReplicas is how many copies of the room leases the bus keeps: as
// many as the embedded cluster allows, up to three; one on an external
// NATS (an operator who wants more creates the bucket first).
func (n *Node) leaseReplicas() int {
	if n.cfg.NATS != "" {
		return 1
	}
	return n.embeddedOptions().Replicas()
}

// Addr is the HTTP listener's address.
func (n *Node) Addr() net.Addr { return n.listener.Addr() }

// MediaPort is the bridge's UDP port (0 without the bridge role).
func (n *Node) MediaPort() int {
	if n.bridge == nil {
		return 0
	}
	return n.bridge.UDPPort()
}

// NATSURL is where other processes reach this node's embedded NATS server
// ("" when it listens on no port or the node uses an external NATS).
func (n *Node) NATSURL() string {
	if n.embedded == nil || n.cfg.NATSListen == "" {
		return ""
	}
	return n.embedded.ClientURL()
}

// Ready reports whether the node can take clients: connected to its bus
// and not draining.
func (n *Node) Ready() bool {
	return n.bus != nil && n.bus.Connected() && !n.draining.Load() && (n.control == nil || n.control.Ready())
}

// Done is closed with the HTTP server's error if it stops on its own.
func (n *Node) Done() <-chan error { return n.served }

// Close stops every role, clients first.
func (n *Node) Close() {
	n.closeOnce.Do(func() { close(n.closing) })
	if n.http != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = n.http.Shutdown(ctx)
		cancel()
	}
	if n.signal != nil {
		n.signal.Close()
	}
	n.closeEdge()
	if n.verifier != nil {
		n.verifier.Close()
	}
	if n.control != nil {
		n.control.Close()
	}
	if n.bridge != nil {
		n.bridge.Close()
	}
	if n.bus != nil {
		n.bus.Close()
	}
	if n.embedded != nil {
		n.embedded.Shutdown()
	}
}

// randomID is prefix and 12 random hex digits.
func randomID(prefix string) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// planMedia resolves --public-ip, --listen and --media-loopback into the
// addresses the bridge takes media on.
func planMedia(cfg config.Config) (mediaaddr.Plan, error) {
	host, err := mediaaddr.System()
	if err != nil {
		return mediaaddr.Plan{}, err
	}
	o := mediaaddr.Options{Public: cfg.PublicIP, Loopback: cfg.MediaLoopback}
	// The address the node serves on, where one is named: --listen's, else
	// --tls-listen's (a node behind a proxy listens on loopback).
	for _, l := range []string{cfg.Listen, cfg.TLSListen} {
		h, _, err := net.SplitHostPort(l)
		if err != nil || h == "" {
			continue
		}
		if a, err := netip.ParseAddr(h); err == nil && !a.IsUnspecified() && !a.IsLoopback() {
			o.Listen = a
			break
		}
	}
	p, err := mediaaddr.Resolve(o, host)
	if err != nil {
		return p, fmt.Errorf("--public-ip: %w", err)
	}
	return p, nil
}
