package check

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/parley/parley/client"
	"github.com/parley/parley/internal/synth"
)

// Thresholds of the stream's figures: up to the first a call is good, up
// to the second it is usable, beyond it people notice.
const (
	rttGood, rttUsable       = 150 * time.Millisecond, 300 * time.Millisecond
	jitterGood, jitterUsable = 30 * time.Millisecond, 50 * time.Millisecond
	lossGood, lossUsable     = 1.0, 5.0 // percent
)

// checkQuality sends a media-rate stream (a microphone at speaking level
// and a 360p camera, about 550 kbit/s) from one client through the bridge
// to another, both on this machine, on the path a participant here would
// take, and measures it for the check's duration. Every packet carries its
// send time, so transit is measured on one clock: publisher → bridge →
// receiver, which is about one round trip to the server.
func (t *target) checkQuality(ctx context.Context, item, path string) []Item {
	failAll := func(why string) []Item {
		var out []Item
		for _, id := range []string{ItemRTT, ItemJitter, ItemLoss} {
			out = append(out, Item{ID: id, Name: itemNames[id], Status: Fail, Detail: "no stream to measure: " + why,
				Advice: "A media path worked alone but a stream through the bridge did not. Run the check again; if it " +
					"persists, tell the server's administrator."})
		}
		return out
	}
	mic, err := synth.NewAudio("check-mic", "check", 0)
	if err != nil {
		return failAll(err.Error())
	}
	mic.SetLevel(50) // the bridge forwards no silence
	cam, err := synth.NewVideo("check-camera", "check", synth.DefaultSimulcast()[1])
	if err != nil {
		return failAll(err.Error())
	}
	rec := &recorder{}
	jctx, cancel := context.WithTimeout(ctx, t.opts.Timeout)
	defer cancel()
	// Both ends take the path the report names: the figures are that
	// path's, not those of whichever path ICE would have picked.
	tune := t.pathTune(item)
	pubCfg := t.clientConfig("quality")
	pubCfg.Name = "network check sender"
	pubCfg.Tracks = []webrtc.TrackLocal{mic, cam}
	tune(&pubCfg)
	pub, err := client.Join(jctx, pubCfg)
	if err != nil {
		return failAll(err.Error())
	}
	defer pub.Leave()
	recvCfg := t.clientConfig("quality")
	recvCfg.Name = "network check receiver"
	recvCfg.OnTrack = rec.onTrack
	tune(&recvCfg)
	recv, err := client.Join(jctx, recvCfg)
	if err != nil {
		return failAll(err.Error())
	}
	defer recv.Leave()
	for _, s := range []*client.Session{pub, recv} {
		if err := s.WaitConnected(jctx); err != nil {
			return failAll(err.Error())
		}
	}
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	go mic.Run(sctx)
	go cam.Run(sctx)
	// Measure from the first packet on, for the duration.
	deadline := time.Now().Add(t.opts.Timeout)
	for rec.count() == 0 && time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return failAll(ctx.Err().Error())
		case <-time.After(50 * time.Millisecond):
		}
	}
	if rec.count() == 0 {
		return failAll("nothing arrived through the bridge")
	}
	from := time.Now()
	select {
	case <-ctx.Done():
		return failAll(ctx.Err().Error())
	case <-time.After(t.opts.Duration):
	}
	q := measure(rec.since(from))
	if got := recv.Path(); got != path {
		return failAll(fmt.Sprintf("the stream went %s, not %s as asked", pathNames[got], pathNames[path]))
	}
	return qualityItems(q, path, t.opts.Duration)
}

// recorder keeps what arrives of the stream.
type recorder struct {
	mu      sync.Mutex
	samples []sample
}

// sample is one received packet.
type sample struct {
	at, sent time.Time // sent is zero for packets without a send time (padding)
	ssrc     uint32
	seq      uint16
	audio    bool
	size     int
}

func (r *recorder) onTrack(rt *client.RemoteTrack) {
	audio := rt.Track.Kind() == webrtc.RTPCodecTypeAudio
	buf := make([]byte, 1500)
	var p rtp.Packet
	for {
		n, _, err := rt.Track.Read(buf)
		if err != nil {
			return
		}
		at := time.Now()
		if p.Unmarshal(buf[:n]) != nil {
			continue
		}
		s := sample{at: at, ssrc: p.SSRC, seq: p.SequenceNumber, audio: audio, size: n}
		s.sent, _ = synth.SendTime(p.Payload)
		r.mu.Lock()
		r.samples = append(r.samples, s)
		r.mu.Unlock()
	}
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.samples)
}

func (r *recorder) since(t time.Time) []sample {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []sample
	for _, s := range r.samples {
		if !s.at.Before(t) {
			out = append(out, s)
		}
	}
	return out
}

// quality is what a stream's samples say.
type quality struct {
	Transit            time.Duration // median, publisher → bridge → receiver
	Jitter             time.Duration // RFC 3550 interarrival jitter of the audio, averaged
	LossPercent        float64
	Received, Expected int
	Bytes              int
}

// measure computes the figures of samples in arrival order.
func measure(samples []sample) quality {
	var q quality
	var transits []time.Duration
	var prev time.Duration
	var havePrev bool
	var jitter, jitterSum float64
	jitterN := 0
	type span struct {
		seen    map[int64]bool // extended sequence numbers
		lo, hi  int64
		started bool
	}
	streams := map[uint32]*span{}
	for _, s := range samples {
		q.Bytes += s.size
		if !s.sent.IsZero() {
			d := s.at.Sub(s.sent)
			transits = append(transits, d)
			if s.audio {
				if havePrev {
					// RFC 3550, 6.4.1: J += (|D| - J) / 16.
					diff := float64(d - prev)
					if diff < 0 {
						diff = -diff
					}
					jitter += (diff - jitter) / 16
					jitterSum += jitter
					jitterN++
				}
				prev, havePrev = d, true
			}
		}
		st := streams[s.ssrc]
		if st == nil {
			st = &span{seen: map[int64]bool{}}
			streams[s.ssrc] = st
		}
		// Extend the 16-bit sequence number: the nearest to the highest yet.
		ext := int64(s.seq)
		if st.started {
			ext = st.hi + int64(int16(s.seq-uint16(st.hi)))
		}
		if !st.started || ext < st.lo {
			st.lo = ext
		}
		if !st.started || ext > st.hi {
			st.hi = ext
		}
		st.started = true
		st.seen[ext] = true
	}
	for _, st := range streams {
		q.Expected += int(st.hi-st.lo) + 1
		q.Received += len(st.seen)
	}
	if q.Expected > 0 {
		q.LossPercent = 100 * float64(q.Expected-q.Received) / float64(q.Expected)
	}
	if len(transits) > 0 {
		slices.Sort(transits)
		q.Transit = transits[len(transits)/2]
	}
	if jitterN > 0 {
		q.Jitter = time.Duration(jitterSum / float64(jitterN))
	}
	return q
}

var pathNames = map[string]string{
	client.PathUDP:      "directly over UDP",
	client.PathTCP:      "directly over TCP (ICE-TCP)",
	client.PathRelayUDP: "through TURN over UDP",
	client.PathRelayTCP: "through TURN over TCP",
	client.PathRelayTLS: "through TURN over TLS",
}

func qualityItems(q quality, path string, d time.Duration) []Item {
	over := pathNames[path]
	if over == "" {
		over = "on an unknown path"
	}
	rtt := Item{ID: ItemRTT, Name: itemNames[ItemRTT], Value: value(ms(q.Transit)), Unit: "ms",
		Detail: fmt.Sprintf("%.0f ms from sender through the bridge to receiver, median of %d packets, %s", ms(q.Transit), q.Received, over)}
	switch {
	case q.Transit <= rttGood:
		rtt.Status = Pass
	case q.Transit <= rttUsable:
		rtt.Status = Warn
		rtt.Advice = "Noticeable delay: people will talk over each other now and then. The server is far away or the " +
			"path is congested; a bridge in a region closer to this branch helps."
	default:
		rtt.Status = Fail
		rtt.Advice = "Delay this long makes conversation hard. Check for a congested uplink or a VPN detour, and " +
			"consider a bridge in a region closer to this branch."
	}
	jit := Item{ID: ItemJitter, Name: itemNames[ItemJitter], Value: value(ms(q.Jitter)), Unit: "ms",
		Detail: fmt.Sprintf("%.1f ms (RFC 3550 interarrival jitter of the audio)", ms(q.Jitter))}
	switch {
	case q.Jitter <= jitterGood:
		jit.Status = Pass
	case q.Jitter <= jitterUsable:
		jit.Status = Warn
		jit.Advice = "Uneven delivery: audio may crackle. Usual causes are busy Wi-Fi or an uplink shared with large " +
			"transfers; try a wired connection, and ask the network team about QoS for voice and video."
	default:
		jit.Status = Fail
		jit.Advice = "Very uneven delivery: audio will break up. Try a wired connection; ask the network team to check " +
			"for congestion at peak hours and to give voice and video priority (QoS)."
	}
	loss := Item{ID: ItemLoss, Name: itemNames[ItemLoss], Value: value(q.LossPercent), Unit: "%",
		Detail: fmt.Sprintf("%.1f%% (%d of %d packets missing over %s, %.0f kbit/s received)",
			q.LossPercent, q.Expected-q.Received, q.Expected, d.Round(time.Second), float64(q.Bytes)*8/d.Seconds()/1000)}
	switch {
	case q.LossPercent < lossGood:
		loss.Status = Pass
	case q.LossPercent < lossUsable:
		loss.Status = Warn
		loss.Advice = "Some loss: even 1-2% is audible as clipped words. Look for overloaded Wi-Fi or a saturated link."
	default:
		loss.Status = Fail
		loss.Advice = "Heavy loss: voices will sound robotic and video will freeze. Check Wi-Fi and the branch's link " +
			"at peak hours; ask the network team about congestion or a faulty link."
	}
	if q.Expected == 0 {
		loss.Status, loss.Detail = Fail, "nothing arrived through the bridge"
		loss.Advice = "Media connected but no packet came through. Run the check again; if it persists, tell the " +
			"server's administrator."
	}
	return []Item{rtt, jit, loss}
}
