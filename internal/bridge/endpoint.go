package bridge

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/pion/webrtc/v4"

	"github.com/parley/parley/internal/busmsg"
	"github.com/parley/parley/internal/media"
	"github.com/parley/parley/internal/rtc"
	"github.com/parley/parley/protocol"
)

var errNoOffer = errors.New("bridge: answer without an outstanding offer")

// endpoint is one participant's PeerConnection on the bridge.
//
// Negotiation: the client offers first (its tracks and a data channel); after
// that the bridge offers whenever the set of tracks it forwards changes. The
// bridge is the impolite peer of "perfect negotiation": a client offer that
// collides with the bridge's own is ignored, and the client rolls back.
type endpoint struct {
	id   string
	conf *conference
	log  *slog.Logger
	pc   *webrtc.PeerConnection

	neg          sync.Mutex // serialises negotiation and transceiver changes
	negotiated   bool       // the client's first offer has been answered
	offering     bool       // our offer awaits the client's answer
	renegotiate  bool       // tracks changed while we could not offer
	remoteSet    bool
	pendingCands []webrtc.ICECandidateInit
	pendingSubs  []*source // to forward once the first negotiation is done
	downs        map[*source]*downTrack
	closed       bool

	mu        sync.Mutex         // guards sources and midKinds
	sources   map[string]*source // by kind
	midKinds  map[string]string  // the client's transceivers: mid → source kind
	published bool               // false once close ran: no more sources

	// What a moderator muted: the endpoint's audio or video is not forwarded.
	blockAudio atomic.Bool
	blockVideo atomic.Bool

	dc        atomic.Pointer[webrtc.DataChannel]
	estimator *media.Estimator
	rtxBudget rtxBudget
	twccSeq   atomic.Uint32
	alloc     allocState
}

func newEndpoint(c *conference, id string) (*endpoint, error) {
	pc, err := c.b.api.NewPeerConnection(webrtc.Configuration{
		BundlePolicy:  webrtc.BundlePolicyMaxBundle,
		RTCPMuxPolicy: webrtc.RTCPMuxPolicyRequire,
	})
	if err != nil {
		return nil, fmt.Errorf("bridge: new peer connection: %w", err)
	}
	e := &endpoint{
		id: id, conf: c, log: c.log.With("endpoint", id), pc: pc,
		downs:     map[*source]*downTrack{},
		sources:   map[string]*source{},
		midKinds:  map[string]string{},
		published: true,
		estimator: media.NewEstimator(media.EstimatorConfig{Initial: initialEstimate, Min: minEstimate, Max: maxEstimate}),
	}
	e.alloc.constraints = defaultConstraints()
	e.rtxBudget.setRate(initialEstimate)
	pc.OnTrack(e.onTrack)
	pc.OnICECandidate(func(cand *webrtc.ICECandidate) {
		if cand == nil {
			return
		}
		c := rtc.Candidate(cand)
		e.emit(busmsg.EndpointEvent{Kind: busmsg.EventCandidate, Candidate: &c})
	})
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		e.log.Debug("connection state", "state", s.String())
		e.emit(busmsg.EndpointEvent{Kind: busmsg.EventState, State: s.String()})
	})
	pc.OnDataChannel(e.onDataChannel)
	return e, nil
}

func (e *endpoint) emit(ev busmsg.EndpointEvent) {
	ev.Conference = e.conf.id
	ev.Endpoint = e.id
	e.conf.b.emit(ev)
}

func (e *endpoint) onTrack(remote *webrtc.TrackRemote, recv *webrtc.RTPReceiver) {
	mid := e.midOf(recv)
	e.mu.Lock()
	if !e.published {
		e.mu.Unlock()
		return
	}
	kind := e.kindLocked(mid, remote.Kind())
	src := e.sources[kind]
	isNew := src == nil
	if isNew {
		src = newSource(e, kind, remote.Codec().RTPCodecCapability)
		e.sources[kind] = src
	}
	e.mu.Unlock()
	u := newUpTrack(src, layerIndex(remote.RID()), remote, recv)
	if !src.addLayer(u) {
		e.log.Warn("duplicate layer ignored", "source", src.id, "rid", remote.RID())
		return
	}
	e.log.Info("track published", "source", src.id, "layer", u.layer, "codec", remote.Codec().MimeType, "ssrc", uint32(remote.SSRC()))
	go u.run(e.layerEnded)
	go drainRTCP(recv, remote.RID())
	if isNew {
		e.conf.publish(src)
	}
}

// layerEnded withdraws a source from the conference once its last layer has
// stopped.
func (e *endpoint) layerEnded(u *upTrack) {
	if !u.src.removeLayer(u) {
		return
	}
	e.mu.Lock()
	if e.sources[u.src.kind] == u.src {
		delete(e.sources, u.src.kind)
	}
	e.mu.Unlock()
	e.conf.unpublish(u.src)
}

func (e *endpoint) midOf(recv *webrtc.RTPReceiver) string {
	for _, t := range e.pc.GetTransceivers() {
		if t.Receiver() == recv {
			return t.Mid()
		}
	}
	return ""
}

// kindLocked says which source a transceiver carries: what the client's
// offer said, else audio for audio, the camera for the first video and a
// screen share for any other.
func (e *endpoint) kindLocked(mid string, kind webrtc.RTPCodecType) string {
	if k, ok := e.midKinds[mid]; ok {
		return k
	}
	k := protocol.SourceAudio
	if kind == webrtc.RTPCodecTypeVideo {
		k = protocol.SourceVideo
		for _, taken := range e.midKinds {
			if taken == protocol.SourceVideo {
				k = protocol.SourceScreen
			}
		}
	}
	if mid != "" {
		e.midKinds[mid] = k
	}
	return k
}

// setTracks records what the client's offer says its transceivers carry.
func (e *endpoint) setTracks(tracks []protocol.TrackInfo) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, t := range tracks {
		switch t.Source {
		case protocol.SourceAudio, protocol.SourceVideo, protocol.SourceScreen:
			e.midKinds[t.Mid] = t.Source
		}
	}
}

// layerIndex maps a simulcast RID to a layer, lowest first.
func layerIndex(rid string) int {
	switch rid {
	case "h", "m", "1", "mid":
		return 1
	case "f", "2", "hi", "high":
		return 2
	}
	return 0
}

// publishedSources lists the endpoint's sources.
func (e *endpoint) publishedSources() []*source {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]*source, 0, len(e.sources))
	for _, k := range []string{protocol.SourceAudio, protocol.SourceVideo, protocol.SourceScreen} {
		if s := e.sources[k]; s != nil {
			out = append(out, s)
		}
	}
	return out
}

// remoteAddr is the address of the client's end of the selected candidate
// pair ("" before one is selected).
func (e *endpoint) remoteAddr() string {
	pair, err := e.pc.SCTP().Transport().ICETransport().GetSelectedCandidatePair()
	if err != nil || pair == nil || pair.Remote == nil {
		return ""
	}
	return net.JoinHostPort(pair.Remote.Address, strconv.Itoa(int(pair.Remote.Port)))
}

func (e *endpoint) nextTWCC() uint16 { return uint16(e.twccSeq.Add(1)) }

// setBlock stops or resumes forwarding the endpoint's audio and video (its
// camera and screen). Video that resumes starts at a keyframe.
func (e *endpoint) setBlock(b busmsg.Block) {
	e.blockAudio.Store(b.Audio)
	wasVideo := e.blockVideo.Swap(b.Video)
	if wasVideo && !b.Video {
		for _, src := range e.publishedSources() {
			if src.isVideo {
				for i := range maxLayers {
					src.requestKeyframe(i)
				}
			}
		}
	}
	e.log.Info("forwarding blocked", "audio", b.Audio, "video", b.Video)
}

// blocked reports whether a moderator stopped forwarding this source.
func (e *endpoint) blocked(src *source) bool {
	if src.isVideo {
		return e.blockVideo.Load()
	}
	return e.blockAudio.Load()
}

// handleOffer applies the client's offer and returns the answer, or "" when
// the offer collided with ours and was ignored.
func (e *endpoint) handleOffer(sdp string, tracks []protocol.TrackInfo) (string, error) {
	e.neg.Lock()
	defer e.neg.Unlock()
	if e.closed {
		return "", ErrClosed
	}
	if e.offering {
		e.log.Debug("ignoring colliding client offer")
		return "", nil
	}
	e.setTracks(tracks)
	if err := e.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: sdp}); err != nil {
		return "", fmt.Errorf("bridge: apply offer: %w", err)
	}
	answer, err := e.pc.CreateAnswer(nil)
	if err != nil {
		return "", fmt.Errorf("bridge: create answer: %w", err)
	}
	if err := e.pc.SetLocalDescription(answer); err != nil {
		return "", fmt.Errorf("bridge: set answer: %w", err)
	}
	e.remoteApplied()
	if !e.negotiated {
		e.negotiated = true
		for _, src := range e.pendingSubs {
			e.attachLocked(src)
		}
		e.pendingSubs = nil
	}
	if e.renegotiate {
		// The offer event reaches the room owner after this reply, so the
		// client sees our answer before our next offer.
		e.negotiateLocked()
	}
	return answer.SDP, nil
}

// handleAnswer applies the client's answer to our offer.
func (e *endpoint) handleAnswer(sdp string) error {
	e.neg.Lock()
	defer e.neg.Unlock()
	if e.closed {
		return ErrClosed
	}
	if !e.offering {
		return errNoOffer
	}
	if err := e.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: sdp}); err != nil {
		return fmt.Errorf("bridge: apply answer: %w", err)
	}
	e.offering = false
	e.remoteApplied()
	if e.renegotiate {
		e.negotiateLocked()
	}
	return nil
}

func (e *endpoint) remoteApplied() {
	e.remoteSet = true
	for _, c := range e.pendingCands {
		if err := e.pc.AddICECandidate(c); err != nil {
			e.log.Debug("add buffered candidate", "err", err)
		}
	}
	e.pendingCands = nil
}

func (e *endpoint) addCandidate(c protocol.Candidate) error {
	init := rtc.CandidateInit(c)
	e.neg.Lock()
	defer e.neg.Unlock()
	if e.closed {
		return ErrClosed
	}
	if !e.remoteSet {
		if len(e.pendingCands) < 64 {
			e.pendingCands = append(e.pendingCands, init)
		}
		return nil
	}
	if err := e.pc.AddICECandidate(init); err != nil {
		return fmt.Errorf("bridge: add candidate: %w", err)
	}
	return nil
}

// negotiateLocked sends an offer if one can be sent now, or remembers to.
func (e *endpoint) negotiateLocked() {
	if e.closed {
		return
	}
	if !e.negotiated || e.offering || e.pc.SignalingState() != webrtc.SignalingStateStable {
		e.renegotiate = true
		return
	}
	e.renegotiate = false
	offer, err := e.pc.CreateOffer(nil)
	if err != nil {
		e.log.Warn("create offer", "err", err)
		return
	}
	if err := e.pc.SetLocalDescription(offer); err != nil {
		e.log.Warn("set offer", "err", err)
		return
	}
	e.offering = true
	e.emit(busmsg.EndpointEvent{Kind: busmsg.EventOffer, SDP: offer.SDP})
}

// subscribe starts forwarding src to this endpoint.
func (e *endpoint) subscribe(src *source) {
	e.neg.Lock()
	defer e.neg.Unlock()
	if e.closed {
		return
	}
	if !e.negotiated {
		e.pendingSubs = append(e.pendingSubs, src)
		return
	}
	e.attachLocked(src)
	e.negotiateLocked()
}

func (e *endpoint) attachLocked(src *source) {
	if _, ok := e.downs[src]; ok {
		return
	}
	down := newDownTrack(src, e)
	tr, err := e.pc.AddTransceiverFromTrack(down, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
	if err != nil {
		e.log.Warn("add transceiver", "source", src.id, "err", err)
		return
	}
	down.sender = tr.Sender()
	e.downs[src] = down
	src.addDown(down)
	go down.readRTCP()
	e.renegotiate = true
	if src.isVideo {
		go e.allocate()
	}
}

// unsubscribe stops forwarding src to this endpoint.
func (e *endpoint) unsubscribe(src *source) {
	e.neg.Lock()
	defer e.neg.Unlock()
	for i, p := range e.pendingSubs {
		if p == src {
			e.pendingSubs = append(e.pendingSubs[:i], e.pendingSubs[i+1:]...)
			break
		}
	}
	down := e.downs[src]
	if down == nil {
		return
	}
	delete(e.downs, src)
	src.removeDown(down)
	e.conf.b.retireOut(down)
	if e.closed {
		return
	}
	if err := e.pc.RemoveTrack(down.sender); err != nil {
		e.log.Debug("remove track", "source", src.id, "err", err)
	}
	e.negotiateLocked()
}

// downTracks returns the endpoint's downTracks by source.
func (e *endpoint) downTracks() map[*source]*downTrack {
	e.neg.Lock()
	defer e.neg.Unlock()
	out := make(map[*source]*downTrack, len(e.downs))
	for s, d := range e.downs {
		out[s] = d
	}
	return out
}

// close ends the PeerConnection and returns the sources it published.
func (e *endpoint) close() []*source {
	e.neg.Lock()
	if e.closed {
		e.neg.Unlock()
		return nil
	}
	e.closed = true
	for src, down := range e.downs {
		src.removeDown(down)
		e.conf.b.retireOut(down)
	}
	e.downs = nil
	e.neg.Unlock()
	if err := e.pc.Close(); err != nil {
		e.log.Debug("close peer connection", "err", err)
	}
	e.mu.Lock()
	srcs := make([]*source, 0, len(e.sources))
	for _, s := range e.sources {
		srcs = append(srcs, s)
	}
	e.sources = map[string]*source{}
	e.published = false
	e.mu.Unlock()
	for _, s := range srcs {
		s.stop()
	}
	return srcs
}

// drainRTCP reads a receiver's RTCP for one layer (the publisher's sender
// reports) so that the interceptors see it; the reports feed our receiver
// reports.
func drainRTCP(recv *webrtc.RTPReceiver, rid string) {
	buf := make([]byte, 1500)
	for {
		var err error
		if rid == "" {
			_, _, err = recv.Read(buf)
		} else {
			_, _, err = recv.ReadSimulcast(buf, rid)
		}
		if err != nil {
			return
		}
	}
}
