// Package harness boots Parley nodes in process for integration and browser
// tests and offers the polling helper they share.
package harness

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/parley/parley/internal/config"
	"github.com/parley/parley/internal/node"
	"github.com/parley/parley/test/deadline"
	"github.com/parley/parley/test/testlog"
)

// Logger logs warnings (everything with PARLEY_TEST_DEBUG set) into the
// test's output, shown when the test fails.
func Logger(t testing.TB) *slog.Logger { return testlog.New(t) }

// Config is a node configuration on loopback (media on loopback only) with
// free ports and a temporary data directory.
func Config(t testing.TB) config.Config {
	cfg := config.Default()
	cfg.Listen = "127.0.0.1:0"
	cfg.UDPPort = 0
	// Media on loopback only: the clients are on this host, and the host's
	// other addresses come and go with other tests' namespaces.
	cfg.PublicIP = []string{"127.0.0.1"}
	cfg.MediaLoopback = true
	cfg.DataDir = t.TempDir()
	return cfg
}

// StartNode runs a node with cfg (Config(t) when nil) until the test ends.
// The test gets deadline.Default unless it armed a deadline of its own.
func StartNode(t testing.TB, cfg *config.Config) *node.Node {
	t.Helper()
	deadline.Arm(t, deadline.Default)
	if cfg == nil {
		c := Config(t)
		cfg = &c
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return StartNodeAsIs(t, *cfg)
}

// StartNodeAsIs runs a node with cfg without validating it first, for
// tests that need what operators may not set (a TURN credential lifetime
// of seconds).
func StartNodeAsIs(t testing.TB, cfg config.Config) *node.Node {
	t.Helper()
	deadline.Arm(t, deadline.Default)
	n, err := node.Start(context.Background(), cfg, Logger(t))
	if err != nil {
		t.Fatalf("start node: %v", err)
	}
	t.Cleanup(n.Close)
	return n
}

// URL is the node's base URL.
func URL(n *node.Node) string { return "http://" + n.Addr().String() }

// Eventually polls cond until it returns nil, failing the test with the last
// error when timeout passes.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var err error
	for time.Now().Before(deadline) {
		if err = cond(); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s: not within %s: %v", what, timeout, err)
}
