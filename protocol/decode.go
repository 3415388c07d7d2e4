package protocol

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Error codes carried in Error.Code.
const (
	CodeBadJSON            = "bad-json"            // not a JSON object
	CodeUnknownType        = "unknown-type"        // no such message type
	CodeBadField           = "bad-field"           // a field has the wrong type or value
	CodeTooLarge           = "too-large"           // message over MaxMessageBytes
	CodeUnsupportedVersion = "unsupported-version" // join names a version we do not speak
	CodeInvalidRoom        = "invalid-room"        // room name breaks the rules
	CodeInvalidName        = "invalid-name"        // display name breaks the rules
	CodeNotJoined          = "not-joined"          // message needs a join first
	CodeAlreadyJoined      = "already-joined"      // second join on one connection
	CodeWrongDirection     = "wrong-direction"     // a server-to-client type sent by a client
	CodeNegotiation        = "negotiation-failed"  // the bridge could not use an SDP or candidate
	CodeUnavailable        = "unavailable"         // the room could not be reached or created
	CodeAuthRequired       = "auth-required"       // this deployment needs a token
	CodeAuthFailed         = "auth-failed"         // the token was refused; the message says why
	CodePasswordRequired   = "password-required"   // the room has a password and none was given
	CodeWrongPassword      = "wrong-password"      // the password did not match
	CodeRoomLocked         = "room-locked"         // a moderator locked the room
	CodeRoomFull           = "room-full"           // the room has its maximum of participants
	CodeRateLimited        = "rate-limited"        // too many joins or messages; slow down
	CodeNotModerator       = "not-moderator"       // the action needs the moderator role
	CodeBadTarget          = "bad-target"          // no such participant (or not one you may act on)
	CodeInternal           = "internal"            // the server failed; retrying may help
)

// DecodeError is returned by Decode and the validators. It carries the code
// and text of the Error message the server answers with.
type DecodeError struct {
	Code    string
	Message string
	Ref     string
}

func (e *DecodeError) Error() string { return e.Code + ": " + e.Message }

// Reply turns the error into the message sent back to the client.
func (e *DecodeError) Reply() Error {
	return Error{Type: TypeError, Code: e.Code, Message: e.Message, Ref: e.Ref}
}

// AsDecodeError returns err as a *DecodeError, wrapping other errors in an
// internal one.
func AsDecodeError(err error) *DecodeError {
	var de *DecodeError
	if errors.As(err, &de) {
		return de
	}
	return &DecodeError{Code: CodeInternal, Message: err.Error()}
}

func newTyped(typ string) any {
	switch typ {
	case TypeJoin:
		return &Join{}
	case TypeJoined:
		return &Joined{}
	case TypeParticipantJoined:
		return &ParticipantJoined{}
	case TypeParticipantLeft:
		return &ParticipantLeft{}
	case TypeParticipantUpdated:
		return &ParticipantUpdated{}
	case TypeOffer, TypeAnswer:
		return &SessionDescription{}
	case TypeCandidate:
		return &Trickle{}
	case TypeMute:
		return &Mute{}
	case TypeLeave:
		return &Leave{}
	case TypeClosed:
		return &Closed{}
	case TypeRestart:
		return &Restart{}
	case TypeICEServers:
		return &ICEServers{}
	case TypeReconnect:
		return &Reconnect{}
	case TypeChat:
		return &Chat{}
	case TypeHand:
		return &Hand{}
	case TypeModerate:
		return &Moderate{}
	case TypeRefreshToken:
		return &RefreshToken{}
	case TypeRoomState:
		return &RoomState{}
	case TypeLobbyWaiting:
		return &LobbyWaiting{}
	case TypeLobbyRequest:
		return &LobbyRequest{}
	case TypeLobbyLeft:
		return &LobbyLeft{}
	case TypeMuted:
		return &Muted{}
	case TypeUnmuteRequest:
		return &UnmuteRequest{}
	case TypePing:
		return &Ping{}
	case TypePong:
		return &Pong{}
	case TypeError:
		return &Error{}
	}
	return nil
}

// TypeOf returns the type field of a decoded message.
func TypeOf(msg any) string {
	switch m := msg.(type) {
	case *Join:
		return m.Type
	case *Joined:
		return m.Type
	case *ParticipantJoined:
		return m.Type
	case *ParticipantLeft:
		return m.Type
	case *ParticipantUpdated:
		return m.Type
	case *SessionDescription:
		return m.Type
	case *Trickle:
		return m.Type
	case *Mute:
		return m.Type
	case *Leave:
		return m.Type
	case *Closed:
		return m.Type
	case *Restart:
		return m.Type
	case *ICEServers:
		return m.Type
	case *Reconnect:
		return m.Type
	case *Chat:
		return m.Type
	case *Hand:
		return m.Type
	case *Moderate:
		return m.Type
	case *RefreshToken:
		return m.Type
	case *RoomState:
		return m.Type
	case *LobbyWaiting:
		return m.Type
	case *LobbyRequest:
		return m.Type
	case *LobbyLeft:
		return m.Type
	case *Muted:
		return m.Type
	case *UnmuteRequest:
		return m.Type
	case *Ping:
		return m.Type
	case *Pong:
		return m.Type
	case *Error:
		return m.Type
	}
	return ""
}

// FromClient reports whether a client may send messages of type typ.
func FromClient(typ string) bool {
	switch typ {
	case TypeJoin, TypeOffer, TypeAnswer, TypeCandidate, TypeMute, TypeLeave, TypePing,
		TypeChat, TypeHand, TypeModerate, TypeRefreshToken, TypeReconnect:
		return true
	}
	return false
}

// Decode parses one message into a pointer to its typed struct (*Join,
// *SessionDescription, ...). Unknown fields are ignored so that newer peers
// can add fields; fields of the wrong JSON type are errors.
func Decode(data []byte) (any, error) {
	if len(data) > MaxMessageBytes {
		return nil, &DecodeError{Code: CodeTooLarge, Message: fmt.Sprintf("message of %d bytes is over the limit of %d", len(data), MaxMessageBytes)}
	}
	var head struct {
		Type *string `json:"type"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Field == "type" {
			return nil, &DecodeError{Code: CodeBadField, Message: `field "type" must be a string`}
		}
		return nil, &DecodeError{Code: CodeBadJSON, Message: "message is not a JSON object: " + err.Error()}
	}
	if head.Type == nil {
		return nil, &DecodeError{Code: CodeBadField, Message: `message has no "type" field`}
	}
	typ := *head.Type
	msg := newTyped(typ)
	if msg == nil {
		return nil, &DecodeError{Code: CodeUnknownType, Message: fmt.Sprintf("unknown message type %q", clip(typ, 40)), Ref: clip(typ, 40)}
	}
	if err := json.Unmarshal(data, msg); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return nil, &DecodeError{Code: CodeBadField, Ref: typ,
				Message: fmt.Sprintf("field %q of %s must be of JSON type %s, not %s", typeErr.Field, typ, typeErr.Type.Kind(), typeErr.Value)}
		}
		return nil, &DecodeError{Code: CodeBadJSON, Ref: typ, Message: err.Error()}
	}
	if err := validate(msg); err != nil {
		err.Ref = typ
		return nil, err
	}
	return msg, nil
}

func validate(msg any) *DecodeError {
	switch m := msg.(type) {
	case *Join:
		if m.Version != Version {
			return &DecodeError{Code: CodeUnsupportedVersion, Message: fmt.Sprintf("protocol version %d is not supported; this server speaks version %d", m.Version, Version)}
		}
		room, err := NormalizeRoom(m.Room)
		if err != nil {
			return err
		}
		m.Room = room
		name, err := NormalizeName(m.Name)
		if err != nil {
			return err
		}
		m.Name = name
	case *SessionDescription:
		if strings.TrimSpace(m.SDP) == "" {
			return &DecodeError{Code: CodeBadField, Message: `field "sdp" must not be empty`}
		}
	case *Chat:
		m.Text = strings.TrimSpace(m.Text)
		if m.Text == "" || !utf8.ValidString(m.Text) {
			return &DecodeError{Code: CodeBadField, Message: `field "text" must be non-empty UTF-8`}
		}
	case *Moderate:
		switch m.Action {
		case ActionMute, ActionAskUnmute:
			if m.Kind != KindAudio && m.Kind != KindVideo {
				return &DecodeError{Code: CodeBadField, Message: `field "kind" must be "audio" or "video"`}
			}
			fallthrough
		case ActionRemove, ActionGrantModerator, ActionAdmit, ActionDeny:
			if m.Target == "" {
				return &DecodeError{Code: CodeBadField, Message: fmt.Sprintf("%s needs a target participant", m.Action)}
			}
		case ActionMuteAll:
			if m.Kind == "" {
				m.Kind = KindAudio
			}
			if m.Kind != KindAudio && m.Kind != KindVideo {
				return &DecodeError{Code: CodeBadField, Message: `field "kind" must be "audio" or "video"`}
			}
		case ActionEndMeeting, ActionLock, ActionLobby:
		case ActionPassword:
			if len(m.Password) > 128 {
				return &DecodeError{Code: CodeBadField, Message: "a room password is at most 128 bytes"}
			}
		default:
			return &DecodeError{Code: CodeBadField, Message: fmt.Sprintf("unknown moderator action %q", clip(m.Action, 40))}
		}
	case *RefreshToken:
		if m.Token == "" {
			return &DecodeError{Code: CodeBadField, Message: `field "token" must not be empty`}
		}
	}
	return nil
}

// NormalizeRoom checks a room name and returns it in lower case. Room names
// are 1 to MaxRoomLen characters: ASCII letters, digits, '-' and '_',
// starting with a letter or digit. The rules keep names safe in URLs and in
// bus subjects.
func NormalizeRoom(room string) (string, *DecodeError) {
	if room == "" {
		return "", &DecodeError{Code: CodeInvalidRoom, Message: "room name is empty"}
	}
	if len(room) > MaxRoomLen {
		return "", &DecodeError{Code: CodeInvalidRoom, Message: fmt.Sprintf("room name is longer than %d characters", MaxRoomLen)}
	}
	for i, r := range room {
		ok := r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r) || (i > 0 && (r == '-' || r == '_')))
		if !ok {
			return "", &DecodeError{Code: CodeInvalidRoom, Message: "room names use only letters a-z, digits, '-' and '_', and start with a letter or digit"}
		}
	}
	return strings.ToLower(room), nil
}

// NormalizeName checks a display name and returns it trimmed. Names are 1 to
// MaxNameLen characters of printable text.
func NormalizeName(name string) (string, *DecodeError) {
	name = strings.TrimSpace(name)
	if name == "" {
		return "", &DecodeError{Code: CodeInvalidName, Message: "display name is empty"}
	}
	if !utf8.ValidString(name) {
		return "", &DecodeError{Code: CodeInvalidName, Message: "display name is not valid UTF-8"}
	}
	if utf8.RuneCountInString(name) > MaxNameLen {
		return "", &DecodeError{Code: CodeInvalidName, Message: fmt.Sprintf("display name is longer than %d characters", MaxNameLen)}
	}
	for _, r := range name {
		if !unicode.IsPrint(r) {
			return "", &DecodeError{Code: CodeInvalidName, Message: "display name contains control characters"}
		}
	}
	return name, nil
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}
