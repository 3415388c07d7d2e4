package loadtest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

const exposition = `# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.
# TYPE process_cpu_seconds_total counter
process_cpu_seconds_total 12.5
process_resident_memory_bytes 5.24288e+07
go_goroutines 42
parley_bridge_packets_out_total 123456
parley_bridge_endpoints 7 1700000000000
parley_labelled{role="x"} 9
`

func TestParseMetrics(t *testing.T) {
	m, err := parseMetrics(strings.NewReader(exposition))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{
		metricCPU: 12.5, metricRSS: 52428800, metricPacketsOut: 123456, "parley_bridge_endpoints": 7,
	}
	if len(m) != len(want) {
		t.Errorf("got %v, want %v", m, want)
	}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s = %v, want %v", k, m[k], v)
		}
	}
	if _, err := parseMetrics(strings.NewReader("<html>not metrics</html>")); !errors.Is(err, ErrMetrics) {
		t.Errorf("a page without figures: %v", err)
	}
}

func TestServerReport(t *testing.T) {
	cpu, packets := 10.0, 1000.0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "process_cpu_seconds_total %g\nprocess_resident_memory_bytes 5.24288e+07\nparley_bridge_packets_out_total %g\n", cpu, packets)
	}))
	defer srv.Close()
	m := metricsProbe{url: srv.URL}
	m.idle = m.scrape(context.Background())
	m.before = m.scrape(context.Background())
	cpu, packets = 12, 3000
	m.after = m.scrape(context.Background())
	m.after.at = m.before.at.Add(4e9) // 4 s
	s := serverReport(&m, 10)
	if s.Error != "" || s.CPUSeconds == nil || *s.CPUSeconds != 2 || *s.CPUCores != 0.5 || *s.PacketsOut != 2000 ||
		*s.PacketsOutPerSecond != 500 || *s.CPUMicrosPerPacket != 1000 || *s.RSSBytes != 52428800 || *s.RSSPerParticipantBytes != 0 {
		t.Errorf("server report %+v", s)
	}

	down := metricsProbe{url: "http://127.0.0.1:1/metrics"}
	down.before = down.scrape(context.Background())
	if s := serverReport(&down, 1); s.Error == "" || s.CPUSeconds != nil {
		t.Errorf("unreachable metrics: %+v", s)
	}
}
