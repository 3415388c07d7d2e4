// Package signal is Parley's edge: it accepts clients' WebSockets at /ws,
// checks every message against the protocol, and relays it over the bus to
// the control node that owns the client's room; what the owner sends back
// for the session it writes to the socket. It keeps no room state, so any
// node can take any client.
package signal

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/parley/parley/internal/bus"
	"github.com/parley/parley/internal/busmsg"
)

// Errors of the edge.
var (
	ErrNoControl = errors.New("signal: no control node answered")
)

const (
	// hardReadLimit closes a connection whose message is this big; up to it,
	// oversize messages are skipped and answered with an error.
	hardReadLimit  = 4 << 20
	pingInterval   = 15 * time.Second
	pingTimeout    = 30 * time.Second
	writeTimeout   = 10 * time.Second
	outboxSize     = 512
	requestTimeout = 10 * time.Second
)

// Config configures the edge.
type Config struct {
	NodeID string
	Bus    *bus.Bus
	Log    *slog.Logger
	// OriginPatterns are extra hosts whose pages may open the WebSocket, in
	// the form of websocket.AcceptOptions.OriginPatterns. The page's own host
	// is always allowed.
	OriginPatterns []string
}

// Server is the WebSocket endpoint.
type Server struct {
	cfg Config
	log *slog.Logger

	mu       sync.Mutex
	sessions map[string]*session
	wg       sync.WaitGroup
	closed   bool
}

// New makes the edge.
func New(cfg Config) *Server {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	return &Server{cfg: cfg, log: cfg.Log.With("signal", cfg.NodeID), sessions: map[string]*session{}}
}

// Sessions is the number of open client sessions.
func (s *Server) Sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
}

// ServeHTTP upgrades the request to a WebSocket and runs the session.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{OriginPatterns: s.cfg.OriginPatterns})
	if err != nil {
		s.log.Debug("websocket upgrade failed", "remote", r.RemoteAddr, "err", err)
		return
	}
	conn.SetReadLimit(hardReadLimit)
	sess := newSession(s, conn, newID(), r.RemoteAddr)
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = conn.Close(websocket.StatusGoingAway, "server shutting down")
		return
	}
	s.sessions[sess.id] = sess
	s.wg.Add(1)
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.sessions, sess.id)
		s.mu.Unlock()
		s.wg.Done()
	}()
	sess.run(r.Context())
}

// Close ends every session and waits for them.
func (s *Server) Close() {
	s.mu.Lock()
	s.closed = true
	sessions := make([]*session, 0, len(s.sessions))
	for _, sess := range s.sessions {
		sessions = append(sessions, sess)
	}
	s.mu.Unlock()
	for _, sess := range sessions {
		sess.close(websocket.StatusGoingAway, "server shutting down")
	}
	s.wg.Wait()
}

// relayJoin asks the room's owner to admit the session, claiming the room
// for some control node first when it has no owner.
func (s *Server) relayJoin(ctx context.Context, room string, msg busmsg.ClientMessage) (busmsg.JoinReply, error) {
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		rctx, cancel := context.WithTimeout(ctx, requestTimeout)
		reply, err := bus.Request[busmsg.JoinReply](rctx, s.cfg.Bus, bus.RoomControl(room), msg)
		cancel()
		if err == nil {
			return reply, nil
		}
		lastErr = err
		// No owner, or the owner is giving the room up: have one claim it.
		if !errors.Is(err, bus.ErrNoResponders) && !errors.Is(err, bus.ErrRemote) {
			return busmsg.JoinReply{}, err
		}
		cctx, cancel := context.WithTimeout(ctx, requestTimeout)
		_, err = bus.Request[busmsg.ClaimReply](cctx, s.cfg.Bus, bus.ControlClaim, busmsg.ClaimRequest{Room: room})
		cancel()
		if errors.Is(err, bus.ErrNoResponders) {
			return busmsg.JoinReply{}, fmt.Errorf("%w: %v", ErrNoControl, err)
		}
		if err != nil {
			lastErr = err
		}
	}
	return busmsg.JoinReply{}, lastErr
}

func newID() string {
	var b [10]byte
	_, _ = rand.Read(b[:])
	return base32.HexEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:])
}
