// Package admin is Parley's admin HTTP API under /api/v1: it lists the
// rooms and participants of every control node, ends a meeting, removes a
// participant and issues join tokens. Every call carries the operator's API
// key. The API keeps no state of its own: it asks the rooms' owners over the
// bus, as signal nodes do, so any node answers for the whole cluster.
// docs/openapi.yaml describes it; a test keeps the two in step.
package admin

import (
	"crypto/sha256"
	"crypto/subtle"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/parley/parley/internal/bus"
)

// Prefix is where the API is mounted.
const Prefix = "/api/v1"

// Config wires the API to the node.
type Config struct {
	// Key is the API key every call must carry, as "Authorization: Bearer
	// <key>" or "X-API-Key: <key>". Empty turns the API off (404).
	Key string
	// Bus reaches the control nodes.
	Bus *bus.Bus
	// Log gets one line per admin action; nil is slog.Default().
	Log *slog.Logger
	// TokenSecret signs join tokens (HS256) naming TokenIssuer and
	// TokenAudience; empty issues none.
	TokenSecret, TokenIssuer, TokenAudience string
	// PublicURL is the base of join links (scheme and host, no trailing
	// slash); nil uses the scheme and host the API was called by.
	PublicURL func(r *http.Request) string
	// Now is the clock of token times (tests); nil is time.Now.
	Now func() time.Time
}

// api serves the routes of one Config.
type api struct {
	cfg Config
	log *slog.Logger
}

// route is one endpoint. The list is the API: the handler mounts it and a
// test checks docs/openapi.yaml against it.
type route struct {
	method, path string // path below Prefix, in ServeMux pattern syntax
	serve        func(a *api, w http.ResponseWriter, r *http.Request) error
}

var routes = []route{
	{http.MethodGet, "/rooms", (*api).listRooms},
	{http.MethodGet, "/rooms/{room}", (*api).getRoom},
	{http.MethodDelete, "/rooms/{room}", (*api).endRoom},
	{http.MethodDelete, "/rooms/{room}/participants/{id}", (*api).removeParticipant},
	{http.MethodPost, "/tokens", (*api).issueToken},
}

// Handler returns the API, to be mounted at Prefix+"/".
func Handler(cfg Config) http.Handler {
	if cfg.Key == "" {
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			writeError(w, ErrOff)
		})
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.PublicURL == nil {
		cfg.PublicURL = requestURL
	}
	a := &api{cfg: cfg, log: cfg.Log.With("api", "admin")}
	mux := http.NewServeMux()
	methods := map[string][]string{}
	for _, rt := range routes {
		mux.HandleFunc(rt.method+" "+Prefix+rt.path, func(w http.ResponseWriter, r *http.Request) {
			if err := rt.serve(a, w, r); err != nil {
				writeError(w, err)
			}
		})
		methods[rt.path] = append(methods[rt.path], rt.method)
	}
	// A known path with another method: 405 in JSON, naming the methods.
	for path, list := range methods {
		allow := strings.Join(list, ", ")
		mux.HandleFunc(Prefix+path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", allow)
			writeError(w, failf(http.StatusMethodNotAllowed, "%s is not supported on %s; use %s", r.Method, r.URL.Path, allow))
		})
	}
	mux.HandleFunc(Prefix+"/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, failf(http.StatusNotFound, "no admin endpoint %s %s; see docs/openapi.yaml", r.Method, r.URL.Path))
	})
	return a.authenticate(mux)
}

// authenticate lets through only requests that carry the key.
func (a *api) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		if err := checkKey(r, a.cfg.Key); err != nil {
			challenge := `Bearer realm="parley-admin"`
			if err == ErrWrongKey {
				challenge += `, error="invalid_token"`
			}
			w.Header().Set("WWW-Authenticate", challenge)
			// The path only: a query string may hold a misplaced key.
			a.log.Warn("admin call refused", "remote", r.RemoteAddr, "method", r.Method, "path", r.URL.Path, "why", err.Error())
			writeError(w, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// Authorized reports whether r carries key, as "Authorization: Bearer <key>"
// or "X-API-Key: <key>". An empty key authorizes nothing.
func Authorized(r *http.Request, key string) bool {
	return key != "" && checkKey(r, key) == nil
}

// checkKey returns nil when r carries key, else the refusal to answer.
func checkKey(r *http.Request, key string) error {
	got, err := presentedKey(r)
	if err != nil {
		return err
	}
	// Hashing first makes the comparison's time independent of the lengths.
	want, have := sha256.Sum256([]byte(key)), sha256.Sum256([]byte(got))
	if subtle.ConstantTimeCompare(want[:], have[:]) != 1 {
		return ErrWrongKey
	}
	return nil
}

// presentedKey reads the key from the headers; a key in the URL is refused,
// because URLs end up in logs and browser histories.
func presentedKey(r *http.Request) (string, error) {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, cred, _ := strings.Cut(h, " ")
		if !strings.EqualFold(scheme, "Bearer") {
			return "", ErrScheme
		}
		if cred = strings.TrimSpace(cred); cred == "" {
			return "", ErrNoKey
		}
		return cred, nil
	}
	if k := r.Header.Get("X-API-Key"); k != "" {
		return k, nil
	}
	q := r.URL.Query()
	for _, name := range []string{"key", "api_key", "apikey", "admin_key", "token", "access_token"} {
		if q.Has(name) {
			return "", ErrKeyInURL
		}
	}
	return "", ErrNoKey
}

// requestURL is the scheme and host the request was made to.
func requestURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}
