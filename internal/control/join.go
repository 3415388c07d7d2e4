package control

import (
	"context"
	"crypto/subtle"
	"fmt"
	"time"

	"github.com/parley/parley/internal/busmsg"
	"github.com/parley/parley/protocol"
)

// join admits a client, sends it to the lobby, or refuses it, by the room's
// policy: join rate, lock, password, size, lobby.
func (r *room) join(ctx context.Context, m *busmsg.ClientMessage, j *protocol.Join) error {
	session := m.Session
	if _, ok := r.participants[session]; ok {
		return &protocol.DecodeError{Code: protocol.CodeAlreadyJoined, Message: "this connection has already joined"}
	}
	if _, ok := r.lobby[session]; ok {
		return &protocol.DecodeError{Code: protocol.CodeAlreadyJoined, Message: "you are already waiting in the lobby"}
	}
	if !r.joins.allow(time.Now()) {
		return &protocol.DecodeError{Code: protocol.CodeRateLimited, Message: "too many people are trying to join this room right now; try again in a minute"}
	}
	p := &participant{id: session, name: j.Name, region: m.Region, host: m.Host, identity: m.Identity, role: protocol.RoleParticipant}
	if m.Identity != nil && m.Identity.Name != "" {
		p.name = m.Identity.Name
	}
	privileged := p.tokenModerator()
	switch {
	case r.locked && !privileged:
		return &protocol.DecodeError{Code: protocol.CodeRoomLocked, Message: "a moderator has locked this meeting; ask them to unlock it"}
	case r.password != "" && !privileged && j.Password == "":
		return &protocol.DecodeError{Code: protocol.CodePasswordRequired, Message: "this meeting has a password; enter it to join"}
	case r.password != "" && !privileged && subtle.ConstantTimeCompare([]byte(j.Password), []byte(r.password)) != 1:
		return &protocol.DecodeError{Code: protocol.CodeWrongPassword, Message: "that is not the meeting's password"}
	case len(r.participants) >= r.c.cfg.MaxParticipants:
		return &protocol.DecodeError{Code: protocol.CodeRoomFull, Message: fmt.Sprintf("this meeting has its maximum of %d participants", r.c.cfg.MaxParticipants)}
	}
	if r.lobbyOn && !privileged && r.hasModerator() {
		r.lobby[session] = p
		r.send(session, protocol.LobbyWaiting{Type: protocol.TypeLobbyWaiting}, false)
		r.toModerators(protocol.LobbyRequest{Type: protocol.TypeLobbyRequest, Participant: p.public()})
		r.log.Info("guest waits in the lobby", "participant", session)
		return nil
	}
	return r.admit(ctx, p)
}

// admit puts a participant in the room: a bridge endpoint, a role, the
// joined message, and news for the others.
func (r *room) admit(ctx context.Context, p *participant) error {
	bridge, err := r.pickBridge(p.region)
	if err != nil {
		return err
	}
	p.bridge = bridge
	if _, err := r.bridgeRequest(ctx, p, busmsg.EndpointRequest{Op: busmsg.OpAllocate}); err != nil {
		return fmt.Errorf("%w: allocate endpoint on %s: %v", ErrNoBridge, bridge, err)
	}
	r.c.bridges.placed(bridge)
	if p.tokenModerator() || (r.c.cfg.FirstModerator && !r.hasModerator()) {
		p.role = protocol.RoleModerator
	}
	p.joined = time.Now()
	others := make([]protocol.Participant, 0, len(r.order))
	for _, id := range r.order {
		others = append(others, r.participants[id].public())
	}
	r.participants[p.id] = p
	r.order = append(r.order, p.id)
	var features []string
	if p.identity != nil {
		features = p.identity.Features
	}
	p.iceAt = time.Now()
	r.send(p.id, protocol.Joined{
		Type: protocol.TypeJoined, Version: protocol.Version, Room: r.name,
		You: p.public(), Participants: others, ICEServers: r.iceServers(p.id, p.host),
		Features: features, State: r.state(), Chat: r.chat,
	}, false)
	r.broadcast(p.id, protocol.ParticipantJoined{Type: protocol.TypeParticipantJoined, Participant: p.public()})
	if p.moderator() {
		r.showLobby(p.id)
	}
	r.log.Info("participant joined", "participant", p.id, "role", p.role, "bridge", bridge, "size", len(r.participants))
	return nil
}

func (r *room) hasModerator() bool {
	for _, p := range r.participants {
		if p.moderator() {
			return true
		}
	}
	return false
}

func (r *room) state() protocol.RoomState {
	return protocol.RoomState{Type: protocol.TypeRoomState, Locked: r.locked, Lobby: r.lobbyOn, HasPassword: r.password != ""}
}

// leaveLobby turns a waiting guest away (reason is sent when not empty) or
// notes that they left.
func (r *room) leaveLobby(session, reason string) {
	if _, ok := r.lobby[session]; !ok {
		return
	}
	delete(r.lobby, session)
	if reason != "" {
		r.send(session, protocol.Closed{Type: protocol.TypeClosed, Reason: reason}, true)
	}
	r.toModerators(protocol.LobbyLeft{Type: protocol.TypeLobbyLeft, ID: session})
}

// refreshICE hands fresh ICE servers to the participants whose last ones
// are ICERefresh old, so that TURN credentials never expire during a
// meeting: an ICE restart, or a new connection after a bridge moved, uses
// the fresh ones.
func (r *room) refreshICE(now time.Time) {
	every := r.c.cfg.ICERefresh
	if every <= 0 {
		return
	}
	for _, id := range r.order {
		p := r.participants[id]
		if p == nil || now.Sub(p.iceAt) < every {
			continue
		}
		p.iceAt = now
		r.send(p.id, protocol.ICEServers{Type: protocol.TypeICEServers, ICEServers: r.iceServers(p.id, p.host)}, false)
	}
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

// rejoin takes over a participant whose room changed owner: its media is
// already on its bridge, so nothing is allocated and nobody is told. If the
// bridge is gone, the next health check moves it. Room policy (lock, lobby,
// password, who was made moderator) does not survive a change of owner;
// token moderators keep their role.
func (r *room) rejoin(session string, info *busmsg.Rejoin) {
	if g, waiting := r.lobby[session]; waiting {
		// Waiting in the lobby when the room changed hands: it waits on.
		g.name, g.region, g.identity = info.Name, info.Region, info.Identity
		r.log.Info("lobby guest re-attached", "participant", session)
		return
	}
	p := r.participants[session]
	if p == nil {
		p = &participant{id: session, role: protocol.RoleParticipant, joined: time.Now()}
		r.participants[session] = p
		r.order = append(r.order, session)
	}
	p.name, p.region, p.bridge, p.identity = info.Name, info.Region, info.Bridge, info.Identity
	p.audioMuted, p.videoMuted = info.AudioMuted, info.VideoMuted
	r.applyRestored(p)
	if p.tokenModerator() || (r.c.cfg.FirstModerator && !r.hasModerator()) {
		p.role = protocol.RoleModerator
	}
	r.log.Info("participant re-attached", "participant", session, "bridge", info.Bridge, "size", len(r.participants))
}

// remove takes a participant out of the room. A non-empty reason is sent to
// the participant, whose socket is then closed. When the last moderator
// leaves, the longest-present participant takes over (if so configured).
func (r *room) remove(ctx context.Context, id, reason string) error {
	if _, waiting := r.lobby[id]; waiting {
		r.leaveLobby(id, reason)
		return nil
	}
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
	if p.moderator() && r.c.cfg.FirstModerator && !r.hasModerator() && len(r.order) > 0 {
		next := r.participants[r.order[0]]
		r.promote(next)
		r.log.Info("moderator handed over", "participant", next.id)
	}
	if len(r.participants) == 0 {
		r.emptySince = time.Now()
		for g := range r.lobby { // nobody left to let them in
			r.leaveLobby(g, "the meeting ended before a moderator let you in")
		}
	}
	r.log.Info("participant left", "participant", id, "size", len(r.participants))
	return nil
}

// refreshIdentity applies a refreshed token's claims.
func (r *room) refreshIdentity(p *participant, id *busmsg.Identity) {
	if id == nil {
		return
	}
	p.identity = id
	changed := false
	if id.Name != "" && id.Name != p.name {
		p.name, changed = id.Name, true
	}
	if id.Moderator && !p.moderator() {
		p.role, changed = protocol.RoleModerator, true
	}
	if changed {
		r.broadcast("", protocol.ParticipantUpdated{Type: protocol.TypeParticipantUpdated, Participant: p.public()})
	}
}
