package node

import (
	"context"
	"fmt"

	"github.com/parley/parley/internal/auth"
	"github.com/parley/parley/internal/busmsg"
	"github.com/parley/parley/internal/signal"
)

// newTokenVerifier builds the join token verifier from the configuration;
// nil when no token key is configured (then tokens are refused and guests
// may join where allowed).
func (n *Node) newTokenVerifier(ctx context.Context) (signal.TokenVerifier, error) {
	cfg := n.cfg
	if cfg.JWTSecret == "" && len(cfg.JWTPublicKeys) == 0 && cfg.JWTJWKSURL == "" {
		return nil, nil
	}
	v, err := auth.New(ctx, auth.Config{
		Secret: cfg.JWTSecret, PublicKeys: cfg.JWTPublicKeys, JWKSURL: cfg.JWTJWKSURL,
		Issuer: cfg.JWTIssuer, Audience: cfg.JWTAudience, Algorithms: cfg.JWTAlgorithms,
		Leeway: cfg.JWTLeeway, RoomWildcard: cfg.JWTRoomWildcard, Logger: n.log,
	})
	if err != nil {
		return nil, fmt.Errorf("join tokens: %w", err)
	}
	n.verifier = v
	return tokenVerifier{v}, nil
}

// tokenVerifier adapts auth's verifier to the signal edge.
type tokenVerifier struct{ v *auth.Verifier }

func (t tokenVerifier) Verify(token, room string) (busmsg.Identity, error) {
	id, err := t.v.Verify(token, room)
	if err != nil {
		return busmsg.Identity{}, err
	}
	return busmsg.Identity{Subject: id.Subject, Name: id.Name, Moderator: id.Moderator, Features: id.Features}, nil
}
