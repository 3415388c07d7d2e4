package bridge

import (
	"encoding/binary"
	"strings"
	"sync"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"

	"github.com/parley/parley/internal/media"
	"github.com/parley/parley/internal/udpbatch"
)

// frameTicks is the timestamp gap put between the last packet before a layer
// switch and the first after it: one frame at 30 fps on the 90 kHz clock.
const frameTicks = 3000

// downTrack forwards one source to one subscriber. It is the subscriber's
// webrtc.TrackLocal: pion binds it to an RTP sender, and the downTrack
// rewrites each forwarded packet onto its own continuous stream: SSRC,
// payload type, sequence number, timestamp and, for VP8, picture id and
// TL0PICIDX, so that switching layers or dropping packets never shows.
type downTrack struct {
	src    *source
	ep     *endpoint // the subscriber
	sender *webrtc.RTPSender
	batch  *udpbatch.Group // the bridge's UDP sockets, nil without UDP

	mu        sync.Mutex
	writer    webrtc.TrackLocalWriter
	ssrc      uint32
	pt        uint8
	twccExtID uint8
	sel       media.Selector // video: which layer and temporal layers to forward
	tgt       int            // target layer given to sel
	rw        media.Rewriter
	vp8       media.VP8Munger
	hdr       rtp.Header
	twcc      [2]byte
	*videoOut // nil for audio
	packets   uint64
	bytes     uint64
	sr        srState // for RTCP sender reports
}

// videoOut is the state only video needs, for rewriting payloads and
// answering NACKs; audio tracks, the most numerous, go without its 25 KiB.
type videoOut struct {
	sent   media.SeqMap               // outgoing sequence number → source's, for NACKs
	buf    [media.MaxPacketSize]byte  // payload rewritten for this subscriber
	rtxBuf [media.MaxPacketSize]byte  // retransmissions and padding
	resent [media.SeqMapSize]int64    // when each outgoing number was last resent (unix ns)
	out    [media.SeqMapSize]sentInfo // how each outgoing packet was rewritten, for NACKs
}

// sentInfo is what a retransmission needs to repeat a forwarded packet
// exactly, even after a layer switch changed the rewriting.
type sentInfo struct {
	ts  uint32
	pic uint16
	tl0 uint8
}

func newDownTrack(src *source, subscriber *endpoint) *downTrack {
	d := &downTrack{src: src, ep: subscriber}
	if subscriber.conf != nil {
		d.batch = subscriber.conf.b.batch
	}
	if src.isVideo {
		d.videoOut = &videoOut{}
		d.sel.SetTarget(-1, 0) // nothing until the first allocation
		d.tgt = -1
	}
	return d
}

// ID, StreamID, RID and Kind name the track in the subscriber's SDP: the
// track id is the source id, the stream id the publisher's participant id.
func (d *downTrack) ID() string       { return d.src.id }
func (d *downTrack) StreamID() string { return d.src.owner.id }
func (d *downTrack) RID() string      { return "" }
func (d *downTrack) Kind() webrtc.RTPCodecType {
	if d.src.isVideo {
		return webrtc.RTPCodecTypeVideo
	}
	return webrtc.RTPCodecTypeAudio
}

// Bind is called by pion when the sender starts: it picks the subscriber's
// payload types and the transport-wide sequence number extension.
func (d *downTrack) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	var codec *webrtc.RTPCodecParameters
	for _, c := range ctx.CodecParameters() {
		if strings.EqualFold(c.MimeType, d.src.codec.MimeType) {
			codec = &c
			break
		}
	}
	if codec == nil {
		return webrtc.RTPCodecParameters{}, webrtc.ErrUnsupportedCodec
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.writer = ctx.WriteStream()
	d.ssrc = uint32(ctx.SSRC())
	d.pt = uint8(codec.PayloadType)
	for _, ext := range ctx.HeaderExtensions() {
		if ext.URI == sdp.TransportCCURI {
			d.twccExtID = uint8(ext.ID)
		}
	}
	return *codec, nil
}

// Unbind is called by pion when the sender stops.
func (d *downTrack) Unbind(webrtc.TrackLocalContext) error {
	d.mu.Lock()
	d.writer = nil
	d.mu.Unlock()
	return nil
}

// counts returns what the track has sent.
func (d *downTrack) counts() (packets, bytes uint64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.packets, d.bytes
}

// setTarget chooses the layer (-1: none) and the highest temporal layer to
// forward; the switch itself happens at the next keyframe of that layer.
func (d *downTrack) setTarget(spatial, temporal int) {
	d.mu.Lock()
	d.sel.SetTarget(spatial, temporal)
	d.tgt = spatial
	d.mu.Unlock()
	if spatial >= 0 {
		if cur, _ := d.current(); cur != spatial {
			d.src.requestKeyframe(spatial)
		}
	}
}

// current returns the layers being forwarded now.
func (d *downTrack) current() (spatial, temporal int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.sel.Current()
}

// forwardFrame offers packets of one frame of layer u to the subscriber,
// in order; now is when they are sent.
func (d *downTrack) forwardFrame(u *upTrack, pkts []*heldPacket, now time.Time) {
	needKeyframe := false
	d.mu.Lock()
	if d.writer == nil {
		d.mu.Unlock()
		return
	}
	for _, p := range pkts {
		if d.forwardPacketLocked(u, p, now) {
			needKeyframe = true
		}
	}
	d.mu.Unlock()
	if needKeyframe {
		d.src.requestKeyframe(d.target())
	}
}

// forwardPacketLocked selects, rewrites and sends one packet of layer u;
// it reports whether the selector waits for a keyframe. The caller holds
// d.mu.
func (d *downTrack) forwardPacketLocked(u *upTrack, p *heldPacket, now time.Time) (needKeyframe bool) {
	src, payload, desc := &p.hdr, p.payload(), &p.desc
	cur, _ := d.sel.Current()
	dec := d.sel.Select(p.info)
	if !dec.Forward {
		if cur == u.layer {
			d.rw.Drop(src.SequenceNumber) // e.g. a temporal layer: no gap for the receiver
		}
		return dec.NeedKeyframe
	}
	if dec.Switched {
		d.rw.Resync()
		d.vp8.Resync()
	}
	// Map the VP8 picture numbers first: a packet the munger refuses (a
	// picture from before the segment) must not take a sequence number.
	pic, tl0, err := d.vp8.Map(desc)
	if err != nil || len(payload) > len(d.buf) {
		d.rw.Drop(src.SequenceNumber)
		return dec.NeedKeyframe
	}
	seq, ts, ok := d.rw.Rewrite(src.SequenceNumber, src.Timestamp, frameTicks)
	if !ok {
		return dec.NeedKeyframe
	}
	out := payload
	if pic != desc.PictureID || tl0 != desc.TL0PICIDX {
		// The shared payload is every subscriber's: rewrite a copy.
		out = d.buf[:copy(d.buf[:], payload)]
		media.PutVP8IDs(desc, out, pic, tl0)
	}
	d.out[seq%media.SeqMapSize] = sentInfo{ts: ts, pic: pic, tl0: tl0}
	d.sent.Put(seq, src.SequenceNumber, uint8(u.layer))
	d.sr.frame(ts, now)
	d.write(d.header(src.Marker, seq, ts, d.ssrc, d.pt), out, 0, now)
	return dec.NeedKeyframe
}

func (d *downTrack) target() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.tgt
}

// forwardAudio offers one audio packet; forward is false for silence the
// source's gate suppresses.
func (d *downTrack) forwardAudio(src *rtp.Header, payload []byte, forward bool, now time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.writer == nil {
		return
	}
	if !forward {
		d.rw.Drop(src.SequenceNumber)
		return
	}
	seq, ts, ok := d.rw.Rewrite(src.SequenceNumber, src.Timestamp, 960)
	if !ok {
		return
	}
	d.sr.frame(ts, now)
	d.write(d.header(src.Marker, seq, ts, d.ssrc, d.pt), payload, 0, now)
}

// header fills the downTrack's reused header; the caller holds d.mu.
func (d *downTrack) header(marker bool, seq uint16, ts, ssrc uint32, pt uint8) *rtp.Header {
	h := &d.hdr
	h.Version = 2
	h.Padding = false
	h.Marker = marker
	h.PayloadType = pt
	h.SequenceNumber = seq
	h.Timestamp = ts
	h.SSRC = ssrc
	// Extension ids differ between the publisher's and the subscriber's
	// sessions, so none is copied.
	h.Extension = false
	h.Extensions = h.Extensions[:0]
	return h
}

// headerBytes is what a forwarded packet adds to its payload: the RTP
// header and its transport-wide sequence number extension.
const headerBytes = 12 + 8

// write numbers the packet for transport-wide congestion control, sends it
// and tells the subscriber's bandwidth estimator that it left at now (the
// copies of one packet or frame for all subscribers leave together, in one
// send batch). It returns the packet's size, 0 if it could not be sent; the
// caller holds d.mu.
func (d *downTrack) write(h *rtp.Header, payload []byte, probeCluster int, now time.Time) int {
	est := d.ep.estimator
	seq := d.ep.nextTWCC()
	if d.twccExtID != 0 {
		binary.BigEndian.PutUint16(d.twcc[:], seq)
		_ = h.SetExtension(d.twccExtID, d.twcc[:])
	}
	if _, err := d.writer.WriteRTP(h, payload); err != nil {
		return 0
	}
	size := len(payload) + headerBytes
	est.OnSent(seq, size, now, probeCluster)
	d.packets++
	d.bytes += uint64(size)
	return size
}

// readRTCP handles the subscriber's feedback until the sender stops:
// keyframe requests go to the publisher, NACKs are answered from the packet
// cache, congestion control feedback goes to the estimator.
func (d *downTrack) readRTCP() {
	for {
		pkts, _, err := d.sender.ReadRTCP()
		if err != nil {
			return
		}
		for _, p := range pkts {
			switch p := p.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				cur, _ := d.current()
				d.src.requestKeyframe(cur)
			case *rtcp.TransportLayerNack:
				// The retransmissions leave together, after d.mu is
				// released: the forwarding loop does not wait for them.
				d.batch.Begin()
				for _, pair := range p.Nacks {
					for _, seq := range pair.PacketList() {
						d.resend(seq)
					}
				}
				d.batch.End()
			case *rtcp.TransportLayerCC:
				d.ep.estimator.OnFeedback(p, time.Now())
			}
		}
	}
}

// resend answers a NACK from the cache.
func (d *downTrack) resend(seq uint16) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.writer == nil || !d.src.isVideo {
		return
	}
	// A receiver NACKs again before a retransmission can have arrived; a
	// congested link must not get the same packet twice per round trip,
	// nor more retransmissions than the downlink budget allows.
	now := time.Now().UnixNano()
	slot := &d.resent[seq%media.SeqMapSize]
	if now-*slot < int64(resendInterval) || !d.ep.rtxBudget.take(now) {
		return
	}
	if d.resendLocked(seq) {
		*slot = now
	}
}

// resendLocked sends the packet with outgoing number seq again, on the
// original stream; the caller holds d.mu.
//
// Retransmissions do not use RTX, although it is negotiated: receivers name
// in their congestion control feedback the SSRC of the last packet they got,
// and pion reads no RTCP addressed to a sender's RTX SSRC, so feedback
// after an RTX packet would be lost to the estimator.
func (d *downTrack) resendLocked(seq uint16) bool {
	srcSeq, layer, ok := d.sent.Get(seq)
	if !ok || layer == paddingTag {
		return false
	}
	u := d.src.layer(int(layer))
	if u == nil {
		return false
	}
	n := u.cache.Get(srcSeq, d.rtxBuf[:])
	if n == 0 {
		return false
	}
	var orig rtp.Header
	hlen, err := orig.Unmarshal(d.rtxBuf[:n])
	if err != nil {
		return false
	}
	end := n
	if orig.Padding {
		end -= int(d.rtxBuf[n-1])
	}
	if end <= hlen {
		return false
	}
	var desc media.VP8Descriptor
	if media.ParseVP8(d.rtxBuf[hlen:end], &desc) != nil {
		return false
	}
	info := d.out[seq%media.SeqMapSize]
	p := d.rtxBuf[hlen:end]
	media.PutVP8IDs(&desc, p, info.pic, info.tl0)
	return d.write(d.header(orig.Marker, seq, info.ts, d.ssrc, d.pt), p, 0, time.Now()) > 0
}

// paddingTag marks padding in the SeqMap: NACKs for it get nothing.
const paddingTag = 0xff

// canProbe reports whether the track forwards video that probes can ride
// along with.
func (d *downTrack) canProbe() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	cur, _ := d.sel.Current()
	return d.writer != nil && d.videoOut != nil && cur >= 0
}

// probe sends about size bytes of padding-only packets in the forwarded
// stream for the bandwidth estimator's probe cluster, and returns the bytes
// sent (0 when it cannot). Receivers discard padding.
func (d *downTrack) probe(cluster, size int) int {
	// The padding leaves after d.mu is released, as one segmented send.
	d.batch.Begin()
	defer d.batch.End()
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.writer == nil || d.videoOut == nil {
		return 0
	}
	const pad = 255
	p := d.rtxBuf[:pad]
	clear(p)
	p[pad-1] = pad
	sent := 0
	for sent < size {
		seq, ts, ok := d.rw.Pad()
		if !ok {
			break
		}
		d.sent.Put(seq, 0, paddingTag)
		h := d.header(false, seq, ts, d.ssrc, d.pt)
		h.Padding = true
		n := d.write(h, p, cluster, time.Now())
		if n == 0 {
			break
		}
		sent += n
	}
	return sent
}
