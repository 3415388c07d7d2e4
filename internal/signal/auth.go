package signal

import (
	"errors"

	"github.com/parley/parley/internal/busmsg"
	"github.com/parley/parley/protocol"
)

// TokenVerifier checks join tokens; internal/auth provides one.
type TokenVerifier interface {
	// Verify checks a token for room and returns its claims.
	Verify(token, room string) (busmsg.Identity, error)
}

// identify checks a join's token. A guest (no token) gets nil, or an error
// where guests are refused.
func (s *Server) identify(token, room string) (*busmsg.Identity, *protocol.DecodeError) {
	if token == "" {
		if !s.cfg.AllowGuests {
			return nil, &protocol.DecodeError{Code: protocol.CodeAuthRequired, Message: "this meeting needs an invitation link with a token; ask the organiser for one"}
		}
		return nil, nil
	}
	if s.cfg.Verifier == nil {
		return nil, &protocol.DecodeError{Code: protocol.CodeAuthFailed, Message: "this server does not accept tokens; join without one"}
	}
	id, err := s.cfg.Verifier.Verify(token, room)
	if err != nil {
		msg := err.Error()
		if errors.Unwrap(err) == nil {
			msg = "the token was refused"
		}
		return nil, &protocol.DecodeError{Code: protocol.CodeAuthFailed, Message: msg}
	}
	return &id, nil
}
