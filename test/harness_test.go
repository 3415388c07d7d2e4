// Package test holds Parley's integration tests: they boot real nodes in
// process and join them with the Go client, so every test exercises the
// real protocol, bus and SFU.
package test

import (
	"context"
	"testing"

	"github.com/parley/parley/internal/node"
	"github.com/parley/parley/test/harness"
)

var (
	startNode  = func(t testing.TB) *node.Node { return harness.StartNode(t, nil) }
	nodeURL    = harness.URL
	testLogger = harness.Logger
	eventually = harness.Eventually
)

// joinPeer joins a member that publishes a camera and a microphone at
// speaking level (silence would not be forwarded), or nothing.
func joinPeer(t testing.TB, ctx context.Context, url, room, name string, publish bool) *member {
	t.Helper()
	m := joinMember(t, ctx, url, room, name, memberOpts{camera: publish, audio: publish})
	if m.mic != nil {
		m.mic.SetLevel(50)
	}
	return m
}
