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
	level        atomic.Uint32
	packets      atomic.Uint64
	seq          uint16 // guarded by binding.mu, like what follows
	timestamp    uint32
	buf          []byte
	levelBuf     [1]byte // the audio level extension's payload
}

// NewAudio makes an audio track sending packets of the size Opus produces
// at bitrate bits per second (0 means 32 kbit/s), at level 127 (silence)
// until SetLevel says otherwise.
func NewAudio(id, streamID string, bitrate int) (*Audio, error) {
	if bitrate == 0 {
		bitrate = 32_000
	}
	size := max(bitrate/8/50, TrailerSize+1)
	a := &Audio{binding: binding{mime: webrtc.MimeTypeOpus}, id: id, streamID: streamID, buf: make([]byte, size)}
	// Only the trailer changes from packet to packet.
	a.buf[0] = 0xf8 // TOC: CELT fullband, 20 ms, mono, one frame
	for i := 1; i < size; i++ {
		a.buf[i] = byte(i)
	}
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
	putTrailer(a.buf, now)
	level := byte(a.level.Load())
	if level < 127 {
		level |= 0x80 // V: voice activity
	}
	a.levelBuf[0] = level
	if a.write(rtp.Header{Version: 2, SequenceNumber: a.seq, Timestamp: a.timestamp}, a.buf, a.levelBuf[:]) {
		a.packets.Add(1)
	}
}
