package control

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
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

// participant is one member of a room (or a guest in its lobby).
type participant struct {
	id         string // also the session id and the bridge endpoint id
	name       string
	region     string
	host       string
	bridge     string
	audioMuted bool
	videoMuted bool
	role       string
	handAt     int64 // hand raised at (Unix ms), 0 if down
	identity   *busmsg.Identity
	blocked    busmsg.Block // what a moderator muted
	joined     time.Time
	iceAt      time.Time // when its ICE servers were last handed out
}

func (p *participant) public() protocol.Participant {
	return protocol.Participant{
		ID: p.id, Name: p.name, AudioMuted: p.audioMuted, VideoMuted: p.videoMuted,
		Role: p.role, HandRaisedAt: p.handAt,
	}
}

func (p *participant) moderator() bool { return p.role == protocol.RoleModerator }

// tokenModerator reports whether a signed token made the participant a
// moderator (as opposed to being first in, or granted).
func (p *participant) tokenModerator() bool { return p.identity != nil && p.identity.Moderator }

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

	// Policy, set by moderators.
	locked   bool
	lobbyOn  bool
	password string
	lobby    map[string]*participant // guests waiting, by session
	chat     []protocol.Chat         // recent room chat, oldest first
	chatSeq  int
	joins    *rateWindow // join attempts, for the per-room limit

	store    *bus.Store // where the room's state is saved
	saved    []byte     // the state last written to the store
	restored *savedRoom // what the previous owner saved, for those who come back
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
		lobby:        map[string]*participant{},
		joins:        newRateWindow(c.cfg.RoomJoinRate, time.Minute),
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
			r.refreshICE(time.Now())
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
			r.save(ctx, false)
		case <-refresh.C:
			if err := r.refreshLease(ctx); err != nil {
				r.log.Warn("room lease lost; giving the room up", "err", err)
				r.shutdown(false)
				return
			}
			r.save(ctx, true)
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
		r.forget()
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
		if it.msg == nil {
			if err != nil && !it.client.Disconnected {
				r.send(it.client.Session, errorReply(it.client.Type, err), false)
			}
			return
		}
		switch it.client.Type {
		case busmsg.TypeAdminInfo:
			bus.Respond(it.msg, r.info(), nil)
		case busmsg.TypeAdminEnd, busmsg.TypeAdminRemove:
			bus.Respond(it.msg, nil, err)
		default: // a join or rejoin: the signal node waits for the outcome
			bus.Respond(it.msg, r.joinReply(it.client, err), nil)
		}
	case it.event != nil:
		r.handleBridgeEvent(ctx, it.event)
	}
}

// joinReply is the outcome of a join (or rejoin) that handleClient gave err.
func (r *room) joinReply(m *busmsg.ClientMessage, err error) busmsg.JoinReply {
	if err != nil {
		e := errorReply(m.Type, err)
		return busmsg.JoinReply{Error: &e}
	}
	reply := busmsg.JoinReply{Participant: m.Session, Epoch: r.epoch}
	if p := r.participants[m.Session]; p != nil {
		reply.Bridge = p.bridge
	}
	_, reply.Lobby = r.lobby[m.Session]
	return reply
}

// info describes the room for the admin API.
func (r *room) info() busmsg.RoomInfo {
	in := busmsg.RoomInfo{Name: r.name, Owner: r.c.cfg.NodeID, Locked: r.locked, LobbyOn: r.lobbyOn, HasPassword: r.password != "",
		Participants: []protocol.Participant{}, Lobby: []protocol.Participant{}}
	for _, id := range r.order {
		in.Participants = append(in.Participants, r.participants[id].public())
	}
	for _, g := range r.lobby {
		in.Lobby = append(in.Lobby, g.public())
	}
	return in
}

func (r *room) handleClient(ctx context.Context, m *busmsg.ClientMessage) error {
	if m.Disconnected {
		return r.remove(ctx, m.Session, "")
	}
	switch m.Type {
	case busmsg.TypeAdminInfo:
		return nil // answered in handle
	case busmsg.TypeRejoin:
		if m.Rejoin != nil {
			r.rejoin(m.Session, m.Rejoin)
		}
		return nil
	case busmsg.TypeAdminEnd:
		r.end(ctx, "the meeting was ended by an administrator")
		return nil
	case busmsg.TypeAdminRemove:
		if r.participants[m.Session] == nil && r.lobby[m.Session] == nil {
			return badTarget(m.Session)
		}
		return r.remove(ctx, m.Session, "you were removed from the meeting by an administrator")
	}
	msg, err := protocol.Decode(m.Data)
	if err != nil {
		return err
	}
	if j, ok := msg.(*protocol.Join); ok {
		return r.join(ctx, m, j)
	}
	if _, waiting := r.lobby[m.Session]; waiting {
		if _, ok := msg.(*protocol.Leave); ok {
			r.leaveLobby(m.Session, "you left the lobby")
			return nil
		}
		return &protocol.DecodeError{Code: protocol.CodeNotJoined, Message: "you are waiting in the lobby for a moderator to let you in"}
	}
	p := r.participants[m.Session]
	if p == nil {
		return &protocol.DecodeError{Code: protocol.CodeNotJoined, Message: "join the room first"}
	}
	if m.Type == protocol.TypeRefreshToken {
		r.refreshIdentity(p, m.Identity)
		return nil
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
		return r.setMute(ctx, p, msg.Audio, msg.Video)
	case *protocol.Leave:
		return r.remove(ctx, p.id, "you left the meeting")
	case *protocol.Chat:
		return r.sendChat(p, msg)
	case *protocol.Hand:
		r.raiseHand(p, msg.Raised)
		return nil
	case *protocol.Moderate:
		return r.moderate(ctx, p, msg)
	case *protocol.Reconnect:
		r.reconnectMedia(ctx, p, "reconnecting your media, as your client asked")
		return nil
	}
	return &protocol.DecodeError{Code: protocol.CodeWrongDirection, Message: fmt.Sprintf("%s is not a client message", m.Type)}
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
