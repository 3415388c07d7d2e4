// Package web is the node's HTTP server: the embedded browser client, the
// signaling WebSocket at /ws, the health endpoints and the admin API.
package web

import (
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"time"

	"github.com/parley/parley/internal/admin"
	"github.com/parley/parley/internal/ratelimit"
	"github.com/parley/parley/protocol"
	client "github.com/parley/parley/web"
)

// Options wires the handler to the node's other parts.
type Options struct {
	// Signal serves the WebSocket at /ws.
	Signal http.Handler
	// Ready reports whether the node can take clients (for /readyz).
	Ready func() bool
	// Metrics serves /metrics when set.
	Metrics http.Handler
	// Drain starts draining the node (POST /admin/drain).
	Drain func()
	// AdminKey, when set, also opens POST /admin/drain to requests that
	// carry it (Authorization: Bearer); without it only loopback may drain.
	AdminKey string
	// API serves the admin API (internal/admin) at /api/v1/.
	API http.Handler
	// CheckConfig serves GET /check/config (check.go) when set.
	CheckConfig func(host string) CheckConfig
	// ClientAddr is a request's client address, for the per-address
	// limits (behind a trusted proxy, the one it reports); nil takes the
	// peer's.
	ClientAddr func(*http.Request) netip.Addr
	Log        *slog.Logger
}

// Per-address limits on what anyone may ask without credentials: the
// network check's configuration hands out TURN credentials, so it gets a
// tight one; every other unauthenticated request (the client's pages and
// files, health, metrics, the WebSocket upgrade before its own join limit)
// a generous one that only a flood reaches: a branch office of a hundred
// behind one address loads about a thousand files when a meeting starts.
const (
	checkPerMinute, checkBurst = 20, 10
	openPerMinute, openBurst   = 6000, 2000
)

// Handler returns the node's HTTP handler.
func Handler(o Options) http.Handler {
	static, err := fs.Sub(client.Static, "static")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	index, err := fs.ReadFile(static, "index.html")
	if err != nil {
		panic(err)
	}
	addr := o.ClientAddr
	if addr == nil {
		addr = peerAddr
	}
	open := ratelimit.NewPerAddr(openPerMinute, openBurst)
	limit := func(h http.Handler) http.Handler { return limited(open, addr, h) }
	mux := http.NewServeMux()
	if o.Drain != nil {
		mux.HandleFunc("POST /admin/drain", func(w http.ResponseWriter, r *http.Request) {
			if !fromLoopback(r) && !admin.Authorized(r, o.AdminKey) {
				http.Error(w, "drain is accepted from this machine, or with the admin key (Authorization: Bearer <key>)", http.StatusForbidden)
				return
			}
			o.Drain()
			w.WriteHeader(http.StatusAccepted)
			_, _ = w.Write([]byte("draining\n"))
		})
	}
	if o.Metrics != nil {
		mux.Handle("GET /metrics", limit(o.Metrics))
	}
	if o.API != nil {
		mux.Handle(admin.Prefix+"/", o.API)
	}
	mux.Handle("GET /healthz", limit(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})))
	mux.Handle("GET /readyz", limit(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if o.Ready != nil && !o.Ready() {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("not ready\n"))
			return
		}
		_, _ = w.Write([]byte("ready\n"))
	})))
	if o.Signal == nil {
		// A node without the signal role serves health, metrics and admin only.
		return securityHeaders(mux)
	}
	mux.Handle("GET /ws", limit(o.Signal))
	checks := ratelimit.NewPerAddr(checkPerMinute, checkBurst)
	mux.Handle("GET /check/config", limited(checks, addr, limit(checkConfigHandler(o.CheckConfig))))
	mux.Handle("GET /static/", limit(http.StripPrefix("/static/", cacheFor(http.FileServerFS(static), "no-cache"))))
	serveIndex := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = w.Write(index)
	}
	mux.Handle("GET /{$}", limit(http.HandlerFunc(serveIndex)))
	// Any single path segment is a room; the page itself explains an invalid
	// name, but the status tells scripts.
	mux.Handle("GET /{room}", limit(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := protocol.NormalizeRoom(r.PathValue("room")); err != nil {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write(index)
			return
		}
		serveIndex(w, r)
	})))
	return securityHeaders(mux)
}

// limited answers 429 to an address over l's limit, and passes the rest to
// h.
func limited(l *ratelimit.PerAddr, addr func(*http.Request) netip.Addr, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !l.Allow(addr(r), time.Now()) {
			w.Header().Set("Retry-After", "1")
			http.Error(w, "too many requests from your address; try again in a moment", http.StatusTooManyRequests)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// peerAddr is the address the request came from.
func peerAddr(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}

// fromLoopback reports whether a request came from this machine.
func fromLoopback(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}

func cacheFor(h http.Handler, policy string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", policy)
		h.ServeHTTP(w, r)
	})
}

// securityHeaders keeps the client to its own origin.
func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hdr := w.Header()
		hdr.Set("Content-Security-Policy", "default-src 'self'; connect-src 'self'; img-src 'self' data: blob:; media-src 'self' blob: mediastream:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")
		hdr.Set("X-Content-Type-Options", "nosniff")
		hdr.Set("Referrer-Policy", "no-referrer")
		hdr.Set("Permissions-Policy", "camera=(self), microphone=(self), display-capture=(self)")
		h.ServeHTTP(w, r)
	})
}
