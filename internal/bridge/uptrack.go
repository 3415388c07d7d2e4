package bridge

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/parley/parley/internal/media"
)

// packetCacheSize is how many recent packets of each video track the bridge
// keeps for retransmission: about a second of 720p video.
const packetCacheSize = 512

// upTrack is one track a publisher sends to the bridge. Its read loop
// forwards every packet to the track's downTracks, without a goroutine or a
// channel hop per packet.
type upTrack struct {
	id      string
	ep      *endpoint
	remote  *webrtc.TrackRemote
	codec   webrtc.RTPCodecCapability
	isVideo bool
	cache   *media.PacketCache // video only

	downsMu sync.Mutex
	downs   atomic.Pointer[[]*downTrack] // copy on write: read per packet without a lock

	lastKeyframeRequest atomic.Int64 // unix nanoseconds
	stopping            atomic.Bool
}

func newUpTrack(ep *endpoint, remote *webrtc.TrackRemote, id string) *upTrack {
	up := &upTrack{
		id:      id,
		ep:      ep,
		remote:  remote,
		codec:   remote.Codec().RTPCodecCapability,
		isVideo: remote.Kind() == webrtc.RTPCodecTypeVideo,
	}
	if up.isVideo {
		up.cache = media.NewPacketCache(packetCacheSize)
	}
	empty := []*downTrack{}
	up.downs.Store(&empty)
	return up
}

func (u *upTrack) addDown(d *downTrack) {
	u.downsMu.Lock()
	defer u.downsMu.Unlock()
	old := *u.downs.Load()
	next := make([]*downTrack, len(old), len(old)+1)
	copy(next, old)
	next = append(next, d)
	u.downs.Store(&next)
}

func (u *upTrack) removeDown(d *downTrack) {
	u.downsMu.Lock()
	defer u.downsMu.Unlock()
	old := *u.downs.Load()
	next := make([]*downTrack, 0, len(old))
	for _, x := range old {
		if x != d {
			next = append(next, x)
		}
	}
	u.downs.Store(&next)
}

func (u *upTrack) stop()         { u.stopping.Store(true) }
func (u *upTrack) stopped() bool { return u.stopping.Load() }

// run reads the publisher's packets until the track ends, then withdraws the
// track from the conference.
func (u *upTrack) run() {
	buf := make([]byte, media.MaxPacketSize)
	var hdr rtp.Header
	for {
		n, _, err := u.remote.Read(buf)
		if err != nil {
			break
		}
		hlen, err := hdr.Unmarshal(buf[:n])
		if err != nil {
			continue
		}
		end := n
		if hdr.Padding && n > hlen {
			end -= int(buf[n-1])
		}
		if end <= hlen {
			continue // padding only (bandwidth probes): nothing to forward
		}
		payload := buf[hlen:end]
		keyframe := false
		if u.isVideo {
			u.cache.Store(hdr.SequenceNumber, buf[:n])
			keyframe = media.IsVP8Keyframe(payload)
		}
		for _, d := range *u.downs.Load() {
			d.forward(&hdr, payload, keyframe)
		}
	}
	if !u.stopped() {
		u.stop()
		u.ep.removeUp(u)
		u.ep.conf.unpublish(u)
	}
}

// requestKeyframe asks the publisher for a keyframe, at most once per
// configured interval.
func (u *upTrack) requestKeyframe() {
	if !u.isVideo {
		return
	}
	now := time.Now().UnixNano()
	last := u.lastKeyframeRequest.Load()
	if now-last < int64(u.ep.conf.b.cfg.KeyframeInterval) || !u.lastKeyframeRequest.CompareAndSwap(last, now) {
		return
	}
	err := u.ep.pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: uint32(u.remote.SSRC())}})
	if err != nil {
		u.ep.log.Debug("keyframe request", "track", u.id, "err", err)
	}
}
