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
	"time"

	"github.com/parley/parley/internal/bridge"
	"github.com/parley/parley/internal/bus"
	"github.com/parley/parley/internal/config"
	"github.com/parley/parley/internal/control"
	"github.com/parley/parley/internal/metrics"
	"github.com/parley/parley/internal/signal"
	"github.com/parley/parley/internal/web"
)

// Version is the build's version, set by the linker for releases.
var Version = "dev"

// Node is a running Parley node.
type Node struct {
	cfg      config.Config
	log      *slog.Logger
	embedded *bus.Embedded
	bus      *bus.Bus
	bridge   *bridge.Bridge
	control  *control.Control
	signal   *signal.Server
	http     *http.Server
	listener net.Listener
	served   chan error
}

// Start brings every role up. On error, whatever started is stopped again.
func Start(ctx context.Context, cfg config.Config, log *slog.Logger) (n *Node, err error) {
	if cfg.NodeID == "" {
		cfg.NodeID = randomID()
	}
	log = log.With("node", cfg.NodeID)
	n = &Node{cfg: cfg, log: log, served: make(chan error, 1)}
	defer func() {
		if err != nil {
			n.Close()
			n = nil
		}
	}()

	if n.embedded, err = bus.StartEmbedded(bus.EmbeddedOptions{Name: cfg.NodeID, StoreDir: cfg.DataDir, Log: log}); err != nil {
		return nil, err
	}
	if n.bus, err = bus.Connect(bus.Options{Embedded: n.embedded, Name: "parley-" + cfg.NodeID, Log: log}); err != nil {
		return nil, err
	}
	n.bridge, err = bridge.New(bridge.Config{
		ID: cfg.NodeID, Region: cfg.Region, Version: Version, UDPPort: cfg.UDPPort, PublicIPs: cfg.PublicIP,
		KeyframeInterval: cfg.KeyframeInterval, Bus: n.bus, Log: log,
	})
	if err != nil {
		return nil, fmt.Errorf("--udp-port %d: %w", cfg.UDPPort, err)
	}
	if err = n.bridge.Start(ctx); err != nil {
		return nil, err
	}
	n.control = control.New(control.Config{NodeID: cfg.NodeID, Region: cfg.Region, Bus: n.bus, Log: log})
	if err = n.control.Start(ctx); err != nil {
		return nil, err
	}
	n.signal = signal.New(signal.Config{NodeID: cfg.NodeID, Bus: n.bus, Log: log})

	if n.listener, err = net.Listen("tcp", cfg.Listen); err != nil {
		return nil, fmt.Errorf("--listen %s: %w", cfg.Listen, err)
	}
	n.http = &http.Server{
		Handler: web.Handler(web.Options{
			Signal: n.signal, Ready: n.Ready, Log: log,
			Metrics: metrics.Handler(metrics.Sources{Bridge: n.bridge.Stats, Sessions: n.signal.Sessions}),
		}),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	go func() { n.served <- n.http.Serve(n.listener) }()
	log.Info("parley is serving", "http", n.listener.Addr().String(), "udp_port", n.bridge.UDPPort(), "region", cfg.Region, "version", Version)
	return n, nil
}

// Addr is the HTTP listener's address.
func (n *Node) Addr() net.Addr { return n.listener.Addr() }

// MediaPort is the bridge's UDP port.
func (n *Node) MediaPort() int { return n.bridge.UDPPort() }

// Ready reports whether the node can take clients.
func (n *Node) Ready() bool { return n.bus != nil && n.bus.Connected() }

// Done is closed with the HTTP server's error if it stops on its own.
func (n *Node) Done() <-chan error { return n.served }

// Close stops every role, clients first.
func (n *Node) Close() {
	if n.http != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = n.http.Shutdown(ctx)
		cancel()
	}
	if n.signal != nil {
		n.signal.Close()
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

func randomID() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "node-" + hex.EncodeToString(b[:])
}
