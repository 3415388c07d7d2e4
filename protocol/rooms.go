package protocol

// Messages of room policy, moderation and chat (version 1, added without
// changing the version: older clients ignore them).
const (
	TypeChat          = "chat"           // both ways
	TypeHand          = "hand"           // client → server
	TypeModerate      = "moderate"       // client → server
	TypeRefreshToken  = "refresh-token"  // client → server
	TypeRoomState     = "room-state"     // server → client
	TypeLobbyWaiting  = "lobby-waiting"  // server → client
	TypeLobbyRequest  = "lobby-request"  // server → moderators
	TypeLobbyLeft     = "lobby-left"     // server → moderators
	TypeMuted         = "muted"          // server → client
	TypeUnmuteRequest = "unmute-request" // server → client
)

// Moderator actions, in Moderate.Action.
const (
	ActionMute           = "mute"            // Target, Kind: stop forwarding their audio or video
	ActionMuteAll        = "mute-all"        // Kind: everyone but moderators
	ActionAskUnmute      = "ask-unmute"      // Target, Kind: ask them to unmute
	ActionRemove         = "remove"          // Target: out of the meeting
	ActionGrantModerator = "grant-moderator" // Target
	ActionEndMeeting     = "end-meeting"     // everyone out
	ActionLock           = "lock"            // On: no new participants (moderators with a token excepted)
	ActionPassword       = "password"        // Password: set, or clear with ""
	ActionLobby          = "lobby"           // On: newcomers knock and wait
	ActionAdmit          = "admit"           // Target: let a knocking guest in
	ActionDeny           = "deny"            // Target: turn a knocking guest away
)

// Media kinds a moderator mutes.
const (
	KindAudio = "audio"
	KindVideo = "video"
)

// Chat is a chat message. A client sends Text and, for a private message,
// To; the server fills in the rest and delivers it to the room (or to the
// sender and the recipient).
type Chat struct {
	Type string `json:"type"`
	ID   string `json:"id,omitempty"`
	From string `json:"from,omitempty"`
	Name string `json:"name,omitempty"`
	To   string `json:"to,omitempty"`
	Text string `json:"text"`
	// Time is when the server took the message (Unix milliseconds).
	Time int64 `json:"time,omitempty"`
}

// Hand raises (Raised) or lowers the sender's hand.
type Hand struct {
	Type   string `json:"type"`
	Raised bool   `json:"raised"`
}

// Moderate is a moderator's action; the fields used depend on Action.
type Moderate struct {
	Type     string `json:"type"`
	Action   string `json:"action"`
	Target   string `json:"target,omitempty"`
	Kind     string `json:"kind,omitempty"`
	On       bool   `json:"on,omitempty"`
	Password string `json:"password,omitempty"`
}

// RefreshToken replaces the session's token before it expires; the new
// token's claims (name, role) apply. A session outlives its token anyway:
// tokens are checked when joining.
type RefreshToken struct {
	Type  string `json:"type"`
	Token string `json:"token"`
}

// RoomState is the room's policy, sent at join and when it changes.
type RoomState struct {
	Type        string `json:"type,omitempty"`
	Locked      bool   `json:"locked"`
	Lobby       bool   `json:"lobby"`
	HasPassword bool   `json:"hasPassword"`
}

// LobbyWaiting tells a guest that they wait in the lobby for a moderator.
type LobbyWaiting struct {
	Type string `json:"type"`
}

// LobbyRequest tells moderators that a guest knocks.
type LobbyRequest struct {
	Type        string      `json:"type"`
	Participant Participant `json:"participant"`
}

// LobbyLeft tells moderators that a guest no longer waits (admitted,
// denied, or gone).
type LobbyLeft struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

// Muted tells a participant that a moderator muted their audio or stopped
// their video; the bridge no longer forwards it until they unmute.
type Muted struct {
	Type string `json:"type"`
	Kind string `json:"kind"`
	By   string `json:"by"` // the moderator's name
}

// UnmuteRequest asks a participant to unmute.
type UnmuteRequest struct {
	Type string `json:"type"`
	Kind string `json:"kind"`
	By   string `json:"by"`
}
