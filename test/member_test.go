package test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/parley/parley/client"
	"github.com/parley/parley/internal/media"
	"github.com/parley/parley/internal/synth"
	"github.com/parley/parley/protocol"
	"github.com/parley/parley/test/netsim"
)

// memberOpts says what a member publishes and how its downlink behaves.
type memberOpts struct {
	camera    bool // publish a camera
	simulcast bool // ... in three layers (180p, 360p, 720p)
	audio     bool // publish a microphone (silent until SetLevel)
	link      *netsim.Link
	// from dials signaling from this loopback address (127.0.0.x), which
	// the servers' site maps place in a region.
	from string
	// token and password go with the join.
	token, password string
	// lobby is closed when the join waits in the lobby.
	lobby chan struct{}
	// tune, when set, changes the client's configuration last.
	tune func(*client.Config)
}

// member is a Go client that logs every packet it receives, parsed.
type member struct {
	t    testing.TB
	name string
	s    *client.Session
	cam  *synth.Simulcast
	mic  *synth.Audio

	mu        sync.Mutex
	rx        map[string][]rxPacket // by source id
	ended     map[string]bool       // sources whose track ended
	ssrcs     map[string]uint32     // media SSRC by source id
	dominant  []speakerEvent
	forwarded map[string]int
	suspended []string // video the bridge holds back for the downlink estimate
	estimate  int
	msgs      []any // everything the server sent after the join
}

type rxPacket struct {
	at       time.Time
	seq      uint16
	ts       uint32
	size     int
	start    bool // first packet of a frame
	keyframe bool
	height   int // keyframes only
	picID    uint16
	tl0      uint8
	tid      uint8
	hasTID   bool
	missing  bool // a hole in the sequence (inSequence)
	padding  bool // no payload: the bridge probing the downlink
}

type speakerEvent struct {
	at time.Time
	id string
}

func joinMember(t testing.TB, ctx context.Context, url, room, name string, o memberOpts) *member {
	t.Helper()
	m, err := tryJoin(t, ctx, url, room, name, o)
	if err != nil {
		t.Fatalf("%s: join: %v", name, err)
	}
	return m
}

// tryJoin joins like joinMember but returns the join's error instead of
// failing the test.
func tryJoin(t testing.TB, ctx context.Context, url, room, name string, o memberOpts) (*member, error) {
	t.Helper()
	m := &member{t: t, name: name, rx: map[string][]rxPacket{}, ended: map[string]bool{}, ssrcs: map[string]uint32{}}
	cfg := client.Config{URL: url, Room: room, Name: name, Log: testLogger(t), OnTrack: m.onTrack, OnChannel: m.onChannel,
		Token: o.token, Password: o.password, OnMessage: m.onMessage}
	if o.lobby != nil {
		cfg.OnLobby = func() { close(o.lobby) }
	}
	var runs []func(context.Context)
	if o.camera {
		layers := synth.DefaultSimulcast()
		if !o.simulcast {
			layers = layers[1:2] // one 360p layer
		}
		cam, err := synth.NewSimulcast(name+"-camera", name, layers...)
		if err != nil {
			t.Fatal(err)
		}
		m.cam = cam
		cfg.Publish = append(cfg.Publish, client.Publication{Source: protocol.SourceVideo, Tracks: cam.Tracks(), OnLayers: cam.SetLayers})
		runs = append(runs, cam.Run)
	}
	if o.audio {
		mic, err := synth.NewAudio(name+"-mic", name, 0)
		if err != nil {
			t.Fatal(err)
		}
		m.mic = mic
		cfg.Publish = append(cfg.Publish, client.Publication{Source: protocol.SourceAudio, Tracks: []webrtc.TrackLocal{mic}})
		runs = append(runs, mic.Run)
	}
	if o.link != nil {
		n, err := netsim.NewNet(o.link)
		if err != nil {
			t.Fatal(err)
		}
		se := client.DefaultSettingEngine(testLogger(t))
		se.SetNet(n)
		cfg.SettingEngine = se
	}
	if o.from != "" {
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(o.from)}}
		cfg.HTTPClient = &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
	}
	if o.tune != nil {
		o.tune(&cfg)
	}
	s, err := client.Join(ctx, cfg)
	if err != nil {
		return nil, err
	}
	m.attach(t, s, runs)
	return m, nil
}

func (m *member) onMessage(msg any) {
	m.mu.Lock()
	m.msgs = append(m.msgs, msg)
	m.mu.Unlock()
}

// received returns the messages of type T the server sent.
func received[T any](m *member) []T {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []T
	for _, x := range m.msgs {
		if v, ok := x.(T); ok {
			out = append(out, v)
		}
	}
	return out
}

func (m *member) attach(t testing.TB, s *client.Session, runs []func(context.Context)) {
	m.s = s
	sctx, cancel := context.WithCancel(context.Background())
	for _, run := range runs {
		go run(sctx)
	}
	t.Cleanup(func() {
		cancel()
		s.Close()
	})
}

func (m *member) onChannel(msg any) {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch msg := msg.(type) {
	case *protocol.DominantSpeaker:
		m.dominant = append(m.dominant, speakerEvent{at: time.Now(), id: msg.ID})
	case *protocol.ForwardedSources:
		m.forwarded = msg.Sources
		m.suspended = msg.Suspended
	case *protocol.Bandwidth:
		m.estimate = msg.Estimate
	}
}

func (m *member) onTrack(rt *client.RemoteTrack) {
	m.mu.Lock()
	m.ssrcs[rt.Source] = uint32(rt.Track.SSRC())
	m.mu.Unlock()
	video := rt.Track.Kind() == webrtc.RTPCodecTypeVideo
	buf := make([]byte, 1500)
	var pkt rtp.Packet
	var d media.VP8Descriptor
	for {
		n, _, err := rt.Track.Read(buf)
		if err != nil {
			m.mu.Lock()
			m.ended[rt.Source] = true
			m.mu.Unlock()
			return
		}
		if pkt.Unmarshal(buf[:n]) != nil {
			continue
		}
		r := rxPacket{at: time.Now(), seq: pkt.SequenceNumber, ts: pkt.Timestamp, size: n, padding: len(pkt.Payload) == 0}
		if video && !r.padding && media.ParseVP8(pkt.Payload, &d) == nil {
			r.start = d.Start && d.PartitionID == 0
			r.keyframe = r.start && media.IsVP8Keyframe(pkt.Payload)
			if r.keyframe && len(pkt.Payload) >= d.Size+10 {
				r.height = int(uint16(pkt.Payload[d.Size+8]) | uint16(pkt.Payload[d.Size+9])<<8&0x3fff)
			}
			r.picID, r.tl0, r.tid, r.hasTID = d.PictureID, d.TL0PICIDX, d.TID, d.HasTID
		}
		m.mu.Lock()
		m.rx[rt.Source] = append(m.rx[rt.Source], r)
		m.mu.Unlock()
	}
}

// since returns the packets of a source received at or after t0.
func (m *member) since(source string, t0 time.Time) []rxPacket {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []rxPacket
	for _, r := range m.rx[source] {
		if !r.at.Before(t0) {
			out = append(out, r)
		}
	}
	return out
}

// count is how many packets of a participant's source ("audio", "video")
// arrived.
func (m *member) count(participant, kind string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.rx[protocol.SourceID(participant, kind)])
}

// heldBack reports whether the bridge last said it suspends source for
// this member's downlink estimate, and the estimate.
func (m *member) heldBack(source string) (bool, int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Contains(m.suspended, source), m.estimate
}

// state says, for a failure message, what a member knows of a source: if
// its track arrived, what the bridge last said it forwards and the
// downlink estimate.
func (m *member) state(source string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	track := "no track"
	if _, ok := m.ssrcs[source]; ok {
		track = "track arrived"
	}
	fwd := "not forwarded"
	if h, ok := m.forwarded[source]; ok {
		fwd = fmt.Sprintf("forwarded at %dp", h)
	}
	if m.forwarded == nil {
		fwd = "no forwarded-sources message"
	}
	return fmt.Sprintf("%s, %s, estimate %d bit/s", track, fwd, m.estimate)
}

// hasEnded reports whether the track of a participant's source ended.
func (m *member) hasEnded(participant, kind string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.ended[protocol.SourceID(participant, kind)]
}

// lastPacket is when the last packet of a participant's source arrived.
func (m *member) lastPacket(participant, kind string) time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	rx := m.rx[protocol.SourceID(participant, kind)]
	if len(rx) == 0 {
		return time.Time{}
	}
	return rx[len(rx)-1].at
}

// firstAfter is when the first packet of a participant's source arrived
// after t (zero if none has).
func (m *member) firstAfter(participant, kind string, t time.Time) time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range m.rx[protocol.SourceID(participant, kind)] {
		if r.at.After(t) {
			return r.at
		}
	}
	return time.Time{}
}

// lastHeight is the height of the last keyframe received from a source.
func (m *member) lastHeight(source string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	rx := m.rx[source]
	for i := len(rx) - 1; i >= 0; i-- {
		if rx[i].keyframe {
			return rx[i].height
		}
	}
	return 0
}

func (m *member) dominantSpeaker() (string, time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.dominant) == 0 {
		return "", time.Time{}
	}
	e := m.dominant[len(m.dominant)-1]
	return e.id, e.at
}

func (m *member) constrain(t testing.TB, ctx context.Context, c protocol.Constraints) {
	t.Helper()
	if err := m.s.WaitChannel(ctx); err != nil {
		t.Fatal(err)
	}
	if err := m.s.SendConstraints(c); err != nil {
		t.Fatal(err)
	}
}
