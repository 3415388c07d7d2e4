// Package metrics exposes a node's figures to Prometheus at /metrics: the
// bridge's packets and bytes in and out, endpoints and conferences, the
// signaling sessions, the embedded TURN server's allocations, refusals and
// relayed traffic, and the process's own CPU and memory. The figures
// are read from the roles when scraped, so nothing on the media path
// updates a shared counter.
package metrics

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/parley/parley/internal/bridge"
	"github.com/parley/parley/internal/turn"
)

// Sources are the roles a node runs; nil ones are left out.
type Sources struct {
	Bridge   func() bridge.Stats
	Sessions func() int
	Turn     func() turn.Stats
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
	tcpDropped  = prometheus.NewDesc("parley_bridge_tcp_dropped_total", "Packets for ICE-TCP receivers dropped because the receiver's send queue was full.", nil, nil)
	tcpStalled  = prometheus.NewDesc("parley_bridge_tcp_stalled_total", "ICE-TCP connections cut off because they took nothing for 5 s.", nil, nil)
	tcpQueued   = prometheus.NewDesc("parley_bridge_tcp_queued_bytes", "Bytes queued for ICE-TCP receivers now.", nil, nil)

	turnAllocations      = prometheus.NewDesc("parley_turn_allocations", "TURN relays open now.", nil, nil)
	turnAllocationsTotal = prometheus.NewDesc("parley_turn_allocations_total", "TURN relays ever allocated.", nil, nil)
	turnRefused          = prometheus.NewDesc("parley_turn_refused_total", "TURN requests refused, by reason: expired, malformed, forged, wrong-realm (credentials), quota (allocations per user), peer (peer filtering).", []string{"reason"}, nil)
	turnPackets          = prometheus.NewDesc("parley_turn_relayed_packets_total", "Packets relayed, by direction: to_peers (from clients) or from_peers.", []string{"direction"}, nil)
	turnBytes            = prometheus.NewDesc("parley_turn_relayed_bytes_total", "Payload bytes relayed, by direction: to_peers (from clients) or from_peers.", []string{"direction"}, nil)
	turnDropped          = prometheus.NewDesc("parley_turn_dropped_over_rate_total", "Packets dropped by the per-allocation bitrate cap.", nil, nil)
	turnDroppedSelf      = prometheus.NewDesc("parley_turn_dropped_to_self_total", "Relayed packets dropped because they went to or came from a port of the node's own that is not a media port.", nil, nil)
)

type collector struct{ src Sources }

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{packetsIn, bytesIn, packetsOut, bytesOut, endpoints, conferences, sessions, tcpDropped, tcpStalled, tcpQueued,
		turnAllocations, turnAllocationsTotal, turnRefused, turnPackets, turnBytes, turnDropped, turnDroppedSelf} {
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
		ch <- prometheus.MustNewConstMetric(tcpDropped, prometheus.CounterValue, float64(st.TCPDropped))
		ch <- prometheus.MustNewConstMetric(tcpStalled, prometheus.CounterValue, float64(st.TCPStalled))
		ch <- prometheus.MustNewConstMetric(tcpQueued, prometheus.GaugeValue, float64(st.TCPQueued))
	}
	if c.src.Sessions != nil {
		ch <- prometheus.MustNewConstMetric(sessions, prometheus.GaugeValue, float64(c.src.Sessions()))
	}
	if c.src.Turn != nil {
		collectTurn(ch, c.src.Turn())
	}
}

func collectTurn(ch chan<- prometheus.Metric, st turn.Stats) {
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	ch <- prometheus.MustNewConstMetric(turnAllocations, prometheus.GaugeValue, float64(st.AllocationsActive))
	counter(turnAllocationsTotal, st.AllocationsTotal)
	counter(turnRefused, st.RefusedAuth.Expired, turn.RefusedExpired)
	counter(turnRefused, st.RefusedAuth.Malformed, turn.RefusedMalformed)
	counter(turnRefused, st.RefusedAuth.Forged, turn.RefusedForged)
	counter(turnRefused, st.RefusedAuth.WrongRealm, turn.RefusedRealm)
	counter(turnRefused, st.RefusedQuota, "quota")
	counter(turnRefused, st.RefusedPeers, "peer")
	counter(turnPackets, st.PacketsToPeers, "to_peers")
	counter(turnPackets, st.PacketsFromPeers, "from_peers")
	counter(turnBytes, st.BytesToPeers, "to_peers")
	counter(turnBytes, st.BytesFromPeers, "from_peers")
	counter(turnDropped, st.DroppedOverRate)
	counter(turnDroppedSelf, st.DroppedToSelf)
}
