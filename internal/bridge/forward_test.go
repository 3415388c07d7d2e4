package bridge

import (
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/parley/parley/internal/media"
	"github.com/parley/parley/protocol"
)

// discardWriter stands in for pion's SRTP writer: it only marshals the
// packet, as the real one must before encrypting.
type discardWriter struct {
	buf     [1500]byte
	packets int
	lastSeq uint16
	gaps    int // packets whose sequence number did not follow the last's
}

func (w *discardWriter) WriteRTP(h *rtp.Header, payload []byte) (int, error) {
	n, err := h.MarshalTo(w.buf[:])
	if err != nil {
		return 0, err
	}
	if w.packets > 0 && h.SequenceNumber != w.lastSeq+1 {
		w.gaps++
	}
	w.lastSeq = h.SequenceNumber
	w.packets++
	return n + copy(w.buf[n:], payload), nil
}

func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }

// forwardRig is one video layer forwarded to n subscribers, without pion:
// what it measures is the bridge's own per-packet work.
type forwardRig struct {
	up      *upTrack
	downs   []*downTrack
	writers []*discardWriter
	hdr     rtp.Header
	payload []byte // in pkt's buffer
	pkt     heldPacket
	frame   [1]*heldPacket
}

func newForwardRig(tb testing.TB, subscribers int) *forwardRig {
	tb.Helper()
	pub := &endpoint{id: "pub"}
	src := newSource(pub, protocol.SourceVideo, webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8})
	up := &upTrack{src: src, layer: 0, cache: media.NewPacketCache(packetCacheSize)}
	src.layers[0] = up
	r := &forwardRig{up: up}
	for range subscribers {
		sub := &endpoint{id: "sub", estimator: media.NewEstimator(media.EstimatorConfig{Initial: initialEstimate, Min: minEstimate, Max: maxEstimate})}
		d := newDownTrack(src, sub)
		w := &discardWriter{}
		d.writer, d.ssrc, d.pt, d.twccExtID = w, 1234, 96, 3
		d.sel.SetTarget(0, 3)
		d.tgt = 0
		r.downs = append(r.downs, d)
		r.writers = append(r.writers, w)
		src.addDown(d)
	}
	// A keyframe start first, so that every subscriber switches on.
	r.initPacket()
	r.forward(true)
	return r
}

// initPacket makes the rig's packet: a 1100-byte VP8 picture, the first of
// the stream.
func (r *forwardRig) initPacket() {
	r.payload = r.pkt.buf[:1100]
	r.pkt.start, r.pkt.end = 0, len(r.payload)
	r.frame[0] = &r.pkt
	r.payload[0], r.payload[1], r.payload[2], r.payload[3] = 0x90, 0x80, 0x80, 0x01 // X S, I, 15-bit picture id
	r.hdr = rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: 1, Timestamp: 3000, SSRC: 42, Marker: true}
}

// forward sends the rig's packet, a whole frame, to every subscriber.
func (r *forwardRig) forward(keyframe bool) {
	if err := media.ParseVP8(r.payload, &r.pkt.desc); err != nil {
		panic(err)
	}
	r.pkt.hdr = r.hdr
	r.pkt.info = media.PacketInfo{Layer: 0, Keyframe: keyframe, StartOfFrame: true, Marker: true}
	now := time.Now()
	for _, d := range r.downs {
		d.forwardFrame(r.up, r.frame[:], now)
	}
	r.hdr.SequenceNumber++
	r.hdr.Timestamp += 3000
	pid := uint16(r.payload[2]&0x7f)<<8 | uint16(r.payload[3])
	pid = (pid + 1) & 0x7fff
	r.payload[2], r.payload[3] = 0x80|byte(pid>>8), byte(pid)
	r.payload[4] = 0x01 // interframe from now on
}

func TestForwardingAllocatesNothing(t *testing.T) {
	r := newForwardRig(t, 3)
	for range 10 {
		r.forward(false)
	}
	allocs := testing.AllocsPerRun(1000, func() { r.forward(false) })
	if allocs != 0 {
		t.Errorf("forwarding one packet to 3 subscribers allocates %.1f times", allocs)
	}
	for i, w := range r.writers {
		if w.packets < 1000 {
			t.Errorf("subscriber %d got %d packets", i, w.packets)
		}
	}
}

func benchmarkForward(b *testing.B, subscribers int) {
	r := newForwardRig(b, subscribers)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for b.Loop() {
		r.forward(false)
	}
	b.ReportMetric(float64(time.Since(start).Nanoseconds())/float64(b.N*subscribers), "ns/forwarded-packet")
}

// BenchmarkForward measures the bridge's own work per packet (selection,
// rewriting, congestion control bookkeeping, marshalling) for one packet
// fanned out to N subscribers; SRTP and the socket are pion's and the
// kernel's, measured by the load test.
func BenchmarkForward1(b *testing.B)   { benchmarkForward(b, 1) }
func BenchmarkForward10(b *testing.B)  { benchmarkForward(b, 10) }
func BenchmarkForward100(b *testing.B) { benchmarkForward(b, 100) }
