package bridge

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/pion/webrtc/v4"

	"github.com/parley/parley/internal/busmsg"
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
	pendingSubs  []*upTrack // to forward once the first negotiation is done
	downs        map[*upTrack]*downTrack
	closed       bool

	mu      sync.Mutex // guards ups
	ups     []*upTrack
	upsDone bool // close ran: no more tracks
}

func newEndpoint(c *conference, id string) (*endpoint, error) {
	pc, err := c.b.api.NewPeerConnection(webrtc.Configuration{
		BundlePolicy:  webrtc.BundlePolicyMaxBundle,
		RTCPMuxPolicy: webrtc.RTCPMuxPolicyRequire,
	})
	if err != nil {
		return nil, fmt.Errorf("bridge: new peer connection: %w", err)
	}
	e := &endpoint{id: id, conf: c, log: c.log.With("endpoint", id), pc: pc, downs: map[*upTrack]*downTrack{}}
	pc.OnTrack(e.onTrack)
	pc.OnICECandidate(func(cand *webrtc.ICECandidate) {
		if cand == nil {
			return
		}
		init := cand.ToJSON()
		e.emit(busmsg.EndpointEvent{Kind: busmsg.EventCandidate, Candidate: &protocol.Candidate{
			Candidate: init.Candidate, SDPMid: init.SDPMid, SDPMLineIndex: init.SDPMLineIndex, UsernameFragment: init.UsernameFragment,
		}})
	})
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		e.log.Debug("connection state", "state", s.String())
		e.emit(busmsg.EndpointEvent{Kind: busmsg.EventState, State: s.String()})
	})
	pc.OnDataChannel(func(dc *webrtc.DataChannel) {
		e.log.Debug("data channel", "label", dc.Label())
	})
	return e, nil
}

func (e *endpoint) emit(ev busmsg.EndpointEvent) {
	ev.Conference = e.conf.id
	ev.Endpoint = e.id
	e.conf.b.emit(ev)
}

func (e *endpoint) onTrack(remote *webrtc.TrackRemote, recv *webrtc.RTPReceiver) {
	e.mu.Lock()
	if e.upsDone {
		e.mu.Unlock()
		return
	}
	up := newUpTrack(e, remote, e.trackIDLocked(remote.Kind().String()))
	e.ups = append(e.ups, up)
	e.mu.Unlock()
	e.log.Info("track published", "track", up.id, "codec", remote.Codec().MimeType, "ssrc", uint32(remote.SSRC()))
	go up.run()
	go drainRTCP(recv)
	e.conf.publish(up)
}

// trackIDLocked names a new published track "<endpoint>-<kind>", adding a
// counter when the endpoint publishes several of a kind.
func (e *endpoint) trackIDLocked(kind string) string {
	id := e.id + "-" + kind
	for n := 2; ; n++ {
		taken := false
		for _, u := range e.ups {
			taken = taken || u.id == id
		}
		if !taken {
			return id
		}
		id = fmt.Sprintf("%s-%s-%d", e.id, kind, n)
	}
}

func (e *endpoint) upTracks() []*upTrack {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]*upTrack(nil), e.ups...)
}

func (e *endpoint) removeUp(up *upTrack) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for i, u := range e.ups {
		if u == up {
			e.ups = append(e.ups[:i], e.ups[i+1:]...)
			return
		}
	}
}

// handleOffer applies the client's offer and returns the answer, or "" when
// the offer collided with ours and was ignored.
func (e *endpoint) handleOffer(sdp string) (string, error) {
	e.neg.Lock()
	defer e.neg.Unlock()
	if e.closed {
		return "", ErrClosed
	}
	if e.offering {
		e.log.Debug("ignoring colliding client offer")
		return "", nil
	}
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
		for _, up := range e.pendingSubs {
			e.attachLocked(up)
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
	init := webrtc.ICECandidateInit{Candidate: c.Candidate, SDPMid: c.SDPMid, SDPMLineIndex: c.SDPMLineIndex, UsernameFragment: c.UsernameFragment}
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

// subscribe starts forwarding up to this endpoint.
func (e *endpoint) subscribe(up *upTrack) {
	e.neg.Lock()
	defer e.neg.Unlock()
	if e.closed {
		return
	}
	if !e.negotiated {
		e.pendingSubs = append(e.pendingSubs, up)
		return
	}
	e.attachLocked(up)
	e.negotiateLocked()
}

func (e *endpoint) attachLocked(up *upTrack) {
	if _, ok := e.downs[up]; ok || up.stopped() {
		return
	}
	down := newDownTrack(up, e)
	tr, err := e.pc.AddTransceiverFromTrack(down, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
	if err != nil {
		e.log.Warn("add transceiver", "track", up.id, "err", err)
		return
	}
	down.sender = tr.Sender()
	e.downs[up] = down
	up.addDown(down)
	go down.readRTCP()
	e.renegotiate = true
}

// unsubscribe stops forwarding up to this endpoint.
func (e *endpoint) unsubscribe(up *upTrack) {
	e.neg.Lock()
	defer e.neg.Unlock()
	for i, p := range e.pendingSubs {
		if p == up {
			e.pendingSubs = append(e.pendingSubs[:i], e.pendingSubs[i+1:]...)
			break
		}
	}
	down := e.downs[up]
	if down == nil {
		return
	}
	delete(e.downs, up)
	up.removeDown(down)
	if e.closed {
		return
	}
	if err := e.pc.RemoveTrack(down.sender); err != nil {
		e.log.Debug("remove track", "track", up.id, "err", err)
	}
	e.negotiateLocked()
}

// close ends the PeerConnection and returns the tracks it published.
func (e *endpoint) close() []*upTrack {
	e.neg.Lock()
	if e.closed {
		e.neg.Unlock()
		return nil
	}
	e.closed = true
	for up, down := range e.downs {
		up.removeDown(down)
	}
	e.downs = nil
	e.neg.Unlock()
	if err := e.pc.Close(); err != nil {
		e.log.Debug("close peer connection", "err", err)
	}
	e.mu.Lock()
	ups := e.ups
	e.ups = nil
	e.upsDone = true
	e.mu.Unlock()
	for _, up := range ups {
		up.stop()
	}
	return ups
}

// drainRTCP reads a receiver's RTCP (the publisher's sender reports) so
// that the interceptors see it; the reports feed our receiver reports.
func drainRTCP(recv *webrtc.RTPReceiver) {
	buf := make([]byte, 1500)
	for {
		if _, _, err := recv.Read(buf); err != nil {
			return
		}
	}
}
