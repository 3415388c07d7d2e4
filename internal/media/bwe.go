package media

import (
	"sync"
	"time"

	"github.com/pion/rtcp"
)

// Defaults for a zero EstimatorConfig.
const (
	DefaultInitialBitrate = 300_000
	DefaultMinBitrate     = 30_000
	DefaultMaxBitrate     = 20_000_000
)

const (
	sentHistory      = 1 << 12 // packets remembered, by transport-wide sequence number
	maxFeedbackAge   = 10 * time.Second
	maxProbeClusters = 8
	minProbePackets  = 5
	probeTimeout     = 5000000 // µs: a cluster not fully reported by then is given up
	probeMinShare    = 0.9     // of the target that must get through
	probeBackoff     = 0.95    // of the delivered rate that becomes the estimate
)

// EstimatorConfig bounds an Estimator. Zero fields take the defaults.
type EstimatorConfig struct {
	Initial, Min, Max int // bits per second
}

// EstimatorStats is a snapshot of an Estimator, for logs and metrics.
type EstimatorStats struct {
	Estimate     int           // bps, as Estimate returns
	DelayBased   int           // bps, the delay-based (AIMD) rate
	LossCap      int           // bps, the loss-based cap; 0 when loss caps nothing
	AckedRate    int           // bps reaching the receiver recently; 0 if unknown
	LossFraction float64       // of the last loss window
	Trend        float64       // the delay trend as compared with Threshold
	Threshold    float64       // the detector's adaptive threshold
	State        DelayState    // the delay detector's verdict
	RTT          time.Duration // from sending a packet to its report, smoothed: includes the report interval
	ProbeRate    int           // bps delivered by the last accepted probe cluster
}

// Estimator estimates the bandwidth towards one receiver from its
// transport-wide congestion control feedback, in the manner of Google
// Congestion Control: a delay-based controller (packet groups, a trendline
// over their delay variation, an adaptive threshold, AIMD), a loss-based
// cap, the acknowledged receive rate as a bound on increases, and probe
// clusters that let the estimate jump when the path proves faster.
//
// Drive it with OnSent for every packet sent to the receiver, media,
// retransmissions and probes alike, with the transport-wide sequence number
// written in its header extension, and with OnFeedback for every
// TransportLayerCC the receiver sends. Its methods are safe for concurrent
// use.
type Estimator struct {
	mu      sync.Mutex
	cfg     EstimatorConfig
	epoch   time.Time
	started bool
	sent    [sentHistory]sentPacket

	refSet  bool
	lastRef uint32
	ref     int64 // unwrapped reference time, 64 ms units

	ia         interArrival
	trend      trendline
	rc         aimd
	loss       lossControl
	acked      rateWindow
	rtt        int64 // µs, smoothed
	overuseAt  int64 // µs, last time the detector went to overuse
	overuseSet bool

	probes    [maxProbeClusters]probeCluster
	nextProbe int
	probeRate float64

	estimate float64
}

type sentPacket struct {
	at      int64 // µs since the epoch
	size    int32
	cluster int32
	seq     uint16
	state   uint8
}

// States of a sent packet.
const (
	pktNone uint8 = iota
	pktSent
	pktLost
	pktAcked
)

// NewEstimator makes an Estimator; see EstimatorConfig for the defaults.
func NewEstimator(cfg EstimatorConfig) *Estimator {
	if cfg.Min <= 0 {
		cfg.Min = DefaultMinBitrate
	}
	if cfg.Max <= 0 {
		cfg.Max = DefaultMaxBitrate
	}
	cfg.Max = max(cfg.Max, cfg.Min)
	if cfg.Initial <= 0 {
		cfg.Initial = DefaultInitialBitrate
	}
	cfg.Initial = min(max(cfg.Initial, cfg.Min), cfg.Max)
	e := &Estimator{cfg: cfg, trend: newTrendline(), estimate: float64(cfg.Initial)}
	e.rc.rate = float64(cfg.Initial)
	return e
}

// micros is t on the estimator's clock. The caller holds e.mu.
func (e *Estimator) micros(t time.Time) int64 {
	if !e.started {
		e.started = true
		e.epoch = t
	}
	return t.Sub(e.epoch).Microseconds()
}

// OnSent records a packet sent with transport-wide sequence number
// twccSeq. probeCluster is the id StartProbe returned for a probe packet,
// 0 for any other.
func (e *Estimator) OnSent(twccSeq uint16, size int, at time.Time, probeCluster int) {
	e.mu.Lock()
	p := &e.sent[twccSeq%sentHistory]
	*p = sentPacket{at: e.micros(at), size: int32(size), seq: twccSeq, state: pktSent}
	if c := e.cluster(probeCluster); c != nil {
		p.cluster = int32(probeCluster)
		c.onSent(p.at, size)
	}
	e.mu.Unlock()
}

// Estimate returns the estimated bandwidth in bits per second.
func (e *Estimator) Estimate() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return int(e.estimate)
}

// Stats returns a snapshot of the estimator's state.
func (e *Estimator) Stats() EstimatorStats {
	e.mu.Lock()
	defer e.mu.Unlock()
	return EstimatorStats{
		Estimate:     int(e.estimate),
		DelayBased:   int(e.rc.rate),
		LossCap:      int(e.loss.cap),
		AckedRate:    int(e.acked.rate()),
		LossFraction: e.loss.fraction,
		Trend:        e.trend.modified,
		Threshold:    e.trend.threshold,
		State:        e.trend.state,
		RTT:          time.Duration(e.rtt) * time.Microsecond,
		ProbeRate:    int(e.probeRate),
	}
}

// OnFeedback takes one transport-wide congestion control report. Packets
// it reports as not received count as lost; packets it reports that were
// never passed to OnSent, or long ago, are ignored, and so is whatever of
// a malformed report cannot be read.
func (e *Estimator) OnFeedback(fb *rtcp.TransportLayerCC, now time.Time) {
	if fb == nil {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	nowUs := e.micros(now)
	r := newTWCCReader(fb, e.unwrapRef(fb.ReferenceTime)*twccRefUnit)
	var p twccPacket
	newestSent, haveNewest := int64(0), false
	known := 0
	for r.next(&p) {
		s := &e.sent[p.seq%sentHistory]
		if s.state == pktNone || s.seq != p.seq || nowUs-s.at > maxFeedbackAge.Microseconds() {
			continue
		}
		known++
		c := e.cluster(int(s.cluster))
		switch {
		case !p.received:
			if s.state == pktSent {
				s.state = pktLost
				e.loss.add(true)
				c.onReported()
			}
			continue
		case s.state == pktAcked:
			continue // reported twice
		case s.state == pktLost:
			e.loss.unlost()
		default:
			e.loss.add(false)
			c.onReported()
		}
		s.state = pktAcked
		if !haveNewest || s.at > newestSent {
			newestSent, haveNewest = s.at, true
		}
		if !p.timed {
			continue
		}
		e.acked.add(p.arrival, int(s.size))
		c.onReceived(p.arrival, int(s.size))
		if sd, ad, at, ok := e.ia.add(s.at, p.arrival); ok {
			if e.trend.update(sd, ad, at) == DelayOverusing {
				e.overuseAt, e.overuseSet = nowUs, true
			}
		}
	}
	if known == 0 {
		return // nothing to learn; time alone must not move the rate
	}
	if haveNewest {
		sample := nowUs - newestSent
		if e.rtt == 0 {
			e.rtt = sample
		} else {
			e.rtt = (7*e.rtt + sample) / 8
		}
	}
	acked := e.acked.rate()
	e.rc.update(e.trend.state, acked, nowUs, e.rtt)
	e.clampDelayRate()
	e.loss.update(nowUs, e.estimate, e.rc.rate)
	e.finishProbes(nowUs)
	e.updateEstimate()
}

// unwrapRef extends the 24-bit reference time of a report to a continuous
// count, so that arrival times compare across reports.
func (e *Estimator) unwrapRef(ref uint32) int64 {
	ref &= 1<<twccRefBits - 1
	if !e.refSet {
		e.refSet = true
		e.ref = int64(ref)
	} else {
		d := int32((ref-e.lastRef)<<(32-twccRefBits)) >> (32 - twccRefBits)
		e.ref += int64(d)
	}
	e.lastRef = ref
	return e.ref
}

func (e *Estimator) clampDelayRate() {
	e.rc.rate = min(max(e.rc.rate, float64(e.cfg.Min)), float64(e.cfg.Max))
}

func (e *Estimator) updateEstimate() {
	est := e.rc.rate
	if e.loss.cap > 0 {
		est = min(est, e.loss.cap)
	}
	e.estimate = min(max(est, float64(e.cfg.Min)), float64(e.cfg.Max))
}
