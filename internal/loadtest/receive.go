package loadtest

import (
	"sync/atomic"
	"time"

	"github.com/parley/parley/internal/synth"
)

// phase is where a run stands; every receive loop reads it per packet.
type phase int32

const (
	// phaseJoining: joining and settling; streams are followed, not counted.
	phaseJoining phase = iota
	// phaseWarmup: everyone joined; bandwidth estimates ramp up.
	phaseWarmup
	// phaseMeasuring: the steady phase; everything counts.
	phaseMeasuring
	// phaseDraining: after it, retransmissions may still fill the holes
	// opened during it; nothing new counts.
	phaseDraining
	// phaseDone: participants are leaving.
	phaseDone
)

// Track kinds, as indexes into per-kind totals.
const (
	kindAudio = iota
	kindVideo
	numKinds
)

// trackStats is one forwarded track's figures. Its receive loop owns it;
// only the atomics are read or written by others.
type trackStats struct {
	kind   int
	source string // source id, "<participant>-<kind>"

	// forwarding is the period since when the bridge forwards the source
	// (0: not forwarded), set from forwarded-sources messages.
	forwarding atomic.Uint32
	// rxPackets and rxBytes count every packet, for progress lines.
	rxPackets, rxBytes atomic.Uint64

	phase     phase // the run's phase as of the last packet
	ssrc      uint32
	packets   uint64 // new media packets in the measured phase
	bytes     uint64
	loss      LossTracker
	lossDone  LossCounts // of earlier SSRCs of the track
	latency   Histogram
	freeze    FreezeDetector
	lastTS    uint32 // RTP timestamp of the newest video frame
	haveFrame bool
}

// packet records one received RTP packet; now is its arrival and mono the
// same instant on the run's monotonic clock (ns). It reports whether the
// packet carried media (not padding). It allocates nothing.
func (t *trackStats) packet(b []byte, now time.Time, mono int64, ph phase) bool {
	var p rtpPacket
	if !parseRTP(b, &p) {
		return false
	}
	t.rxPackets.Add(1)
	t.rxBytes.Add(uint64(len(b)))
	if ph != t.phase {
		t.enter(ph)
	}
	if p.ssrc != t.ssrc {
		t.newStream(p.ssrc)
	}
	media := len(p.payload) > 0
	switch ph {
	case phaseDraining:
		t.loss.Repair(p.seq, !media, mono)
		return media
	case phaseDone:
		return media
	}
	if !t.loss.Packet(p.seq, !media, mono) || !media {
		return media
	}
	t.packets++
	t.bytes += uint64(len(b))
	if sent, ok := synth.SendTime(p.payload); ok {
		t.latency.Add(now.Sub(sent))
	}
	if t.kind == kindVideo && (!t.haveFrame || int32(p.timestamp-t.lastTS) > 0) {
		t.haveFrame, t.lastTS = true, p.timestamp
		t.freeze.Frame(mono, t.forwarding.Load())
	}
	return true
}

// enter follows the run into phase ph: counting starts afresh with the
// measured phase, even if the track saw nothing of it.
func (t *trackStats) enter(ph phase) {
	if t.phase < phaseMeasuring && ph >= phaseMeasuring {
		t.packets, t.bytes = 0, 0
		t.loss.ResetCounts()
		t.lossDone = LossCounts{}
		t.latency.Reset()
		t.freeze.ResetCounts()
	}
	t.phase = ph
}

// newStream starts following another SSRC on the same track.
func (t *trackStats) newStream(ssrc uint32) {
	if t.ssrc != 0 {
		t.loss.Finish()
		t.lossDone.Add(t.loss.Counts())
		t.loss = LossTracker{}
	}
	t.ssrc = ssrc
}

// finish closes the track's figures when its receive loop ends at mono;
// ph is the run's phase then. It reports whether the figures belong to the
// measured phase.
func (t *trackStats) finish(mono int64, ph phase) bool {
	if ph > t.phase {
		t.enter(ph)
	}
	t.loss.Finish()
	t.freeze.Finish(mono, t.forwarding.Load())
	return t.phase >= phaseMeasuring
}

// lossCounts is the track's loss over all its SSRCs.
func (t *trackStats) lossCounts() LossCounts {
	c := t.lossDone
	c.Add(t.loss.Counts())
	return c
}
