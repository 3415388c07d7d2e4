package media

import (
	"math"
	"slices"
	"sync"
	"time"
)

// Dominant speaker identification after Volfin and Cohen, "Dominant speaker
// identification for multipoint videoconferencing" (2013), as adapted to
// RFC 6464 audio levels by Jitsi's DominantSpeakerIdentification.
//
// Each participant's audio is cut into 20 ms slots. A slot's loudness is
// a number of active "bands" (0..13, 5 dB each above -75 dBov), standing in
// for the paper's active frequency sub-bands. Three time scales stack up:
// the immediate one is the latest slot's band count; the medium one counts
// the speech-active slots (-45 dBov or louder) in the latest 100 ms block;
// the long one counts the blocks of the last second that were mostly
// active. Each count becomes a speech activity score, the log-likelihood
// ratio of speech (binomial) against noise (exponential) of the paper.
//
// A challenger replaces the dominant speaker only when its scores beat the
// dominant's on all three scales by a margin: about one band louder right
// now, two more active slots in the latest 100 ms, and four more active
// blocks in the last second. The long margin is what ignores coughs and
// door slams: a burst shorter than about 350 ms never fills four blocks.
// The margins are on differences of scores (each a log-likelihood ratio)
// and wider than Jitsi's thresholds on the log of their ratio, which, with
// levels as the only input, let a burst take over from a quiet speaker,
// and a loud speaker take over from a steady quiet one only when the
// quiet one dips.

const (
	speakerSlot     = 20 * time.Millisecond
	speakerBands    = 13  // N1
	bandStep        = 5   // dB per band
	bandFloor       = 75  // -75 dBov or quieter: no band
	activeBand      = 6   // bands that make a slot speech-active: -45 dBov
	blockSlots      = 5   // N2: slots per medium block
	blockActive     = 4   // active slots that make a block active
	longBlocks      = 10  // N3: blocks in the long window
	historySlots    = 64  // holds the long window and the block in progress
	lambdaImmediate = 3.0 // Jitsi's 0.78 makes the score fall again above 9 bands
	lambdaMedium    = 24.0
	lambdaLong      = 47.0
	marginImmediate = 3.0   // about one band
	marginMedium    = 40.0  // two active slots
	marginLong      = 165.0 // four active blocks
)

// SpeakerDetector identifies the dominant speaker of a conference from the
// audio levels of its participants. It is safe for concurrent use: Level
// is called from every publisher's packet path, Tick from a timer.
type SpeakerDetector struct {
	mu       sync.Mutex
	epoch    time.Time
	started  bool
	speakers map[string]*speaker
	order    []*speaker // join order, for deterministic decisions
	recent   []string   // ever-dominant ids, most recently dominant first
	dominant string
	reported string // dominant as last returned by Tick
}

type speaker struct {
	id     string
	bands  [historySlots]int8 // per slot; -1: no packet
	newest int64              // newest slot in bands
	// Counts as of the last Tick.
	k1, k2, k3 int
	loudness   float64 // mean bands over the long window
}

// NewSpeakerDetector makes a detector with no participants.
func NewSpeakerDetector() *SpeakerDetector {
	return &SpeakerDetector{speakers: make(map[string]*speaker)}
}

// slot is t's 20 ms slot. The caller holds d.mu.
func (d *SpeakerDetector) slot(t time.Time) int64 {
	if !d.started {
		d.started = true
		d.epoch = t
	}
	n := int64(t.Sub(d.epoch) / speakerSlot)
	if t.Before(d.epoch) && t.Sub(d.epoch)%speakerSlot != 0 {
		n-- // round down before the epoch too
	}
	return n
}

// Level records the audio level (RFC 6464: 0..127, -dBov, 127 silence) of
// one audio packet of participant id, sent at about at. An unknown id
// joins the conference. A V flag left in the top bit is ignored.
func (d *SpeakerDetector) Level(id string, level uint8, at time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := d.slot(at)
	s := d.speakers[id]
	if s == nil {
		s = &speaker{id: id, newest: n}
		for i := range s.bands {
			s.bands[i] = -1
		}
		d.speakers[id] = s
		d.order = append(d.order, s)
	}
	s.advance(n)
	if s.newest-n >= historySlots {
		return // too late to matter
	}
	b := &s.bands[ring(n)]
	*b = max(*b, int8(bandOf(level)))
}

// bandOf maps a level to a band count: -75 dBov and quieter is 0, every
// 5 dB louder one more, up to 13.
func bandOf(level uint8) int {
	level &= 0x7f
	if level >= bandFloor {
		return 0
	}
	return min((bandFloor-int(level))/bandStep, speakerBands)
}

// advance moves the speaker's newest slot on to n, marking the slots in
// between as without packets.
func (s *speaker) advance(n int64) {
	if n <= s.newest {
		return
	}
	for i := max(s.newest+1, n-historySlots+1); i <= n; i++ {
		s.bands[ring(i)] = -1
	}
	s.newest = n
}

// ring is slot n's index in the history, for negative n too (slots
// before the first time the detector saw).
func ring(n int64) int {
	return int((n%historySlots + historySlots) % historySlots)
}

// value is slot n's band count. A slot without a packet takes the one
// before it if that had one: packets 20 ms apart with jitter sometimes
// land two in a slot and none in the next.
func (s *speaker) value(n int64) int {
	if b := s.bands[ring(n)]; b >= 0 {
		return int(b)
	}
	if b := s.bands[ring(n-1)]; b >= 0 {
		return int(b)
	}
	return 0
}

// measure computes the three counts as of slot now (in progress).
func (s *speaker) measure(now int64) {
	s.advance(now)
	s.k1 = s.value(now - 1)
	last := now/blockSlots - 1 // newest complete block
	s.k2, s.k3 = 0, 0
	sum := 0
	for b := last - longBlocks + 1; b <= last; b++ {
		active := 0
		for i := b * blockSlots; i < (b+1)*blockSlots; i++ {
			v := s.value(i)
			sum += v
			if v >= activeBand {
				active++
			}
		}
		if b == last {
			s.k2 = active
		}
		if active >= blockActive {
			s.k3++
		}
	}
	s.loudness = float64(sum) / (longBlocks * blockSlots)
}

// activityScore is the paper's speech activity score for k active
// sub-units out of n: the log-likelihood ratio of a binomial speech model
// (p = 1/2) against an exponential noise model of rate lambda.
func activityScore(k, n int, lambda float64) float64 {
	lc, _ := math.Lgamma(float64(n + 1))
	lk, _ := math.Lgamma(float64(k + 1))
	lnk, _ := math.Lgamma(float64(n - k + 1))
	return lc - lk - lnk + float64(n)*math.Log(0.5) - math.Log(lambda) + lambda*float64(k)
}

func (s *speaker) scores() (imm, med, long float64) {
	return activityScore(s.k1, speakerBands, lambdaImmediate),
		activityScore(s.k2, blockSlots, lambdaMedium),
		activityScore(s.k3, longBlocks, lambdaLong)
}

// Tick decides who dominates at now and reports whether that changed since
// the last Tick. Call it every 50 to 100 ms; the decision needs no more.
// With nobody dominant yet, the loudest participant of the last second
// becomes dominant, if anyone made a sound.
func (d *SpeakerDetector) Tick(now time.Time) (dominant string, changed bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := d.slot(now)
	for _, s := range d.order {
		s.measure(n)
	}
	dom := d.speakers[d.dominant]
	var ri, rm, rl float64 // what a challenger must beat
	if dom != nil {
		ri, rm, rl = dom.scores()
	} else {
		ri, rm, rl = (&speaker{}).scores()
	}
	var best *speaker
	bestMed := marginMedium
	for _, s := range d.order {
		if s == dom {
			continue
		}
		i, m, l := s.scores()
		if i-ri > marginImmediate && m-rm > bestMed && l-rl > marginLong {
			best, bestMed = s, m-rm
		}
	}
	if best == nil && dom == nil {
		for _, s := range d.order {
			if s.loudness > 0 && (best == nil || s.loudness > best.loudness) {
				best = s
			}
		}
	}
	if best != nil {
		d.setDominant(best.id)
	}
	changed = d.dominant != d.reported
	d.reported = d.dominant
	return d.dominant, changed
}

// setDominant makes id dominant and first in the recency order. The caller
// holds d.mu.
func (d *SpeakerDetector) setDominant(id string) {
	d.dominant = id
	if i := slices.Index(d.recent, id); i >= 0 {
		d.recent = slices.Delete(d.recent, i, i+1)
	}
	d.recent = slices.Insert(d.recent, 0, id)
}

// Remove forgets a participant. If it was dominant, the most recently
// dominant participant still present takes over, or else the loudest of
// the last Tick, or else the first to have joined; the next Tick reports
// the change.
func (d *SpeakerDetector) Remove(id string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	s := d.speakers[id]
	if s == nil {
		return
	}
	delete(d.speakers, id)
	d.order = slices.DeleteFunc(d.order, func(o *speaker) bool { return o == s })
	d.recent = slices.DeleteFunc(d.recent, func(o string) bool { return o == id })
	if d.dominant != id {
		return
	}
	d.dominant = ""
	next := ""
	if len(d.recent) > 0 {
		next = d.recent[0]
	} else {
		var best *speaker
		for _, o := range d.order {
			if best == nil || o.loudness > best.loudness {
				best = o
			}
		}
		if best != nil {
			next = best.id
		}
	}
	if next != "" {
		d.setDominant(next)
	}
}

// Speakers returns the ids of the participants that have been dominant,
// most recently dominant first (the dominant one, if any, leads): the
// speaker order Allocate takes.
func (d *SpeakerDetector) Speakers() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.recent)
}
