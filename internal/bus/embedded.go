package bus

import (
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"path/filepath"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Embedded is a NATS server inside the process. By default it listens on no
// port: the node's planes reach it in process.
type Embedded struct {
	srv *server.Server
}

// EmbeddedOptions configures StartEmbedded.
type EmbeddedOptions struct {
	// Name of the server; also names its JetStream store directory.
	Name string
	// StoreDir holds JetStream state (only in-memory streams are used today).
	StoreDir string
	// Listen is host:port for other processes' clients; "" listens on none.
	Listen string
	// ClusterName, ClusterListen and Routes join the embedded servers of
	// several nodes into one NATS cluster.
	ClusterName   string
	ClusterListen string
	Routes        []string
	Log           *slog.Logger
}

// Replicas is how many copies of the bus's key-value state a cluster of
// these options keeps: three where there are three servers or more.
func (o EmbeddedOptions) Replicas() int {
	return min(3, len(o.Routes)+1)
}

// StartEmbedded starts an in-process NATS server with JetStream and waits
// until it accepts connections.
func StartEmbedded(o EmbeddedOptions) (*Embedded, error) {
	opts := &server.Options{
		ServerName: o.Name,
		JetStream:  true,
		StoreDir:   filepath.Join(o.StoreDir, "nats", o.Name),
		NoSigs:     true,
		NoLog:      true,
		DontListen: o.Listen == "",
		// Keep JetStream's footprint small: we store leases, not streams of media.
		JetStreamMaxMemory: 64 << 20,
		JetStreamMaxStore:  64 << 20,
	}
	if o.Listen != "" {
		host, port, err := splitHostPort(o.Listen)
		if err != nil {
			return nil, fmt.Errorf("bus: listen address: %w", err)
		}
		opts.Host, opts.Port = host, port
	}
	if o.ClusterListen != "" {
		if o.Listen == "" {
			// NATS starts routing only once its client listener is up: give
			// it one on loopback, on a free port.
			opts.DontListen = false
			opts.Host, opts.Port = "127.0.0.1", server.RANDOM_PORT
		}
		host, port, err := splitHostPort(o.ClusterListen)
		if err != nil {
			return nil, fmt.Errorf("bus: cluster address: %w", err)
		}
		opts.Cluster = server.ClusterOpts{Name: o.ClusterName, Host: host, Port: port}
		for _, r := range o.Routes {
			u, err := url.Parse(r)
			if err != nil {
				return nil, fmt.Errorf("bus: route %q: %w", r, err)
			}
			opts.Routes = append(opts.Routes, u)
		}
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("bus: embedded server: %w", err)
	}
	srv.Start()
	// A clustered server is fully ready only once its peers are up, which may
	// be after this node: wait briefly, then go on; clients reconnect.
	wait := 10 * time.Second
	if o.ClusterListen != "" {
		wait = 2 * time.Second
	}
	if !srv.ReadyForConnections(wait) && o.ClusterListen == "" {
		srv.Shutdown()
		return nil, fmt.Errorf("bus: embedded server did not become ready within %s", wait)
	}
	return &Embedded{srv: srv}, nil
}

func splitHostPort(addr string) (string, int, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		return "", 0, fmt.Errorf("port %q: %w", port, err)
	}
	return host, p, nil
}

// ClientURL is where other processes reach the server ("" if it listens on
// no port).
func (e *Embedded) ClientURL() string { return e.srv.ClientURL() }

// Shutdown stops the server.
func (e *Embedded) Shutdown() {
	e.srv.Shutdown()
	e.srv.WaitForShutdown()
}
