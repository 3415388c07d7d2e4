package loadtest

import (
	"fmt"
	"math"
	"time"
)

// SchemaVersion is the version of the Report's JSON form; it changes only
// when a field changes meaning or goes away (docs/loadtest.md).
const SchemaVersion = 1

// Report is what a load test measured. Its JSON form is documented in
// docs/loadtest.md; the names are stable.
type Report struct {
	Schema      int          `json:"schema"`
	Config      ReportConfig `json:"config"`
	StartedAt   time.Time    `json:"started_at"`
	Interrupted bool         `json:"interrupted"`
	// SteadySeconds is the length of the measured phase.
	SteadySeconds float64 `json:"steady_seconds"`
	Joins         Joins   `json:"joins"`
	Audio         Kind    `json:"audio"`
	Video         Kind    `json:"video"`
	All           Kind    `json:"all"`
	Freezes       Freezes `json:"freezes"`
	Errors        Errors  `json:"errors"`
	// Server is nil when metrics are off.
	Server        *Server       `json:"server"`
	LoadGenerator LoadGenerator `json:"load_generator"`
}

// ReportConfig repeats the test's settings.
type ReportConfig struct {
	URL             string  `json:"url"`
	MetricsURL      string  `json:"metrics_url"`
	Rooms           int     `json:"rooms"`
	VideoPublishers int     `json:"video_publishers"`
	AudioPublishers int     `json:"audio_publishers"`
	Subscribers     int     `json:"subscribers"`
	Participants    int     `json:"participants"`
	JoinRate        float64 `json:"join_rate"`
	WarmupSeconds   float64 `json:"warmup_seconds"`
	DurationSeconds float64 `json:"duration_seconds"`
	Resolution      string  `json:"resolution"`
	Simulcast       bool    `json:"simulcast"`
	Layout          string  `json:"layout"`
	RoomPrefix      string  `json:"room_prefix"`
	Seed            int64   `json:"seed"`
}

// Joins counts joins and how long they took to bring media.
type Joins struct {
	Attempted int `json:"attempted"`
	Succeeded int `json:"succeeded"`
	Failed    int `json:"failed"`
	// NoMedia counts admitted participants who had something to receive
	// and received nothing before the measured phase.
	NoMedia int `json:"no_media"`
	// TimeMS is from starting to join to the first media packet, for
	// participants who had something to receive when they started.
	TimeMS Percentiles `json:"time_ms"`
}

// Percentiles summarise a distribution of durations, in milliseconds.
type Percentiles struct {
	Samples uint64  `json:"samples"`
	P50     float64 `json:"p50"`
	P95     float64 `json:"p95"`
	P99     float64 `json:"p99"`
	Max     float64 `json:"max"`
	Mean    float64 `json:"mean"`
}

// Kind is what was received of one kind of track (or all) in the measured
// phase.
type Kind struct {
	// Tracks counts forwarded tracks that received media.
	Tracks  int    `json:"tracks"`
	Packets uint64 `json:"packets"`
	Bytes   uint64 `json:"bytes"`
	// PacketsPerSecond and Kbps are over SteadySeconds, all receivers
	// together.
	PacketsPerSecond float64     `json:"packets_per_second"`
	Kbps             float64     `json:"kbps"`
	PaddingPackets   uint64      `json:"padding_packets"`
	Duplicates       uint64      `json:"duplicates"`
	Loss             Loss        `json:"loss"`
	LatencyMS        Percentiles `json:"latency_ms"`
}

// Loss is loss before and after retransmission.
type Loss struct {
	Expected      uint64  `json:"expected"`
	LostBeforeRTX uint64  `json:"lost_before_rtx"`
	LostAfterRTX  uint64  `json:"lost_after_rtx"`
	Repaired      uint64  `json:"repaired"`
	Late          uint64  `json:"late"`
	BeforeRTXPct  float64 `json:"before_rtx_pct"`
	AfterRTXPct   float64 `json:"after_rtx_pct"`
}

// Freezes are gaps over 500 ms between video frames of forwarded sources.
type Freezes struct {
	Count   uint64  `json:"count"`
	TotalMS float64 `json:"total_ms"`
}

// Errors are join failures, sessions that ended before the test ended
// them, and constraints that could not be sent.
type Errors struct {
	Count int `json:"count"`
	// Messages holds up to 20 distinct messages; Other counts the rest.
	Messages []ErrorEntry `json:"messages"`
	Other    int          `json:"other"`
}

// ErrorEntry is one distinct error and how often it happened.
type ErrorEntry struct {
	Kind    string `json:"kind"` // join, session or constraints
	Message string `json:"message"`
	Count   int    `json:"count"`
}

// Server is what the server's /metrics said about the measured phase. A
// figure the server did not expose is null.
type Server struct {
	Error                  string   `json:"error,omitempty"`
	CPUSeconds             *float64 `json:"cpu_seconds"`
	CPUCores               *float64 `json:"cpu_cores"`
	PacketsOut             *float64 `json:"packets_out"`
	PacketsOutPerSecond    *float64 `json:"packets_out_per_second"`
	CPUMicrosPerPacket     *float64 `json:"cpu_us_per_packet"`
	RSSBytes               *float64 `json:"rss_bytes"`
	RSSIdleBytes           *float64 `json:"rss_idle_bytes"`
	RSSPerParticipantBytes *float64 `json:"rss_per_participant_bytes"`
}

// LoadGenerator is this process's own cost in the measured phase.
type LoadGenerator struct {
	CPUSeconds float64 `json:"cpu_seconds"`
	CPUCores   float64 `json:"cpu_cores"`
}

// Problems lists why the test failed: joins that failed, participants who
// had something to receive and received nothing, or nothing received at
// all. None means it passed.
func (r *Report) Problems() []string {
	var out []string
	if r.Joins.Failed > 0 {
		out = append(out, fmt.Sprintf("%d of %d joins failed", r.Joins.Failed, r.Joins.Attempted))
	}
	if r.Joins.NoMedia > 0 {
		out = append(out, fmt.Sprintf("%d participants received no media", r.Joins.NoMedia))
	}
	if r.All.Packets == 0 {
		out = append(out, "no media was received in the measured phase")
	}
	return out
}

func reportConfig(c Config) ReportConfig {
	return ReportConfig{
		URL: c.URL, MetricsURL: c.MetricsURL, Rooms: c.Rooms, VideoPublishers: c.VideoPublishers,
		AudioPublishers: c.AudioPublishers, Subscribers: c.Subscribers, Participants: c.Participants(),
		JoinRate: c.JoinRate, WarmupSeconds: c.Warmup.Seconds(), DurationSeconds: c.Duration.Seconds(), Resolution: fmt.Sprintf("%dp", c.Height),
		Simulcast: c.Simulcast, Layout: c.Layout.String(), RoomPrefix: c.RoomPrefix, Seed: c.Seed,
	}
}

// fill completes the report once every participant has left.
func (r *run) fill(rep *Report, steady, cpu time.Duration, m *metricsProbe) {
	rep.Schema = SchemaVersion
	rep.SteadySeconds = round(steady.Seconds(), 3)

	var joins Histogram
	rep.Joins = Joins{Attempted: int(r.attempted.Load()), Succeeded: int(r.succeeded.Load()), Failed: int(r.failed.Load())}
	for _, p := range r.participants {
		if d, ok := p.joinTime(); ok {
			joins.Add(d)
		} else if p.noMediaYet() {
			rep.Joins.NoMedia++
		}
	}
	rep.Joins.TimeMS = percentiles(&joins)

	r.mu.Lock()
	defer r.mu.Unlock()
	var all kindTotals
	for i := range r.kinds {
		k := &r.kinds[i]
		all.tracks += k.tracks
		all.packets += k.packets
		all.bytes += k.bytes
		all.loss.Add(k.loss)
		all.latency.Merge(&k.latency)
	}
	rep.Audio = kindReport(&r.kinds[kindAudio], steady)
	rep.Video = kindReport(&r.kinds[kindVideo], steady)
	rep.All = kindReport(&all, steady)
	rep.Freezes = Freezes{Count: r.freezes.Count, TotalMS: ms(r.freezes.Total)}
	rep.Errors = Errors{Count: r.errs.total, Messages: append([]ErrorEntry{}, r.errs.entries...), Other: r.errs.other}
	rep.LoadGenerator = LoadGenerator{CPUSeconds: round(cpu.Seconds(), 3), CPUCores: round(ratio(cpu.Seconds(), steady.Seconds()), 3)}
	if m.url != "" {
		rep.Server = serverReport(m, rep.Joins.Succeeded)
	}
}

func kindReport(k *kindTotals, steady time.Duration) Kind {
	l := k.loss
	return Kind{
		Tracks: k.tracks, Packets: k.packets, Bytes: k.bytes,
		PacketsPerSecond: round(ratio(float64(k.packets), steady.Seconds()), 1),
		Kbps:             round(ratio(float64(k.bytes)*8/1000, steady.Seconds()), 1),
		PaddingPackets:   l.Padding, Duplicates: l.Duplicates,
		Loss: Loss{
			Expected: l.Expected, LostBeforeRTX: l.LostBeforeRepair, LostAfterRTX: l.LostAfterRepair,
			Repaired: l.Repaired, Late: l.Late,
			BeforeRTXPct: round(100*ratio(float64(l.LostBeforeRepair), float64(l.Expected)), 4),
			AfterRTXPct:  round(100*ratio(float64(l.LostAfterRepair), float64(l.Expected)), 4),
		},
		LatencyMS: percentiles(&k.latency),
	}
}

func serverReport(m *metricsProbe, participants int) *Server {
	s := &Server{}
	for _, smp := range []serverSample{m.before, m.after, m.idle} {
		if smp.err != nil {
			s.Error = smp.err.Error()
			break
		}
	}
	secs := m.after.at.Sub(m.before.at).Seconds()
	delta := func(name string) *float64 {
		a, okA := m.before.get(name)
		b, okB := m.after.get(name)
		if !okA || !okB {
			return nil
		}
		return ptr(round(b-a, 3))
	}
	s.CPUSeconds = delta(metricCPU)
	s.PacketsOut = delta(metricPacketsOut)
	if s.CPUSeconds != nil && secs > 0 {
		s.CPUCores = ptr(round(*s.CPUSeconds/secs, 3))
	}
	if s.PacketsOut != nil && secs > 0 {
		s.PacketsOutPerSecond = ptr(round(*s.PacketsOut/secs, 1))
	}
	if s.CPUSeconds != nil && s.PacketsOut != nil && *s.PacketsOut > 0 {
		s.CPUMicrosPerPacket = ptr(round(*s.CPUSeconds*1e6 / *s.PacketsOut, 3))
	}
	if v, ok := m.after.get(metricRSS); ok {
		s.RSSBytes = ptr(v)
	}
	if v, ok := m.idle.get(metricRSS); ok {
		s.RSSIdleBytes = ptr(v)
	}
	if s.RSSBytes != nil && s.RSSIdleBytes != nil && participants > 0 {
		s.RSSPerParticipantBytes = ptr(math.Round(math.Max(*s.RSSBytes-*s.RSSIdleBytes, 0) / float64(participants)))
	}
	return s
}

func percentiles(h *Histogram) Percentiles {
	return Percentiles{
		Samples: h.Count(), P50: ms(h.Quantile(0.50)), P95: ms(h.Quantile(0.95)),
		P99: ms(h.Quantile(0.99)), Max: ms(h.Max()), Mean: ms(h.Mean()),
	}
}

// ms is d in milliseconds, to the microsecond.
func ms(d time.Duration) float64 { return math.Round(float64(d)/1e3) / 1e3 }

func ratio(a, b float64) float64 {
	if b <= 0 {
		return 0
	}
	return a / b
}

func round(v float64, digits int) float64 {
	p := math.Pow10(digits)
	return math.Round(v*p) / p
}

func ptr(v float64) *float64 { return &v }
