package test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// scrape reads the parley_* and process CPU figures from /metrics.
func scrape(t testing.TB, base string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "parley_") && !strings.HasPrefix(line, "process_cpu_seconds_total") {
			continue
		}
		name, val, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(val, 64)
		if err == nil {
			out[name] = v
		}
	}
	return out
}

// /metrics counts the bridge's traffic, endpoints and conferences.
func TestMetrics(t *testing.T) {
	n := startNode(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	url := nodeURL(n)
	a := joinPeer(t, ctx, url, "metered", "ann", true)
	b := joinPeer(t, ctx, url, "metered", "bob", true)
	eventually(t, 20*time.Second, "media flows", func() error {
		if a.count(b.s.ID(), "video") < 20 || b.count(a.s.ID(), "video") < 20 {
			return fmt.Errorf("not yet")
		}
		return nil
	})
	m1 := scrape(t, url)
	time.Sleep(2 * time.Second)
	m2 := scrape(t, url)
	for _, name := range []string{"parley_bridge_packets_in_total", "parley_bridge_packets_out_total", "parley_bridge_bytes_out_total"} {
		if m2[name] <= m1[name] || m1[name] == 0 {
			t.Errorf("%s did not grow: %v → %v", name, m1[name], m2[name])
		}
	}
	if m2["parley_bridge_endpoints"] != 2 || m2["parley_bridge_conferences"] != 1 || m2["parley_signal_sessions"] != 2 {
		t.Errorf("endpoints %v, conferences %v, sessions %v; want 2, 1, 2",
			m2["parley_bridge_endpoints"], m2["parley_bridge_conferences"], m2["parley_signal_sessions"])
	}
	if m2["process_cpu_seconds_total"] <= 0 {
		t.Error("no process CPU figure")
	}
}
