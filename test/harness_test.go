// Package test holds Parley's integration tests: they boot real nodes in
// process and join them with the Go client, so every test exercises the
// real protocol, bus and SFU.
package test

import (
	"context"
	"sync"
	"testing"

	"github.com/parley/parley/client"
	"github.com/parley/parley/internal/node"
	"github.com/parley/parley/internal/synth"
	"github.com/parley/parley/test/harness"
)

var (
	startNode  = func(t testing.TB) *node.Node { return harness.StartNode(t, nil) }
	nodeURL    = harness.URL
	testLogger = harness.Logger
	eventually = harness.Eventually
)

// peer is a Go client that publishes synthetic audio and video and counts
// what it receives from each publisher.
type peer struct {
	t    testing.TB
	name string
	s    *client.Session

	mu       sync.Mutex
	received map[string]int // "<participant>/<kind>" → packets
	ended    map[string]bool
}

func key(participant, kind string) string { return participant + "/" + kind }

func joinPeer(t testing.TB, ctx context.Context, url, room, name string, publish bool) *peer {
	t.Helper()
	p := &peer{t: t, name: name, received: map[string]int{}, ended: map[string]bool{}}
	cfg := client.Config{URL: url, Room: room, Name: name, Log: testLogger(t), OnTrack: p.onTrack}
	var runs []func(context.Context)
	if publish {
		v, err := synth.NewVideo(name+"-video", name, synth.VideoConfig{Bitrate: 300_000, FPS: 15})
		if err != nil {
			t.Fatal(err)
		}
		a, err := synth.NewAudio(name+"-audio", name, 0)
		if err != nil {
			t.Fatal(err)
		}
		a.SetLevel(50) // talking quietly: silence would not be forwarded
		cfg.Tracks = append(cfg.Tracks, a, v)
		runs = append(runs, v.Run, a.Run)
	}
	s, err := client.Join(ctx, cfg)
	if err != nil {
		t.Fatalf("%s: join: %v", name, err)
	}
	p.s = s
	sctx, cancel := context.WithCancel(context.Background())
	for _, run := range runs {
		go run(sctx)
	}
	t.Cleanup(func() {
		cancel()
		s.Close()
	})
	return p
}

func (p *peer) onTrack(rt *client.RemoteTrack) {
	k := key(rt.Participant, rt.Track.Kind().String())
	buf := make([]byte, 1500)
	for {
		if _, _, err := rt.Track.Read(buf); err != nil {
			break
		}
		p.mu.Lock()
		p.received[k]++
		p.mu.Unlock()
	}
	p.mu.Lock()
	p.ended[k] = true
	p.mu.Unlock()
}

func (p *peer) count(participant, kind string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.received[key(participant, kind)]
}

func (p *peer) hasEnded(participant, kind string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.ended[key(participant, kind)]
}
