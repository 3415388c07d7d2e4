// Package edge is a node's one TCP port (443 in production). It tells each
// connection apart by its first bytes and hands it on: a TLS ClientHello
// is terminated here and, inside TLS, STUN goes to the TURN server and
// everything else to the HTTP server (web client, WebSocket signaling);
// RFC 4571-framed STUN is ICE-TCP for the bridge; unframed STUN is TURN over
// TCP; plain HTTP is redirected to HTTPS. Anything else is closed. A
// connection gets a few seconds to show what it is, and a bounded number
// may be undecided at once, so slow or garbage clients cost little and
// harm nobody else. cert.go makes the TLS configuration: certificate files,
// ACME, or a self-signed certificate for development.
package edge

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/acme"

	"github.com/parley/parley/internal/shutdown"
)

// Defaults of the zero Config.
const (
	// DefaultFirstBytesTimeout bounds the wait for the bytes that tell a
	// connection's kind, outside and again inside TLS.
	DefaultFirstBytesTimeout = 5 * time.Second
	// DefaultHandshakeTimeout bounds a TLS handshake.
	DefaultHandshakeTimeout = 10 * time.Second
	// DefaultMaxPending caps connections not yet handed on; more are
	// closed at once.
	DefaultMaxPending = 1024
	// handoffTimeout is how long a classified connection waits for its
	// server to accept it.
	handoffTimeout = 5 * time.Second
)

// Config configures an edge listener.
type Config struct {
	// Addr is the TCP address to listen on, such as ":443".
	Addr string
	// TLS terminates TLS connections (NewTLSConfig makes one). Required.
	TLS *tls.Config
	// TURN takes STUN/TURN connections, from inside TLS or plain, with the
	// bytes read to classify them replayed (turn.Server.ServeConn). Nil
	// closes them.
	TURN func(net.Conn) error
	// ICETCP offers ICE-TCP connections on the ICETCP listener; false
	// closes them.
	ICETCP bool
	// Timeouts and the cap on undecided connections; zero means the
	// defaults above.
	FirstBytesTimeout time.Duration
	HandshakeTimeout  time.Duration
	MaxPending        int
	Logger            *slog.Logger
}

// Stats count the connections the edge has seen, by what they turned out
// to be.
type Stats struct {
	HTTPS, TURNTLS, TURNTCP, ICETCP, Redirected uint64
	// Dropped were closed: garbage, silent past the timeout, failed TLS
	// handshakes, nobody to take them, or too many undecided at once.
	Dropped uint64
}

// Edge is a listening shared port.
type Edge struct {
	cfg      Config
	log      *slog.Logger
	ln       net.Listener
	https    *chanListener
	ice      *chanListener // nil without ICE-TCP
	redirect *chanListener
	redirSrv *http.Server

	stats struct {
		https, turnTLS, turnTCP, ice, redirected, dropped atomic.Uint64
	}

	mu     sync.Mutex
	closed bool
	conns  map[net.Conn]struct{} // undecided, closed by Close
	wg     sync.WaitGroup
}

// Listen opens the port and starts telling connections apart. Serve
// HTTP on HTTP() and, with Config.ICETCP, give ICETCP() to the bridge.
func Listen(cfg Config) (*Edge, error) {
	if cfg.TLS == nil {
		return nil, ErrNoTLS
	}
	if cfg.FirstBytesTimeout <= 0 {
		cfg.FirstBytesTimeout = DefaultFirstBytesTimeout
	}
	if cfg.HandshakeTimeout <= 0 {
		cfg.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if cfg.MaxPending <= 0 {
		cfg.MaxPending = DefaultMaxPending
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("edge: listen %s: %w", cfg.Addr, err)
	}
	e := &Edge{
		cfg: cfg, log: cfg.Logger, ln: ln,
		https:    newChanListener(ln.Addr()),
		redirect: newChanListener(ln.Addr()),
		conns:    map[net.Conn]struct{}{},
	}
	if cfg.ICETCP {
		e.ice = newChanListener(ln.Addr())
	}
	e.redirSrv = &http.Server{
		Handler:           http.HandlerFunc(e.redirectToHTTPS),
		ReadHeaderTimeout: cfg.FirstBytesTimeout,
		IdleTimeout:       cfg.FirstBytesTimeout,
		ErrorLog:          slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelDebug),
	}
	e.wg.Go(func() { _ = e.redirSrv.Serve(e.redirect) })
	e.wg.Go(e.acceptLoop)
	return e, nil
}

// Addr is the port's address.
func (e *Edge) Addr() *net.TCPAddr { return e.ln.Addr().(*net.TCPAddr) }

// HTTP is the listener of HTTPS connections (TLS already terminated).
// Serve it with a server from HTTPServer, whose requests know they came
// over TLS.
func (e *Edge) HTTP() net.Listener { return e.https }

// HTTPServer returns a server for an edge's HTTP listener with base's
// handler, timeouts and error log. The edge hands on TLS connections
// wrapped (it has read their first bytes), which net/http cannot see
// through; this server sets each request's TLS state itself, as a server
// that terminated TLS would.
func HTTPServer(base *http.Server) *http.Server {
	return &http.Server{
		Handler:           withTLSState(base.Handler),
		ReadTimeout:       base.ReadTimeout,
		ReadHeaderTimeout: base.ReadHeaderTimeout,
		WriteTimeout:      base.WriteTimeout,
		IdleTimeout:       base.IdleTimeout,
		MaxHeaderBytes:    base.MaxHeaderBytes,
		ErrorLog:          base.ErrorLog,
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			if base.ConnContext != nil {
				ctx = base.ConnContext(ctx, c)
			}
			if pc, ok := c.(*prefixConn); ok {
				if tc, ok := pc.Conn.(*tls.Conn); ok {
					st := tc.ConnectionState()
					ctx = context.WithValue(ctx, tlsStateKey{}, &st)
				}
			}
			return ctx
		},
	}
}

type tlsStateKey struct{}

func withTLSState(h http.Handler) http.Handler {
	if h == nil {
		h = http.DefaultServeMux
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if st, ok := r.Context().Value(tlsStateKey{}).(*tls.ConnectionState); ok && r.TLS == nil {
			r = r.WithContext(r.Context()) // a shallow copy
			r.TLS = st
		}
		h.ServeHTTP(w, r)
	})
}

// ICETCP is the listener of ICE-TCP connections, for the bridge's TCP mux;
// nil without Config.ICETCP.
func (e *Edge) ICETCP() net.Listener {
	if e.ice == nil {
		return nil
	}
	return e.ice
}

// Stats returns the edge's counters.
func (e *Edge) Stats() Stats {
	return Stats{
		HTTPS: e.stats.https.Load(), TURNTLS: e.stats.turnTLS.Load(), TURNTCP: e.stats.turnTCP.Load(),
		ICETCP: e.stats.ice.Load(), Redirected: e.stats.redirected.Load(), Dropped: e.stats.dropped.Load(),
	}
}

// Close stops listening and closes the connections not handed on yet.
// Connections already handed on belong to their servers.
func (e *Edge) Close() error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	for c := range e.conns {
		_ = c.Close()
	}
	e.mu.Unlock()
	err := e.ln.Close()
	_ = e.https.Close()
	if e.ice != nil {
		_ = e.ice.Close()
	}
	_ = e.redirSrv.Close()
	shutdown.WaitGroup(e.log, "edge listeners", shutdown.Timeout, &e.wg)
	return err
}

func (e *Edge) acceptLoop() {
	var backoff time.Duration
	for {
		c, err := e.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of file descriptors and the like: wait, do not spin.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			e.log.Warn("edge: accept failed; retrying", "err", err, "in", backoff)
			time.Sleep(backoff)
			continue
		}
		backoff = 0
		if err := e.track(c); err != nil {
			_ = c.Close()
			if errors.Is(err, net.ErrClosed) {
				return
			}
			e.stats.dropped.Add(1)
			continue
		}
		e.wg.Go(func() {
			defer e.untrack(c)
			e.handle(c)
		})
	}
}

// track records c as undecided, unless the edge is closed (net.ErrClosed)
// or MaxPending connections are undecided already.
func (e *Edge) track(c net.Conn) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return net.ErrClosed
	}
	if len(e.conns) >= e.cfg.MaxPending {
		return errTooManyPending
	}
	e.conns[c] = struct{}{}
	return nil
}

func (e *Edge) untrack(c net.Conn) {
	e.mu.Lock()
	delete(e.conns, c)
	e.mu.Unlock()
}

// handle classifies one connection and hands it on, or closes it.
func (e *Edge) handle(c net.Conn) {
	_ = c.SetReadDeadline(time.Now().Add(e.cfg.FirstBytesTimeout))
	kind, prefix, err := peek(c, Classify, PeekSize)
	// Classified: from here each kind has its own limits (the handshake
	// its timeout, the servers theirs).
	_ = c.SetReadDeadline(time.Time{})
	pc := &prefixConn{Conn: c, prefix: prefix}
	switch kind {
	case KindTLS:
		e.handleTLS(pc)
	case KindICETCP:
		if e.ice == nil {
			e.drop(c, "ice-tcp without a bridge")
			return
		}
		e.handOff(e.ice, pc, &e.stats.ice, "ice-tcp")
	case KindSTUN:
		e.toTURN(pc, &e.stats.turnTCP)
	case KindHTTP:
		e.handOff(e.redirect, pc, &e.stats.redirected, "http")
	default:
		reason := "garbage"
		if err != nil {
			reason = err.Error()
		}
		e.drop(c, reason)
	}
}

func (e *Edge) handleTLS(c net.Conn) {
	tc := tls.Server(c, e.cfg.TLS)
	ctx, cancel := context.WithTimeout(context.Background(), e.cfg.HandshakeTimeout)
	err := tc.HandshakeContext(ctx)
	cancel()
	if err != nil {
		e.drop(c, "tls handshake: "+err.Error())
		return
	}
	if tc.ConnectionState().NegotiatedProtocol == acme.ALPNProto {
		// An ACME tls-alpn-01 challenge: the handshake was the answer.
		_ = tc.Close()
		return
	}
	_ = tc.SetReadDeadline(time.Now().Add(e.cfg.FirstBytesTimeout))
	kind, prefix, err := peek(tc, ClassifyInner, 8)
	pc := &prefixConn{Conn: tc, prefix: prefix}
	switch kind {
	case KindSTUN:
		e.toTURN(pc, &e.stats.turnTLS)
	case KindHTTP:
		_ = tc.SetReadDeadline(time.Time{})
		e.handOff(e.https, pc, &e.stats.https, "https")
	default:
		reason := "garbage inside tls"
		if err != nil {
			reason = err.Error()
		}
		e.drop(tc, reason)
	}
}

func (e *Edge) toTURN(c net.Conn, counter *atomic.Uint64) {
	if e.cfg.TURN == nil {
		e.drop(c, "turn without a TURN server")
		return
	}
	_ = c.SetReadDeadline(time.Time{})
	counter.Add(1)
	if err := e.cfg.TURN(c); err != nil {
		e.log.Debug("edge: TURN refused a connection", "client", c.RemoteAddr().String(), "err", err)
	}
}

func (e *Edge) handOff(l *chanListener, c net.Conn, counter *atomic.Uint64, what string) {
	if err := l.push(c, handoffTimeout); err != nil {
		e.drop(c, what+": "+err.Error())
		return
	}
	counter.Add(1)
}

func (e *Edge) drop(c net.Conn, reason string) {
	e.stats.dropped.Add(1)
	e.log.Debug("edge: connection dropped", "client", c.RemoteAddr().String(), "reason", reason)
	_ = c.Close()
}

// redirectToHTTPS answers plain HTTP on the TLS port with the same URL
// under https.
func (e *Edge) redirectToHTTPS(w http.ResponseWriter, r *http.Request) {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if host == "" {
		http.Error(w, "this port speaks HTTPS", http.StatusBadRequest)
		return
	}
	if port := e.Addr().Port; port != 443 {
		host = net.JoinHostPort(host, strconv.Itoa(port))
	} else if ip := net.ParseIP(host); ip != nil && ip.To4() == nil {
		host = "[" + host + "]"
	}
	w.Header().Set("Connection", "close")
	http.Redirect(w, r, "https://"+host+r.URL.RequestURI(), http.StatusPermanentRedirect)
}
