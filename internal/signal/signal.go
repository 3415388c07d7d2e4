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
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/parley/parley/internal/bus"
	"github.com/parley/parley/internal/busmsg"
	"github.com/parley/parley/internal/config"
	"github.com/parley/parley/internal/ratelimit"
	"github.com/parley/parley/internal/shutdown"
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
	// joinPatience is how long a join waits for a room whose owner was lost
	// to be claimed again (the lease's TTL, and some).
	joinPatience = 8 * time.Second
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
	// Sites map client networks to regions, for placing media.
	Sites []config.Site
	// TrustedProxies are front proxies whose X-Forwarded-For is believed.
	TrustedProxies []string
	// AllowGuests lets clients without a token join; Verifier checks tokens.
	AllowGuests bool
	Verifier    TokenVerifier
	// JoinRate is how many joins one address may attempt per minute;
	// MessageRate how many messages one client may send per second.
	JoinRate    int
	MessageRate int
}

// Server is the WebSocket endpoint.
type Server struct {
	cfg Config
	log *slog.Logger

	mu       sync.Mutex
	sessions map[string]*session
	watches  map[string]*roomWatch // by room
	wg       sync.WaitGroup
	closed   bool
	proxies  []netip.Prefix
	joins    *ratelimit.PerAddr
}

// New makes the edge.
func New(cfg Config) *Server {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.JoinRate == 0 {
		cfg.JoinRate = 120
	}
	if cfg.MessageRate == 0 {
		cfg.MessageRate = 50
	}
	s := &Server{cfg: cfg, log: cfg.Log.With("signal", cfg.NodeID), sessions: map[string]*session{}, watches: map[string]*roomWatch{}, joins: newJoinLimiter(cfg.JoinRate)}
	for _, p := range cfg.TrustedProxies {
		if prefix, err := netip.ParsePrefix(p); err == nil {
			s.proxies = append(s.proxies, prefix)
		}
	}
	return s
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
	sess.addr = s.clientAddr(r)
	sess.region = s.regionOf(sess.addr)
	sess.host = r.Host
	if h, _, err := net.SplitHostPort(r.Host); err == nil {
		sess.host = h
	}
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
	watches := s.watches
	s.watches = map[string]*roomWatch{}
	s.mu.Unlock()
	for _, w := range watches {
		w.stop()
	}
	// A close handshake waits for the client's answer: close them all at
	// once, so that clients who stopped answering cost one wait, not one
	// each.
	for _, sess := range sessions {
		go sess.close(websocket.StatusGoingAway, "server shutting down")
	}
	shutdown.WaitGroup(s.log, "signaling sessions", shutdown.Timeout, &s.wg)
}

// relayJoin asks the room's owner to admit the session, claiming the room
// for some control node first when it has no owner. While a lost owner's
// lease runs out, it keeps trying for up to joinPatience.
func (s *Server) relayJoin(ctx context.Context, room string, msg busmsg.ClientMessage) (busmsg.JoinReply, error) {
	var lastErr error
	deadline := time.Now().Add(joinPatience)
	for attempt := 0; time.Now().Before(deadline); attempt++ {
		if attempt > 0 {
			time.Sleep(200 * time.Millisecond)
		}
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

// regionOf places a client address in the site map.
func (s *Server) regionOf(ip netip.Addr) string {
	best, bits := "", -1
	for _, site := range s.cfg.Sites {
		if site.Prefix.Contains(ip) && site.Prefix.Bits() > bits {
			best, bits = site.Region, site.Prefix.Bits()
		}
	}
	return best
}

// forwardedFor is the client's address when the peer ip is a trusted
// proxy: the rightmost address in X-Forwarded-For that a trusted proxy did
// not add.
func (s *Server) forwardedFor(ip netip.Addr, r *http.Request) netip.Addr {
	if !s.trusted(ip) {
		return ip
	}
	hops := strings.Split(r.Header.Get("X-Forwarded-For"), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		ip = hop.Unmap()
		if !s.trusted(ip) {
			break
		}
	}
	return ip
}

func (s *Server) trusted(ip netip.Addr) bool {
	for _, p := range s.proxies {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

func newID() string {
	var b [10]byte
	_, _ = rand.Read(b[:])
	return base32.HexEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:])
}
