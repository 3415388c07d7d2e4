// Package protocol defines the messages that a client and Parley's signaling
// edge exchange over the WebSocket at /ws. Every message is one JSON object
// with a "type" field; docs/protocol.md describes the exchange. The package has
// no dependencies so that any Go program can speak the protocol.
package protocol

// Version is the protocol version this package speaks. A client names it in
// its join message; the server refuses versions it does not know.
const Version = 1

// Limits on what a client may send.
const (
	// MaxMessageBytes is the largest message the server reads. A larger one is
	// skipped and answered with an error; the connection stays up.
	MaxMessageBytes = 256 << 10
	// MaxRoomLen and MaxNameLen bound room and display names (in characters).
	MaxRoomLen = 64
	MaxNameLen = 64
)

// Message types. The direction each travels in is noted beside it.
const (
	TypeJoin               = "join"                // client → server
	TypeJoined             = "joined"              // server → client
	TypeParticipantJoined  = "participant-joined"  // server → client
	TypeParticipantLeft    = "participant-left"    // server → client
	TypeParticipantUpdated = "participant-updated" // server → client
	TypeOffer              = "offer"               // both ways
	TypeAnswer             = "answer"              // both ways
	TypeCandidate          = "candidate"           // both ways
	TypeMute               = "mute"                // client → server
	TypeLeave              = "leave"               // client → server
	TypeClosed             = "closed"              // server → client
	TypeRestart            = "restart"             // server → client
	TypeICEServers         = "ice-servers"         // server → client
	TypeReconnect          = "reconnect"           // client → server
	TypePing               = "ping"                // client → server
	TypePong               = "pong"                // server → client
	TypeError              = "error"               // server → client
)

// Participant describes one member of a room as others see it.
type Participant struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	AudioMuted bool   `json:"audioMuted"`
	VideoMuted bool   `json:"videoMuted"`
	// Role is RoleModerator or RoleParticipant.
	Role string `json:"role"`
	// HandRaisedAt is when the hand went up (Unix milliseconds), 0 if down;
	// raised hands are shown in this order.
	HandRaisedAt int64 `json:"handRaisedAt,omitempty"`
}

// Roles a participant can have.
const (
	RoleModerator   = "moderator"
	RoleParticipant = "participant"
)

// ICEServer is a STUN or TURN server the client may use, in the form of the
// browser's RTCIceServer.
type ICEServer struct {
	URLs       []string `json:"urls"`
	Username   string   `json:"username,omitempty"`
	Credential string   `json:"credential,omitempty"`
}

// Candidate is a trickled ICE candidate, in the form of the browser's
// RTCIceCandidateInit. An empty Candidate string means end of candidates.
type Candidate struct {
	Candidate        string  `json:"candidate"`
	SDPMid           *string `json:"sdpMid,omitempty"`
	SDPMLineIndex    *uint16 `json:"sdpMLineIndex,omitempty"`
	UsernameFragment *string `json:"usernameFragment,omitempty"`
}

// Join asks to enter a room. It must be the first message of a connection.
type Join struct {
	Type    string `json:"type"`
	Version int    `json:"version"`
	Room    string `json:"room"`
	Name    string `json:"name"`
	// Token is a signed join token (JWT), when the deployment uses them; its
	// name, role and room claims win over the fields above.
	Token string `json:"token,omitempty"`
	// Password is the room's password, when it has one.
	Password string `json:"password,omitempty"`
}

// Joined answers Join: who you are and who is already there.
type Joined struct {
	Type         string        `json:"type"`
	Version      int           `json:"version"`
	Room         string        `json:"room"`
	You          Participant   `json:"you"`
	Participants []Participant `json:"participants"`
	ICEServers   []ICEServer   `json:"iceServers"`
	// Features are what the token allows beyond joining (e.g. "recording").
	Features []string `json:"features,omitempty"`
	// State is the room's policy as it stands.
	State RoomState `json:"state"`
	// Chat is the room's recent chat history, oldest first.
	Chat []Chat `json:"chat,omitempty"`
}

// ParticipantJoined tells the room that someone entered.
type ParticipantJoined struct {
	Type        string      `json:"type"`
	Participant Participant `json:"participant"`
}

// ParticipantLeft tells the room that someone left.
type ParticipantLeft struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

// ParticipantUpdated tells the room that someone's state (mute) changed.
type ParticipantUpdated struct {
	Type        string      `json:"type"`
	Participant Participant `json:"participant"`
}

// SessionDescription carries an SDP offer or answer (Type "offer" or
// "answer"). A client's offer lists in Tracks what each of its sending
// transceivers carries; without it the bridge takes the first video as the
// camera and any other as a screen share.
type SessionDescription struct {
	Type   string      `json:"type"`
	SDP    string      `json:"sdp"`
	Tracks []TrackInfo `json:"tracks,omitempty"`
}

// Trickle carries one ICE candidate.
type Trickle struct {
	Type      string    `json:"type"`
	Candidate Candidate `json:"candidate"`
}

// Mute announces the sender's microphone and camera state.
type Mute struct {
	Type  string `json:"type"`
	Audio bool   `json:"audio"`
	Video bool   `json:"video"`
}

// Leave ends the sender's participation; the server then closes the socket.
type Leave struct {
	Type string `json:"type"`
}

// Closed tells a client that the server ended its participation, and why.
type Closed struct {
	Type   string `json:"type"`
	Reason string `json:"reason"`
}

// Restart tells a client that its media moved (its bridge failed or is
// draining): it closes its PeerConnection, makes a new one with the same
// tracks and offers again. The signaling session and the room stay.
type Restart struct {
	Type   string `json:"type"`
	Reason string `json:"reason"`
}

// ICEServers hands the client fresh STUN/TURN servers and credentials
// before those it has expire: the client uses them from then on, for ICE
// restarts and new connections.
type ICEServers struct {
	Type       string      `json:"type"`
	ICEServers []ICEServer `json:"iceServers"`
}

// Reconnect asks for a fresh media connection: the client's ICE failed
// (a network change, a connection cut off). The server gives the
// participant a new endpoint on its bridge and answers with Restart.
type Reconnect struct {
	Type   string `json:"type"`
	Reason string `json:"reason,omitempty"`
}

// Ping asks the server for a Pong; clients use it to measure signaling RTT.
type Ping struct {
	Type string `json:"type"`
	Seq  int64  `json:"seq"`
}

// Pong answers Ping with the same Seq.
type Pong struct {
	Type string `json:"type"`
	Seq  int64  `json:"seq"`
}

// Error reports a problem with a message or a request. The connection stays
// up unless a Closed message follows.
type Error struct {
	Type    string `json:"type"`
	Code    string `json:"code"`
	Message string `json:"message"`
	// Ref is the type of the message that caused the error, when known.
	Ref string `json:"ref,omitempty"`
}
