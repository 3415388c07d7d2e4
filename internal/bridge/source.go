package bridge

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/parley/parley/internal/media"
	"github.com/parley/parley/protocol"
)

// maxLayers is the most simulcast layers a source has.
const maxLayers = 3

// Nominal layer sizes, used until a layer's own figures are measured.
var (
	nominalHeight  = [maxLayers]int{180, 360, 720}
	nominalBitrate = [maxLayers]int{150_000, 500_000, 1_700_000}
)

const (
	screenBitrate = 1_500_000
	audioBitrate  = 40_000
	// layerStall is how long a layer may send nothing before allocation
	// stops counting on it (unless we suspended it ourselves).
	layerStall = 2 * time.Second
	// suspendAfter is how long a layer must be unwanted before its publisher
	// is told to stop encoding it.
	suspendAfter = 3 * time.Second
)

// source is one published media source of a participant: a microphone, a
// camera (with up to three simulcast layers) or a screen share. Each layer
// arrives as its own upTrack; every subscriber gets one downTrack per source
// and chooses among the layers.
type source struct {
	id      string // protocol.SourceID(owner, kind)
	kind    string // protocol.SourceAudio, SourceVideo or SourceScreen
	owner   *endpoint
	isVideo bool
	codec   webrtc.RTPCodecCapability

	mu     sync.Mutex
	layers [maxLayers]*upTrack
	ended  bool
	// Publisher-side suspension: what the publisher was last told, and
	// since when each layer has had no receiver.
	told        [maxLayers]bool
	unusedSince [maxLayers]time.Time

	downsMu sync.Mutex
	downs   atomic.Pointer[[]*downTrack] // copy on write: read per packet without a lock

	gate media.SilenceGate // audio only; used by the one audio read loop
}

func newSource(owner *endpoint, kind string, codec webrtc.RTPCodecCapability) *source {
	s := &source{
		id:      protocol.SourceID(owner.id, kind),
		kind:    kind,
		owner:   owner,
		isVideo: kind != protocol.SourceAudio,
		codec:   codec,
		told:    [maxLayers]bool{true, true, true},
	}
	empty := []*downTrack{}
	s.downs.Store(&empty)
	return s
}

func (s *source) layer(i int) *upTrack {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.layers[i]
}

// addLayer attaches an upTrack; it returns false if the layer was taken.
func (s *source) addLayer(u *upTrack) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended || s.layers[u.layer] != nil {
		return false
	}
	s.layers[u.layer] = u
	return true
}

// removeLayer detaches an upTrack and reports whether the source has no
// layers left.
func (s *source) removeLayer(u *upTrack) (empty bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.layers[u.layer] == u {
		s.layers[u.layer] = nil
	}
	for _, l := range s.layers {
		if l != nil {
			return false
		}
	}
	s.ended = true
	return true
}

func (s *source) stop() {
	s.mu.Lock()
	s.ended = true
	layers := s.layers
	s.mu.Unlock()
	for _, l := range layers {
		if l != nil {
			l.stop()
		}
	}
}

func (s *source) addDown(d *downTrack) {
	s.downsMu.Lock()
	defer s.downsMu.Unlock()
	old := *s.downs.Load()
	next := make([]*downTrack, len(old), len(old)+1)
	copy(next, old)
	next = append(next, d)
	s.downs.Store(&next)
}

func (s *source) removeDown(d *downTrack) {
	s.downsMu.Lock()
	defer s.downsMu.Unlock()
	old := *s.downs.Load()
	next := make([]*downTrack, 0, len(old))
	for _, x := range old {
		if x != d {
			next = append(next, x)
		}
	}
	s.downs.Store(&next)
}

// requestKeyframe asks the publisher for a keyframe on one layer.
func (s *source) requestKeyframe(layer int) {
	if layer < 0 || layer >= maxLayers {
		return
	}
	if u := s.layer(layer); u != nil {
		u.requestKeyframe()
	}
}

// mediaSource describes the source for allocation: its layers' heights and
// bitrates as measured (nominal until measured), and whether each can be
// sent (present and not stalled, or suspended by us, which we can undo).
func (s *source) mediaSource(now time.Time) media.Source {
	s.mu.Lock()
	defer s.mu.Unlock()
	ms := media.Source{ID: s.id, Owner: s.owner.id, Screen: s.kind == protocol.SourceScreen}
	top := -1
	for i, l := range s.layers {
		if l != nil {
			top = i
		}
	}
	for i := 0; i <= top; i++ {
		l := s.layers[i]
		layer := media.Layer{Height: nominalHeight[i], Bitrate: nominalBitrate[i]}
		if ms.Screen {
			layer.Bitrate = screenBitrate
		}
		if l != nil {
			if h := int(l.height.Load()); h > 0 {
				layer.Height = h
			}
			if r := int(l.rate.Load()); r > 0 && s.told[i] {
				layer.Bitrate = r
			}
			layer.Active = !s.told[i] || now.Sub(l.lastPacketTime()) < layerStall
		}
		ms.Layers = append(ms.Layers, layer)
	}
	return ms
}

// updateSuspension compares which layers somebody receives (wanted) with
// what the publisher was told, and returns the new state to tell it, or nil
// when nothing changes. Layers are resumed at once and suspended only after
// suspendAfter without a receiver.
func (s *source) updateSuspension(wanted [maxLayers]bool, now time.Time) []bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	changed := false
	for i := range maxLayers {
		if s.layers[i] == nil {
			continue
		}
		switch {
		case wanted[i]:
			s.unusedSince[i] = time.Time{}
			if !s.told[i] {
				s.told[i] = true
				changed = true
			}
		case s.told[i]:
			if s.unusedSince[i].IsZero() {
				s.unusedSince[i] = now
			} else if now.Sub(s.unusedSince[i]) >= suspendAfter {
				s.told[i] = false
				changed = true
			}
		}
	}
	if !changed {
		return nil
	}
	return append([]bool(nil), s.told[:]...)
}
