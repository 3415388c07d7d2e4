package control

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/parley/parley/internal/busmsg"
	"github.com/parley/parley/protocol"
)

// savedRoom is what a room's owner decided, kept in the bus's replicated
// store (bus.RoomStateBucket) so that the control node that takes the room
// over continues where the old owner stopped. The participants themselves
// come back with their signaling sessions (rejoin); this is the rest.
type savedRoom struct {
	Locked   bool   `json:"locked,omitempty"`
	LobbyOn  bool   `json:"lobby,omitempty"`
	Password string `json:"password,omitempty"`
	// Moderators are those who hold the role without a token saying so:
	// granted in the meeting, or first in.
	Moderators []string                `json:"moderators,omitempty"`
	Blocked    map[string]busmsg.Block `json:"blocked,omitempty"` // muted by a moderator
	Hands      map[string]int64        `json:"hands,omitempty"`   // raised at (Unix ms)
	Waiting    []savedGuest            `json:"waiting,omitempty"` // in the lobby, in order
	Chat       []protocol.Chat         `json:"chat,omitempty"`
	ChatSeq    int                     `json:"chatSeq,omitempty"`
}

type savedGuest struct {
	ID       string           `json:"id"`
	Name     string           `json:"name"`
	Region   string           `json:"region,omitempty"`
	Host     string           `json:"host,omitempty"`
	Identity *busmsg.Identity `json:"identity,omitempty"`
}

// stateTTL is how long a room's saved state outlives its last write: the
// owner writes it at every lease refresh, so it lasts as long as a
// takeover can take, and goes with a room nobody took over.
func stateTTL(leaseTTL time.Duration) time.Duration { return max(time.Minute, 10*leaseTTL) }

// snapshot is the room's state to save.
func (r *room) snapshot() savedRoom {
	s := savedRoom{Locked: r.locked, LobbyOn: r.lobbyOn, Password: r.password, Chat: r.chat, ChatSeq: r.chatSeq}
	for _, id := range r.order {
		p := r.participants[id]
		if p.moderator() && !p.tokenModerator() {
			s.Moderators = append(s.Moderators, id)
		}
		if p.blocked != (busmsg.Block{}) {
			if s.Blocked == nil {
				s.Blocked = map[string]busmsg.Block{}
			}
			s.Blocked[id] = p.blocked
		}
		if p.handAt != 0 {
			if s.Hands == nil {
				s.Hands = map[string]int64{}
			}
			s.Hands[id] = p.handAt
		}
	}
	for _, id := range r.lobbyOrder() {
		g := r.lobby[id]
		s.Waiting = append(s.Waiting, savedGuest{ID: g.id, Name: g.name, Region: g.region, Host: g.host, Identity: g.identity})
	}
	return s
}

// save writes the room's state when it changed, or when force (a lease
// refresh keeps it alive).
func (r *room) save(ctx context.Context, force bool) {
	store := r.store
	if store == nil {
		return
	}
	data, err := json.Marshal(r.snapshot())
	if err != nil {
		r.log.Error("encode room state", "err", err)
		return
	}
	if !force && bytes.Equal(data, r.saved) {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := store.Put(ctx, r.name, data); err != nil {
		r.log.Warn("save room state", "err", err)
		return
	}
	r.saved = data
}

// restore takes up what the room's previous owner saved, if it saved
// anything: the policy at once, the participants' roles, mutes and hands
// as they come back (rejoin), the lobby's guests as they were.
func (r *room) restore(ctx context.Context) {
	store := r.store
	if store == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	data, err := store.Get(ctx, r.name)
	if err != nil {
		r.log.Warn("read room state", "err", err)
		return
	}
	if data == nil {
		return
	}
	var s savedRoom
	if err := json.Unmarshal(data, &s); err != nil {
		r.log.Warn("saved room state unreadable; starting afresh", "err", err)
		return
	}
	r.locked, r.lobbyOn, r.password = s.Locked, s.LobbyOn, s.Password
	r.chat, r.chatSeq = s.Chat, s.ChatSeq
	for _, g := range s.Waiting {
		r.lobby[g.ID] = &participant{id: g.ID, name: g.Name, region: g.Region, host: g.Host, identity: g.Identity,
			role: protocol.RoleParticipant, joined: time.Now()}
	}
	r.restored = &s
	r.saved = data
	r.log.Info("room state taken over", "locked", s.Locked, "lobby", s.LobbyOn, "password", s.Password != "",
		"waiting", len(s.Waiting), "moderators", len(s.Moderators), "muted", len(s.Blocked))
}

// applyRestored gives a participant who came back what the previous
// owner had decided about it.
func (r *room) applyRestored(p *participant) {
	s := r.restored
	if s == nil {
		return
	}
	for _, id := range s.Moderators {
		if id == p.id {
			p.role = protocol.RoleModerator
		}
	}
	p.blocked = s.Blocked[p.id]
	p.handAt = s.Hands[p.id]
}

// forget removes the saved state of a room that closed for good.
func (r *room) forget() {
	store := r.store
	if store == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := store.Delete(ctx, r.name); err != nil {
		r.log.Debug("delete room state", "err", err)
	}
}

// lobbyOrder lists the lobby's guests in the order they knocked.
func (r *room) lobbyOrder() []string {
	ids := make([]string, 0, len(r.lobby))
	for id := range r.lobby {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(a, b string) int {
		if c := r.lobby[a].joined.Compare(r.lobby[b].joined); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	return ids
}
