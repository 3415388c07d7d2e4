package bridge

import (
	"strings"
	"sync"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/parley/parley/internal/media"
)

// downTrack forwards one upTrack to one subscriber. It is the subscriber's
// webrtc.TrackLocal: pion binds it to an RTP sender, and the downTrack
// rewrites each forwarded packet's SSRC, payload type, sequence number and
// timestamp onto its own continuous stream.
type downTrack struct {
	up     *upTrack
	ep     *endpoint // the subscriber
	sender *webrtc.RTPSender

	mu      sync.Mutex
	writer  webrtc.TrackLocalWriter
	ssrc    uint32
	pt      uint8
	started bool // video starts at a keyframe
	rw      media.Rewriter
	hdr     rtp.Header
	rtxBuf  [media.MaxPacketSize]byte
}

func newDownTrack(up *upTrack, subscriber *endpoint) *downTrack {
	return &downTrack{up: up, ep: subscriber}
}

// ID, StreamID, RID and Kind name the track in the subscriber's SDP: the
// stream id is the publisher's participant id.
func (d *downTrack) ID() string       { return d.up.id }
func (d *downTrack) StreamID() string { return d.up.ep.id }
func (d *downTrack) RID() string      { return "" }
func (d *downTrack) Kind() webrtc.RTPCodecType {
	if d.up.isVideo {
		return webrtc.RTPCodecTypeVideo
	}
	return webrtc.RTPCodecTypeAudio
}

// Bind is called by pion when the sender starts: it picks the subscriber's
// payload type for the publisher's codec.
func (d *downTrack) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	for _, c := range ctx.CodecParameters() {
		if strings.EqualFold(c.MimeType, d.up.codec.MimeType) {
			d.mu.Lock()
			d.writer = ctx.WriteStream()
			d.ssrc = uint32(ctx.SSRC())
			d.pt = uint8(c.PayloadType)
			d.mu.Unlock()
			d.up.requestKeyframe()
			return c, nil
		}
	}
	return webrtc.RTPCodecParameters{}, webrtc.ErrUnsupportedCodec
}

// Unbind is called by pion when the sender stops.
func (d *downTrack) Unbind(webrtc.TrackLocalContext) error {
	d.mu.Lock()
	d.writer = nil
	d.mu.Unlock()
	return nil
}

// forward sends one packet of the upTrack to the subscriber.
func (d *downTrack) forward(src *rtp.Header, payload []byte, keyframe bool) {
	d.mu.Lock()
	if d.writer == nil {
		d.mu.Unlock()
		return
	}
	if !d.started {
		if d.up.isVideo && !keyframe {
			d.mu.Unlock()
			d.up.requestKeyframe()
			return
		}
		d.started = true
	}
	seq, ts, ok := d.rw.Rewrite(src.SequenceNumber, src.Timestamp, 0)
	if !ok {
		d.mu.Unlock()
		return
	}
	_, _ = d.writer.WriteRTP(d.header(src.Marker, seq, ts), payload)
	d.mu.Unlock()
}

// header fills the downTrack's reused header for one outgoing packet; the
// caller holds d.mu.
func (d *downTrack) header(marker bool, seq uint16, ts uint32) *rtp.Header {
	h := &d.hdr
	h.Version = 2
	h.Padding = false
	h.Marker = marker
	h.PayloadType = d.pt
	h.SequenceNumber = seq
	h.Timestamp = ts
	h.SSRC = d.ssrc
	// Extension ids differ between the publisher's and the subscriber's
	// sessions, so none is copied; interceptors add the subscriber's own.
	h.Extension = false
	h.Extensions = h.Extensions[:0]
	return h
}

// readRTCP handles the subscriber's feedback on this track until the sender
// stops: keyframe requests go to the publisher, NACKs are answered from the
// packet cache.
func (d *downTrack) readRTCP() {
	for {
		pkts, _, err := d.sender.ReadRTCP()
		if err != nil {
			return
		}
		for _, p := range pkts {
			switch p := p.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				d.up.requestKeyframe()
			case *rtcp.TransportLayerNack:
				d.retransmit(p)
			}
		}
	}
}

func (d *downTrack) retransmit(nack *rtcp.TransportLayerNack) {
	if d.up.cache == nil {
		return
	}
	for _, pair := range nack.Nacks {
		for _, seq := range pair.PacketList() {
			d.resend(seq)
		}
	}
}

func (d *downTrack) resend(seq uint16) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.writer == nil {
		return
	}
	src, ok := d.rw.Source(seq)
	if !ok {
		return
	}
	n := d.up.cache.Get(src, d.rtxBuf[:])
	if n == 0 {
		return
	}
	var orig rtp.Header
	hlen, err := orig.Unmarshal(d.rtxBuf[:n])
	if err != nil {
		return
	}
	end := n
	if orig.Padding {
		end -= int(d.rtxBuf[n-1])
	}
	if end <= hlen {
		return
	}
	_, _ = d.writer.WriteRTP(d.header(orig.Marker, seq, d.rw.Timestamp(orig.Timestamp)), d.rtxBuf[hlen:end])
}
