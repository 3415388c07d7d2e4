// Package client is the Go client of Parley: it joins a room over the
// signaling WebSocket, connects one PeerConnection to the room's bridge,
// publishes local tracks and receives everyone else's. The load generator,
// the network check, the recorder and the integration tests all use it, so
// each of them speaks the real protocol.
package client

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/pion/ice/v4"
	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"

	"github.com/parley/parley/internal/rtc"
	"github.com/parley/parley/protocol"
)

// Errors of the client.
var (
	ErrClosed  = errors.New("client: session closed")
	ErrRefused = errors.New("client: server refused")
)

// Config says where to join and what to do with media.
type Config struct {
	// URL of the server: http(s)://host:port or ws(s)://host:port/ws.
	URL  string
	Room string
	Name string
	// Token is a join token (JWT) when the server wants one; Password the
	// room's password when it has one.
	Token    string
	Password string
	// OnMessage, when set, sees every message the server sends after the
	// join (chat, moderation notices, room state, ...), decoded.
	OnMessage func(any)
	// OnLobby is called when the join waits in the room's lobby for a
	// moderator; Join returns once admitted.
	OnLobby func()
	// Tracks are published from the start: audio as the microphone, the
	// first video as the camera, any other video as a screen share. Use
	// Publish for simulcast or to name sources.
	Tracks []webrtc.TrackLocal
	// Publish lists sources to publish from the start.
	Publish []Publication
	// OnChannel is called with every bridge channel message
	// (*protocol.DominantSpeaker, *protocol.ForwardedSources, ...).
	OnChannel func(any)
	// OnTrack is called (on its own goroutine) for every track the bridge
	// forwards; read it until it returns an error, which happens when the
	// publisher leaves.
	OnTrack func(*RemoteTrack)
	// OnParticipantJoined and OnParticipantLeft follow the room.
	OnParticipantJoined func(protocol.Participant)
	OnParticipantLeft   func(id string)
	// SettingEngine, when set, replaces the default pion settings (tests use
	// it for virtual networks).
	SettingEngine *webrtc.SettingEngine
	// HTTPClient, when set, dials the signaling WebSocket (for a proxy, a
	// source address, custom TLS roots).
	HTTPClient *http.Client
	// How media reaches the bridge (ice.go). NetworkTypes limits the
	// candidates to these networks (default: UDP and TCP, IPv4 and IPv6);
	// ICETransportPolicy Relay sends media through TURN only;
	// SelectICEServers, when set, picks from the TURN servers the join
	// handed out (returning none is allowed); TURNTLS verifies TURN servers
	// over TLS (default: the system's roots).
	NetworkTypes       []webrtc.NetworkType
	ICETransportPolicy webrtc.ICETransportPolicy
	SelectICEServers   func([]protocol.ICEServer) []protocol.ICEServer
	TURNTLS            *tls.Config
	Log                *slog.Logger
}

// Publication is one source a client publishes.
type Publication struct {
	// Source is protocol.SourceAudio, SourceVideo (camera) or SourceScreen.
	Source string
	// Tracks holds one track, or one per simulcast layer, lowest first, each
	// with its RID set (webrtc.WithRTPStreamID) and the same track id.
	Tracks []webrtc.TrackLocal
	// OnLayers, when set, is told which layers somebody receives; the
	// publisher may stop sending the others until told again.
	OnLayers func(active []bool)
}

// RemoteTrack is one forwarded track and whose it is.
type RemoteTrack struct {
	// Participant is the publisher's participant id.
	Participant string
	// Source is the source id, "<participant>-<kind>".
	Source   string
	Track    *webrtc.TrackRemote
	Receiver *webrtc.RTPReceiver
}

// Session is one participant in a room.
type Session struct {
	cfg  Config
	log  *slog.Logger
	ws   *websocket.Conn
	pc   *webrtc.PeerConnection
	self protocol.Participant

	ctx      context.Context
	cancel   context.CancelFunc
	done     chan struct{}
	stopOnce sync.Once
	err      error

	mu           sync.Mutex
	participants map[string]protocol.Participant
	closedReason string

	neg sync.Mutex // guards pc and serialises work on its descriptions
	// closing is held (write) while a PeerConnection closes or takes a new
	// configuration, and (read) while its stats are read: pion's Close and
	// SetConfiguration race with its GetStats.
	closing   sync.RWMutex
	remoteSet bool
	// answered: the bridge answered our first offer. From then on only the
	// bridge offers (it does whenever what it forwards changes): pion can
	// roll nothing back, so an offer of ours crossing one of the bridge's
	// would leave both sides waiting for an answer forever.
	answered     bool
	pendingCands []webrtc.ICECandidateInit
	iceServers   []protocol.ICEServer

	connected chan struct{}
	connOnce  sync.Once

	pubs    []publication       // guarded by mu
	channel *webrtc.DataChannel // guarded by mu
}

// publication is a Publication with the transceiver that sends it.
type publication struct {
	Publication
	transceiver *webrtc.RTPTransceiver
}

// Join connects to the server, joins the room, and starts negotiating media.
// It returns once the server has admitted the participant; media connects
// in the background (see WaitConnected).
func Join(ctx context.Context, cfg Config) (*Session, error) {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	wsURL, err := signalingURL(cfg.URL)
	if err != nil {
		return nil, err
	}
	ws, _, err := websocket.Dial(ctx, wsURL, &websocket.DialOptions{HTTPClient: cfg.HTTPClient})
	if err != nil {
		return nil, fmt.Errorf("client: connect %s: %w", wsURL, err)
	}
	ws.SetReadLimit(16 << 20)
	sctx, cancel := context.WithCancel(context.Background())
	s := &Session{
		cfg: cfg, log: cfg.Log, ws: ws, ctx: sctx, cancel: cancel,
		done: make(chan struct{}), participants: map[string]protocol.Participant{}, connected: make(chan struct{}),
	}
	joined, err := s.join(ctx)
	if err != nil {
		cancel()
		_ = ws.CloseNow()
		return nil, err
	}
	s.iceServers = joined.ICEServers
	if err := s.setupPeer(); err != nil {
		cancel()
		_ = ws.CloseNow()
		return nil, err
	}
	go s.readLoop()
	return s, nil
}

func signalingURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("client: server URL %q is not an absolute URL", raw)
	}
	switch u.Scheme {
	case "http":
		u.Scheme = "ws"
	case "https":
		u.Scheme = "wss"
	case "ws", "wss":
	default:
		return "", fmt.Errorf("client: server URL %q must start with http, https, ws or wss", raw)
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = "/ws"
	}
	return u.String(), nil
}

func (s *Session) join(ctx context.Context) (*protocol.Joined, error) {
	err := s.send(protocol.Join{Type: protocol.TypeJoin, Version: protocol.Version, Room: s.cfg.Room, Name: s.cfg.Name, Token: s.cfg.Token, Password: s.cfg.Password})
	if err != nil {
		return nil, err
	}
	for {
		msg, err := s.read(ctx)
		if err != nil {
			return nil, err
		}
		switch m := msg.(type) {
		case *protocol.Joined:
			s.self = m.You
			s.mu.Lock()
			for _, p := range m.Participants {
				s.participants[p.ID] = p
			}
			s.mu.Unlock()
			return m, nil
		case *protocol.Error:
			return nil, &RefusedError{Code: m.Code, Message: m.Message}
		case *protocol.Closed:
			return nil, &RefusedError{Code: "closed", Message: m.Reason}
		case *protocol.LobbyWaiting:
			if s.cfg.OnLobby != nil {
				s.cfg.OnLobby()
			}
		}
	}
}

// RefusedError is a join the server refused, with the protocol's error code.
type RefusedError struct {
	Code, Message string
}

func (e *RefusedError) Error() string { return "client: server refused: " + e.Code + ": " + e.Message }

// Is makes errors.Is(err, ErrRefused) hold.
func (e *RefusedError) Is(target error) bool { return target == ErrRefused }

// setupPeer makes the PeerConnection to the bridge, publishes the
// configured sources on it and starts negotiating.
func (s *Session) setupPeer() error {
	servers := s.webrtcICEServers()
	api, err := newAPI(s.settingEngine(servers), s.log)
	if err != nil {
		return err
	}
	pc, err := api.NewPeerConnection(webrtc.Configuration{
		ICEServers: servers, BundlePolicy: webrtc.BundlePolicyMaxBundle, ICETransportPolicy: s.cfg.ICETransportPolicy,
	})
	if err != nil {
		return fmt.Errorf("client: peer connection: %w", err)
	}
	s.neg.Lock()
	s.pc = pc
	s.neg.Unlock()
	pc.OnICECandidate(func(c *webrtc.ICECandidate) {
		if c == nil {
			return
		}
		_ = s.send(protocol.Trickle{Type: protocol.TypeCandidate, Candidate: rtc.Candidate(c)})
	})
	pc.OnICEConnectionStateChange(func(st webrtc.ICEConnectionState) {
		if st == webrtc.ICEConnectionStateChecking {
			go func() { // not under pion's locks
				s.neg.Lock()
				if s.pc == pc {
					s.addPendingLocked()
				}
				s.neg.Unlock()
			}()
		}
	})
	pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		s.log.Debug("connection state", "participant", s.self.ID, "state", st.String())
		if st == webrtc.PeerConnectionStateConnected {
			s.connOnce.Do(func() { close(s.connected) })
		}
	})
	pc.OnTrack(func(t *webrtc.TrackRemote, r *webrtc.RTPReceiver) {
		if s.cfg.OnTrack != nil {
			s.cfg.OnTrack(&RemoteTrack{Participant: t.StreamID(), Source: t.ID(), Track: t, Receiver: r})
		}
	})
	for _, p := range publications(s.cfg) {
		if err := s.publish(pc, p); err != nil {
			return err
		}
	}
	// The data channel gives the first offer something to carry even when
	// nothing is published, and carries bridge messages.
	dc, err := pc.CreateDataChannel(protocol.ChannelLabel, nil)
	if err != nil {
		return fmt.Errorf("client: data channel: %w", err)
	}
	s.mu.Lock()
	s.channel = dc
	s.mu.Unlock()
	dc.OnMessage(s.onChannel)
	// Negotiate once everything is in place; pion may have asked already,
	// before there was a handler to hear it.
	pc.OnNegotiationNeeded(s.offer)
	go s.offer()
	return nil
}

// publications merges Config.Tracks into Config.Publish.
func publications(cfg Config) []Publication {
	pubs := append([]Publication(nil), cfg.Publish...)
	video := false
	for _, p := range pubs {
		video = video || p.Source == protocol.SourceVideo
	}
	for _, t := range cfg.Tracks {
		kind := protocol.SourceAudio
		if t.Kind() == webrtc.RTPCodecTypeVideo {
			kind = protocol.SourceVideo
			if video {
				kind = protocol.SourceScreen
			}
			video = true
		}
		pubs = append(pubs, Publication{Source: kind, Tracks: []webrtc.TrackLocal{t}})
	}
	return pubs
}

func (s *Session) publish(pc *webrtc.PeerConnection, p Publication) error {
	if len(p.Tracks) == 0 {
		return fmt.Errorf("client: publication %s has no tracks", p.Source)
	}
	tr, err := pc.AddTransceiverFromTrack(p.Tracks[0], webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
	if err != nil {
		return fmt.Errorf("client: publish %s: %w", p.Source, err)
	}
	for _, t := range p.Tracks[1:] {
		if err := tr.Sender().AddEncoding(t); err != nil {
			return fmt.Errorf("client: publish %s layer %s: %w", p.Source, t.RID(), err)
		}
	}
	go readSenderRTCP(tr.Sender(), p.Tracks)
	s.mu.Lock()
	s.pubs = append(s.pubs, publication{Publication: p, transceiver: tr})
	s.mu.Unlock()
	return nil
}

// MIDSetter is implemented by published tracks that write the MID header
// extension themselves (pion does not, and a simulcast receiver needs it);
// the client tells them their transceiver's mid after each negotiation.
type MIDSetter interface {
	SetMID(mid string)
}

// tracksInfo says which source each sending transceiver carries, and tells
// the tracks their mids.
func (s *Session) tracksInfo() []protocol.TrackInfo {
	var out []protocol.TrackInfo
	s.mu.Lock()
	pubs := s.pubs
	s.mu.Unlock()
	for _, p := range pubs {
		mid := p.transceiver.Mid()
		if mid == "" {
			continue
		}
		out = append(out, protocol.TrackInfo{Mid: mid, Source: p.Source})
		for _, t := range p.Tracks {
			if ms, ok := t.(MIDSetter); ok {
				ms.SetMID(mid)
			}
		}
	}
	return out
}

func (s *Session) onChannel(m webrtc.DataChannelMessage) {
	msg, err := protocol.DecodeChannel(m.Data)
	if err != nil {
		s.log.Warn("bad bridge message", "err", err)
		return
	}
	if l, ok := msg.(*protocol.Layers); ok {
		s.mu.Lock()
		pubs := s.pubs
		s.mu.Unlock()
		for _, p := range pubs {
			if protocol.SourceID(s.self.ID, p.Source) == l.Source && p.OnLayers != nil {
				p.OnLayers(l.Active)
			}
		}
	}
	if s.cfg.OnChannel != nil {
		s.cfg.OnChannel(msg)
	}
}

// SendConstraints tells the bridge what this receiver wants.
func (s *Session) SendConstraints(c protocol.Constraints) error {
	c.Type = protocol.ChannelConstraints
	data, err := json.Marshal(c)
	if err != nil {
		return err
	}
	dc := s.dataChannel()
	if dc.ReadyState() != webrtc.DataChannelStateOpen {
		return fmt.Errorf("client: bridge channel is %s", dc.ReadyState())
	}
	return dc.SendText(string(data))
}

func (s *Session) dataChannel() *webrtc.DataChannel {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.channel
}

// WaitChannel blocks until the bridge channel is open.
func (s *Session) WaitChannel(ctx context.Context) error {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for s.dataChannel().ReadyState() != webrtc.DataChannelStateOpen {
		select {
		case <-ctx.Done():
			return fmt.Errorf("client: bridge channel not open: %w", ctx.Err())
		case <-s.done:
			return ErrClosed
		case <-t.C:
		}
	}
	return nil
}

func newAPI(se *webrtc.SettingEngine, log *slog.Logger) (*webrtc.API, error) {
	m, err := rtc.MediaEngine()
	if err != nil {
		return nil, err
	}
	reg, err := rtc.Interceptors(m, rtc.Client, rtc.LoggerFactory(log))
	if err != nil {
		return nil, err
	}
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(reg), webrtc.WithSettingEngine(*se)), nil
}

// DefaultSettingEngine returns the pion settings the client uses unless
// Config.SettingEngine replaces them: UDP and TCP candidates, IPv4 and
// IPv6 (ICE tries every path at once and keeps the best, so media falls
// back from UDP to ICE-TCP to TURN by itself), loopback candidates
// included (so a server on the same machine is reachable), mDNS off,
// pion's logs in log.
func DefaultSettingEngine(log *slog.Logger) *webrtc.SettingEngine {
	se := &webrtc.SettingEngine{}
	se.SetNetworkTypes([]webrtc.NetworkType{
		webrtc.NetworkTypeUDP4, webrtc.NetworkTypeUDP6, webrtc.NetworkTypeTCP4, webrtc.NetworkTypeTCP6,
	})
	se.SetIncludeLoopbackCandidate(true)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.LoggerFactory = rtc.LoggerFactory(log)
	return se
}

// KeyframeRequester is implemented by published tracks that can produce a
// keyframe on demand; the client calls it when the bridge asks for one.
type KeyframeRequester interface {
	RequestKeyframe()
}

// readSenderRTCP reads the bridge's feedback on a published source, so
// that the interceptors see it (NACKs are answered there), and passes
// keyframe requests on to its tracks.
func readSenderRTCP(s *webrtc.RTPSender, tracks []webrtc.TrackLocal) {
	var kfs []KeyframeRequester
	for _, t := range tracks {
		if kf, ok := t.(KeyframeRequester); ok {
			kfs = append(kfs, kf)
		}
	}
	for {
		pkts, _, err := s.ReadRTCP()
		if err != nil {
			return
		}
		for _, p := range pkts {
			switch p.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				for _, kf := range kfs {
					kf.RequestKeyframe()
				}
			}
		}
	}
}

// offer sends an offer when the PeerConnection needs negotiating.
func (s *Session) offer() {
	s.neg.Lock()
	defer s.neg.Unlock()
	if s.answered {
		return // the bridge renegotiates from now on; our tracks are all in
	}
	if s.pc.SignalingState() != webrtc.SignalingStateStable {
		return // pion asks again once stable
	}
	offer, err := s.pc.CreateOffer(nil)
	if err != nil {
		s.log.Warn("create offer", "err", err)
		return
	}
	if err := s.pc.SetLocalDescription(offer); err != nil {
		s.log.Warn("set offer", "err", err)
		return
	}
	_ = s.send(protocol.SessionDescription{Type: protocol.TypeOffer, SDP: offer.SDP, Tracks: s.tracksInfo()})
}

// handleOffer answers the bridge. As the polite peer, a client whose own
// offer is in flight rolls it back first.
func (s *Session) handleOffer(sdp string) error {
	s.neg.Lock()
	defer s.neg.Unlock()
	if s.pc.SignalingState() == webrtc.SignalingStateHaveLocalOffer {
		if err := s.pc.SetLocalDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeRollback}); err != nil {
			return fmt.Errorf("client: roll back: %w", err)
		}
	}
	if err := s.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: sdp}); err != nil {
		return fmt.Errorf("client: apply offer: %w", err)
	}
	s.remoteApplied()
	answer, err := s.pc.CreateAnswer(nil)
	if err != nil {
		return fmt.Errorf("client: create answer: %w", err)
	}
	if err := s.pc.SetLocalDescription(answer); err != nil {
		return fmt.Errorf("client: set answer: %w", err)
	}
	s.tracksInfo()
	return s.send(protocol.SessionDescription{Type: protocol.TypeAnswer, SDP: answer.SDP})
}

func (s *Session) handleAnswer(sdp string) error {
	s.neg.Lock()
	defer s.neg.Unlock()
	if s.pc.SignalingState() != webrtc.SignalingStateHaveLocalOffer {
		return nil // an answer to an offer we rolled back
	}
	if err := s.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: sdp}); err != nil {
		return fmt.Errorf("client: apply answer: %w", err)
	}
	s.answered = true
	s.remoteApplied()
	return nil
}

// remoteApplied notes that a remote description is in place and adds the
// candidates that waited for it, once the ICE transport has started.
func (s *Session) remoteApplied() {
	s.remoteSet = true
	s.addPendingLocked()
}

// addPendingLocked adds the buffered remote candidates if the ICE
// transport runs; the caller holds s.neg. pion starts the transport on its
// own goroutine after the answer is applied, and the local ICE-TCP
// candidates it makes for a remote passive candidate added before that are
// closed when it starts: such a session would never connect over TCP.
func (s *Session) addPendingLocked() {
	if !s.remoteSet || s.pc.ICEConnectionState() == webrtc.ICEConnectionStateNew {
		return
	}
	for _, c := range s.pendingCands {
		_ = s.pc.AddICECandidate(c)
	}
	s.pendingCands = nil
}

func (s *Session) handleCandidate(c protocol.Candidate) {
	init := rtc.CandidateInit(c)
	s.neg.Lock()
	defer s.neg.Unlock()
	if !s.remoteSet || s.pc.ICEConnectionState() == webrtc.ICEConnectionStateNew {
		s.pendingCands = append(s.pendingCands, init)
		return
	}
	if err := s.pc.AddICECandidate(init); err != nil {
		s.log.Debug("add candidate", "err", err)
	}
}

func (s *Session) readLoop() {
	defer s.shutdown()
	for {
		msg, err := s.read(s.ctx)
		if err != nil {
			s.setErr(err)
			return
		}
		if s.cfg.OnMessage != nil {
			s.cfg.OnMessage(msg)
		}
		switch m := msg.(type) {
		case *protocol.SessionDescription:
			if m.Type == protocol.TypeOffer {
				err = s.handleOffer(m.SDP)
			} else {
				err = s.handleAnswer(m.SDP)
			}
			if err != nil {
				s.log.Warn("negotiation", "participant", s.self.ID, "err", err)
			}
		case *protocol.Trickle:
			s.handleCandidate(m.Candidate)
		case *protocol.ParticipantJoined:
			s.mu.Lock()
			s.participants[m.Participant.ID] = m.Participant
			s.mu.Unlock()
			if s.cfg.OnParticipantJoined != nil {
				s.cfg.OnParticipantJoined(m.Participant)
			}
		case *protocol.ParticipantUpdated:
			s.mu.Lock()
			s.participants[m.Participant.ID] = m.Participant
			s.mu.Unlock()
		case *protocol.ParticipantLeft:
			s.mu.Lock()
			delete(s.participants, m.ID)
			s.mu.Unlock()
			if s.cfg.OnParticipantLeft != nil {
				s.cfg.OnParticipantLeft(m.ID)
			}
		case *protocol.Closed:
			s.mu.Lock()
			s.closedReason = m.Reason
			s.mu.Unlock()
		case *protocol.Restart:
			s.log.Info("media restart", "participant", s.self.ID, "reason", m.Reason)
			if err := s.restartMedia(); err != nil {
				s.log.Warn("media restart failed", "participant", s.self.ID, "err", err)
			}
		case *protocol.ICEServers:
			s.updateICEServers(m.ICEServers)
		case *protocol.Error:
			s.log.Warn("server error", "participant", s.self.ID, "code", m.Code, "message", m.Message, "ref", m.Ref)
		}
	}
}

// updateICEServers takes fresh ICE servers (new TURN credentials): the
// PeerConnection uses them for gathering from now on, and a restart makes
// its new one with them.
func (s *Session) updateICEServers(servers []protocol.ICEServer) {
	s.mu.Lock()
	s.iceServers = servers
	s.mu.Unlock()
	s.neg.Lock()
	defer s.neg.Unlock()
	if s.pc == nil {
		return
	}
	cfg := s.pc.GetConfiguration()
	cfg.ICEServers = s.webrtcICEServers()
	s.closing.Lock()
	err := s.pc.SetConfiguration(cfg)
	s.closing.Unlock()
	if err != nil {
		s.log.Debug("update ICE servers", "err", err)
	}
}

// Reconnect asks the server for a fresh media connection, as after a
// network change: the server answers with a restart, and the session makes
// a new PeerConnection with the ICE servers it has now.
func (s *Session) Reconnect(reason string) error {
	return s.send(protocol.Reconnect{Type: protocol.TypeReconnect, Reason: reason})
}

func (s *Session) read(ctx context.Context) (any, error) {
	_, data, err := s.ws.Read(ctx)
	if err != nil {
		return nil, fmt.Errorf("client: read: %w", err)
	}
	msg, err := protocol.Decode(data)
	if err != nil {
		return nil, fmt.Errorf("client: server sent a bad message: %w", err)
	}
	return msg, nil
}

func (s *Session) send(v any) error {
	ctx, cancel := context.WithTimeout(s.ctx, 10*time.Second)
	defer cancel()
	return s.sendCtx(ctx, v)
}

func (s *Session) sendCtx(ctx context.Context, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if err := s.ws.Write(ctx, websocket.MessageText, data); err != nil {
		return fmt.Errorf("client: send: %w", err)
	}
	return nil
}

func (s *Session) setErr(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil && !errors.Is(err, context.Canceled) {
		s.err = err
	}
}

// restartMedia replaces the PeerConnection: the bridge asked for it because
// the participant's media moved to another bridge.
func (s *Session) restartMedia() error {
	s.neg.Lock()
	old := s.pc
	s.remoteSet = false
	s.answered = false
	s.pendingCands = nil
	s.neg.Unlock()
	if old != nil {
		s.closing.Lock()
		_ = old.Close() // ends the remote tracks and unbinds the published ones
		s.closing.Unlock()
	}
	s.mu.Lock()
	s.pubs = nil
	s.mu.Unlock()
	return s.setupPeer()
}

// shutdown ends the session once: the signaling connection at once (no
// close handshake, which would wait for a server that may not answer), then
// the PeerConnection.
func (s *Session) shutdown() {
	s.stopOnce.Do(func() {
		s.cancel()
		_ = s.ws.CloseNow()
		s.neg.Lock()
		pc := s.pc
		s.neg.Unlock()
		if pc != nil {
			s.closing.Lock()
			_ = pc.Close()
			s.closing.Unlock()
		}
		close(s.done)
	})
}

// ID is this participant's id.
func (s *Session) ID() string { return s.self.ID }

// Self is this participant as the server described it at join.
func (s *Session) Self() protocol.Participant { return s.self }

// PeerConnection is the session's connection to the bridge.
func (s *Session) PeerConnection() *webrtc.PeerConnection {
	s.neg.Lock()
	defer s.neg.Unlock()
	return s.pc
}

// Participants returns everyone else in the room.
func (s *Session) Participants() []protocol.Participant {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]protocol.Participant, 0, len(s.participants))
	for _, p := range s.participants {
		out = append(out, p)
	}
	return out
}

// WaitConnected blocks until media is connected to the bridge.
func (s *Session) WaitConnected(ctx context.Context) error {
	select {
	case <-s.connected:
		return nil
	case <-s.done:
		return ErrClosed
	case <-ctx.Done():
		return fmt.Errorf("client: media not connected: %w", ctx.Err())
	}
}

// SetMuted announces the microphone and camera state. The caller stops
// sending media itself.
func (s *Session) SetMuted(audio, video bool) error {
	return s.send(protocol.Mute{Type: protocol.TypeMute, Audio: audio, Video: video})
}

// Send writes a raw message; tests use it to send what the typed API
// would not.
func (s *Session) Send(v any) error { return s.send(v) }

// Timeouts of Leave and Close. Together they stay under 5 s, however the
// server or the network behaves.
const (
	// leaveTimeout is how long Leave waits for the server to end the
	// session after the goodbye.
	leaveTimeout = 1500 * time.Millisecond
	// closeTimeout is how long Close waits for the PeerConnection to
	// close; pion may wait on a transport that no longer answers.
	closeTimeout = 3 * time.Second
)

// Leave says goodbye and closes the session. It returns within 5 s.
func (s *Session) Leave() {
	ctx, cancel := context.WithTimeout(s.ctx, leaveTimeout)
	defer cancel()
	if s.sendCtx(ctx, protocol.Leave{Type: protocol.TypeLeave}) == nil {
		select {
		case <-s.done:
		case <-ctx.Done():
		}
	}
	s.Close()
}

// Close ends the session without saying goodbye (like a lost connection).
// It returns within closeTimeout: a PeerConnection that has not closed by
// then is logged and left to close in the background.
func (s *Session) Close() {
	go s.shutdown()
	t := time.NewTimer(closeTimeout)
	defer t.Stop()
	select {
	case <-s.done:
	case <-t.C:
		s.log.Warn("close: the peer connection did not close in time; leaving it behind", "participant", s.self.ID, "waited", closeTimeout)
	}
}

// Done is closed when the session ends.
func (s *Session) Done() <-chan struct{} { return s.done }

// Err says why the session ended, if it ended on an error.
func (s *Session) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// ClosedReason is the reason the server gave when it ended the session.
func (s *Session) ClosedReason() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closedReason
}
