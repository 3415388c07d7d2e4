package loadtest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/parley/parley/client"
	"github.com/parley/parley/internal/synth"
	"github.com/parley/parley/protocol"
)

// role is what a participant does.
type role int

const (
	videoPublisher role = iota // camera and microphone
	audioPublisher             // microphone only
	subscriber                 // receives only
)

func (r role) String() string {
	return [...]string{"video", "audio", "sub"}[r]
}

// room is one room of the test and what its participants share.
type room struct {
	name string
	// publishers counts publishers admitted so far: a participant who
	// starts joining after one has something to receive.
	publishers atomic.Int32

	// stage is the source id of the room's first video publisher admitted,
	// known once stageSet is closed ("" if none was).
	stage      string
	stageSet   chan struct{}
	stageOnce  sync.Once
	videoJoins atomic.Int32 // video publishers yet to finish joining
}

func newRoom(name string, videoPublishers int) *room {
	r := &room{name: name, stageSet: make(chan struct{})}
	r.videoJoins.Store(int32(videoPublishers))
	if videoPublishers == 0 {
		r.setStage("")
	}
	return r
}

func (r *room) setStage(source string) {
	r.stageOnce.Do(func() {
		r.stage = source
		close(r.stageSet)
	})
}

// videoJoined is called when a video publisher's join ends; source is its
// camera's source id, "" if the join failed.
func (r *room) videoJoined(source string) {
	if source != "" {
		r.setStage(source)
	}
	if r.videoJoins.Add(-1) == 0 {
		r.setStage("")
	}
}

// participant is one synthetic participant.
type participant struct {
	run   *run
	room  *room
	role  role
	name  string
	level uint8 // speaking level of its microphone, -dBov

	expectMedia bool // someone was publishing when it started joining
	joinStart   time.Time
	firstMedia  atomic.Int64 // Unix ns of the first media packet; 0 before
	joined      bool         // admitted; set by the join goroutine
	s           *client.Session
	stopMedia   context.CancelFunc

	mu        sync.Mutex
	tracks    []*trackStats
	forwarded map[string]uint32 // source id → forwarding period
	period    uint32
}

// join admits the participant and starts its media; the returned error is
// the join's failure.
func (p *participant) join(ctx context.Context) error {
	r := p.run
	cfg := client.Config{
		URL: r.cfg.URL, Room: p.room.name, Name: p.name, Log: r.log,
		OnTrack: p.receive, OnChannel: p.onChannel,
	}
	var runs []func(context.Context)
	if p.role == videoPublisher {
		cam, err := synth.NewSimulcast(p.name+"-camera", p.name, cameraLayers(r.cfg.Height, r.cfg.Simulcast)...)
		if err != nil {
			return err
		}
		cfg.Publish = append(cfg.Publish, client.Publication{Source: protocol.SourceVideo, Tracks: cam.Tracks(), OnLayers: cam.SetLayers})
		runs = append(runs, cam.Run)
	}
	if p.role != subscriber {
		mic, err := synth.NewAudio(p.name+"-mic", p.name, 0)
		if err != nil {
			return err
		}
		mic.SetLevel(p.level) // the bridge drops silence
		cfg.Publish = append(cfg.Publish, client.Publication{Source: protocol.SourceAudio, Tracks: []webrtc.TrackLocal{mic}})
		runs = append(runs, mic.Run)
	}
	p.expectMedia = p.room.publishers.Load() > 0
	p.joinStart = time.Now()
	s, err := client.Join(ctx, cfg)
	if p.role == videoPublisher {
		src := ""
		if err == nil {
			src = protocol.SourceID(s.ID(), protocol.SourceVideo)
		}
		p.room.videoJoined(src)
	}
	if err != nil {
		return err
	}
	p.s, p.joined = s, true
	if p.role != subscriber {
		p.room.publishers.Add(1)
	}
	mctx, cancel := context.WithCancel(r.bg)
	p.stopMedia = cancel
	for _, run := range runs {
		go run(mctx)
	}
	r.spawn(p.watch)
	r.spawn(p.constrain)
	return nil
}

// cameraLayers are the layers of a camera up to height, lowest first, as
// browsers send them (synth.DefaultSimulcast).
func cameraLayers(height int, simulcast bool) []synth.VideoConfig {
	layers := synth.DefaultSimulcast() // 180p, 360p, 720p
	n := 1
	for n < len(layers) && layers[n-1].Height < height {
		n++
	}
	if !simulcast {
		return layers[n-1 : n]
	}
	return layers[:n]
}

// watch reports the session ending before the test ends it.
func (p *participant) watch(ctx context.Context) {
	select {
	case <-ctx.Done():
	case <-p.s.Done():
		if p.run.phase() < phaseDone {
			why := "closed by the server"
			if err := p.s.Err(); err != nil {
				why = err.Error()
			} else if reason := p.s.ClosedReason(); reason != "" {
				why = "closed by the server: " + reason
			}
			p.run.errorf(errSession, "session ended: %s", why)
		}
	}
}

// constrain tells the bridge, once its channel is open, which layers the
// participant's layout wants.
func (p *participant) constrain(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	err := p.s.WaitChannel(ctx)
	if err == nil {
		select {
		case <-p.room.stageSet:
		case <-ctx.Done():
			err = ctx.Err()
		}
	}
	if err == nil {
		err = p.s.SendConstraints(constraints(p.run.cfg.Layout, p.room.stage, p.run.cfg.Height))
	}
	if err != nil && !errors.Is(err, client.ErrClosed) && p.run.phase() < phaseDone {
		p.run.errorf(errConstraints, "send constraints: %v", err)
	}
}

// constraints are what a receiver in layout asks for: the speaker view
// puts stage (a source id, "" for none) on stage at height and the rest at
// 180p; the grid view everyone at 180p.
func constraints(l Layout, stage string, height int) protocol.Constraints {
	c := protocol.Constraints{LastN: -1, DefaultMaxHeight: 180}
	if l == Speaker && stage != "" {
		c.OnStage = []string{stage}
		c.MaxHeight = map[string]int{stage: height}
	}
	return c
}

// onChannel follows which sources the bridge forwards: a source keeps its
// forwarding period while it stays forwarded and gets a new one when it
// comes back, so that a gap while it was not forwarded is no freeze.
func (p *participant) onChannel(msg any) {
	fs, ok := msg.(*protocol.ForwardedSources)
	if !ok {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	next := make(map[string]uint32, len(fs.Sources))
	for src, h := range fs.Sources {
		if h <= 0 {
			continue
		}
		if per, ok := p.forwarded[src]; ok {
			next[src] = per
		} else {
			p.period++
			next[src] = p.period
		}
	}
	p.forwarded = next
	for _, t := range p.tracks {
		t.forwarding.Store(next[t.source])
	}
}

// receive reads one forwarded track until it ends (the publisher left or
// the session closed) and adds its figures to the run's.
func (p *participant) receive(rt *client.RemoteTrack) {
	r := p.run
	if !r.startReader() {
		return
	}
	defer r.readers.Done()
	t := &trackStats{kind: kindAudio, source: rt.Source}
	if rt.Track.Kind() == webrtc.RTPCodecTypeVideo {
		t.kind = kindVideo
	}
	p.mu.Lock()
	t.forwarding.Store(p.forwarded[t.source])
	p.tracks = append(p.tracks, t)
	p.mu.Unlock()

	buf := make([]byte, 1500)
	for {
		n, _, err := rt.Track.Read(buf)
		if err != nil {
			break
		}
		now := time.Now()
		if t.packet(buf[:n], now, now.Sub(r.base).Nanoseconds(), r.phase()) && p.firstMedia.Load() == 0 {
			p.firstMedia.CompareAndSwap(0, now.UnixNano())
		}
	}
	r.addTrack(t)
}

// noMediaYet reports whether the participant was admitted with something
// to receive and has received nothing so far.
func (p *participant) noMediaYet() bool {
	return p.joined && p.expectMedia && p.firstMedia.Load() == 0
}

// joinTime is how long the participant took from starting to join to its
// first media packet, if it had something to receive and received it.
func (p *participant) joinTime() (time.Duration, bool) {
	first := p.firstMedia.Load()
	if !p.joined || !p.expectMedia || first == 0 {
		return 0, false
	}
	return time.Unix(0, first).Sub(p.joinStart), true
}

// leave ends the participant's media and session.
func (p *participant) leave() {
	if !p.joined {
		return
	}
	p.stopMedia()
	p.s.Leave()
}

func (p *participant) String() string { return fmt.Sprintf("%s/%s", p.room.name, p.name) }
