// Package metrics exposes a node's figures to Prometheus at /metrics: the
// bridge's packets and bytes in and out, endpoints and conferences, the
// signaling sessions, and the process's own CPU and memory. The figures
// are read from the roles when scraped, so nothing on the media path
// updates a shared counter.
package metrics

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/parley/parley/internal/bridge"
)

// Sources are the roles a node runs; nil ones are left out.
type Sources struct {
	Bridge   func() bridge.Stats
	Sessions func() int
}

// Handler returns the /metrics handler for a node.
func Handler(src Sources) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewGoCollector(),
		&collector{src: src},
	)
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
}

var (
	packetsIn   = prometheus.NewDesc("parley_bridge_packets_in_total", "RTP packets received from publishers.", nil, nil)
	bytesIn     = prometheus.NewDesc("parley_bridge_bytes_in_total", "RTP bytes received from publishers.", nil, nil)
	packetsOut  = prometheus.NewDesc("parley_bridge_packets_out_total", "RTP packets sent to receivers, retransmissions and probes included.", nil, nil)
	bytesOut    = prometheus.NewDesc("parley_bridge_bytes_out_total", "RTP bytes sent to receivers, retransmissions and probes included.", nil, nil)
	endpoints   = prometheus.NewDesc("parley_bridge_endpoints", "Participants connected to this node's bridge.", nil, nil)
	conferences = prometheus.NewDesc("parley_bridge_conferences", "Conferences on this node's bridge.", nil, nil)
	sessions    = prometheus.NewDesc("parley_signal_sessions", "Client WebSocket sessions on this node.", nil, nil)
)

type collector struct{ src Sources }

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{packetsIn, bytesIn, packetsOut, bytesOut, endpoints, conferences, sessions} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	if c.src.Bridge != nil {
		st := c.src.Bridge()
		ch <- prometheus.MustNewConstMetric(packetsIn, prometheus.CounterValue, float64(st.PacketsIn))
		ch <- prometheus.MustNewConstMetric(bytesIn, prometheus.CounterValue, float64(st.BytesIn))
		ch <- prometheus.MustNewConstMetric(packetsOut, prometheus.CounterValue, float64(st.PacketsOut))
		ch <- prometheus.MustNewConstMetric(bytesOut, prometheus.CounterValue, float64(st.BytesOut))
		ch <- prometheus.MustNewConstMetric(endpoints, prometheus.GaugeValue, float64(st.Endpoints))
		ch <- prometheus.MustNewConstMetric(conferences, prometheus.GaugeValue, float64(st.Conferences))
	}
	if c.src.Sessions != nil {
		ch <- prometheus.MustNewConstMetric(sessions, prometheus.GaugeValue, float64(c.src.Sessions()))
	}
}
