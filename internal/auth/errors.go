package auth

import (
	"errors"
	"fmt"
	"time"
)

// Sentinel errors. Every refusal from Verify wraps exactly one of them; its
// own message (Error) is written for the person holding the token and says
// what to do.
var (
	ErrMalformed    = errors.New("token is malformed")
	ErrAlgorithm    = errors.New("token signing algorithm is refused")
	ErrNoKeys       = errors.New("no key is configured for the token's algorithm")
	ErrUnknownKey   = errors.New("token was signed with an unknown key")
	ErrBadSignature = errors.New("token signature is invalid")
	ErrIssuer       = errors.New("token issuer is wrong")
	ErrAudience     = errors.New("token audience is wrong")
	ErrMissingExp   = errors.New("token has no exp; tokens must expire")
	ErrExpired      = errors.New("token expired")
	ErrNotYetValid  = errors.New("token is not valid yet")
	ErrRoom         = errors.New("token is for another room")
)

// refusal is a refused token: a message for the user wrapping one sentinel.
type refusal struct {
	kind error
	msg  string
}

func (r *refusal) Error() string { return r.msg }
func (r *refusal) Unwrap() error { return r.kind }

// refuse returns an error whose message is the formatted text and which
// wraps kind, so that errors.Is(err, kind) holds. The arguments must not be
// errors that wrap other sentinels: a refusal wraps exactly one.
func refuse(kind error, format string, args ...any) error {
	return &refusal{kind: kind, msg: fmt.Sprintf(format, args...)}
}

// when formats a token time for a message: UTC, to the second.
func when(t time.Time) string {
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}
