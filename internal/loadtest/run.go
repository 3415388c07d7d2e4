// Package loadtest runs synthetic meetings against a Parley server and
// measures them: joins and join time, packets and bitrate received, loss
// before and after retransmission, end-to-end latency, freezes, errors, and
// from the server's /metrics its CPU time per forwarded packet and its
// memory. Participants are Go clients publishing synthetic VP8 simulcast
// and Opus-sized audio (internal/synth) whose every packet carries its
// send time. The receive loop allocates nothing per packet and keeps
// fixed-size state per track, so thousands of tracks fit in one process.
package loadtest

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Timeouts of a run.
const (
	joinTimeout = 30 * time.Second
	// settleTimeout bounds the wait, after the last join, for everyone to
	// receive media before the measured phase starts.
	settleTimeout = 10 * time.Second
	// readersTimeout bounds the wait for receive loops after leaving.
	readersTimeout = 10 * time.Second
	// leaveParallel is how many participants leave at once.
	leaveParallel = 64
	// progressEvery is the interval between progress lines.
	progressEvery = 2 * time.Second
)

// run is one load test in progress.
type run struct {
	cfg  Config
	log  *slog.Logger
	base time.Time // origin of the monotonic clock the receive loops use

	ph                       atomic.Int32
	measureStart, measureEnd atomic.Int64 // ns since base

	// bg owns the goroutines participants start (media, watchers); stop
	// ends them and tasks waits for the tracked ones.
	bg    context.Context
	stop  context.CancelFunc
	tasks sync.WaitGroup

	readers       sync.WaitGroup // receive loops
	readersClosed bool           // guarded by mu: no more receive loops

	participants []*participant

	attempted, succeeded, failed atomic.Int32

	mu      sync.Mutex // guards what follows
	kinds   [numKinds]kindTotals
	freezes FreezeDetector
	errs    errorLog
}

// kindTotals sums the tracks of one kind.
type kindTotals struct {
	tracks  int
	packets uint64
	bytes   uint64
	loss    LossCounts
	latency Histogram
}

func (r *run) phase() phase { return phase(r.ph.Load()) }

func (r *run) setPhase(ph phase) { r.ph.Store(int32(ph)) }

// spawn runs f on a goroutine that bg stops and tasks waits for.
func (r *run) spawn(f func(context.Context)) {
	r.tasks.Add(1)
	go func() {
		defer r.tasks.Done()
		f(r.bg)
	}()
}

// Run joins the participants cfg describes at its join rate, waits for
// media to flow, measures for cfg.Duration, and leaves. Cancelling ctx
// ends it early; the report then covers what was measured and says it was
// interrupted. The error is for a run that could not start at all.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := reachable(ctx, cfg.URL); err != nil {
		return nil, err
	}
	r := &run{cfg: cfg, log: log, base: time.Now()}
	r.bg, r.stop = context.WithCancel(context.Background())
	defer r.stop()
	r.plan()

	rep := &Report{Config: reportConfig(cfg), StartedAt: r.base.UTC()}
	var m metricsProbe
	if cfg.MetricsURL != "" {
		m.url = cfg.MetricsURL
		m.idle = m.scrape(ctx)
	}

	progressDone := make(chan struct{})
	pctx, stopProgress := context.WithCancel(ctx)
	go func() {
		defer close(progressDone)
		r.progress(pctx)
	}()

	r.joinAll(ctx)
	r.settle(ctx)
	r.setPhase(phaseWarmup)
	select { // let bandwidth estimates and layers ramp up
	case <-ctx.Done():
	case <-time.After(cfg.Warmup):
	}

	var cpu0, cpu1 time.Duration
	var t0, t1 time.Time
	if ctx.Err() == nil {
		m.before = m.scrape(ctx)
		cpu0, t0 = processCPU(), time.Now()
		r.measureStart.Store(t0.Sub(r.base).Nanoseconds())
		r.setPhase(phaseMeasuring)
		select {
		case <-ctx.Done():
		case <-time.After(cfg.Duration):
		}
		t1 = time.Now()
		cpu1 = processCPU()
		r.measureEnd.Store(t1.Sub(r.base).Nanoseconds())
		r.setPhase(phaseDraining)
		m.after = m.scrape(context.WithoutCancel(ctx))
		select { // let retransmissions fill the last holes
		case <-ctx.Done():
		case <-time.After(RepairWait):
		}
	}
	rep.Interrupted = ctx.Err() != nil
	stopProgress()
	<-progressDone

	r.setPhase(phaseDone)
	r.leaveAll()
	r.stop()
	r.tasks.Wait()
	r.waitReaders()

	r.fill(rep, t1.Sub(t0), cpu1-cpu0, &m)
	return rep, nil
}

// reachable checks that the server answers HTTP at all, so that a server
// that is not running is one clear error rather than a failed join per
// participant.
func reachable(ctx context.Context, raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrUnreachable, err)
	}
	switch u.Scheme {
	case "ws":
		u.Scheme = "http"
	case "wss":
		u.Scheme = "https"
	}
	u.Path = strings.TrimSuffix(strings.TrimSuffix(u.Path, "/"), "/ws") + "/healthz"
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrUnreachable, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("%w at %s (is parley serve running?): %v", ErrUnreachable, raw, err)
	}
	resp.Body.Close()
	return nil
}

// plan makes the rooms and participants, in the order they join: every
// room's publishers first, so that subscribers have something to receive,
// then the subscribers of all rooms shuffled.
func (r *run) plan() {
	c := r.cfg
	rng := rand.New(rand.NewPCG(uint64(c.Seed), 0x9e3779b97f4a7c15))
	var subs []*participant
	for i := range c.Rooms {
		rm := newRoom(fmt.Sprintf("%s-%d", c.RoomPrefix, i+1), c.VideoPublishers)
		add := func(ro role, n int) []*participant {
			var out []*participant
			for j := range n {
				out = append(out, &participant{
					run: r, room: rm, role: ro, name: fmt.Sprintf("%s-%d", ro, j+1),
					level: uint8(40 + rng.IntN(11)),
				})
			}
			return out
		}
		r.participants = append(r.participants, add(videoPublisher, c.VideoPublishers)...)
		r.participants = append(r.participants, add(audioPublisher, c.AudioPublishers)...)
		subs = append(subs, add(subscriber, c.Subscribers)...)
	}
	rng.Shuffle(len(subs), func(i, j int) { subs[i], subs[j] = subs[j], subs[i] })
	r.participants = append(r.participants, subs...)
}

// joinAll starts the joins at the configured rate and waits for them all.
// Subscribers start once every publisher's join has ended, so that their
// join time measures joining, not waiting for someone to publish.
func (r *run) joinAll(ctx context.Context) {
	var pubs, subs []*participant
	for _, p := range r.participants {
		if p.role == subscriber {
			subs = append(subs, p)
		} else {
			pubs = append(pubs, p)
		}
	}
	r.joinAtRate(ctx, pubs)
	r.joinAtRate(ctx, subs)
}

// joinAtRate joins ps at the configured rate and waits for their joins.
func (r *run) joinAtRate(ctx context.Context, ps []*participant) {
	interval := time.Duration(float64(time.Second) / r.cfg.JoinRate)
	start := time.Now()
	var wg sync.WaitGroup
	for i, p := range ps {
		if wait := time.Until(start.Add(time.Duration(i) * interval)); wait > 0 {
			select {
			case <-ctx.Done():
			case <-time.After(wait):
			}
		}
		if ctx.Err() != nil {
			// Joins not started count as neither attempted nor failed.
			if p.role == videoPublisher {
				p.room.videoJoined("")
			}
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			jctx, cancel := context.WithTimeout(ctx, joinTimeout)
			defer cancel()
			err := p.join(jctx)
			switch {
			case err == nil:
				r.attempted.Add(1)
				r.succeeded.Add(1)
			case ctx.Err() != nil:
				// Interrupted: neither attempted nor failed.
			default:
				r.attempted.Add(1)
				r.failed.Add(1)
				r.errorf(errJoin, "join: %v", err)
			}
		}()
	}
	wg.Wait()
}

// settle waits until everyone who has something to receive received it.
func (r *run) settle(ctx context.Context) {
	deadline := time.Now().Add(settleTimeout)
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for time.Now().Before(deadline) {
		if !slices.ContainsFunc(r.participants, (*participant).noMediaYet) {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
	for _, p := range r.participants {
		if p.noMediaYet() {
			r.log.Warn("no media yet", "participant", p.s.ID(), "name", p.String(), "waited", settleTimeout)
		}
	}
}

// leaveAll makes every participant leave, several at a time.
func (r *run) leaveAll() {
	sem := make(chan struct{}, leaveParallel)
	var wg sync.WaitGroup
	for _, p := range r.participants {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			p.leave()
		}()
	}
	wg.Wait()
}

// startReader counts a receive loop in, unless the run no longer takes
// them.
func (r *run) startReader() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.readersClosed {
		return false
	}
	r.readers.Add(1)
	return true
}

// waitReaders waits for the receive loops to add their figures.
func (r *run) waitReaders() {
	r.mu.Lock()
	r.readersClosed = true
	r.mu.Unlock()
	done := make(chan struct{})
	go func() {
		r.readers.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(readersTimeout):
		r.log.Warn("receive loops still running after leaving; their figures are missing")
	}
}

// addTrack adds a finished track's figures to the run's.
func (r *run) addTrack(t *trackStats) {
	ph := r.phase()
	end := time.Since(r.base).Nanoseconds()
	if ph >= phaseDraining {
		end = r.measureEnd.Load()
	}
	if !t.finish(end, ph) {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	k := &r.kinds[t.kind]
	if t.packets > 0 {
		k.tracks++
	}
	k.packets += t.packets
	k.bytes += t.bytes
	k.loss.Add(t.lossCounts())
	k.latency.Merge(&t.latency)
	r.freezes.Count += t.freeze.Count
	r.freezes.Total += t.freeze.Total
}

// rx sums what every track received so far, for progress lines.
func (r *run) rx() (packets, bytes uint64) {
	for _, p := range r.participants {
		p.mu.Lock()
		for _, t := range p.tracks {
			packets += t.rxPackets.Load()
			bytes += t.rxBytes.Load()
		}
		p.mu.Unlock()
	}
	return packets, bytes
}
