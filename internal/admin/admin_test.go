package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/nats-io/nats.go"

	"github.com/parley/parley/internal/auth"
	"github.com/parley/parley/internal/bus"
	"github.com/parley/parley/internal/busmsg"
	"github.com/parley/parley/protocol"
)

const (
	testKey    = "admin-key-for-tests-0123456789"
	testSecret = "a-join-token-secret-of-32-bytes!!"
	testIss    = "parley-tests"
	testAud    = "parley"
)

var testNow = time.Date(2030, 5, 6, 7, 8, 9, 0, time.UTC)

// startBus runs an embedded NATS server and connects to it.
func startBus(t *testing.T) *bus.Bus {
	t.Helper()
	e, err := bus.StartEmbedded(bus.EmbeddedOptions{Name: "admin-test", StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Shutdown)
	b, err := bus.Connect(bus.Options{Embedded: e, Name: "admin-test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	return b
}

// fakeControl answers the admin messages as a control node owning rooms
// does (internal/control): the census and each room's admin requests.
type fakeControl struct {
	mu      sync.Mutex
	rooms   map[string]*busmsg.RoomInfo
	ended   []string
	removed []string
}

func startControl(t *testing.T, b *bus.Bus, node string, rooms ...busmsg.RoomInfo) *fakeControl {
	t.Helper()
	c := &fakeControl{rooms: map[string]*busmsg.RoomInfo{}}
	subscribe := func(subject string, fn func(*nats.Msg)) {
		sub, err := b.Subscribe(subject, fn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = sub.Unsubscribe() })
	}
	subscribe(bus.ControlRooms, func(m *nats.Msg) {
		c.mu.Lock()
		reply := busmsg.RoomsReply{Node: node, Rooms: []busmsg.RoomInfo{}}
		for _, r := range c.rooms {
			reply.Rooms = append(reply.Rooms, *r)
		}
		c.mu.Unlock()
		bus.Respond(m, reply, nil)
	})
	for _, r := range rooms {
		r.Owner = node
		c.rooms[r.Name] = &r
		subscribe(bus.RoomControl(r.Name), func(m *nats.Msg) {
			var cm busmsg.ClientMessage
			if err := bus.Decode(m, &cm); err != nil {
				bus.Respond(m, nil, err)
				return
			}
			c.mu.Lock()
			defer c.mu.Unlock()
			room := c.rooms[r.Name]
			switch cm.Type {
			case busmsg.TypeAdminInfo:
				bus.Respond(m, *room, nil)
			case busmsg.TypeAdminEnd:
				c.ended = append(c.ended, r.Name)
				room.Participants = nil
				bus.Respond(m, nil, nil)
			case busmsg.TypeAdminRemove:
				i := slices.IndexFunc(room.Participants, func(p protocol.Participant) bool { return p.ID == cm.Session })
				if i < 0 {
					bus.Respond(m, nil, &protocol.DecodeError{Code: protocol.CodeBadTarget, Message: fmt.Sprintf("no participant %q in this meeting", cm.Session)})
					return
				}
				room.Participants = slices.Delete(room.Participants, i, i+1)
				c.removed = append(c.removed, cm.Session)
				bus.Respond(m, nil, nil)
			default:
				bus.Respond(m, nil, errors.New("unexpected "+cm.Type))
			}
		})
	}
	return c
}

func people(names ...string) []protocol.Participant {
	var out []protocol.Participant
	for _, n := range names {
		out = append(out, protocol.Participant{ID: strings.ToUpper(n) + "ID", Name: n, Role: protocol.RoleParticipant})
	}
	return out
}

type fixture struct {
	srv  *httptest.Server
	bus  *bus.Bus
	logs *bytes.Buffer
}

func newFixture(t *testing.T, mutate func(*Config)) *fixture {
	t.Helper()
	f := &fixture{bus: startBus(t), logs: &bytes.Buffer{}}
	cfg := Config{
		Key: testKey, Bus: f.bus, Log: slog.New(slog.NewTextHandler(&lockedWriter{w: f.logs}, nil)),
		TokenSecret: testSecret, TokenIssuer: testIss, TokenAudience: testAud,
		Now: func() time.Time { return testNow },
	}
	if mutate != nil {
		mutate(&cfg)
	}
	mux := http.NewServeMux()
	mux.Handle(Prefix+"/", Handler(cfg))
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// call makes a request with the key (unless hdr sets Authorization or
// X-API-Key itself) and returns the status and body.
func (f *fixture) call(t *testing.T, method, path, body string, hdr ...string) (int, http.Header, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, f.srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if len(hdr) == 0 {
		req.Header.Set("Authorization", "Bearer "+testKey)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, data
}

// errorOf decodes an error body, failing when it is not one.
func errorOf(t *testing.T, data []byte) string {
	t.Helper()
	var e errorBody
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil || e.Error == "" {
		t.Fatalf("not a JSON error body: %q", data)
	}
	return e.Error
}

// samplePath fills a route's path parameters.
func samplePath(path string) string {
	return Prefix + strings.NewReplacer("{room}", "standup", "{id}", "ALICEID").Replace(path)
}

func TestUnauthenticatedRefused(t *testing.T) {
	f := newFixture(t, nil)
	cases := []struct {
		name  string
		query string
		hdr   []string
		want  string
	}{
		{"no header", "", []string{"X-None", "x"}, "send the admin key"},
		{"wrong key", "", []string{"Authorization", "Bearer not-the-key-at-all-000000"}, "is wrong"},
		{"wrong key in X-API-Key", "", []string{"X-API-Key", "not-the-key-at-all-000000"}, "is wrong"},
		{"key with a suffix", "", []string{"Authorization", "Bearer " + testKey + "x"}, "is wrong"},
		{"key prefix", "", []string{"Authorization", "Bearer " + testKey[:10]}, "is wrong"},
		{"basic scheme", "", []string{"Authorization", "Basic " + testKey}, "Bearer scheme"},
		{"bare key", "", []string{"Authorization", testKey}, "Bearer scheme"},
		{"empty bearer", "", []string{"Authorization", "Bearer "}, "send the admin key"},
		{"key in query", "?key=" + testKey, []string{"X-None", "x"}, "never in the URL"},
		{"api_key in query", "?api_key=" + testKey, []string{"X-None", "x"}, "never in the URL"},
	}
	paths := []route{{method: http.MethodGet, path: "/nowhere"}, {method: http.MethodPut, path: "/rooms"}}
	for _, rt := range append(slices.Clone(routes), paths...) {
		for _, c := range cases {
			t.Run(rt.method+" "+rt.path+"/"+c.name, func(t *testing.T) {
				body := ""
				if rt.method == http.MethodPost {
					body = `{"room":"standup"}`
				}
				status, hdr, data := f.call(t, rt.method, samplePath(rt.path)+c.query, body, c.hdr...)
				if status != http.StatusUnauthorized {
					t.Fatalf("status %d, want 401: %s", status, data)
				}
				if !strings.HasPrefix(hdr.Get("WWW-Authenticate"), "Bearer ") {
					t.Errorf("WWW-Authenticate %q", hdr.Get("WWW-Authenticate"))
				}
				if msg := errorOf(t, data); !strings.Contains(msg, c.want) {
					t.Errorf("error %q, want it to say %q", msg, c.want)
				}
			})
		}
	}
	if logs := f.logs.String(); strings.Contains(logs, testKey[:10]) {
		t.Errorf("the log holds the key:\n%s", logs)
	}
}

func TestKeyHeaders(t *testing.T) {
	f := newFixture(t, nil)
	startControl(t, f.bus, "node-a")
	for _, hdr := range [][]string{
		{"Authorization", "Bearer " + testKey},
		{"Authorization", "bearer " + testKey},
		{"Authorization", "Bearer  " + testKey + " "},
		{"X-API-Key", testKey},
	} {
		if status, _, data := f.call(t, http.MethodGet, Prefix+"/rooms", "", hdr...); status != http.StatusOK {
			t.Errorf("%q: status %d: %s", hdr, status, data)
		}
	}
}

func TestAuthorized(t *testing.T) {
	req := httptest.NewRequest(http.MethodPost, "/admin/drain", nil)
	if Authorized(req, testKey) || Authorized(req, "") {
		t.Error("a request without a key is authorized")
	}
	req.Header.Set("Authorization", "Bearer "+testKey)
	if !Authorized(req, testKey) {
		t.Error("the right key is refused")
	}
	if Authorized(req, "") || Authorized(req, testKey+"2") {
		t.Error("a key is authorized against an empty or other key")
	}
}

func TestAPIOff(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.Key = "" })
	for _, rt := range routes {
		status, _, data := f.call(t, rt.method, samplePath(rt.path), "", "Authorization", "Bearer "+testKey)
		if status != http.StatusNotFound || !strings.Contains(errorOf(t, data), "--admin-key") {
			t.Errorf("%s %s: status %d %s, want 404 naming --admin-key", rt.method, rt.path, status, data)
		}
	}
}

func TestListRooms(t *testing.T) {
	f := newFixture(t, nil)
	startControl(t, f.bus, "node-b", busmsg.RoomInfo{Name: "retro", Participants: people("carol")},
		busmsg.RoomInfo{Name: "standup", Participants: people("alice")})
	startControl(t, f.bus, "node-a", busmsg.RoomInfo{Name: "standup", Participants: people("alice", "bob")})
	status, _, data := f.call(t, http.MethodGet, Prefix+"/rooms", "")
	if status != http.StatusOK {
		t.Fatalf("status %d: %s", status, data)
	}
	var got roomsReply
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Nodes, []string{"node-a", "node-b"}) {
		t.Errorf("nodes %v", got.Nodes)
	}
	var names []string
	for _, r := range got.Rooms {
		names = append(names, r.Name)
	}
	if !slices.Equal(names, []string{"retro", "standup"}) {
		t.Fatalf("rooms %v, want retro and standup once each", names)
	}
	if r := got.Rooms[0]; r.Owner != "node-b" || len(r.Participants) != 1 || r.Participants[0].Name != "carol" || r.Lobby == nil {
		t.Errorf("retro: %+v", r)
	}
	if !strings.Contains(string(data), `"lobby":[]`) {
		t.Errorf("empty lists must encode as []: %s", data)
	}
}

func TestListRoomsWithoutControl(t *testing.T) {
	f := newFixture(t, nil)
	start := time.Now()
	status, _, data := f.call(t, http.MethodGet, Prefix+"/rooms", "")
	if status != http.StatusServiceUnavailable || !strings.Contains(errorOf(t, data), "control") {
		t.Errorf("status %d %s, want 503 naming the control role", status, data)
	}
	if d := time.Since(start); d > censusMax {
		t.Errorf("took %s", d)
	}
}

func TestBusDown(t *testing.T) {
	f := newFixture(t, nil)
	f.bus.Close()
	for _, rt := range routes[:4] {
		status, _, data := f.call(t, rt.method, samplePath(rt.path), "")
		if status != http.StatusServiceUnavailable || !strings.Contains(errorOf(t, data), "bus") {
			t.Errorf("%s %s: status %d %s, want 503", rt.method, rt.path, status, data)
		}
	}
}

func TestRoomRoutes(t *testing.T) {
	f := newFixture(t, nil)
	ctl := startControl(t, f.bus, "node-a", busmsg.RoomInfo{Name: "standup", Participants: people("alice", "bob"), Locked: true})
	cases := []struct {
		name, method, path string
		status             int
		want               string // in the body
	}{
		{"detail", "GET", "/rooms/standup", 200, `"owner":"node-a"`},
		{"detail, upper case", "GET", "/rooms/StandUp", 200, `"locked":true`},
		{"detail, unknown room", "GET", "/rooms/nobody-here", 404, `no meeting is running in room \"nobody-here\"`},
		{"detail, bad name", "GET", "/rooms/bad%20room", 400, `room: room names use only`},
		{"detail, bad name 2", "GET", "/rooms/-lead", 400, `room:`},
		{"detail, long name", "GET", "/rooms/" + strings.Repeat("a", 200), 400, `room:`},
		{"remove, unknown participant", "DELETE", "/rooms/standup/participants/NOBODY", 404, `no participant \"NOBODY\"`},
		{"remove, bad id", "DELETE", "/rooms/standup/participants/a.b", 400, `id:`},
		{"remove, unknown room", "DELETE", "/rooms/elsewhere/participants/ALICEID", 404, `no meeting`},
		{"remove", "DELETE", "/rooms/standup/participants/BOBID", 204, ``},
		{"remove again", "DELETE", "/rooms/standup/participants/BOBID", 404, `no participant`},
		{"end, unknown room", "DELETE", "/rooms/elsewhere", 404, `no meeting`},
		{"end, bad name", "DELETE", "/rooms/a*b", 400, `room:`},
		{"end", "DELETE", "/rooms/standup", 204, ``},
		{"wrong method", "PUT", "/rooms/standup", 405, `use GET, DELETE`},
		{"unknown path", "GET", "/rooms/standup/other", 404, `no admin endpoint`},
	}
	for _, c := range cases {
		status, hdr, data := f.call(t, c.method, Prefix+c.path, "")
		if status != c.status || !strings.Contains(string(data), c.want) {
			t.Errorf("%s: status %d %s, want %d with %s", c.name, status, data, c.status, c.want)
		}
		if status >= 400 {
			errorOf(t, data)
			if ct := hdr.Get("Content-Type"); ct != "application/json" {
				t.Errorf("%s: Content-Type %q", c.name, ct)
			}
		}
		if hdr.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: Cache-Control %q", c.name, hdr.Get("Cache-Control"))
		}
	}
	ctl.mu.Lock()
	defer ctl.mu.Unlock()
	if !slices.Equal(ctl.removed, []string{"BOBID"}) || !slices.Equal(ctl.ended, []string{"standup"}) {
		t.Errorf("removed %v, ended %v", ctl.removed, ctl.ended)
	}
	logs := f.logs.String()
	for _, want := range []string{"admin removed a participant", "admin ended a meeting", "remote="} {
		if !strings.Contains(logs, want) {
			t.Errorf("the log lacks %q:\n%s", want, logs)
		}
	}
}

func TestIssueToken(t *testing.T) {
	f := newFixture(t, func(c *Config) {
		c.PublicURL = func(*http.Request) string { return "https://meet.example.org" }
	})
	body := `{"room": "StandUp", "name": " Alice ", "moderator": true, "features": ["recording", "livestream", "recording"], "ttl": "90m"}`
	status, _, data := f.call(t, http.MethodPost, Prefix+"/tokens", body, "Authorization", "Bearer "+testKey, "Content-Type", "application/json; charset=utf-8")
	if status != http.StatusOK {
		t.Fatalf("status %d: %s", status, data)
	}
	var got tokenReply
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	exp := testNow.Add(90 * time.Minute)
	if !got.Expires.Equal(exp) || !strings.Contains(string(data), `"expires":"2030-05-06T08:38:09Z"`) {
		t.Errorf("expires %s, want %s: %s", got.Expires, exp, data)
	}
	if want := "https://meet.example.org/standup?jwt=" + got.Token; got.URL != want {
		t.Errorf("url %q, want %q", got.URL, want)
	}

	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(got.Token, claims, func(*jwt.Token) (any, error) { return []byte(testSecret), nil },
		jwt.WithValidMethods([]string{"HS256"}), jwt.WithTimeFunc(func() time.Time { return testNow }),
		jwt.WithIssuer(testIss), jwt.WithAudience(testAud), jwt.WithExpirationRequired())
	if err != nil {
		t.Fatalf("the token does not verify: %v", err)
	}
	want := map[string]any{
		"iss": testIss, "aud": testAud, "room": "standup", "name": "Alice", "moderator": true,
		"iat": float64(testNow.Unix()), "nbf": float64(testNow.Unix()), "exp": float64(exp.Unix()),
		"features": []any{"livestream", "recording"},
	}
	for k, v := range want {
		if fmt.Sprint(claims[k]) != fmt.Sprint(v) {
			t.Errorf("claim %s = %v, want %v", k, claims[k], v)
		}
	}
	if jti, _ := claims["jti"].(string); len(jti) != 16 {
		t.Errorf("jti %v", claims["jti"])
	}

	// The node's own verifier accepts it.
	v, err := auth.New(context.Background(), auth.Config{Secret: testSecret, Issuer: testIss, Audience: testAud, Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	id, err := v.Verify(got.Token, "standup")
	if err != nil {
		t.Fatalf("auth refuses the token: %v", err)
	}
	if id.Name != "Alice" || !id.Moderator || !slices.Equal(id.Features, []string{"livestream", "recording"}) {
		t.Errorf("identity %+v", id)
	}
	if strings.Contains(f.logs.String(), got.Token) || !strings.Contains(f.logs.String(), "admin issued a join token") {
		t.Errorf("the log must record the issue and never the token:\n%s", f.logs.String())
	}
}

func TestIssueTokenDefaults(t *testing.T) {
	f := newFixture(t, nil)
	status, _, data := f.call(t, http.MethodPost, Prefix+"/tokens", `{"room":"standup"}`)
	if status != http.StatusOK {
		t.Fatalf("status %d: %s", status, data)
	}
	var got tokenReply
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	if !got.Expires.Equal(testNow.Add(defaultTTL)) {
		t.Errorf("expires %s, want now+%s", got.Expires, defaultTTL)
	}
	if !strings.HasPrefix(got.URL, f.srv.URL+"/standup?jwt=") {
		t.Errorf("url %q is not on the host the API was called by (%s)", got.URL, f.srv.URL)
	}
	claims := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(got.Token, claims); err != nil {
		t.Fatal(err)
	}
	if _, ok := claims["name"]; ok || claims["moderator"] != false {
		t.Errorf("claims %v: want no name and moderator false", claims)
	}
}

func TestIssueTokenBadInput(t *testing.T) {
	f := newFixture(t, nil)
	cases := []struct {
		name, body string
		hdr        []string
		status     int
		want       string
	}{
		{"empty body", ``, nil, 400, "the body is empty"},
		{"not JSON", `room=standup`, nil, 400, "not valid JSON"},
		{"cut short", `{"room": "standup"`, nil, 400, "not valid JSON"},
		{"not an object", `["standup"]`, nil, 400, "must be a JSON object"},
		{"two objects", `{"room":"a"} {"room":"b"}`, nil, 400, "more than one JSON value"},
		{"unknown field", `{"room":"standup","role":"admin"}`, nil, 400, `unknown field "role"`},
		{"wrong type", `{"room":"standup","moderator":"yes"}`, nil, 400, "moderator: must be a boolean"},
		{"features not a list", `{"room":"standup","features":"recording"}`, nil, 400, "features: must be a list"},
		{"no room", `{"name":"alice"}`, nil, 400, "room: is required"},
		{"bad room", `{"room":"no such/room"}`, nil, 400, "room: room names use only"},
		{"wildcard room", `{"room":"*"}`, nil, 400, "room:"},
		{"bad name", `{"room":"standup","name":"` + strings.Repeat("n", 500) + `"}`, nil, 400, "name:"},
		{"bad feature", `{"room":"standup","features":["a b"]}`, nil, 400, "features:"},
		{"ttl too long", `{"room":"standup","ttl":"169h"}`, nil, 400, "ttl: 169h0m0s is longer than the maximum of 7 days (168h)"},
		{"ttl too short", `{"room":"standup","ttl":"10s"}`, nil, 400, "ttl: 10s is shorter"},
		{"ttl negative", `{"room":"standup","ttl":"-2h"}`, nil, 400, "ttl:"},
		{"ttl not a duration", `{"room":"standup","ttl":"2 days"}`, nil, 400, `ttl: "2 days" is not a duration`},
		{"ttl a number", `{"room":"standup","ttl":7200}`, nil, 400, "ttl: must be a string"},
		{"too big", `{"room":"standup","name":"` + strings.Repeat("x", maxBody) + `"}`, nil, 413, "larger than 64 KiB"},
		{"form", `room=standup`, []string{"Content-Type", "application/x-www-form-urlencoded"}, 415, "application/json"},
	}
	for _, c := range cases {
		hdr := append([]string{"Authorization", "Bearer " + testKey}, c.hdr...)
		status, _, data := f.call(t, http.MethodPost, Prefix+"/tokens", c.body, hdr...)
		if status != c.status {
			t.Errorf("%s: status %d %s, want %d", c.name, status, data, c.status)
			continue
		}
		if msg := errorOf(t, data); !strings.Contains(msg, c.want) {
			t.Errorf("%s: error %q, want it to say %q", c.name, msg, c.want)
		}
	}
	if strings.Contains(f.logs.String(), "issued") {
		t.Errorf("a refused request issued a token:\n%s", f.logs.String())
	}
}

func TestIssueTokenWithoutSecret(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.TokenSecret = "" })
	status, _, data := f.call(t, http.MethodPost, Prefix+"/tokens", `{"room":"standup"}`)
	if status != http.StatusNotImplemented || !strings.Contains(errorOf(t, data), "--jwt-secret") {
		t.Errorf("status %d %s, want 501 naming --jwt-secret", status, data)
	}
}
