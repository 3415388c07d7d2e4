package browser

import (
	"bufio"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parley/parley/test/harness"
)

// Three people in Chromium, signaling and control on one process, two
// bridges as processes of their own: after a kill -9 of the bridge that
// carries the room, every participant decodes video from both others again.
// Measured on the 2-core machine with a stress run beside it: 1.3 to 2.0 s
// in 7 of 9 runs, 3.7 and 4.2 s in the others; the goal is 3 s, the bound
// asserted 8 s.
func TestBrowserBridgeFailover(t *testing.T) {
	natsURL, _ := harness.NATS(t)
	common := []string{"--nats", natsURL, "--udp-port", "0", "--lease-ttl", "3s"}
	front := harness.StartProcess(t, "front", append(common, "--roles", "signal,control")...)
	bridges := []*harness.Process{
		harness.StartProcess(t, "bridge-1", append(common, "--roles", "bridge")...),
		harness.StartProcess(t, "bridge-2", append(common, "--roles", "bridge")...),
	}
	harness.WaitReady(t, 30*time.Second, append([]*harness.Process{front}, bridges...)...)
	b := newBrowser(t)
	names := []string{"Ann", "Bob", "Cid"}
	tabs, ids := joinTabs(t, b, front.URL, "failover", names)
	decoding := func(i int) (map[string]float64, error) {
		st, err := tabs[i].readStats()
		if err != nil {
			return nil, err
		}
		out := map[string]float64{}
		for j, id := range ids {
			if j != i {
				out[id] = st[id].FramesDecoded
			}
		}
		return out, nil
	}
	eventually(t, 45*time.Second, "everyone decodes both others", func() error {
		for i := range tabs {
			d, err := decoding(i)
			if err != nil {
				return err
			}
			for id, n := range d {
				if n < 30 {
					return fmt.Errorf("%s has %v frames from %s", names[i], n, id)
				}
			}
		}
		return nil
	})
	var carrier *harness.Process
	for _, br := range bridges {
		if bridgeEndpoints(t, br) == len(names) {
			carrier = br
		}
	}
	if carrier == nil {
		t.Fatal("no bridge carries the whole room")
	}

	killed := time.Now()
	carrier.Kill()
	// Back: two polls in a row in which frames from both others were
	// decoded (the old connection decodes nothing once its bridge is gone;
	// the new one starts its counts afresh).
	back := make([]time.Duration, len(tabs))
	prev := make([]map[string]float64, len(tabs))
	eventually(t, 20*time.Second, "everyone decodes both others again", func() error {
		waiting := 0
		for i := range tabs {
			if back[i] != 0 {
				continue
			}
			d, err := decoding(i)
			if err != nil {
				return err
			}
			now := time.Since(killed)
			if p := prev[i]; p != nil && now > 300*time.Millisecond {
				all := true
				for id, n := range d {
					if n <= p[id] || n == 0 {
						all = false
					}
				}
				if all {
					back[i] = now
				}
			}
			prev[i] = d
			if back[i] == 0 {
				waiting++
			}
		}
		if waiting > 0 {
			return fmt.Errorf("%d of %d still without video from both others", waiting, len(tabs))
		}
		return nil
	})
	t.Logf("video decoded again %v after kill -9 of the bridge", back)
	for i, d := range back {
		if d > 8*time.Second {
			t.Errorf("%s decoded both others again %v after the kill; want within 8 s", names[i], d)
		}
	}
}

// bridgeEndpoints reads a bridge process's endpoint count from /metrics.
func bridgeEndpoints(t *testing.T, p *harness.Process) int {
	t.Helper()
	resp, err := http.Get(p.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "parley_bridge_endpoints "); ok {
			n, _ := strconv.ParseFloat(v, 64)
			return int(n)
		}
	}
	return 0
}
