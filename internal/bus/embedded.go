package bus

import (
	"fmt"
	"log/slog"
	"path/filepath"
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
	// Port to listen on for other processes; 0 listens on none.
	Port int
	Log  *slog.Logger
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
		DontListen: o.Port == 0,
		Host:       "127.0.0.1",
		Port:       o.Port,
		// Keep JetStream's footprint small: we store leases, not streams of media.
		JetStreamMaxMemory: 64 << 20,
		JetStreamMaxStore:  64 << 20,
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("bus: embedded server: %w", err)
	}
	srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		srv.Shutdown()
		return nil, fmt.Errorf("bus: embedded server did not become ready within 10s")
	}
	return &Embedded{srv: srv}, nil
}

// Shutdown stops the server.
func (e *Embedded) Shutdown() {
	e.srv.Shutdown()
	e.srv.WaitForShutdown()
}
