package test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/parley/parley/internal/busmsg"
	"github.com/parley/parley/internal/node"
	"github.com/parley/parley/protocol"
	"github.com/parley/parley/test/harness"
)

const (
	adminKey    = "integration-admin-key-0123456789"
	adminSecret = "integration-jwt-secret-0123456789abcdef"
	adminIss    = "parley-admin-test"
	adminAud    = "parley-test"
)

// adminRoutes are the admin API's endpoints, with sample parameters.
var adminRoutes = []struct{ method, path, body string }{
	{"GET", "/api/v1/rooms", ""},
	{"GET", "/api/v1/rooms/standup", ""},
	{"DELETE", "/api/v1/rooms/standup", ""},
	{"DELETE", "/api/v1/rooms/standup/participants/SOMEONE", ""},
	{"POST", "/api/v1/tokens", `{"room":"standup"}`},
}

// startAdminNode runs a node with the admin API on (key non-empty) and
// HS256 join tokens.
func startAdminNode(t *testing.T, key string) (*node.Node, string) {
	t.Helper()
	cfg := harness.Config(t)
	cfg.AdminKey = key
	cfg.JWTSecret = adminSecret
	cfg.JWTIssuer = adminIss
	cfg.JWTAudience = adminAud
	n := harness.StartNode(t, &cfg)
	url := nodeURL(n)
	// Off or on, the API answers in JSON; the web client's 404 page means
	// the node does not mount it.
	if _, hdr, data := adminCall(t, "GET", url+"/api/v1/rooms", ""); hdr.Get("Content-Type") != "application/json" {
		t.Fatalf("the node does not serve the admin API at /api/v1 (node.go sets web.Options.API to n.adminAPI()): %q", data)
	}
	return n, url
}

// adminCall makes an admin request, with the key as a Bearer token unless
// hdr sets headers itself, and returns the status, headers and body.
func adminCall(t testing.TB, method, url, body string, hdr ...string) (int, http.Header, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if len(hdr) == 0 {
		req.Header.Set("Authorization", "Bearer "+adminKey)
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

// adminJSON is adminCall that wants status and decodes the body into out.
func adminJSON(t testing.TB, method, url, body string, status int, out any) {
	t.Helper()
	got, _, data := adminCall(t, method, url, body)
	if got != status {
		t.Fatalf("%s %s: status %d %s, want %d", method, url, got, data, status)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, url, err, data)
		}
	}
}

// apiError is the message of a JSON error body ("" when it is not one).
func apiError(data []byte) string {
	var e struct {
		Error string `json:"error"`
	}
	_ = json.Unmarshal(data, &e)
	return e.Error
}

func names(ps []protocol.Participant) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Name)
	}
	slices.Sort(out)
	return out
}

// waitClosed waits until m's session ends and returns the server's reason.
func waitClosed(t testing.TB, m *member) string {
	t.Helper()
	select {
	case <-m.s.Done():
		return m.s.ClosedReason()
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: the session did not end", m.name)
		return ""
	}
}

// Every endpoint against a real node with Go clients in two rooms.
func TestAdminAPI(t *testing.T) {
	_, base := startAdminNode(t, adminKey)
	api := base + "/api/v1"
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	alice := joinMember(t, ctx, base, "standup", "alice", memberOpts{})
	bob := joinMember(t, ctx, base, "standup", "bob", memberOpts{})
	carol := joinMember(t, ctx, base, "retro", "carol", memberOpts{})

	// The list shows both rooms and who is in them.
	var list struct {
		Rooms []busmsg.RoomInfo `json:"rooms"`
		Nodes []string          `json:"nodes"`
	}
	adminJSON(t, "GET", api+"/rooms", "", http.StatusOK, &list)
	if len(list.Rooms) != 2 || list.Rooms[0].Name != "retro" || list.Rooms[1].Name != "standup" {
		t.Fatalf("rooms %+v, want retro and standup", list.Rooms)
	}
	if len(list.Nodes) != 1 || list.Rooms[1].Owner != list.Nodes[0] {
		t.Errorf("nodes %v, owner %q", list.Nodes, list.Rooms[1].Owner)
	}
	if got := names(list.Rooms[1].Participants); !slices.Equal(got, []string{"alice", "bob"}) {
		t.Errorf("standup has %v", got)
	}
	if got := names(list.Rooms[0].Participants); !slices.Equal(got, []string{"carol"}) {
		t.Errorf("retro has %v", got)
	}

	// The detail of one room, by any spelling of its name.
	var info busmsg.RoomInfo
	adminJSON(t, "GET", api+"/rooms/StandUp", "", http.StatusOK, &info)
	if info.Name != "standup" || !slices.Equal(names(info.Participants), []string{"alice", "bob"}) {
		t.Fatalf("standup: %+v", info)
	}
	for _, p := range info.Participants {
		if want := map[string]string{"alice": alice.s.ID(), "bob": bob.s.ID()}[p.Name]; p.ID != want {
			t.Errorf("%s has id %q, want %q", p.Name, p.ID, want)
		}
	}

	// Removing bob ends his session with a reason; alice stays.
	adminJSON(t, "DELETE", api+"/rooms/standup/participants/"+bob.s.ID(), "", http.StatusNoContent, nil)
	if reason := waitClosed(t, bob); !strings.Contains(reason, "removed") {
		t.Errorf("bob's session ended with %q, want it to say he was removed", reason)
	}
	adminJSON(t, "GET", api+"/rooms/standup", "", http.StatusOK, &info)
	if got := names(info.Participants); !slices.Equal(got, []string{"alice"}) {
		t.Errorf("after the removal standup has %v", got)
	}
	eventually(t, 5*time.Second, "alice sees bob leave", func() error {
		if got := names(alice.s.Participants()); slices.Contains(got, "bob") {
			return fmt.Errorf("alice still sees %v", got)
		}
		return nil
	})
	status, _, data := adminCall(t, "DELETE", api+"/rooms/standup/participants/"+bob.s.ID(), "")
	if status != http.StatusNotFound || !strings.Contains(apiError(data), "no participant") {
		t.Errorf("removing bob again: status %d %s, want 404", status, data)
	}

	// A token for dana: signed with the node's secret, with her claims;
	// its link joins her as a moderator under the token's name.
	var tok struct {
		Token   string    `json:"token"`
		Expires time.Time `json:"expires"`
		URL     string    `json:"url"`
	}
	issued := time.Now()
	adminJSON(t, "POST", api+"/tokens", `{"room":"standup","name":"Dana","moderator":true,"features":["recording"],"ttl":"30m"}`, http.StatusOK, &tok)
	if d := tok.Expires.Sub(issued); d < 29*time.Minute || d > 31*time.Minute {
		t.Errorf("expires %s, %s from now; want 30m", tok.Expires, d)
	}
	if want := base + "/standup?jwt=" + tok.Token; tok.URL != want {
		t.Errorf("url %q, want %q", tok.URL, want)
	}
	claims := jwt.MapClaims{}
	if _, err := jwt.ParseWithClaims(tok.Token, claims, func(*jwt.Token) (any, error) { return []byte(adminSecret), nil },
		jwt.WithValidMethods([]string{"HS256"}), jwt.WithIssuer(adminIss), jwt.WithAudience(adminAud), jwt.WithExpirationRequired()); err != nil {
		t.Fatalf("the token does not verify with the node's secret: %v", err)
	}
	if claims["room"] != "standup" || claims["name"] != "Dana" || claims["moderator"] != true || fmt.Sprint(claims["features"]) != "[recording]" {
		t.Errorf("claims %v", claims)
	}
	dana := joinMember(t, ctx, base, "standup", "someone", memberOpts{token: tok.Token})
	if self := dana.s.Self(); self.Name != "Dana" || self.Role != protocol.RoleModerator {
		t.Errorf("dana joined as %+v, want the token's name and the moderator role", self)
	}
	if _, err := tryJoin(t, ctx, base, "retro", "dana", memberOpts{token: tok.Token}); refusedCode(err) != protocol.CodeAuthFailed {
		t.Errorf("the token opened another room: %v", err)
	}

	// Ending standup sends everyone in it away; retro goes on.
	adminJSON(t, "DELETE", api+"/rooms/standup", "", http.StatusNoContent, nil)
	for _, m := range []*member{alice, dana} {
		if reason := waitClosed(t, m); !strings.Contains(reason, "ended") {
			t.Errorf("%s: the session ended with %q, want it to say the meeting ended", m.name, reason)
		}
	}
	select {
	case <-carol.s.Done():
		t.Fatal("carol's meeting in retro ended too")
	default:
	}
	adminJSON(t, "GET", api+"/rooms", "", http.StatusOK, &list)
	for _, r := range list.Rooms {
		if r.Name == "standup" && len(r.Participants) > 0 {
			t.Errorf("standup still has %v", names(r.Participants))
		}
		if r.Name == "retro" && !slices.Equal(names(r.Participants), []string{"carol"}) {
			t.Errorf("retro has %v", names(r.Participants))
		}
	}
}

// No key, a wrong key, another scheme or a key in the URL: 401 on every
// route, and nothing happens to the meeting.
func TestAdminAPIUnauthenticated(t *testing.T) {
	_, base := startAdminNode(t, adminKey)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	alice := joinMember(t, ctx, base, "standup", "alice", memberOpts{})
	routes := slices.Concat(adminRoutes, []struct{ method, path, body string }{{"DELETE", "/api/v1/rooms/standup/participants/" + alice.s.ID(), ""}})
	cases := []struct {
		name, query string
		hdr         []string
	}{
		{"no header", "", []string{"Accept", "application/json"}},
		{"wrong key", "", []string{"Authorization", "Bearer wrong-key-wrong-key-wrong-key"}},
		{"wrong X-API-Key", "", []string{"X-API-Key", "wrong-key-wrong-key-wrong-key"}},
		{"basic scheme", "", []string{"Authorization", "Basic " + adminKey}},
		{"key without scheme", "", []string{"Authorization", adminKey}},
		{"key in the query", "?key=" + adminKey, []string{"Accept", "application/json"}},
		{"api_key in the query", "?api_key=" + adminKey, []string{"Accept", "application/json"}},
	}
	for _, rt := range routes {
		for _, c := range cases {
			status, hdr, data := adminCall(t, rt.method, base+rt.path+c.query, rt.body, c.hdr...)
			if status != http.StatusUnauthorized || apiError(data) == "" || hdr.Get("WWW-Authenticate") == "" {
				t.Errorf("%s %s, %s: status %d, WWW-Authenticate %q, body %s; want 401 with a JSON error",
					rt.method, rt.path, c.name, status, hdr.Get("WWW-Authenticate"), data)
			}
		}
	}
	select {
	case <-alice.s.Done():
		t.Fatalf("an unauthenticated call ended alice's session: %q", alice.s.ClosedReason())
	case <-time.After(500 * time.Millisecond):
	}
	// X-API-Key is the other way to send the key.
	if status, _, data := adminCall(t, "GET", base+"/api/v1/rooms/standup", "", "X-API-Key", adminKey); status != http.StatusOK {
		t.Errorf("X-API-Key: status %d %s", status, data)
	}
}

// Without --admin-key the API is off.
func TestAdminAPIOff(t *testing.T) {
	_, base := startAdminNode(t, "")
	for _, rt := range adminRoutes {
		status, _, data := adminCall(t, rt.method, base+rt.path, rt.body)
		if status != http.StatusNotFound || !strings.Contains(apiError(data), "--admin-key") {
			t.Errorf("%s %s: status %d %s, want 404 naming --admin-key", rt.method, rt.path, status, data)
		}
	}
}

func TestAdminAPIBadInput(t *testing.T) {
	_, base := startAdminNode(t, adminKey)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	joinMember(t, ctx, base, "standup", "alice", memberOpts{})
	cases := []struct {
		name, method, path, body string
		status                   int
		want                     string
	}{
		{"bad room name", "GET", "/rooms/no%20spaces", "", 400, "room:"},
		{"bad room name, end", "DELETE", "/rooms/a.b", "", 400, "room:"},
		{"bad participant id", "DELETE", "/rooms/standup/participants/a.b", "", 400, "id:"},
		{"unknown room", "GET", "/rooms/nobody-here", "", 404, "no meeting"},
		{"unknown room, end", "DELETE", "/rooms/nobody-here", "", 404, "no meeting"},
		{"unknown room, remove", "DELETE", "/rooms/nobody-here/participants/SOMEONE", "", 404, "no meeting"},
		{"unknown participant", "DELETE", "/rooms/standup/participants/SOMEONE", "", 404, "no participant"},
		{"bad JSON", "POST", "/tokens", `{"room":`, 400, "not valid JSON"},
		{"empty body", "POST", "/tokens", ``, 400, "empty"},
		{"unknown field", "POST", "/tokens", `{"room":"standup","admin":true}`, 400, `unknown field "admin"`},
		{"wrong type", "POST", "/tokens", `{"room":"standup","moderator":1}`, 400, "moderator:"},
		{"bad room in token", "POST", "/tokens", `{"room":"../etc"}`, 400, "room:"},
		{"ttl too long", "POST", "/tokens", `{"room":"standup","ttl":"200h"}`, 400, "ttl:"},
		{"ttl not a duration", "POST", "/tokens", `{"room":"standup","ttl":"forever"}`, 400, "ttl:"},
		{"unknown endpoint", "GET", "/users", "", 404, "no admin endpoint"},
		{"wrong method", "PATCH", "/rooms/standup", "", 405, "GET, DELETE"},
	}
	for _, c := range cases {
		status, _, data := adminCall(t, c.method, base+"/api/v1"+c.path, c.body)
		if status != c.status || !strings.Contains(apiError(data), c.want) {
			t.Errorf("%s: status %d %s, want %d with %q", c.name, status, data, c.status, c.want)
		}
	}
}

// POST /admin/drain is taken from another machine with the admin key.
func TestAdminDrainWithKey(t *testing.T) {
	ip := nonLoopbackIP(t)
	cfg := harness.Config(t)
	cfg.Listen = net.JoinHostPort(ip, "0")
	cfg.AdminKey = adminKey
	n := harness.StartNode(t, &cfg)
	url := nodeURL(n) + "/admin/drain"
	for _, hdr := range [][]string{{"Accept", "*/*"}, {"Authorization", "Bearer wrong-key-wrong-key-wrong-key"}} {
		if status, _, data := adminCall(t, "POST", url, "", hdr...); status != http.StatusForbidden {
			t.Fatalf("drain from %s with %v: status %d %s, want 403", ip, hdr, status, data)
		}
	}
	select {
	case <-n.DrainStarted():
		t.Fatal("a refused drain started draining")
	default:
	}
	if status, _, data := adminCall(t, "POST", url, ""); status != http.StatusAccepted {
		t.Fatalf("drain with the key: status %d %s, want 202", status, data)
	}
	select {
	case <-n.DrainStarted():
	case <-time.After(5 * time.Second):
		t.Fatal("the drain did not start")
	}
}

// nonLoopbackIP is an address of this machine other than loopback, so
// that a request to it does not come from loopback.
func nonLoopbackIP(t *testing.T) string {
	t.Helper()
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Skip(err)
	}
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok && ipn.IP.To4() != nil && !ipn.IP.IsLoopback() && !ipn.IP.IsLinkLocalUnicast() {
			return ipn.IP.String()
		}
	}
	t.Skip("this machine has no non-loopback IPv4 address")
	return ""
}
