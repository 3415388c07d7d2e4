package control

import (
	"context"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/parley/parley/internal/busmsg"
	"github.com/parley/parley/protocol"
)

// chatHistory is how many room messages a newcomer gets.
const chatHistory = 50

func notModerator(action string) error {
	return &protocol.DecodeError{Code: protocol.CodeNotModerator, Message: action + " is for moderators only"}
}

func badTarget(id string) error {
	return &protocol.DecodeError{Code: protocol.CodeBadTarget, Message: fmt.Sprintf("no participant %q in this meeting", id)}
}

// moderate carries out a moderator's action.
func (r *room) moderate(ctx context.Context, mod *participant, m *protocol.Moderate) error {
	if !mod.moderator() {
		return notModerator(m.Action)
	}
	by := mod.name
	switch m.Action {
	case protocol.ActionMute:
		t := r.participants[m.Target]
		if t == nil {
			return badTarget(m.Target)
		}
		return r.forceMute(ctx, t, m.Kind, by)
	case protocol.ActionMuteAll:
		for _, id := range r.order {
			if t := r.participants[id]; !t.moderator() {
				if err := r.forceMute(ctx, t, m.Kind, by); err != nil {
					r.log.Warn("mute all", "participant", id, "err", err)
				}
			}
		}
	case protocol.ActionAskUnmute:
		if r.participants[m.Target] == nil {
			return badTarget(m.Target)
		}
		r.send(m.Target, protocol.UnmuteRequest{Type: protocol.TypeUnmuteRequest, Kind: m.Kind, By: by}, false)
	case protocol.ActionRemove:
		if r.participants[m.Target] == nil {
			return badTarget(m.Target)
		}
		return r.remove(ctx, m.Target, "you were removed from the meeting by "+by)
	case protocol.ActionGrantModerator:
		t := r.participants[m.Target]
		if t == nil {
			return badTarget(m.Target)
		}
		if !t.moderator() {
			r.promote(t)
		}
	case protocol.ActionEndMeeting:
		r.end(ctx, "the meeting was ended by "+by)
	case protocol.ActionLock:
		r.locked = m.On
		r.broadcast("", r.state())
	case protocol.ActionPassword:
		r.password = m.Password
		r.broadcast("", r.state())
	case protocol.ActionLobby:
		r.lobbyOn = m.On
		r.broadcast("", r.state())
		if !m.On { // everyone waiting comes in
			for id := range r.lobby {
				r.admitGuest(ctx, id)
			}
		}
	case protocol.ActionAdmit:
		if _, ok := r.lobby[m.Target]; !ok {
			return badTarget(m.Target)
		}
		r.admitGuest(ctx, m.Target)
	case protocol.ActionDeny:
		if _, ok := r.lobby[m.Target]; !ok {
			return badTarget(m.Target)
		}
		r.leaveLobby(m.Target, "a moderator did not let you in")
	}
	r.log.Info("moderator action", "moderator", mod.id, "action", m.Action, "target", m.Target)
	return nil
}

// end closes the meeting for everyone, waiting guests included.
func (r *room) end(ctx context.Context, reason string) {
	for _, id := range append([]string(nil), r.order...) {
		_ = r.remove(ctx, id, reason)
	}
	for id := range r.lobby {
		r.leaveLobby(id, reason)
	}
}

func (r *room) admitGuest(ctx context.Context, id string) {
	g := r.lobby[id]
	delete(r.lobby, id)
	r.toModerators(protocol.LobbyLeft{Type: protocol.TypeLobbyLeft, ID: id})
	if err := r.admit(ctx, g); err != nil {
		r.log.Warn("admit guest", "participant", id, "err", err)
		r.send(id, errorReply(protocol.TypeJoin, err), false)
		r.send(id, protocol.Closed{Type: protocol.TypeClosed, Reason: "you could not be let in: the media bridge did not answer"}, true)
	}
}

// forceMute stops the bridge forwarding one kind of a participant's media
// and tells them; they may unmute themselves later.
func (r *room) forceMute(ctx context.Context, t *participant, kind, by string) error {
	block := t.blocked
	if kind == protocol.KindAudio {
		block.Audio, t.audioMuted = true, true
	} else {
		block.Video, t.videoMuted = true, true
	}
	if err := r.setBlock(ctx, t, block); err != nil {
		return err
	}
	r.send(t.id, protocol.Muted{Type: protocol.TypeMuted, Kind: kind, By: by}, false)
	r.broadcast("", protocol.ParticipantUpdated{Type: protocol.TypeParticipantUpdated, Participant: t.public()})
	return nil
}

func (r *room) setBlock(ctx context.Context, t *participant, block busmsg.Block) error {
	if block == t.blocked {
		return nil
	}
	if _, err := r.bridgeRequest(ctx, t, busmsg.EndpointRequest{Op: busmsg.OpBlock, Block: &block}); err != nil {
		return fmt.Errorf("%w: %v", ErrNoBridge, err)
	}
	t.blocked = block
	return nil
}

// setMute records a participant's own mute state; unmuting lifts what a
// moderator blocked.
func (r *room) setMute(ctx context.Context, p *participant, audio, video bool) error {
	p.audioMuted, p.videoMuted = audio, video
	block := p.blocked
	if !audio {
		block.Audio = false
	}
	if !video {
		block.Video = false
	}
	if err := r.setBlock(ctx, p, block); err != nil {
		return err
	}
	r.broadcast(p.id, protocol.ParticipantUpdated{Type: protocol.TypeParticipantUpdated, Participant: p.public()})
	return nil
}

// sendChat delivers a chat message to the room, or privately to one
// participant (and back to the sender).
func (r *room) sendChat(p *participant, m *protocol.Chat) error {
	if n := utf8.RuneCountInString(m.Text); n > r.c.cfg.ChatMaxLength {
		return &protocol.DecodeError{Code: protocol.CodeTooLarge, Message: fmt.Sprintf("a chat message is at most %d characters; this one has %d", r.c.cfg.ChatMaxLength, n)}
	}
	r.chatSeq++
	msg := protocol.Chat{Type: protocol.TypeChat, ID: r.epoch + "-" + strconv.Itoa(r.chatSeq), From: p.id, Name: p.name, To: m.To, Text: m.Text, Time: time.Now().UnixMilli()}
	if m.To != "" {
		if r.participants[m.To] == nil {
			return badTarget(m.To)
		}
		r.send(m.To, msg, false)
		if m.To != p.id {
			r.send(p.id, msg, false)
		}
		return nil
	}
	r.chat = append(r.chat, msg)
	if len(r.chat) > chatHistory {
		r.chat = r.chat[len(r.chat)-chatHistory:]
	}
	r.broadcast("", msg)
	return nil
}

// raiseHand raises or lowers a hand; raised hands keep their order.
func (r *room) raiseHand(p *participant, raised bool) {
	switch {
	case raised && p.handAt == 0:
		p.handAt = time.Now().UnixMilli()
	case !raised:
		p.handAt = 0
	default:
		return
	}
	r.broadcast("", protocol.ParticipantUpdated{Type: protocol.TypeParticipantUpdated, Participant: p.public()})
}

// promote makes p a moderator, tells the room, and shows p the guests
// waiting in the lobby.
func (r *room) promote(p *participant) {
	p.role = protocol.RoleModerator
	r.broadcast("", protocol.ParticipantUpdated{Type: protocol.TypeParticipantUpdated, Participant: p.public()})
	r.showLobby(p.id)
}

// showLobby tells one moderator about every guest waiting in the lobby.
func (r *room) showLobby(moderator string) {
	for _, g := range r.lobby {
		r.send(moderator, protocol.LobbyRequest{Type: protocol.TypeLobbyRequest, Participant: g.public()}, false)
	}
}

// toModerators sends a message to every moderator.
func (r *room) toModerators(msg any) {
	for _, id := range r.order {
		if r.participants[id].moderator() {
			r.send(id, msg, false)
		}
	}
}
