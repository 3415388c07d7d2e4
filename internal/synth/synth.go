// Package synth generates synthetic media for Go clients: VP8 frames with
// valid payload descriptors and frame headers (keyframes periodically and on
// request) and Opus-sized audio packets every 20 ms. Every packet ends with
// a trailer holding its send time, so a receiver on the same clock can
// measure end-to-end latency. Nothing is encoded: the bytes are shaped like
// real media for the SFU, not for a decoder.
package synth

import (
	"context"
	"encoding/binary"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// TrailerSize is the size of the send-time trailer at the end of every
// payload: a 4-byte magic and the send time in Unix nanoseconds.
const TrailerSize = 12

var magic = [4]byte{'P', 'R', 'L', 'Y'}

// maxPayload keeps packets under a typical path MTU after SRTP and headers.
const maxPayload = 1100

func putTrailer(b []byte, t time.Time) {
	copy(b[len(b)-TrailerSize:], magic[:])
	binary.BigEndian.PutUint64(b[len(b)-8:], uint64(t.UnixNano()))
}

// SendTime reads the send time from a payload's trailer.
func SendTime(payload []byte) (time.Time, bool) {
	if len(payload) < TrailerSize || [4]byte(payload[len(payload)-TrailerSize:len(payload)-8]) != magic {
		return time.Time{}, false
	}
	return time.Unix(0, int64(binary.BigEndian.Uint64(payload[len(payload)-8:]))), true
}

// VideoConfig shapes a synthetic VP8 stream.
type VideoConfig struct {
	Width, Height int
	FPS           int
	// Bitrate in bits per second.
	Bitrate int
	// KeyframeInterval is the time between periodic keyframes.
	KeyframeInterval time.Duration
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
	*webrtc.TrackLocalStaticRTP
	cfg        VideoConfig
	keyframe   atomic.Bool
	frames     atomic.Uint64
	keyframes  atomic.Uint64
	pictureID  uint16
	seq        uint16
	timestamp  uint32
	lastKey    time.Time
	payloadBuf []byte
}

// NewVideo makes a video track with the given track and stream ids.
func NewVideo(id, streamID string, cfg VideoConfig) (*Video, error) {
	cfg.defaults()
	t, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, id, streamID)
	if err != nil {
		return nil, err
	}
	v := &Video{TrackLocalStaticRTP: t, cfg: cfg, payloadBuf: make([]byte, maxPayload)}
	v.keyframe.Store(true)
	return v, nil
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
		v.sendFrame(time.Now())
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
	v.frames.Add(1)
	v.pictureID = (v.pictureID + 1) & 0x7fff
	v.timestamp += uint32(90000 / v.cfg.FPS)
	const descSize = 4
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
		b := p[descSize:]
		for i := range b {
			b[i] = byte(i)
		}
		if first {
			writeFrameHeader(b, key, v.cfg.Width, v.cfg.Height)
		}
		putTrailer(p, now)
		v.seq++
		_ = v.WriteRTP(&rtp.Packet{
			Header:  rtp.Header{Version: 2, Marker: size <= 0, SequenceNumber: v.seq, Timestamp: v.timestamp},
			Payload: p,
		})
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

// Audio is a synthetic Opus track: one packet every 20 ms.
type Audio struct {
	*webrtc.TrackLocalStaticRTP
	size      int
	seq       uint16
	timestamp uint32
	packets   atomic.Uint64
	buf       []byte
}

// NewAudio makes an audio track sending packets of the size Opus produces
// at bitrate bits per second (0 means 32 kbit/s).
func NewAudio(id, streamID string, bitrate int) (*Audio, error) {
	if bitrate == 0 {
		bitrate = 32_000
	}
	t, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, id, streamID)
	if err != nil {
		return nil, err
	}
	size := max(bitrate/8/50, TrailerSize+1)
	return &Audio{TrackLocalStaticRTP: t, size: size, buf: make([]byte, size)}, nil
}

// Packets counts what was sent.
func (a *Audio) Packets() uint64 { return a.packets.Load() }

// Run sends packets until ctx ends.
func (a *Audio) Run(ctx context.Context) {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		a.seq++
		a.timestamp += 960
		p := a.buf
		p[0] = 0xf8 // TOC: CELT fullband, 20 ms, mono, one frame
		for i := 1; i < len(p); i++ {
			p[i] = byte(i)
		}
		putTrailer(p, time.Now())
		_ = a.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: a.seq, Timestamp: a.timestamp}, Payload: p})
		a.packets.Add(1)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
