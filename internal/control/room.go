package control

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/parley/parley/internal/bus"
	"github.com/parley/parley/internal/busmsg"
	"github.com/parley/parley/protocol"
)

// bridgeTimeout bounds a request to a bridge; a dead bridge must not hold
// up the room for long.
const bridgeTimeout = 2 * time.Second

// healthEvery is how often a room checks that its participants' bridges
// are alive and not draining.
const healthEvery = 250 * time.Millisecond

// participant is one member of a room.
type participant struct {
	id         string // also the session id and the bridge endpoint id
	name       string
	region     string
	bridge     string
	audioMuted bool
	videoMuted bool
}

func (p *participant) public() protocol.Participant {
	return protocol.Participant{ID: p.id, Name: p.name, AudioMuted: p.audioMuted, VideoMuted: p.videoMuted}
}

// item is one thing for the room's loop to handle: a client message (msg is
// set for requests that want a reply) or a bridge event.
type item struct {
	client *busmsg.ClientMessage
	event  *busmsg.EndpointEvent
	msg    *nats.Msg
}

// room is owned by one control node. One goroutine (run) handles all of its
// messages in order, so its state needs no lock.
type room struct {
	name  string
	c     *Control
	log   *slog.Logger
	lease *bus.Lease
	epoch string // new every time the room is created, here or elsewhere

	qmu   sync.Mutex
	queue []item
	wake  chan struct{}

	participants map[string]*participant
	order        []string // join order
	emptySince   time.Time
	subs         []*nats.Subscription
}

func newRoom(c *Control, name string, lease *bus.Lease) (*room, error) {
	r := &room{
		name:         name,
		c:            c,
		log:          c.log.With("room", name),
		lease:        lease,
		epoch:        newEpoch(),
		wake:         make(chan struct{}, 1),
		participants: map[string]*participant{},
		emptySince:   time.Now(),
	}
	ctl, err := c.cfg.Bus.Subscribe(bus.RoomControl(name), func(m *nats.Msg) {
		var cm busmsg.ClientMessage
		if err := bus.Decode(m, &cm); err != nil {
			bus.Respond(m, nil, err)
			return
		}
		if cm.Type == busmsg.TypeProbe {
			// Answered here, not in the queue: a busy room is still alive.
			bus.Respond(m, busmsg.ProbeReply{Owner: c.cfg.NodeID, Epoch: r.epoch}, nil)
			return
		}
		it := item{client: &cm}
		if m.Reply != "" {
			it.msg = m
		}
		r.push(it)
	})
	if err != nil {
		return nil, fmt.Errorf("control: subscribe room %s: %w", name, err)
	}
	ev, err := c.cfg.Bus.Subscribe(bus.RoomBridgeEvents(name), func(m *nats.Msg) {
		var e busmsg.EndpointEvent
		if bus.Decode(m, &e) == nil {
			r.push(item{event: &e})
		}
	})
	if err != nil {
		_ = ctl.Unsubscribe()
		return nil, fmt.Errorf("control: subscribe room %s: %w", name, err)
	}
	r.subs = []*nats.Subscription{ctl, ev}
	return r, nil
}

// push queues an item without blocking the bus's delivery goroutine.
func (r *room) push(it item) {
	r.qmu.Lock()
	r.queue = append(r.queue, it)
	r.qmu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

func (r *room) pop() (item, bool) {
	r.qmu.Lock()
	defer r.qmu.Unlock()
	if len(r.queue) == 0 {
		return item{}, false
	}
	it := r.queue[0]
	r.queue[0] = item{}
	r.queue = r.queue[1:]
	return it, true
}

func (r *room) run(ctx context.Context) {
	refresh := time.NewTicker(r.c.leases.TTL() / 3)
	defer refresh.Stop()
	health := time.NewTicker(healthEvery)
	defer health.Stop()
	for {
		select {
		case <-health.C:
			r.checkBridges(ctx)
		case <-ctx.Done():
			r.shutdown(false)
			return
		case <-r.wake:
			for {
				it, ok := r.pop()
				if !ok {
					break
				}
				r.handle(ctx, it)
			}
		case <-refresh.C:
			if err := r.refreshLease(ctx); err != nil {
				r.log.Warn("room lease lost; giving the room up", "err", err)
				r.shutdown(false)
				return
			}
			if len(r.participants) == 0 && time.Since(r.emptySince) > r.c.cfg.EmptyRoomGrace {
				r.shutdown(true)
				return
			}
		}
	}
}

func (r *room) refreshLease(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	return r.c.leases.Refresh(ctx, r.lease, r.c.cfg.NodeID)
}

// shutdown stops taking messages; requests still queued are told to claim
// the room again. release gives the lease up at once.
func (r *room) shutdown(release bool) {
	for _, s := range r.subs {
		_ = s.Unsubscribe()
	}
	for {
		it, ok := r.pop()
		if !ok {
			break
		}
		if it.msg != nil {
			bus.Respond(it.msg, nil, ErrRoomClosing)
		}
	}
	if release {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if err := r.c.leases.Release(ctx, r.lease); err != nil {
			r.log.Debug("release lease", "err", err)
		}
		r.log.Info("room closed")
	}
}

func (r *room) handle(ctx context.Context, it item) {
	switch {
	case it.client != nil:
		err := r.handleClient(ctx, it.client)
		if err != nil {
			r.log.Debug("client message failed", "session", it.client.Session, "type", it.client.Type, "err", err)
		}
		if it.msg != nil { // a join: the signal node waits for the outcome
			reply := busmsg.JoinReply{Participant: it.client.Session, Epoch: r.epoch}
			if p := r.participants[it.client.Session]; p != nil {
				reply.Bridge = p.bridge
			}
			if err != nil {
				e := errorReply(it.client.Type, err)
				reply = busmsg.JoinReply{Error: &e}
			}
			bus.Respond(it.msg, reply, nil)
		} else if err != nil && !it.client.Disconnected {
			r.send(it.client.Session, errorReply(it.client.Type, err), false)
		}
	case it.event != nil:
		r.handleBridgeEvent(it.event)
	}
}

func (r *room) handleClient(ctx context.Context, m *busmsg.ClientMessage) error {
	if m.Disconnected {
		return r.remove(ctx, m.Session, "")
	}
	if m.Type == busmsg.TypeRejoin && m.Rejoin != nil {
		r.rejoin(m.Session, m.Rejoin)
		return nil
	}
	msg, err := protocol.Decode(m.Data)
	if err != nil {
		return err
	}
	if j, ok := msg.(*protocol.Join); ok {
		return r.join(ctx, m.Session, j, m.Region, m.Host)
	}
	p := r.participants[m.Session]
	if p == nil {
		return &protocol.DecodeError{Code: protocol.CodeNotJoined, Message: "join the room first"}
	}
	switch msg := msg.(type) {
	case *protocol.SessionDescription:
		if msg.Type == protocol.TypeOffer {
			return negotiationError(r.relayOffer(ctx, p, msg.SDP, msg.Tracks))
		}
		_, err := r.bridgeRequest(ctx, p, busmsg.EndpointRequest{Op: busmsg.OpAnswer, SDP: msg.SDP})
		return negotiationError(err)
	case *protocol.Trickle:
		c := msg.Candidate
		_, err := r.bridgeRequest(ctx, p, busmsg.EndpointRequest{Op: busmsg.OpCandidate, Candidate: &c})
		return negotiationError(err)
	case *protocol.Mute:
		p.audioMuted, p.videoMuted = msg.Audio, msg.Video
		r.broadcast(p.id, protocol.ParticipantUpdated{Type: protocol.TypeParticipantUpdated, Participant: p.public()})
		return nil
	case *protocol.Leave:
		return r.remove(ctx, p.id, "you left the meeting")
	}
	return &protocol.DecodeError{Code: protocol.CodeWrongDirection, Message: fmt.Sprintf("%s is not a client message", m.Type)}
}

func (r *room) join(ctx context.Context, session string, j *protocol.Join, region, host string) error {
	if _, ok := r.participants[session]; ok {
		return &protocol.DecodeError{Code: protocol.CodeAlreadyJoined, Message: "this connection has already joined"}
	}
	bridge, err := r.pickBridge(region)
	if err != nil {
		return err
	}
	p := &participant{id: session, name: j.Name, region: region, bridge: bridge}
	if _, err := r.bridgeRequest(ctx, p, busmsg.EndpointRequest{Op: busmsg.OpAllocate}); err != nil {
		return fmt.Errorf("%w: allocate endpoint on %s: %v", ErrNoBridge, bridge, err)
	}
	r.c.bridges.placed(bridge)
	others := make([]protocol.Participant, 0, len(r.order))
	for _, id := range r.order {
		others = append(others, r.participants[id].public())
	}
	r.participants[p.id] = p
	r.order = append(r.order, p.id)
	r.send(p.id, protocol.Joined{
		Type: protocol.TypeJoined, Version: protocol.Version, Room: r.name,
		You: p.public(), Participants: others, ICEServers: r.iceServers(p.id, host),
	}, false)
	r.broadcast(p.id, protocol.ParticipantJoined{Type: protocol.TypeParticipantJoined, Participant: p.public()})
	r.log.Info("participant joined", "participant", p.id, "bridge", bridge, "size", len(r.participants))
	return nil
}

func (r *room) iceServers(participant, host string) []protocol.ICEServer {
	var out []protocol.ICEServer
	if r.c.cfg.ICEServers != nil {
		out = r.c.cfg.ICEServers(participant, host)
	}
	if out == nil {
		out = []protocol.ICEServer{}
	}
	return out
}

// pickBridge places a participant from region: where the conference is,
// else by the selector. At start-up, when no bridge is known yet, it waits
// a little for a heartbeat.
func (r *room) pickBridge(region string) (string, error) {
	deadline := time.Now().Add(3 * time.Second)
	for {
		live := r.c.bridges.live()
		id, err := r.c.cfg.Selector.Select(r.placement(region), live)
		if err == nil {
			r.log.Debug("bridge picked", "region", region, "bridge", id, "candidates", live)
			return id, nil
		}
		if time.Now().After(deadline) {
			return "", &protocol.DecodeError{Code: protocol.CodeUnavailable, Message: "no media bridge is available; try again shortly"}
		}
		r.c.bridges.wait(time.Until(deadline))
	}
}

// placement describes the conference for the selector: how many
// participants each usable bridge carries.
func (r *room) placement(region string) Placement {
	p := Placement{Region: region, Conference: map[string]int{}}
	for _, part := range r.participants {
		if r.c.bridges.usable(part.bridge) {
			p.Conference[part.bridge]++
		}
	}
	return p
}

// rejoin takes over a participant whose room changed owner: its media is
// already on its bridge, so nothing is allocated and nobody is told. If the
// bridge is gone, the next health check moves it.
func (r *room) rejoin(session string, info *busmsg.Rejoin) {
	p := r.participants[session]
	if p == nil {
		p = &participant{id: session}
		r.participants[session] = p
		r.order = append(r.order, session)
	}
	p.name, p.region, p.bridge = info.Name, info.Region, info.Bridge
	p.audioMuted, p.videoMuted = info.AudioMuted, info.VideoMuted
	r.log.Info("participant re-attached", "participant", session, "bridge", info.Bridge, "size", len(r.participants))
}

// checkBridges moves the participants whose bridge died or drains to a
// usable one, all to the same bridge, and tells their clients to
// renegotiate their media there.
func (r *room) checkBridges(ctx context.Context) {
	var moving []*participant
	for _, id := range r.order {
		if p := r.participants[id]; !r.c.bridges.usable(p.bridge) {
			moving = append(moving, p)
		}
	}
	if len(moving) == 0 {
		return
	}
	target, err := r.c.cfg.Selector.Select(r.placement(moving[0].region), r.c.bridges.live())
	if err != nil {
		r.log.Warn("no bridge to move participants to", "participants", len(moving), "err", err)
		return
	}
	for _, p := range moving {
		old := p.bridge
		moved := *p
		moved.bridge = target
		if _, err := r.bridgeRequest(ctx, &moved, busmsg.EndpointRequest{Op: busmsg.OpAllocate}); err != nil {
			r.log.Warn("move participant", "participant", p.id, "to", target, "err", err)
			continue
		}
		r.c.bridges.placed(target)
		if r.c.bridges.alive(old) {
			// Draining: free the old endpoint now that the new one exists.
			if _, err := r.bridgeRequest(ctx, p, busmsg.EndpointRequest{Op: busmsg.OpExpire}); err != nil {
				r.log.Debug("expire moved endpoint", "participant", p.id, "err", err)
			}
		}
		p.bridge = target
		r.sendEvent(p.id, protocol.Restart{Type: protocol.TypeRestart, Reason: "media moved to another bridge"}, busmsg.SessionEvent{Bridge: target})
		r.log.Info("participant moved", "participant", p.id, "from", old, "to", target)
	}
}

func (r *room) relayOffer(ctx context.Context, p *participant, sdp string, tracks []protocol.TrackInfo) error {
	reply, err := r.bridgeRequest(ctx, p, busmsg.EndpointRequest{Op: busmsg.OpOffer, SDP: sdp, Tracks: tracks})
	if err != nil {
		return err
	}
	if reply.SDP != "" {
		r.send(p.id, protocol.SessionDescription{Type: protocol.TypeAnswer, SDP: reply.SDP}, false)
	}
	return nil
}

// remove takes a participant out of the room. A non-empty reason is sent to
// the participant, whose socket is then closed.
func (r *room) remove(ctx context.Context, id, reason string) error {
	p := r.participants[id]
	if p == nil {
		return nil
	}
	delete(r.participants, id)
	for i, x := range r.order {
		if x == id {
			r.order = append(r.order[:i], r.order[i+1:]...)
			break
		}
	}
	if r.c.bridges.alive(p.bridge) {
		if _, err := r.bridgeRequest(ctx, p, busmsg.EndpointRequest{Op: busmsg.OpExpire}); err != nil && ctx.Err() == nil {
			r.log.Warn("expire endpoint", "participant", id, "err", err)
		}
	}
	if reason != "" {
		r.send(id, protocol.Closed{Type: protocol.TypeClosed, Reason: reason}, true)
	}
	r.broadcast(id, protocol.ParticipantLeft{Type: protocol.TypeParticipantLeft, ID: id})
	if len(r.participants) == 0 {
		r.emptySince = time.Now()
	}
	r.log.Info("participant left", "participant", id, "size", len(r.participants))
	return nil
}

func (r *room) handleBridgeEvent(e *busmsg.EndpointEvent) {
	p := r.participants[e.Endpoint]
	if p == nil || p.bridge != e.Bridge {
		return
	}
	switch e.Kind {
	case busmsg.EventOffer:
		r.send(p.id, protocol.SessionDescription{Type: protocol.TypeOffer, SDP: e.SDP}, false)
	case busmsg.EventCandidate:
		if e.Candidate != nil {
			r.send(p.id, protocol.Trickle{Type: protocol.TypeCandidate, Candidate: *e.Candidate}, false)
		}
	case busmsg.EventState:
		r.log.Debug("endpoint state", "participant", p.id, "state", e.State)
	}
}

func (r *room) bridgeRequest(ctx context.Context, p *participant, req busmsg.EndpointRequest) (busmsg.EndpointReply, error) {
	req.Conference = r.name
	req.Endpoint = p.id
	ctx, cancel := context.WithTimeout(ctx, bridgeTimeout)
	defer cancel()
	return bus.Request[busmsg.EndpointReply](ctx, r.c.cfg.Bus, bus.BridgeEndpoint(p.bridge), req)
}

// send delivers a protocol message to one session.
func (r *room) send(session string, msg any, closeAfter bool) {
	r.sendEvent(session, msg, busmsg.SessionEvent{Close: closeAfter})
}

// sendEvent delivers a protocol message with the event's other fields.
func (r *room) sendEvent(session string, msg any, ev busmsg.SessionEvent) {
	data, err := json.Marshal(msg)
	if err != nil {
		r.log.Error("encode message", "err", err)
		return
	}
	ev.Message = data
	if err := r.c.cfg.Bus.Publish(bus.Session(session), ev); err != nil {
		r.log.Warn("send to session", "session", session, "err", err)
	}
}

func newEpoch() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// broadcast delivers a message to everyone but except.
func (r *room) broadcast(except string, msg any) {
	data, err := json.Marshal(msg)
	if err != nil {
		r.log.Error("encode message", "err", err)
		return
	}
	for _, id := range r.order {
		if id == except {
			continue
		}
		if err := r.c.cfg.Bus.Publish(bus.Session(id), busmsg.SessionEvent{Message: data}); err != nil {
			r.log.Warn("send to session", "session", id, "err", err)
		}
	}
}

// negotiationError tells the client which of its SDP or candidates the
// bridge refused, and why.
func negotiationError(err error) error {
	if err == nil || !errors.Is(err, bus.ErrRemote) {
		return err
	}
	msg := strings.TrimPrefix(err.Error(), bus.ErrRemote.Error()+": ")
	return &protocol.DecodeError{Code: protocol.CodeNegotiation, Message: "the bridge could not use it: " + msg}
}

// errorReply turns a failure into the error message the client sees.
func errorReply(ref string, err error) protocol.Error {
	var de *protocol.DecodeError
	switch {
	case errors.As(err, &de):
	case errors.Is(err, ErrNoBridge), errors.Is(err, bus.ErrNoResponders), errors.Is(err, context.DeadlineExceeded):
		de = &protocol.DecodeError{Code: protocol.CodeUnavailable, Message: "the media bridge did not respond; try again"}
	default:
		de = &protocol.DecodeError{Code: protocol.CodeInternal, Message: "the server could not handle this message"}
	}
	if de.Ref == "" {
		de.Ref = ref
	}
	return de.Reply()
}
