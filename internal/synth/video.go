package synth

import (
	"context"
	"encoding/binary"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// VideoConfig shapes a synthetic VP8 stream.
type VideoConfig struct {
	Width, Height int
	FPS           int
	// Bitrate in bits per second.
	Bitrate int
	// KeyframeInterval is the time between periodic keyframes.
	KeyframeInterval time.Duration
	// RID names the simulcast layer the track carries ("" for none).
	RID string
	// TemporalLayers is 1 (none) or 3: frames then follow the L1T3 pattern
	// (temporal ids 0, 2, 1, 2) with TL0PICIDX, as browsers send VP8.
	TemporalLayers int
}

func (c *VideoConfig) defaults() {
	if c.Width == 0 {
		c.Width, c.Height = 640, 360
	}
	if c.FPS == 0 {
		c.FPS = 30
	}
	if c.Bitrate == 0 {
		c.Bitrate = 500_000
	}
	if c.KeyframeInterval == 0 {
		c.KeyframeInterval = 3 * time.Second
	}
}

// Video is a synthetic VP8 track to publish with the Go client.
type Video struct {
	binding
	id, streamID string
	cfg          VideoConfig
	active       atomic.Bool
	keyframe     atomic.Bool
	tl0          uint8
	frames       atomic.Uint64
	keyframes    atomic.Uint64
	pictureID    uint16
	seq          uint16
	timestamp    uint32
	lastKey      time.Time
	payloadBuf   []byte
}

// NewVideo makes a video track with the given track and stream ids.
func NewVideo(id, streamID string, cfg VideoConfig) (*Video, error) {
	cfg.defaults()
	v := &Video{binding: binding{mime: webrtc.MimeTypeVP8}, id: id, streamID: streamID, cfg: cfg, payloadBuf: make([]byte, maxPayload)}
	if cfg.RID != "" {
		v.rid = []byte(cfg.RID)
	}
	v.keyframe.Store(true)
	v.active.Store(true)
	return v, nil
}

// ID, StreamID, RID and Kind describe the track (webrtc.TrackLocal).
func (v *Video) ID() string                { return v.id }
func (v *Video) StreamID() string          { return v.streamID }
func (v *Video) RID() string               { return v.cfg.RID }
func (v *Video) Kind() webrtc.RTPCodecType { return webrtc.RTPCodecTypeVideo }

// SetActive starts or stops sending (a publisher told to suspend a layer).
// Resuming starts with a keyframe.
func (v *Video) SetActive(on bool) {
	if on && !v.active.Load() {
		v.keyframe.Store(true)
	}
	v.active.Store(on)
}

// RequestKeyframe makes the next frame a keyframe.
func (v *Video) RequestKeyframe() { v.keyframe.Store(true) }

// Frames and Keyframes count what was sent.
func (v *Video) Frames() uint64    { return v.frames.Load() }
func (v *Video) Keyframes() uint64 { return v.keyframes.Load() }

// Run sends frames until ctx ends.
func (v *Video) Run(ctx context.Context) {
	interval := time.Second / time.Duration(v.cfg.FPS)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if v.active.Load() {
			v.sendFrame(time.Now())
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (v *Video) sendFrame(now time.Time) {
	key := v.keyframe.Swap(false) || now.Sub(v.lastKey) >= v.cfg.KeyframeInterval
	size := v.cfg.Bitrate / 8 / v.cfg.FPS
	if key {
		size *= 3
		v.lastKey = now
		v.keyframes.Add(1)
	}
	n := v.frames.Add(1)
	v.pictureID = (v.pictureID + 1) & 0x7fff
	v.timestamp += uint32(90000 / v.cfg.FPS)
	temporal := v.cfg.TemporalLayers == 3
	var tid uint8
	if temporal {
		if key {
			v.tl0++ // a keyframe restarts the pattern
			n = 0
		}
		tid = [4]uint8{0, 2, 1, 2}[n%4]
		if tid == 0 && !key {
			v.tl0++
		}
	}
	descSize := 4
	if temporal {
		descSize = 6
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	for first := true; size > 0 || first; first = false {
		body := min(size, maxPayload-descSize)
		if body < TrailerSize+10 {
			body = TrailerSize + 10
		}
		size -= body
		p := v.payloadBuf[:descSize+body]
		p[0] = 0x80 // X: extensions present
		if first {
			p[0] |= 0x10 // S: start of partition 0
		}
		p[1] = 0x80 // I: picture ID present
		p[2] = 0x80 | byte(v.pictureID>>8)
		p[3] = byte(v.pictureID)
		if temporal {
			p[1] |= 0x40 | 0x20 // L and T: TL0PICIDX and TID present
			p[4] = v.tl0
			p[5] = tid << 6
			if tid > 0 {
				p[5] |= 0x20 // Y: every upper-layer frame here depends only on TL0
			}
		}
		b := p[descSize:]
		for i := range b {
			b[i] = byte(i)
		}
		if first {
			writeFrameHeader(b, key, v.cfg.Width, v.cfg.Height)
		}
		putTrailer(p, now)
		v.seq++
		v.write(rtp.Header{Version: 2, Marker: size <= 0, SequenceNumber: v.seq, Timestamp: v.timestamp}, p, nil)
	}
}

// writeFrameHeader writes the VP8 frame tag (RFC 6386 section 9.1) and, for
// keyframes, the start code and dimensions.
func writeFrameHeader(b []byte, key bool, w, h int) {
	const firstPartSize = 100
	tag := uint32(firstPartSize)<<5 | 1<<4 // show_frame
	if !key {
		tag |= 1
	}
	b[0], b[1], b[2] = byte(tag), byte(tag>>8), byte(tag>>16)
	if key {
		b[3], b[4], b[5] = 0x9d, 0x01, 0x2a
		binary.LittleEndian.PutUint16(b[6:], uint16(w&0x3fff))
		binary.LittleEndian.PutUint16(b[8:], uint16(h&0x3fff))
	}
}

// Simulcast is a camera sending several layers at once, one Video each,
// lowest first, with RIDs q, h and f.
type Simulcast struct {
	Layers []*Video
}

// NewSimulcast makes one Video per config (lowest first); all share the
// track and stream ids and get the RIDs q, h and f. One config makes a
// camera without simulcast: one layer, without RID.
func NewSimulcast(id, streamID string, layers ...VideoConfig) (*Simulcast, error) {
	rids := []string{"q", "h", "f"}
	s := &Simulcast{}
	for i, cfg := range layers {
		if len(layers) > 1 {
			cfg.RID = rids[i]
		}
		v, err := NewVideo(id, streamID, cfg)
		if err != nil {
			return nil, err
		}
		s.Layers = append(s.Layers, v)
	}
	return s, nil
}

// DefaultSimulcast returns the three layers of a 720p camera as browsers
// send them: 180p at 150 kbit/s, 360p at 500 kbit/s, 720p at 1.7 Mbit/s.
func DefaultSimulcast() []VideoConfig {
	return []VideoConfig{
		{Width: 320, Height: 180, Bitrate: 150_000, TemporalLayers: 3},
		{Width: 640, Height: 360, Bitrate: 500_000, TemporalLayers: 3},
		{Width: 1280, Height: 720, Bitrate: 1_700_000, TemporalLayers: 3},
	}
}

// Tracks returns the layers as tracks to publish.
func (s *Simulcast) Tracks() []webrtc.TrackLocal {
	out := make([]webrtc.TrackLocal, len(s.Layers))
	for i, l := range s.Layers {
		out[i] = l
	}
	return out
}

// SetLayers follows a bridge's layers message.
func (s *Simulcast) SetLayers(active []bool) {
	for i, l := range s.Layers {
		if i < len(active) {
			l.SetActive(active[i])
		}
	}
}

// Run sends every layer until ctx ends.
func (s *Simulcast) Run(ctx context.Context) {
	for _, l := range s.Layers[1:] {
		go l.Run(ctx)
	}
	s.Layers[0].Run(ctx)
}
