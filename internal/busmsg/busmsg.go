// Package busmsg holds the typed messages that signal, control and bridge
// exchange over the bus; bus/subjects.go says which subject carries which.
// They are JSON-encoded. Client-facing payloads travel as the raw protocol
// JSON so that control and signal need not re-encode them.
package busmsg

import (
	"encoding/json"
	"time"

	"github.com/parley/parley/protocol"
)

// ClientMessage is a client's message relayed by a signal node to the room's
// owner. Signal has already decoded and validated Data.
type ClientMessage struct {
	Session string          `json:"session"`
	Type    string          `json:"type"`
	Data    json.RawMessage `json:"data,omitempty"`
	// Disconnected is set instead of Data when the client's socket closed.
	Disconnected bool `json:"disconnected,omitempty"`
	// Region of the client, from the signal node's site map (joins).
	Region string `json:"region,omitempty"`
	// Host is the host name the client asked for (joins), for the TURN URLs
	// it gets.
	Host string `json:"host,omitempty"`
	// Identity is what the signal node verified of the client's token
	// (joins and token refreshes); nil for a guest.
	Identity *Identity `json:"identity,omitempty"`
	// Address is the client's network address (joins), for per-room limits.
	Address string `json:"address,omitempty"`
	// Rejoin is set, with Type TypeRejoin, when a signal node re-attaches a
	// session to a room that changed owner.
	Rejoin *Rejoin `json:"rejoin,omitempty"`
}

// Identity is a verified token's claims. Control trusts it: the signal
// node checked the signature, issuer, audience, expiry and room.
type Identity struct {
	Subject   string   `json:"subject,omitempty"`
	Name      string   `json:"name,omitempty"`
	Moderator bool     `json:"moderator,omitempty"`
	Features  []string `json:"features,omitempty"`
}

// Internal message types a signal node sends the room's owner, besides the
// clients' own.
const (
	// TypeProbe asks the owner who it is (a request; reply ProbeReply). Signal
	// nodes probe every room they have sessions in, to notice a lost owner.
	TypeProbe = "owner-probe"
	// TypeRejoin re-attaches a session after the room changed owner (a
	// request; reply JoinReply).
	TypeRejoin = "rejoin"
	// TypeAdminInfo asks the owner for the room's state (reply RoomInfo);
	// TypeAdminEnd ends the room; TypeAdminRemove removes Session. The admin
	// API sends them.
	TypeAdminInfo   = "admin-info"
	TypeAdminEnd    = "admin-end"
	TypeAdminRemove = "admin-remove"
)

// RoomInfo describes a room for the admin API.
type RoomInfo struct {
	Name         string                 `json:"name"`
	Owner        string                 `json:"owner"`
	Participants []protocol.Participant `json:"participants"`
	Lobby        []protocol.Participant `json:"lobby"`
	Locked       bool                   `json:"locked"`
	LobbyOn      bool                   `json:"lobbyEnabled"`
	HasPassword  bool                   `json:"hasPassword"`
}

// RoomsReply is one control node's answer to ControlRooms.
type RoomsReply struct {
	Node  string     `json:"node"`
	Rooms []RoomInfo `json:"rooms"`
}

// ProbeReply names the room's owner. Epoch changes whenever the room is
// created anew, on the same node or another.
type ProbeReply struct {
	Owner string `json:"owner"`
	Epoch string `json:"epoch"`
}

// Rejoin is what a signal node remembers of a session, enough for a new
// owner to take the participant over without disturbing its media.
type Rejoin struct {
	Name       string    `json:"name"`
	AudioMuted bool      `json:"audioMuted"`
	VideoMuted bool      `json:"videoMuted"`
	Bridge     string    `json:"bridge"`
	Region     string    `json:"region,omitempty"`
	Identity   *Identity `json:"identity,omitempty"`
}

// JoinReply answers a join relayed as a request. The joined message itself
// travels on the session subject, before this reply. Error is set, instead
// of Participant, when the join was refused.
type JoinReply struct {
	Participant string `json:"participant,omitempty"`
	// Lobby is set when the participant waits in the lobby: it is attached
	// to the room (its leave must reach it) but not in yet.
	Lobby  bool            `json:"lobby,omitempty"`
	Bridge string          `json:"bridge,omitempty"`
	Epoch  string          `json:"epoch,omitempty"`
	Error  *protocol.Error `json:"error,omitempty"`
}

// SessionEvent is what the room's owner sends to one client session.
type SessionEvent struct {
	// Message is a protocol message to write to the client as is.
	Message json.RawMessage `json:"message,omitempty"`
	// Close asks the signal node to close the client's socket after Message.
	Close bool `json:"close,omitempty"`
	// Bridge is set when the participant's media moved to another bridge.
	Bridge string `json:"bridge,omitempty"`
}

// ClaimRequest asks a control node to take ownership of Room.
type ClaimRequest struct {
	Room string `json:"room"`
}

// ClaimReply names the control node that owns the room.
type ClaimReply struct {
	Owner string `json:"owner"`
}

// BridgeStatus is a bridge's heartbeat.
type BridgeStatus struct {
	ID          string    `json:"id"`
	Region      string    `json:"region"`
	Version     string    `json:"version"`
	Endpoints   int       `json:"endpoints"`
	Conferences int       `json:"conferences"`
	Stress      float64   `json:"stress"`
	Draining    bool      `json:"draining"`
	Time        time.Time `json:"time"`
}

// Endpoint operations carried in EndpointRequest.Op.
const (
	OpAllocate  = "allocate"  // create the endpoint's PeerConnection
	OpOffer     = "offer"     // client's offer; reply carries the answer
	OpAnswer    = "answer"    // client's answer to the bridge's offer
	OpCandidate = "candidate" // client's trickled candidate
	OpExpire    = "expire"    // close the endpoint and remove its tracks
	OpBlock     = "block"     // stop or resume forwarding the endpoint's audio or video
	OpPing      = "ping"      // are you there? (control, when a heartbeat is late)
)

// EndpointRequest is control asking a bridge to act on one endpoint.
type EndpointRequest struct {
	Op         string               `json:"op"`
	Conference string               `json:"conference"`
	Endpoint   string               `json:"endpoint"`
	SDP        string               `json:"sdp,omitempty"`
	Tracks     []protocol.TrackInfo `json:"tracks,omitempty"`
	Candidate  *protocol.Candidate  `json:"candidate,omitempty"`
	// Block is what OpBlock stops forwarding (true) or resumes (false).
	Block *Block `json:"block,omitempty"`
}

// Block says which of an endpoint's media the bridge must not forward: a
// moderator muted it.
type Block struct {
	Audio bool `json:"audio"`
	Video bool `json:"video"`
}

// EndpointReply answers an EndpointRequest.
type EndpointReply struct {
	// SDP is the bridge's answer to an offer, empty when the offer was
	// ignored because the bridge's own offer was in flight (glare).
	SDP string `json:"sdp,omitempty"`
}

// Endpoint event kinds carried in EndpointEvent.Kind.
const (
	EventOffer     = "offer"     // the bridge renegotiates: forward SDP to the client
	EventCandidate = "candidate" // the bridge's trickled candidate
	EventState     = "state"     // the endpoint's connection state changed
	// EventStalled: the client's ICE-TCP connection took nothing for too
	// long and was cut off; the client must reconnect its media.
	EventStalled = "stalled"
)

// EndpointEvent is a bridge telling the room's owner about one endpoint.
type EndpointEvent struct {
	Bridge     string              `json:"bridge"`
	Conference string              `json:"conference"`
	Endpoint   string              `json:"endpoint"`
	Kind       string              `json:"kind"`
	SDP        string              `json:"sdp,omitempty"`
	Candidate  *protocol.Candidate `json:"candidate,omitempty"`
	State      string              `json:"state,omitempty"`
}
