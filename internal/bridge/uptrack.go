package bridge

import (
	"encoding/binary"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"

	"github.com/parley/parley/internal/media"
	"github.com/parley/parley/internal/udpbatch"
)

// packetCacheSize is how many recent packets of each video layer the bridge
// indexes for retransmission: more than a second of any layer, keyframes
// included. The bytes kept are about a second's worth (media.PacketCache).
const packetCacheSize = 1024

// upTrack is one layer of a source as the publisher sends it. Its read loop
// forwards every packet to the source's downTracks, without a goroutine or a
// channel hop per packet.
type upTrack struct {
	src    *source
	layer  int
	remote *webrtc.TrackRemote
	cache  *media.PacketCache // video only
	// audioLevelID is the negotiated id of the audio level extension (0: none).
	audioLevelID uint8

	height     atomic.Int32  // from the last keyframe
	packets    atomic.Uint64 // received
	bytes      atomic.Uint64 // received, also for the rate
	rate       atomic.Int64  // bits per second, updated by the conference tick
	lastBytes  uint64        // tick state: bytes at the previous tick
	lastPacket atomic.Int64  // unix nanoseconds

	lastKeyframeRequest atomic.Int64 // unix nanoseconds
	stopping            atomic.Bool
}

func newUpTrack(src *source, layer int, remote *webrtc.TrackRemote, recv *webrtc.RTPReceiver) *upTrack {
	u := &upTrack{src: src, layer: layer, remote: remote}
	if src.isVideo {
		u.cache = media.NewPacketCache(packetCacheSize)
	} else {
		for _, ext := range recv.GetParameters().HeaderExtensions {
			if ext.URI == sdp.AudioLevelURI {
				u.audioLevelID = uint8(ext.ID)
			}
		}
	}
	u.lastPacket.Store(time.Now().UnixNano())
	return u
}

func (u *upTrack) stop()         { u.stopping.Store(true) }
func (u *upTrack) stopped() bool { return u.stopping.Load() }

func (u *upTrack) lastPacketTime() time.Time { return time.Unix(0, u.lastPacket.Load()) }

// updateRate turns the bytes received since the last call into a rate; the
// conference tick calls it every interval.
func (u *upTrack) updateRate(interval time.Duration) {
	b := u.bytes.Load()
	r := int64(float64(b-u.lastBytes) * 8 / interval.Seconds())
	u.lastBytes = b
	// Smooth: layers are bursty (keyframes).
	old := u.rate.Load()
	if old == 0 {
		u.rate.Store(r)
	} else {
		u.rate.Store((old*3 + r) / 4)
	}
}

// run reads the publisher's packets until the track ends.
func (u *upTrack) run(onEnd func(*upTrack)) {
	batch := u.src.owner.conf.b.batch
	if u.src.isVideo {
		u.runVideo(batch)
	} else {
		u.runAudio(batch)
	}
	u.src.owner.conf.b.retireIn(u)
	if !u.stopped() {
		u.stop()
		onEnd(u)
	}
}

// audioOut is the audio packet being fanned out, read by the shares.
type audioOut struct {
	batch   *udpbatch.Group
	downs   []*downTrack
	hdr     rtp.Header
	payload []byte
	forward bool
	now     time.Time
}

// share sends the packet to subscribers lo to hi-1, in one send batch.
func (a *audioOut) share(lo, hi int) {
	a.batch.Begin()
	for _, d := range a.downs[lo:hi] {
		d.forwardAudio(&a.hdr, a.payload, a.forward, a.now)
	}
	a.batch.End()
}

// runAudio forwards each packet as it comes.
func (u *upTrack) runAudio(batch *udpbatch.Group) {
	buf := make([]byte, media.MaxPacketSize)
	a := &audioOut{batch: batch}
	fan := newFanOut(a.share)
	defer fan.stop()
	hdr := &a.hdr
	conf := u.src.owner.conf
	for {
		n, _, err := u.remote.Read(buf)
		if err != nil {
			return
		}
		hlen, err := hdr.Unmarshal(buf[:n])
		if err != nil {
			continue
		}
		end := payloadEnd(hdr, buf[:n], hlen)
		if end <= hlen {
			continue // padding only (bandwidth probes): nothing to forward
		}
		now := time.Now()
		u.received(n, now)
		if u.src.owner.blocked(u.src) {
			continue // a moderator muted it: nothing goes out
		}
		level, hasLevel := u.audioLevel(hdr)
		a.forward = true
		if hasLevel {
			conf.speakerLevel(u.src.owner.id, level, now)
			a.forward = u.src.gate.Forward(level)
		}
		a.downs, a.payload, a.now = *u.src.downs.Load(), buf[hlen:end], now
		fan.run(len(a.downs))
		a.downs = nil
	}
}

// runVideo parses each packet into a frameHold, which fans frames out.
func (u *upTrack) runVideo(batch *udpbatch.Group) {
	f := newFrameHold(u, batch)
	defer f.stop()
	for {
		p := f.slot()
		n, _, err := u.remote.Read(p.buf[:])
		if err != nil {
			return
		}
		if !u.parseVideo(p, n) {
			f.release(p)
			continue
		}
		f.add(p)
	}
}

// parseVideo parses a packet read into p, counts it and caches it for
// retransmission; it reports whether the packet is one to forward.
func (u *upTrack) parseVideo(p *heldPacket, n int) bool {
	hlen, err := p.hdr.Unmarshal(p.buf[:n])
	if err != nil {
		return false
	}
	end := payloadEnd(&p.hdr, p.buf[:n], hlen)
	if end <= hlen {
		return false // padding only (bandwidth probes): nothing to forward
	}
	now := time.Now()
	u.received(n, now)
	if u.src.owner.blocked(u.src) {
		return false // a moderator muted it: nothing goes out
	}
	u.cache.Store(p.hdr.SequenceNumber, p.buf[:n], now)
	p.start, p.end = hlen, end
	payload := p.payload()
	desc := &p.desc
	if media.ParseVP8(payload, desc) != nil {
		return false
	}
	p.info = media.PacketInfo{
		Layer:        u.layer,
		StartOfFrame: desc.Start && desc.PartitionID == 0,
		HasTID:       desc.HasTID,
		TID:          desc.TID,
		LayerSync:    desc.LayerSync,
		Marker:       p.hdr.Marker,
	}
	if p.info.StartOfFrame && len(payload) > desc.Size+9 && payload[desc.Size]&0x01 == 0 {
		p.info.Keyframe = true
		// The keyframe header holds the frame size (RFC 6386 9.1).
		h := binary.LittleEndian.Uint16(payload[desc.Size+8:]) & 0x3fff
		u.height.Store(int32(h))
	}
	return true
}

// received counts a packet.
func (u *upTrack) received(n int, now time.Time) {
	u.packets.Add(1)
	u.bytes.Add(uint64(n))
	u.lastPacket.Store(now.UnixNano())
}

// payloadEnd is where a packet's payload ends, before any padding.
func payloadEnd(hdr *rtp.Header, pkt []byte, hlen int) int {
	end := len(pkt)
	if hdr.Padding && end > hlen {
		end -= int(pkt[end-1])
	}
	return end
}

func (u *upTrack) audioLevel(hdr *rtp.Header) (uint8, bool) {
	if u.audioLevelID == 0 {
		return 0, false
	}
	ext := hdr.GetExtension(u.audioLevelID)
	if len(ext) == 0 {
		return 0, false
	}
	return ext[0] & 0x7f, true
}

// requestKeyframe asks the publisher for a keyframe on this layer, at most
// once per configured interval however many receivers ask.
func (u *upTrack) requestKeyframe() {
	now := time.Now().UnixNano()
	last := u.lastKeyframeRequest.Load()
	if now-last < int64(u.src.owner.conf.b.cfg.KeyframeInterval) || !u.lastKeyframeRequest.CompareAndSwap(last, now) {
		return
	}
	err := u.src.owner.pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: uint32(u.remote.SSRC())}})
	if err != nil {
		u.src.owner.log.Debug("keyframe request", "source", u.src.id, "layer", u.layer, "err", err)
	}
}
