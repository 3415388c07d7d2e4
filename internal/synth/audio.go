package synth

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// Audio is a synthetic Opus track: one packet every 20 ms, each carrying
// the audio level header extension (RFC 6464) with the level set by
// SetLevel. It binds to one PeerConnection.
type Audio struct {
	binding
	id, streamID string
	size         int
	level        atomic.Uint32
	packets      atomic.Uint64
	seq          uint16 // guarded by binding.mu
	timestamp    uint32
	buf          []byte
}

// NewAudio makes an audio track sending packets of the size Opus produces
// at bitrate bits per second (0 means 32 kbit/s), at level 127 (silence)
// until SetLevel says otherwise.
func NewAudio(id, streamID string, bitrate int) (*Audio, error) {
	if bitrate == 0 {
		bitrate = 32_000
	}
	size := max(bitrate/8/50, TrailerSize+1)
	a := &Audio{id: id, streamID: streamID, size: size, buf: make([]byte, size)}
	a.level.Store(127)
	return a, nil
}

// SetLevel sets the audio level of the following packets, in -dBov: 0 is
// as loud as can be, 127 silence; speech is typically 30 to 50.
func (a *Audio) SetLevel(level uint8) { a.level.Store(uint32(min(level, 127))) }

// Packets counts what was sent.
func (a *Audio) Packets() uint64 { return a.packets.Load() }

// ID, StreamID, RID and Kind describe the track (webrtc.TrackLocal).
func (a *Audio) ID() string                { return a.id }
func (a *Audio) StreamID() string          { return a.streamID }
func (a *Audio) RID() string               { return "" }
func (a *Audio) Kind() webrtc.RTPCodecType { return webrtc.RTPCodecTypeAudio }

// Bind is called by pion when the sender starts.
func (a *Audio) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	return a.bind(ctx, webrtc.MimeTypeOpus)
}

// Unbind is called by pion when the sender stops.
func (a *Audio) Unbind(webrtc.TrackLocalContext) error {
	a.unbind()
	return nil
}

// Run sends packets until ctx ends.
func (a *Audio) Run(ctx context.Context) {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		a.send(time.Now())
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (a *Audio) send(now time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.seq++
	a.timestamp += 960
	p := a.buf
	p[0] = 0xf8 // TOC: CELT fullband, 20 ms, mono, one frame
	for i := 1; i < len(p); i++ {
		p[i] = byte(i)
	}
	putTrailer(p, now)
	h := rtp.Header{Version: 2, SequenceNumber: a.seq, Timestamp: a.timestamp}
	if a.levelExt != 0 {
		level := byte(a.level.Load())
		if level < 127 {
			level |= 0x80 // V: voice activity
		}
		_ = h.SetExtension(a.levelExt, []byte{level})
	}
	if a.write(&h, p) {
		a.packets.Add(1)
	}
}
