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
// to tell the layers apart, so the binding writes them. Audio and Video
// embed it and get Bind, Unbind and SetMID from it.
type binding struct {
	mime string // the codec to bind

	mu       sync.Mutex
	writer   webrtc.TrackLocalWriter
	ssrc     uint32
	pt       uint8
	mid      []byte
	rid      []byte
	midExt   uint8
	ridExt   uint8
	levelExt uint8

	// hdr and exts are the header of the packet being written, reused so
	// that sending allocates nothing: pion's write path is synchronous, as
	// the payload buffers already rely on. exts has room for MID, RID or
	// audio level, and the transport-wide sequence number pion adds.
	hdr  rtp.Header
	exts [4]rtp.Extension
}

// Bind is called by pion when the sender starts.
func (b *binding) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	for _, c := range ctx.CodecParameters() {
		if !strings.EqualFold(c.MimeType, b.mime) {
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

// Unbind is called by pion when the sender stops.
func (b *binding) Unbind(webrtc.TrackLocalContext) error {
	b.mu.Lock()
	b.writer = nil
	b.mu.Unlock()
	return nil
}

// SetMID tells the track the mid of the transceiver that sends it; the Go
// client calls it after each negotiation.
func (b *binding) SetMID(mid string) {
	b.mu.Lock()
	b.mid = []byte(mid)
	b.mu.Unlock()
}

// write sends one packet with header h if the track is bound, adding the
// audio level extension when level is not nil; the caller holds b.mu.
func (b *binding) write(h rtp.Header, payload, level []byte) bool {
	if b.writer == nil {
		return false
	}
	h.SSRC = b.ssrc
	h.PayloadType = b.pt
	h.Extensions = b.exts[:0]
	if b.midExt != 0 && len(b.mid) > 0 {
		_ = h.SetExtension(b.midExt, b.mid)
	}
	if b.ridExt != 0 && len(b.rid) > 0 {
		_ = h.SetExtension(b.ridExt, b.rid)
	}
	if b.levelExt != 0 && level != nil {
		_ = h.SetExtension(b.levelExt, level)
	}
	b.hdr = h
	_, err := b.writer.WriteRTP(&b.hdr, payload)
	return err == nil
}
