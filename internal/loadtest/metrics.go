package loadtest

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Figures read from the server's /metrics.
const (
	metricCPU        = "process_cpu_seconds_total"
	metricRSS        = "process_resident_memory_bytes"
	metricPacketsOut = "parley_bridge_packets_out_total"
)

// serverSample is one scrape of /metrics.
type serverSample struct {
	at     time.Time
	values map[string]float64
	err    error
}

func (s serverSample) get(name string) (float64, bool) {
	if s.err != nil {
		return 0, false
	}
	v, ok := s.values[name]
	return v, ok
}

// metricsProbe scrapes the server before the test (idle) and around the
// measured phase.
type metricsProbe struct {
	url                 string
	idle, before, after serverSample
}

func (m *metricsProbe) scrape(ctx context.Context) serverSample {
	s := serverSample{at: time.Now()}
	if m.url == "" {
		s.err = fmt.Errorf("%w: no --metrics-url", ErrMetrics)
		return s
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, m.url, nil)
	if err != nil {
		s.err = fmt.Errorf("%w: %v", ErrMetrics, err)
		return s
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.err = fmt.Errorf("%w: %v", ErrMetrics, err)
		return s
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		s.err = fmt.Errorf("%w: %s answered %s", ErrMetrics, m.url, resp.Status)
		return s
	}
	s.values, s.err = parseMetrics(resp.Body)
	return s
}

// parseMetrics reads the unlabelled process_* and parley_* samples of the
// Prometheus text format.
func parseMetrics(r io.Reader) (map[string]float64, error) {
	out := map[string]float64{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "process_") && !strings.HasPrefix(line, "parley_") {
			continue
		}
		name, rest, ok := strings.Cut(line, " ")
		if !ok || strings.ContainsRune(name, '{') {
			continue
		}
		val, _, _ := strings.Cut(strings.TrimSpace(rest), " ") // a timestamp may follow
		v, err := strconv.ParseFloat(val, 64)
		if err != nil {
			continue
		}
		out[name] = v
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: read: %v", ErrMetrics, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no process_* or parley_* figures: is this a Parley /metrics?", ErrMetrics)
	}
	return out, nil
}
