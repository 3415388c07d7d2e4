package media

import (
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"
)

// voice says what a participant sends at time t: a level, or nothing
// (ok false, as with Opus DTX).
type voice func(t time.Duration) (level uint8, ok bool)

// talk is speech at levels uniformly within [lo, hi] from start to end,
// and silence (level 127) the rest of the time.
func talk(rng *rand.Rand, start, end time.Duration, lo, hi int) voice {
	return func(t time.Duration) (uint8, bool) {
		if t < start || t >= end {
			return SilenceLevel, true
		}
		return uint8(lo + rng.IntN(hi-lo+1)), true
	}
}

// dtx sends nothing while v is silent.
func dtx(v voice) voice {
	return func(t time.Duration) (uint8, bool) {
		l, ok := v(t)
		return l, ok && !IsSilence(l)
	}
}

// mix plays several voices, the loudest at each instant.
func mix(vs ...voice) voice {
	return func(t time.Duration) (uint8, bool) {
		best, any := uint8(SilenceLevel), false
		for _, v := range vs {
			if l, ok := v(t); ok {
				best, any = min(best, l), true
			}
		}
		return best, any
	}
}

// speakerSim sends 20 ms packets from each voice (with up to jitter of
// delay) and ticks every 100 ms, from start until end.
type speakerSim struct {
	d      *SpeakerDetector
	ids    []string
	voices map[string]voice
	jitter time.Duration
	rng    *rand.Rand
	now    time.Duration
}

func newSpeakerSim(seed uint64) *speakerSim {
	return &speakerSim{d: NewSpeakerDetector(), voices: map[string]voice{}, rng: rand.New(rand.NewPCG(seed, 11))}
}

func (s *speakerSim) add(id string, v voice) {
	s.ids = append(s.ids, id)
	s.voices[id] = v
}

func (s *speakerSim) run(until time.Duration, tick func(now time.Duration, dom string, changed bool)) {
	for ; s.now < until; s.now += 20 * time.Millisecond {
		for _, id := range s.ids {
			if l, ok := s.voices[id](s.now); ok {
				j := time.Duration(0)
				if s.jitter > 0 {
					j = time.Duration(s.rng.Int64N(int64(s.jitter)))
				}
				s.d.Level(id, l, simEpoch.Add(s.now+j))
			}
		}
		if s.now%(100*time.Millisecond) == 0 {
			dom, changed := s.d.Tick(simEpoch.Add(s.now))
			if tick != nil {
				tick(s.now, dom, changed)
			}
		}
	}
}

// dominantAt runs the simulation to until and returns the dominant then.
func (s *speakerSim) dominantAt(until time.Duration) string {
	dom := ""
	s.run(until, func(_ time.Duration, d string, _ bool) { dom = d })
	return dom
}

// A participant who starts speaking louder than the dominant one takes
// over within 1.5 s, but not at once: it takes sustained speech.
func TestSpeakerChallengerTakesOver(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	tests := []struct {
		name   string
		a, b   voice
		jitter time.Duration
	}{
		{"louder than a quiet dominant", talk(rng, 0, time.Hour, 50, 60), talk(rng, 2*time.Second, time.Hour, 30, 40), 0},
		{"with jitter", talk(rng, 0, time.Hour, 50, 60), talk(rng, 2*time.Second, time.Hour, 30, 40), 15 * time.Millisecond},
		{"after the dominant stops", talk(rng, 0, 2*time.Second, 30, 40), talk(rng, 2*time.Second, time.Hour, 30, 40), 0},
		{"with DTX", dtx(talk(rng, 0, 2*time.Second, 25, 35)), dtx(talk(rng, 2*time.Second, time.Hour, 30, 40)), 5 * time.Millisecond},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newSpeakerSim(uint64(i))
			s.jitter = tc.jitter
			s.add("a", tc.a)
			s.add("b", tc.b)
			if dom := s.dominantAt(2 * time.Second); dom != "a" {
				t.Fatalf("dominant before b speaks = %q, want a", dom)
			}
			switched := time.Duration(-1)
			s.run(4*time.Second, func(now time.Duration, dom string, changed bool) {
				if dom == "b" && switched < 0 {
					switched = now - 2*time.Second
					if !changed {
						t.Errorf("switch to b not reported as a change")
					}
				}
				if switched >= 0 && dom != "b" {
					t.Fatalf("at %v dominant went back to %q", now, dom)
				}
			})
			if switched < 0 || switched > 1500*time.Millisecond {
				t.Fatalf("b took over after %v, want within 1.5 s", switched)
			}
			if switched < 300*time.Millisecond {
				t.Errorf("b took over after only %v: a burst would too", switched)
			}
			t.Logf("switched after %v", switched)
		})
	}
}

// A 250 ms burst of noise from another participant does not take over,
// whether the dominant speaker is talking, murmuring or pausing. A longer
// stretch of sound does, while the dominant pauses.
func TestSpeakerBurst(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	burst := func(d time.Duration) voice { return talk(rng, 3*time.Second, 3*time.Second+d, 10, 20) }
	tests := []struct {
		name     string
		a        voice
		b        voice
		takeOver bool
	}{
		{"dominant talking", talk(rng, 0, time.Hour, 30, 40), burst(250 * time.Millisecond), false},
		{"dominant murmuring", talk(rng, 0, time.Hour, 50, 60), burst(250 * time.Millisecond), false},
		{"dominant pausing", talk(rng, 0, 2*time.Second, 30, 40), burst(250 * time.Millisecond), false},
		{"dominant pausing, DTX", dtx(talk(rng, 0, 2*time.Second, 30, 40)), dtx(burst(250 * time.Millisecond)), false},
		{"dominant pausing, 700 ms of speech", talk(rng, 0, 2*time.Second, 30, 40), burst(700 * time.Millisecond), true},
		{"dominant talking, 700 ms of speech", talk(rng, 0, time.Hour, 30, 40), burst(700 * time.Millisecond), false},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newSpeakerSim(uint64(i))
			s.add("a", tc.a)
			s.add("b", tc.b)
			if dom := s.dominantAt(3 * time.Second); dom != "a" {
				t.Fatalf("dominant before the burst = %q, want a", dom)
			}
			got := false
			s.run(6*time.Second, func(_ time.Duration, dom string, _ bool) { got = got || dom == "b" })
			if got != tc.takeOver {
				t.Errorf("b dominant at some point: %v, want %v", got, tc.takeOver)
			}
		})
	}
}

// Silence from everyone keeps the last dominant speaker.
func TestSpeakerSilenceKeepsDominant(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, v := range []func(voice) voice{func(v voice) voice { return v }, dtx} {
		s := newSpeakerSim(5)
		s.add("a", v(talk(rng, 0, 2*time.Second, 30, 40)))
		s.add("b", v(talk(rng, 2*time.Second, 4*time.Second, 30, 40)))
		s.add("c", v(talk(rng, 0, 0, 0, 0)))
		if dom := s.dominantAt(4 * time.Second); dom != "b" {
			t.Fatalf("dominant = %q, want b", dom)
		}
		s.run(15*time.Second, func(now time.Duration, dom string, changed bool) {
			if dom != "b" || changed {
				t.Fatalf("at %v in silence: %q, changed %v; want b unchanged", now, dom, changed)
			}
		})
	}
}

func TestSpeakerRemove(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	s := newSpeakerSim(7)
	s.add("a", talk(rng, 0, 2*time.Second, 30, 40))
	s.add("b", talk(rng, 2*time.Second, 4*time.Second, 30, 40))
	s.add("c", talk(rng, 0, 0, 0, 0))
	s.add("d", talk(rng, 4*time.Second, 5*time.Second, 40, 45))
	if dom := s.dominantAt(4 * time.Second); dom != "b" {
		t.Fatalf("dominant = %q, want b", dom)
	}
	if got := s.d.Speakers(); !slices.Equal(got, []string{"b", "a"}) {
		t.Fatalf("Speakers() = %v, want [b a]", got)
	}
	s.d.Remove("c") // not dominant: nothing changes
	if dom, changed := s.d.Tick(simEpoch.Add(s.now)); dom != "b" || changed {
		t.Fatalf("after removing c: %q, %v; want b, false", dom, changed)
	}
	// The dominant leaves: the previous dominant takes over, even silent.
	s.d.Remove("b")
	if got := s.d.Speakers(); !slices.Equal(got, []string{"a"}) {
		t.Fatalf("Speakers() = %v, want [a]", got)
	}
	if dom, changed := s.d.Tick(simEpoch.Add(s.now)); dom != "a" || !changed {
		t.Fatalf("after removing b: %q, %v; want a, true", dom, changed)
	}
	// d speaks; a leaves: no one else was ever dominant, the loudest
	// takes over.
	s.ids = []string{"a", "d"}
	s.run(4200*time.Millisecond, nil) // too short for d to take over by itself
	s.d.Remove("a")
	s.d.Remove("nobody")
	if dom, changed := s.d.Tick(simEpoch.Add(s.now)); dom != "d" || !changed {
		t.Fatalf("after removing a: %q, %v; want d, true", dom, changed)
	}
	s.d.Remove("d")
	if dom, changed := s.d.Tick(simEpoch.Add(s.now)); dom != "" || !changed {
		t.Fatalf("after removing everyone: %q, %v; want \"\", true", dom, changed)
	}
	if got := s.d.Speakers(); len(got) != 0 {
		t.Fatalf("Speakers() = %v, want none", got)
	}
}

// Speakers orders by recency of dominance, and Tick reports each change
// once.
func TestSpeakerRecency(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	s := newSpeakerSim(9)
	s.add("a", mix(talk(rng, 0, 2*time.Second, 30, 40), talk(rng, 6*time.Second, 8*time.Second, 30, 40)))
	s.add("b", talk(rng, 2*time.Second, 4*time.Second, 30, 40))
	s.add("c", talk(rng, 4*time.Second, 6*time.Second, 30, 40))
	var changes []string
	s.run(8*time.Second, func(_ time.Duration, dom string, changed bool) {
		if changed {
			changes = append(changes, dom)
		}
	})
	if !slices.Equal(changes, []string{"a", "b", "c", "a"}) {
		t.Errorf("changes %v, want [a b c a]", changes)
	}
	if got := s.d.Speakers(); !slices.Equal(got, []string{"a", "c", "b"}) {
		t.Errorf("Speakers() = %v, want [a c b]", got)
	}
}

// Nobody making a sound: nobody is dominant.
func TestSpeakerNobody(t *testing.T) {
	d := NewSpeakerDetector()
	if dom, changed := d.Tick(simEpoch); dom != "" || changed {
		t.Fatalf("empty: %q, %v", dom, changed)
	}
	for i := range 100 {
		at := simEpoch.Add(time.Duration(i) * 20 * time.Millisecond)
		d.Level("a", SilenceLevel, at)
		d.Level("b", 0x80|SilenceLevel, at) // V flag set
		if dom, _ := d.Tick(at); dom != "" {
			t.Fatalf("silent participants: %q dominant", dom)
		}
	}
}

// Times before the first one seen, and far apart, do not upset it.
func TestSpeakerOddTimes(t *testing.T) {
	d := NewSpeakerDetector()
	d.Tick(simEpoch)
	for i := range 200 {
		d.Level("a", 30, simEpoch.Add(-10*time.Second+time.Duration(i)*20*time.Millisecond))
	}
	d.Tick(simEpoch.Add(-5 * time.Second))
	d.Level("a", 30, simEpoch.Add(time.Hour))
	d.Level("a", 30, simEpoch.Add(-time.Hour))
	d.Tick(simEpoch.Add(time.Hour))
}

// Publishers' packet paths and the ticker at once (run with -race).
func TestSpeakerConcurrent(t *testing.T) {
	d := NewSpeakerDetector()
	var wg sync.WaitGroup
	for g := range 4 {
		id := string(rune('a' + g))
		wg.Go(func() {
			for i := range 1000 {
				d.Level(id, uint8(30+g), simEpoch.Add(time.Duration(i)*20*time.Millisecond))
			}
			d.Remove(id)
		})
	}
	wg.Go(func() {
		for i := range 200 {
			d.Tick(simEpoch.Add(time.Duration(i) * 100 * time.Millisecond))
			_ = d.Speakers()
		}
	})
	wg.Wait()
}

func TestBandOf(t *testing.T) {
	tests := []struct {
		level uint8
		want  int
	}{
		{127, 0}, {100, 0}, {75, 0}, {74, 0}, {70, 1}, {60, 3}, {50, 5}, {45, 6}, {40, 7}, {30, 9}, {10, 13}, {0, 13},
		{0x80 | 45, 6}, // V flag
	}
	for _, tc := range tests {
		if got := bandOf(tc.level); got != tc.want {
			t.Errorf("bandOf(%d) = %d, want %d", tc.level, got, tc.want)
		}
	}
}

// The margins mean what their comments say: four active blocks pass the
// long margin and three do not, from any count; likewise two active slots
// for the medium one.
func TestActivityScoreMargins(t *testing.T) {
	for k := range longBlocks + 1 {
		for j := k; j <= longBlocks; j++ {
			d := activityScore(j, longBlocks, lambdaLong) - activityScore(k, longBlocks, lambdaLong)
			if (d > marginLong) != (j-k >= 4) {
				t.Errorf("long %d over %d: difference %.1f vs margin %.1f", j, k, d, marginLong)
			}
		}
	}
	for k := range blockSlots + 1 {
		for j := k; j <= blockSlots; j++ {
			d := activityScore(j, blockSlots, lambdaMedium) - activityScore(k, blockSlots, lambdaMedium)
			if (d > marginMedium) != (j-k >= 2) {
				t.Errorf("medium %d over %d: difference %.1f vs margin %.1f", j, k, d, marginMedium)
			}
		}
	}
	for k := range speakerBands {
		if activityScore(k+1, speakerBands, lambdaImmediate) <= activityScore(k, speakerBands, lambdaImmediate) {
			t.Errorf("immediate score not increasing at %d", k)
		}
	}
}

func BenchmarkSpeakerLevel(b *testing.B) {
	b.ReportAllocs()
	d := NewSpeakerDetector()
	ids := []string{"alice", "bob", "carol", "dave"}
	at := simEpoch
	for _, id := range ids {
		d.Level(id, 127, at)
	}
	i := 0
	for b.Loop() {
		d.Level(ids[i&3], uint8(i&127), at)
		i++
		if i&3 == 0 {
			at = at.Add(20 * time.Millisecond)
		}
	}
}

func BenchmarkSpeakerTick(b *testing.B) {
	b.ReportAllocs()
	d := NewSpeakerDetector()
	at := simEpoch
	for i := range 50 {
		d.Level(string(rune('A'+i)), 40, at)
	}
	for b.Loop() {
		at = at.Add(100 * time.Millisecond)
		d.Tick(at)
	}
}
