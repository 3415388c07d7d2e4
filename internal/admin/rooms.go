package admin

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/parley/parley/internal/bus"
	"github.com/parley/parley/internal/busmsg"
	"github.com/parley/parley/protocol"
)

const (
	// requestTimeout bounds a question to one room's owner.
	requestTimeout = 3 * time.Second
	// censusFirst is how long a census waits for the first control node
	// (each gathers its rooms before answering); censusQuiet how long it
	// waits for more after each answer; censusMax bounds the whole.
	censusFirst = 2 * time.Second
	censusQuiet = 300 * time.Millisecond
	censusMax   = 5 * time.Second
	// maxIDLen bounds a participant id in a path.
	maxIDLen = 64
)

// roomsReply is the answer of GET /rooms.
type roomsReply struct {
	Rooms []busmsg.RoomInfo `json:"rooms"`
	// Nodes are the control nodes that answered.
	Nodes []string `json:"nodes"`
}

// listRooms answers GET /rooms with every control node's rooms.
func (a *api) listRooms(w http.ResponseWriter, r *http.Request) error {
	if err := a.busUp(); err != nil {
		return err
	}
	replies, err := a.census(r.Context())
	if err != nil {
		return err
	}
	out := roomsReply{Rooms: []busmsg.RoomInfo{}, Nodes: []string{}}
	seen := map[string]bool{}
	for _, rep := range replies {
		out.Nodes = append(out.Nodes, rep.Node)
		for _, info := range rep.Rooms {
			// During a takeover two nodes may both report a room.
			if !seen[info.Name] {
				seen[info.Name] = true
				out.Rooms = append(out.Rooms, withLists(info))
			}
		}
	}
	slices.SortFunc(out.Rooms, func(x, y busmsg.RoomInfo) int { return strings.Compare(x.Name, y.Name) })
	slices.Sort(out.Nodes)
	writeJSON(w, http.StatusOK, out)
	return nil
}

// census asks every control node for its rooms: it publishes one request
// and gathers answers until none has come for censusQuiet.
func (a *api) census(ctx context.Context) ([]busmsg.RoomsReply, error) {
	ctx, cancel := context.WithTimeout(ctx, censusMax)
	defer cancel()
	nc := a.cfg.Bus.Conn()
	inbox := nc.NewInbox()
	ch := make(chan *nats.Msg, 64)
	sub, err := nc.ChanSubscribe(inbox, ch)
	if err != nil {
		return nil, errors.Join(ErrBus, err)
	}
	defer func() { _ = sub.Unsubscribe() }()
	if err := nc.PublishRequest(bus.ControlRooms, inbox, []byte("{}")); err != nil {
		return nil, errors.Join(ErrBus, err)
	}
	var out []busmsg.RoomsReply
	wait := time.NewTimer(censusFirst)
	defer wait.Stop()
	for gathering := true; gathering; {
		select {
		case m := <-ch:
			if len(m.Data) == 0 && m.Header.Get("Status") == "503" {
				return nil, ErrNoControl // nobody subscribes to the subject
			}
			var rep busmsg.RoomsReply
			if err := bus.DecodeReply(m.Data, &rep); err != nil {
				a.log.Warn("census: a control node's answer did not decode", "err", err)
			} else {
				out = append(out, rep)
			}
			wait.Reset(censusQuiet)
		case <-wait.C:
			gathering = false
		case <-ctx.Done():
			gathering = false
		}
	}
	if len(out) == 0 {
		return nil, ErrNoControl
	}
	return out, nil
}

// getRoom answers GET /rooms/{room} with the owner's description.
func (a *api) getRoom(w http.ResponseWriter, r *http.Request) error {
	room, err := roomParam(r)
	if err != nil {
		return err
	}
	info, err := a.ask(r.Context(), room, busmsg.ClientMessage{Type: busmsg.TypeAdminInfo})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, withLists(info))
	return nil
}

// endRoom answers DELETE /rooms/{room}: everyone is sent away.
func (a *api) endRoom(w http.ResponseWriter, r *http.Request) error {
	room, err := roomParam(r)
	if err != nil {
		return err
	}
	if _, err := a.ask(r.Context(), room, busmsg.ClientMessage{Type: busmsg.TypeAdminEnd}); err != nil {
		return err
	}
	a.log.Info("admin ended a meeting", "room", room, "remote", r.RemoteAddr)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// removeParticipant answers DELETE /rooms/{room}/participants/{id}.
func (a *api) removeParticipant(w http.ResponseWriter, r *http.Request) error {
	room, err := roomParam(r)
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	if !validWord(id, maxIDLen, "-_") {
		return badField("id", "%q is not a participant id (letters, digits, '-' and '_', at most %d)", clip(id), maxIDLen)
	}
	if _, err := a.ask(r.Context(), room, busmsg.ClientMessage{Type: busmsg.TypeAdminRemove, Session: id}); err != nil {
		return err
	}
	a.log.Info("admin removed a participant", "room", room, "participant", id, "remote", r.RemoteAddr)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// ask sends an admin message to the room's owner and returns its answer
// (a RoomInfo for TypeAdminInfo, empty otherwise).
func (a *api) ask(ctx context.Context, room string, m busmsg.ClientMessage) (busmsg.RoomInfo, error) {
	if err := a.busUp(); err != nil {
		return busmsg.RoomInfo{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	info, err := bus.Request[busmsg.RoomInfo](ctx, a.cfg.Bus, bus.RoomControl(room), m)
	var remote *bus.RemoteError
	switch {
	case err == nil:
		return info, nil
	case errors.Is(err, bus.ErrNoResponders):
		return info, failf(http.StatusNotFound, "no meeting is running in room %q", room)
	case errors.As(err, &remote):
		// The owner's error arrives as text: "<protocol code>: <message>".
		msg := strings.TrimSpace(remote.Msg)
		if target, ok := strings.CutPrefix(msg, protocol.CodeBadTarget+": "); ok {
			return info, failf(http.StatusNotFound, "%s", target)
		}
		// The room is moving to another owner, or its owner failed.
		return info, failf(http.StatusServiceUnavailable, "the room's owner could not do it (%s); try again", msg)
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, nats.ErrTimeout):
		return info, failf(http.StatusGatewayTimeout, "the owner of room %q did not answer within %s; try again", room, requestTimeout)
	}
	return info, errors.Join(ErrBus, err)
}

// busUp refuses at once when the node is not connected to the bus.
func (a *api) busUp() error {
	if a.cfg.Bus == nil || !a.cfg.Bus.Connected() {
		return ErrBus
	}
	return nil
}

// roomParam is the path's room, checked and lower-cased.
func roomParam(r *http.Request) (string, error) {
	room, derr := protocol.NormalizeRoom(r.PathValue("room"))
	if derr != nil {
		return "", badField("room", "%s", derr.Message)
	}
	return room, nil
}

// validWord reports whether s is 1 to maxLen ASCII letters, digits and runes
// of punct: a participant id or a feature name.
func validWord(s string, maxLen int, punct string) bool {
	if s == "" || len(s) > maxLen {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune(punct, c)) {
			return false
		}
	}
	return true
}

// withLists makes the lists of a RoomInfo encode as [] rather than null.
func withLists(in busmsg.RoomInfo) busmsg.RoomInfo {
	if in.Participants == nil {
		in.Participants = []protocol.Participant{}
	}
	if in.Lobby == nil {
		in.Lobby = []protocol.Participant{}
	}
	return in
}

// clip shortens what a caller sent before it is quoted in an error.
func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}
