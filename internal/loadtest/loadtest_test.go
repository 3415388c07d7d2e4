package loadtest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/parley/parley/test/harness"
)

// A tiny load against a node in process: everyone joins, audio and video
// arrive with their latency measured and nothing lost after
// retransmission, and the server's figures are read from /metrics.
func TestRunAgainstNode(t *testing.T) {
	if testing.Short() {
		t.Skip("boots a node")
	}
	n := harness.StartNode(t, nil)
	o := DefaultOptions()
	o.URL = harness.URL(n)
	o.Subscribers = 3
	o.Warmup = time.Second
	o.Duration = 3 * time.Second
	cfg, err := o.Config()
	if err != nil {
		t.Fatal(err)
	}
	cfg.Log = harness.Logger(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	rep, err := Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("joins %+v", rep.Joins)
	t.Logf("audio %+v", rep.Audio)
	t.Logf("video %+v", rep.Video)
	t.Logf("errors %+v, freezes %+v", rep.Errors, rep.Freezes)
	if p := rep.Problems(); len(p) > 0 {
		t.Errorf("problems: %v", p)
	}
	if rep.Interrupted || rep.SteadySeconds < 2.9 {
		t.Errorf("interrupted %v after %.1f s", rep.Interrupted, rep.SteadySeconds)
	}
	j := rep.Joins
	if j.Attempted != 4 || j.Succeeded != 4 || j.Failed != 0 || j.NoMedia != 0 {
		t.Errorf("joins %+v; want 4 attempted and admitted", j)
	}
	// The publisher has nobody to receive from; each subscriber has.
	if j.TimeMS.Samples != 3 || j.TimeMS.P50 <= 0 {
		t.Errorf("join times %+v; want 3 samples", j.TimeMS)
	}
	for name, k := range map[string]Kind{"audio": rep.Audio, "video": rep.Video} {
		if k.Tracks != 3 || k.Packets == 0 || k.Kbps <= 0 {
			t.Errorf("%s: %d tracks, %d packets, %.0f kbit/s; want 3 tracks receiving", name, k.Tracks, k.Packets, k.Kbps)
		}
		if k.LatencyMS.Samples == 0 || k.LatencyMS.P50 <= 0 || k.LatencyMS.P99 < k.LatencyMS.P50 {
			t.Errorf("%s latency %+v", name, k.LatencyMS)
		}
		if k.Loss.LostAfterRTX != 0 || k.Loss.Expected == 0 {
			t.Errorf("%s loss %+v; want none after retransmission", name, k.Loss)
		}
	}
	if rep.Errors.Count != 0 {
		t.Errorf("errors: %+v", rep.Errors)
	}
	s := rep.Server
	if s == nil {
		t.Fatal("no server figures")
	}
	if s.Error != "" {
		t.Errorf("metrics: %s", s.Error)
	}
	for name, v := range map[string]*float64{
		"cpu_seconds": s.CPUSeconds, "cpu_cores": s.CPUCores, "packets_out": s.PacketsOut,
		"packets_out_per_second": s.PacketsOutPerSecond, "cpu_us_per_packet": s.CPUMicrosPerPacket,
		"rss_bytes": s.RSSBytes, "rss_idle_bytes": s.RSSIdleBytes, "rss_per_participant_bytes": s.RSSPerParticipantBytes,
	} {
		if v == nil {
			t.Errorf("server %s missing", name)
		} else if *v < 0 || (*v == 0 && name != "rss_per_participant_bytes") {
			t.Errorf("server %s = %v", name, *v)
		}
	}
}

// Cancelling the run stops it early and still reports.
func TestRunInterrupted(t *testing.T) {
	if testing.Short() {
		t.Skip("boots a node")
	}
	n := harness.StartNode(t, nil)
	o := DefaultOptions()
	o.URL = harness.URL(n)
	o.Subscribers = 1
	o.Warmup = 0
	o.Duration = time.Minute
	cfg, err := o.Config()
	if err != nil {
		t.Fatal(err)
	}
	cfg.Log = harness.Logger(t)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(4*time.Second, cancel)
	start := time.Now()
	rep, err := Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 20*time.Second {
		t.Errorf("took %v after the interrupt", took)
	}
	if !rep.Interrupted || rep.Joins.Succeeded != 2 || rep.SteadySeconds <= 0 || rep.SteadySeconds > 5 {
		t.Errorf("interrupted %v, %d joined, %.1f s measured", rep.Interrupted, rep.Joins.Succeeded, rep.SteadySeconds)
	}
}

// A server that is not running is one clear error, before any join.
func TestRunUnreachable(t *testing.T) {
	o := DefaultOptions()
	o.URL = "http://127.0.0.1:1"
	cfg, err := o.Config()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Run(context.Background(), cfg); !errors.Is(err, ErrUnreachable) {
		t.Errorf("err %v; want ErrUnreachable", err)
	}
}
