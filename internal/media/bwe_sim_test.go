package media

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/pion/rtcp"
)

// simLink is a deterministic bottleneck: a FIFO queue drained at rate bit/s
// that drops packets arriving to a full queue, then a propagation delay
// and optional random loss. It plays the receiver too, sending feedback.
type simLink struct {
	rate       int // bps; may change during a run
	queueBytes int
	delay      time.Duration // one way, each direction
	loss       float64       // random loss after the queue
	rng        *rand.Rand
	busyUntil  time.Duration // when the queue will be empty
	pending    []simPacket   // sent, not yet reported
	fbCount    uint8
}

type simPacket struct {
	seq     uint16
	arrival time.Duration // -1: lost
}

// send puts a packet on the link at time at.
func (l *simLink) send(seq uint16, size int, at time.Duration) {
	p := simPacket{seq: seq, arrival: -1}
	backlog := 0
	if l.busyUntil > at {
		backlog = int(float64(l.busyUntil-at) * float64(l.rate) / 8 / 1e9)
	}
	if backlog+size <= l.queueBytes {
		l.busyUntil = max(at, l.busyUntil) + time.Duration(float64(size)*8/float64(l.rate)*1e9)
		if l.rng == nil || l.rng.Float64() >= l.loss {
			p.arrival = l.busyUntil + l.delay
		}
	}
	l.pending = append(l.pending, p)
}

// feedback reports, as the receiver at time now, every pending packet up
// to the last one that has arrived (the fate of those before it is known,
// the queue being FIFO). It returns nil when nothing has arrived.
func (l *simLink) feedback(t *testing.T, now time.Duration) *rtcp.TransportLayerCC {
	last := -1
	for i, p := range l.pending {
		if p.arrival >= 0 && p.arrival <= now {
			last = i
		}
	}
	if last < 0 {
		return nil
	}
	arrivals := make([]int64, last+1)
	for i, p := range l.pending[:last+1] {
		arrivals[i] = -1
		if p.arrival >= 0 {
			arrivals[i] = p.arrival.Microseconds()
		}
	}
	fb := buildFeedback(t, l.pending[0].seq, arrivals, l.fbCount)
	l.fbCount++
	l.pending = append(l.pending[:0], l.pending[last+1:]...)
	return fb
}

// buildFeedback encodes arrival times (µs, -1 for lost) of the packets
// from base on as a TransportLayerCC, the way a receiver does: a
// reference time in 64 ms units, deltas in 250 µs units, and chunks that
// mix run lengths, one-bit and two-bit status vectors. It goes through
// pion's Marshal and Unmarshal, and returns what a sender would parse.
func buildFeedback(t testing.TB, base uint16, arrivals []int64, count uint8) *rtcp.TransportLayerCC {
	t.Helper()
	fb := &rtcp.TransportLayerCC{
		Header:             rtcp.Header{Count: rtcp.FormatTCC, Type: rtcp.TypeTransportSpecificFeedback},
		SenderSSRC:         1,
		MediaSSRC:          2,
		BaseSequenceNumber: base,
		PacketStatusCount:  uint16(len(arrivals)),
		FbPktCount:         count,
	}
	symbols := make([]uint16, len(arrivals))
	prev := int64(-1)
	for i, a := range arrivals {
		if a < 0 {
			continue
		}
		q := a / 250 * 250
		if prev < 0 {
			ref := q / twccRefUnit
			fb.ReferenceTime = uint32(ref) & (1<<twccRefBits - 1)
			prev = ref * twccRefUnit
		}
		d := q - prev
		prev = q
		typ := uint16(rtcp.TypeTCCPacketReceivedSmallDelta)
		if d < 0 || d > 255*250 {
			typ = rtcp.TypeTCCPacketReceivedLargeDelta
		}
		symbols[i] = typ
		fb.RecvDeltas = append(fb.RecvDeltas, &rtcp.RecvDelta{Type: typ, Delta: d})
	}
	for i := 0; i < len(symbols); {
		run := 1
		for i+run < len(symbols) && symbols[i+run] == symbols[i] && run < 8191 {
			run++
		}
		small := true
		for j := i; j < min(i+14, len(symbols)); j++ {
			small = small && symbols[j] != rtcp.TypeTCCPacketReceivedLargeDelta
		}
		switch {
		case run >= 7:
			fb.PacketChunks = append(fb.PacketChunks, &rtcp.RunLengthChunk{
				Type: rtcp.TypeTCCRunLengthChunk, PacketStatusSymbol: symbols[i], RunLength: uint16(run)})
			i += run
		case small:
			list := make([]uint16, 14)
			copy(list, symbols[i:min(i+14, len(symbols))])
			fb.PacketChunks = append(fb.PacketChunks, &rtcp.StatusVectorChunk{
				Type: rtcp.TypeTCCStatusVectorChunk, SymbolSize: rtcp.TypeTCCSymbolSizeOneBit, SymbolList: list})
			i += 14
		default:
			list := make([]uint16, 7)
			copy(list, symbols[i:min(i+7, len(symbols))])
			fb.PacketChunks = append(fb.PacketChunks, &rtcp.StatusVectorChunk{
				Type: rtcp.TypeTCCStatusVectorChunk, SymbolSize: rtcp.TypeTCCSymbolSizeTwoBit, SymbolList: list})
			i += 7
		}
	}
	// Pad only when needed: pion writes the padding count into the last
	// byte whenever the flag is set, over a delta if there is no padding.
	n := 4 + 16 + 2*len(fb.PacketChunks)
	for _, d := range fb.RecvDeltas {
		n += int(d.Type) // small deltas take one byte, large ones two
	}
	fb.Header.Padding = n%4 != 0
	fb.Header.Length = uint16(fb.MarshalSize()/4 - 1)
	raw, err := fb.Marshal()
	if err != nil {
		t.Fatalf("marshal feedback: %v", err)
	}
	var out rtcp.TransportLayerCC
	if err := out.Unmarshal(raw); err != nil {
		t.Fatalf("unmarshal feedback: %v", err)
	}
	return &out
}

// simRun drives an Estimator over a simLink: media paced at
// min(offered, estimate) in 1200-byte packets, feedback every 50 ms, and
// optionally a probe cluster at twice the estimate every probeEvery.
type simRun struct {
	t          *testing.T
	est        *Estimator
	link       *simLink
	offered    int
	probeEvery time.Duration
	// mangle, when set, may drop, delay or duplicate feedback: it returns
	// the reports to deliver now.
	mangle func(fb *rtcp.TransportLayerCC) []*rtcp.TransportLayerCC

	now       time.Duration
	seq       uint16
	nextMedia time.Duration
	nextProbe time.Duration
	probeLeft int
	probeGap  time.Duration
	probeAt   time.Duration
	probeID   int
	inFlight  []simFeedback
}

type simFeedback struct {
	at time.Duration
	fb *rtcp.TransportLayerCC
}

var simEpoch = time.Unix(1_700_000_000, 0)

const simPacketSize = 1200

// run advances the simulation to until, calling each (if set) every 100 ms.
func (s *simRun) run(until time.Duration, each func(now time.Duration)) {
	for ; s.now < until; s.now += time.Millisecond {
		for s.nextMedia <= s.now {
			s.sendPacket(0)
			rate := min(s.offered, s.est.Estimate())
			s.nextMedia += time.Duration(float64(simPacketSize*8) / float64(rate) * 1e9)
		}
		if s.probeEvery > 0 && s.now >= s.nextProbe {
			s.nextProbe = s.now + s.probeEvery
			target := 2 * s.est.Estimate()
			s.probeID = s.est.StartProbe(target, simEpoch.Add(s.now))
			s.probeLeft = max(minProbePackets, int(int64(target)*30/1000/(simPacketSize*8)))
			s.probeGap = time.Duration(float64(simPacketSize*8) / float64(target) * 1e9)
			s.probeAt = s.now
		}
		for s.probeLeft > 0 && s.probeAt <= s.now {
			s.sendPacket(s.probeID)
			s.probeLeft--
			s.probeAt += s.probeGap
		}
		if s.now%(50*time.Millisecond) == 0 {
			if fb := s.link.feedback(s.t, s.now); fb != nil {
				s.inFlight = append(s.inFlight, simFeedback{s.now + s.link.delay, fb})
			}
		}
		for len(s.inFlight) > 0 && s.inFlight[0].at <= s.now {
			fbs := []*rtcp.TransportLayerCC{s.inFlight[0].fb}
			if s.mangle != nil {
				fbs = s.mangle(fbs[0])
			}
			for _, fb := range fbs {
				s.est.OnFeedback(fb, simEpoch.Add(s.now))
			}
			s.inFlight = s.inFlight[1:]
		}
		if each != nil && s.now%(100*time.Millisecond) == 0 {
			each(s.now)
		}
	}
}

func (s *simRun) sendPacket(cluster int) {
	s.est.OnSent(s.seq, simPacketSize, simEpoch.Add(s.now), cluster)
	s.link.send(s.seq, simPacketSize, s.now)
	s.seq++
}

func checkBounds(t *testing.T, e *Estimator, cfg EstimatorConfig) {
	t.Helper()
	if est := e.Estimate(); est < cfg.Min || est > cfg.Max {
		t.Fatalf("estimate %d outside [%d, %d]", est, cfg.Min, cfg.Max)
	}
}

// (a) A 600 kbit/s bottleneck under 2 Mbit/s of offered load: the estimate
// settles between 350 and 700 kbit/s within 5 s and stays there.
func TestEstimatorConverges(t *testing.T) {
	for _, initial := range []int{1_000_000, 2_000_000, 800_000} {
		cfg := EstimatorConfig{Initial: initial, Min: 50_000, Max: 10_000_000}
		s := &simRun{t: t, est: NewEstimator(cfg), offered: 2_000_000, seq: 65000,
			link: &simLink{rate: 600_000, queueBytes: 60_000, delay: 25 * time.Millisecond}}
		s.run(10*time.Second, func(now time.Duration) {
			checkBounds(t, s.est, cfg)
			if now < 5*time.Second {
				return
			}
			if est := s.est.Estimate(); est <= 350_000 || est >= 700_000 {
				t.Fatalf("initial %d: at %v estimate %d, want within (350k, 700k); %+v", initial, now, est, s.est.Stats())
			}
		})
		st := s.est.Stats()
		if st.AckedRate < 400_000 || st.AckedRate > 650_000 {
			t.Errorf("initial %d: acked rate %d, want about 600k", initial, st.AckedRate)
		}
	}
}

// (b) The bottleneck rises from 600 kbit/s to 5 Mbit/s: with a probe every
// second the estimate passes 1.5 Mbit/s within 10 s; probes against the
// tight bottleneck before that do not lift it.
func TestEstimatorProbesUp(t *testing.T) {
	cfg := EstimatorConfig{Initial: 1_000_000, Min: 50_000, Max: 20_000_000}
	s := &simRun{t: t, est: NewEstimator(cfg), offered: 8_000_000, seq: 100, probeEvery: time.Second,
		link: &simLink{rate: 600_000, queueBytes: 60_000, delay: 25 * time.Millisecond}}
	s.run(8*time.Second, func(now time.Duration) {
		checkBounds(t, s.est, cfg)
		if est := s.est.Estimate(); now >= 5*time.Second && est >= 750_000 {
			t.Fatalf("at %v, before the rise, estimate %d; probes through a 600k bottleneck must not lift it", now, est)
		}
	})
	s.link.rate = 5_000_000
	rise := s.now
	passed := time.Duration(-1)
	s.run(rise+10*time.Second, func(now time.Duration) {
		checkBounds(t, s.est, cfg)
		if passed < 0 && s.est.Estimate() > 1_500_000 {
			passed = now - rise
		}
	})
	if passed < 0 {
		t.Fatalf("estimate %d 10 s after the rise, want > 1.5M; %+v", s.est.Estimate(), s.est.Stats())
	}
	t.Logf("passed 1.5 Mbit/s %v after the rise; now %d", passed, s.est.Estimate())
	if st := s.est.Stats(); st.ProbeRate == 0 {
		t.Error("no probe accepted")
	}
}

// Without probing the same rise is followed slowly: the probe is what
// makes the difference (a check that TestEstimatorProbesUp tests probing).
func TestEstimatorNoProbeIsSlow(t *testing.T) {
	cfg := EstimatorConfig{Initial: 1_000_000, Min: 50_000, Max: 20_000_000}
	s := &simRun{t: t, est: NewEstimator(cfg), offered: 8_000_000, seq: 100,
		link: &simLink{rate: 600_000, queueBytes: 60_000, delay: 25 * time.Millisecond}}
	s.run(8*time.Second, nil)
	s.link.rate = 5_000_000
	s.run(s.now+3*time.Second, nil)
	if est := s.est.Estimate(); est > 1_500_000 {
		t.Errorf("estimate %d 3 s after the rise without probing; expected a slow climb", est)
	}
}

// (c) 3 % random loss with ample capacity does not drive the estimate
// below where it started.
func TestEstimatorRandomLoss(t *testing.T) {
	for seed := range uint64(3) {
		cfg := EstimatorConfig{Initial: 1_000_000, Min: 50_000, Max: 20_000_000}
		s := &simRun{t: t, est: NewEstimator(cfg), offered: 3_000_000,
			link: &simLink{rate: 50_000_000, queueBytes: 200_000, delay: 25 * time.Millisecond,
				loss: 0.03, rng: rand.New(rand.NewPCG(seed, 3))}}
		s.run(20*time.Second, func(now time.Duration) {
			if est := s.est.Estimate(); est < cfg.Initial {
				t.Fatalf("seed %d: at %v estimate %d fell below the initial %d; %+v", seed, now, est, cfg.Initial, s.est.Stats())
			}
		})
		if f := s.est.Stats().LossFraction; f < 0.005 || f > 0.08 {
			t.Errorf("seed %d: loss fraction %.3f, want about 0.03", seed, f)
		}
	}
}

// Heavy loss with ample capacity (a lossy radio link) does bring it down.
func TestEstimatorHeavyLoss(t *testing.T) {
	cfg := EstimatorConfig{Initial: 2_000_000, Min: 50_000, Max: 20_000_000}
	s := &simRun{t: t, est: NewEstimator(cfg), offered: 3_000_000,
		link: &simLink{rate: 50_000_000, queueBytes: 200_000, delay: 25 * time.Millisecond,
			loss: 0.25, rng: rand.New(rand.NewPCG(9, 9))}}
	s.run(5*time.Second, nil)
	if est := s.est.Estimate(); est > 1_500_000 {
		t.Errorf("estimate %d after 5 s of 25%% loss, want well below 2M; %+v", est, s.est.Stats())
	}
}

// (d) Feedback lost, reordered and duplicated, across the wrap of the
// transport-wide sequence number: the estimate stays within bounds and
// still finds the bottleneck.
func TestEstimatorMangledFeedback(t *testing.T) {
	cfg := EstimatorConfig{Initial: 1_500_000, Min: 50_000, Max: 10_000_000}
	rng := rand.New(rand.NewPCG(5, 5))
	var held *rtcp.TransportLayerCC
	s := &simRun{t: t, est: NewEstimator(cfg), offered: 2_000_000, seq: 65200,
		link: &simLink{rate: 600_000, queueBytes: 60_000, delay: 25 * time.Millisecond},
		mangle: func(fb *rtcp.TransportLayerCC) []*rtcp.TransportLayerCC {
			var out []*rtcp.TransportLayerCC
			switch r := rng.IntN(10); {
			case r == 0: // lost
			case r == 1 && held == nil: // held back, delivered after the next
				held = fb
			case r == 2: // duplicated
				out = append(out, fb, fb)
			default:
				out = append(out, fb)
			}
			if held != nil && len(out) > 0 {
				out = append(out, held)
				held = nil
			}
			return out
		}}
	s.run(12*time.Second, func(now time.Duration) {
		checkBounds(t, s.est, cfg)
		if now < 6*time.Second {
			return
		}
		if est := s.est.Estimate(); est <= 300_000 || est >= 750_000 {
			t.Fatalf("at %v estimate %d, want within (300k, 750k); %+v", now, est, s.est.Stats())
		}
	})
	if s.seq > 65200 {
		t.Fatal("the transport-wide sequence number did not wrap")
	}
}

// Feedback for packets never sent, and for seq numbers whose ring slot was
// reused, is ignored.
func TestEstimatorUnknownPackets(t *testing.T) {
	e := NewEstimator(EstimatorConfig{Initial: 500_000})
	now := simEpoch
	fb := buildFeedback(t, 1000, []int64{100000, 101000, -1, 103000}, 0)
	e.OnFeedback(fb, now)
	if st := e.Stats(); st.AckedRate != 0 || st.Estimate != 500_000 {
		t.Fatalf("unknown packets changed the estimator: %+v", st)
	}
	// A slot reused by seq+sentHistory does not answer for seq.
	e.OnSent(1000+sentHistory, 1200, now, 0)
	e.OnFeedback(fb, now.Add(time.Millisecond))
	if st := e.Stats(); st.AckedRate != 0 {
		t.Fatalf("reused slot answered: %+v", st)
	}
}
