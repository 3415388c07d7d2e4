// Package synth generates synthetic media for Go clients: VP8 frames with
// valid payload descriptors and frame headers (keyframes periodically and on
// request) and Opus-sized audio packets every 20 ms. Every packet ends with
// a trailer holding its send time, so a receiver on the same clock can
// measure end-to-end latency. Nothing is encoded: the bytes are shaped like
// real media for the SFU, not for a decoder.
package synth

import (
	"encoding/binary"
	"strings"
	"sync"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
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

// binding is a track's one binding to a pion sender: where to write, with
// which SSRC and payload type, and the negotiated header extensions. pion
// does not add the MID and RID extensions that a simulcast receiver needs
// to tell the layers apart, so the binding writes them.
type binding struct {
	mu       sync.Mutex
	writer   webrtc.TrackLocalWriter
	ssrc     uint32
	pt       uint8
	mid      string
	rid      string
	midExt   uint8
	ridExt   uint8
	levelExt uint8
}

func (b *binding) bind(ctx webrtc.TrackLocalContext, mime string) (webrtc.RTPCodecParameters, error) {
	for _, c := range ctx.CodecParameters() {
		if !strings.EqualFold(c.MimeType, mime) {
			continue
		}
		b.mu.Lock()
		defer b.mu.Unlock()
		b.writer = ctx.WriteStream()
		b.ssrc = uint32(ctx.SSRC())
		b.pt = uint8(c.PayloadType)
		for _, e := range ctx.HeaderExtensions() {
			switch e.URI {
			case sdp.SDESMidURI:
				b.midExt = uint8(e.ID)
			case sdp.SDESRTPStreamIDURI:
				b.ridExt = uint8(e.ID)
			case sdp.AudioLevelURI:
				b.levelExt = uint8(e.ID)
			}
		}
		return c, nil
	}
	return webrtc.RTPCodecParameters{}, webrtc.ErrUnsupportedCodec
}

func (b *binding) unbind() {
	b.mu.Lock()
	b.writer = nil
	b.mu.Unlock()
}

// SetMID tells the track the mid of the transceiver that sends it; the Go
// client calls it after each negotiation.
func (b *binding) SetMID(mid string) {
	b.mu.Lock()
	b.mid = mid
	b.mu.Unlock()
}

// write sends one packet if the track is bound; the caller holds b.mu.
func (b *binding) write(h *rtp.Header, payload []byte) bool {
	if b.writer == nil {
		return false
	}
	h.SSRC = b.ssrc
	h.PayloadType = b.pt
	if b.midExt != 0 && b.mid != "" {
		_ = h.SetExtension(b.midExt, []byte(b.mid))
	}
	if b.ridExt != 0 && b.rid != "" {
		_ = h.SetExtension(b.ridExt, []byte(b.rid))
	}
	_, err := b.writer.WriteRTP(h, payload)
	return err == nil
}
