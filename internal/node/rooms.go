package node

import (
	"context"

	"github.com/parley/parley/internal/signal"
)

// tokenVerifier builds the join token verifier (see tokens.go).
func (n *Node) tokenVerifier(ctx context.Context) (signal.TokenVerifier, error) {
	return n.newTokenVerifier(ctx)
}
