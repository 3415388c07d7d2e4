package turn

import (
	"encoding/json"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/pion/stun/v4"
)

func TestCredentials(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	user, pass := Credentials("s3cret", "alice", time.Hour, now)
	if user != "1700003600:alice" {
		t.Errorf("username %q, want 1700003600:alice", user)
	}
	// base64(HMAC-SHA1("s3cret", "1700003600:alice")), computed apart:
	// printf '1700003600:alice' | openssl dgst -sha1 -hmac s3cret -binary | base64
	if want := "YAFdW/YDZewZsR1QSgUk2IrfbRI="; pass != want {
		t.Errorf("password %q, want %q", pass, want)
	}

	servers := ICEServers(URLs("turn.example.org", 3478, 443), "s3cret", "alice", time.Hour, now)
	b, err := json.Marshal(servers)
	if err != nil {
		t.Fatal(err)
	}
	want := `[{"urls":["turn:turn.example.org:3478?transport=udp","turn:turn.example.org:3478?transport=tcp",` +
		`"turns:turn.example.org:443?transport=tcp"],"username":"1700003600:alice","credential":"` + pass + `"}]`
	if string(b) != want {
		t.Errorf("ICE servers\n got %s\nwant %s", b, want)
	}
	if ICEServers(nil, "s3cret", "alice", time.Hour, now) != nil {
		t.Error("ICE servers without URLs")
	}
	if got := URLs("2001:db8::1", 0, 5349); len(got) != 1 || got[0] != "turns:[2001:db8::1]:5349?transport=tcp" {
		t.Errorf("URLs for an IPv6 host: %v", got)
	}
}

func TestParseUsername(t *testing.T) {
	for _, tc := range []struct {
		username string
		ok       bool
		user     string
		expiry   int64
	}{
		{"1700000000:alice", true, "alice", 1700000000},
		{"1700000000:room:42:bob", true, "room:42:bob", 1700000000},
		{"alice", false, "", 0},
		{"1700000000", false, "", 0},
		{"1700000000:", false, "", 0},
		{":alice", false, "", 0},
		{"-5:alice", false, "", 0},
		{"+5:alice", false, "", 0},
		{"12a:alice", false, "", 0},
		{"99999999999999999999:alice", false, "", 0},
		{"1700000000:" + strings.Repeat("x", 600), false, "", 0},
	} {
		expiry, user, ok := parseUsername(tc.username)
		if ok != tc.ok || user != tc.user || ok && expiry.Unix() != tc.expiry {
			t.Errorf("parseUsername(%.30q) = %v %q %v, want %v %q %v", tc.username, expiry.Unix(), user, ok, tc.expiry, tc.user, tc.ok)
		}
	}
}

func TestCredentialsRefused(t *testing.T) {
	s, logs := testServer(t, Config{Realm: "parley.test"})
	now := time.Now()
	valid := func(user string) (string, string) { return Credentials(testSecret, user, time.Hour, now) }
	expiredUser, expiredPass := Credentials(testSecret, "eve", -time.Minute, now)
	forgedUser, forgedPass := Credentials("not the secret", "eve", time.Hour, now)
	validUser, validPass := valid("alice")

	for _, tc := range []struct {
		name               string
		username, password string
		counter            func(AuthRefusals) uint64
	}{
		{"expired", expiredUser, expiredPass, func(a AuthRefusals) uint64 { return a.Expired }},
		{"forged", forgedUser, forgedPass, func(a AuthRefusals) uint64 { return a.Forged }},
		{"valid username, password of another", validUser, forgedPass, func(a AuthRefusals) uint64 { return a.Forged }},
		{"no expiry", "eve", restPassword(testSecret, "eve"), func(a AuthRefusals) uint64 { return a.Malformed }},
		{"no user", "1999999999:", restPassword(testSecret, "1999999999:"), func(a AuthRefusals) uint64 { return a.Malformed }},
		{"expiry not a number", "soon:eve", restPassword(testSecret, "soon:eve"), func(a AuthRefusals) uint64 { return a.Malformed }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := s.Stats().RefusedAuth
			_, err := dialTURN(t, "udp", s.Addrs().UDP, tc.username, tc.password).Allocate()
			if err == nil {
				t.Fatal("allocation succeeded")
			}
			if code := turnCode(err); code != stun.CodeUnauthorized {
				t.Errorf("error %v: want 401 Unauthorized", err)
			}
			after := s.Stats().RefusedAuth
			if tc.counter(after) != tc.counter(before)+1 || after.Total() != before.Total()+1 {
				t.Errorf("refusals before %+v, after %+v: want one more of this reason", before, after)
			}
		})
	}

	t.Run("wrong realm", func(t *testing.T) {
		before := s.Stats().RefusedAuth
		c := newRawClient(t, s.Addrs().UDP, validUser, validPass)
		if code := c.allocate("evil.example"); code != stun.CodeUnauthorized {
			t.Fatalf("Allocate in another realm: code %d, want 401", code)
		}
		if after := s.Stats().RefusedAuth; after.WrongRealm != before.WrongRealm+1 {
			t.Errorf("refusals before %+v, after %+v: want one more wrong realm", before, after)
		}
		if code := c.allocate(""); code != 0 {
			t.Fatalf("the same credential in the server's realm: code %d, want success", code)
		}
	})

	t.Run("valid", func(t *testing.T) {
		user, pass := valid("bob")
		relay, err := dialTURN(t, "udp", s.Addrs().UDP, user, pass).Allocate()
		if err != nil {
			t.Fatalf("Allocate: %v", err)
		}
		_ = relay.Close()
	})

	out := logs.String()
	for _, reason := range []string{"expired", "forged", "malformed", "wrong-realm"} {
		if !strings.Contains(out, "msg=\"turn: credential refused\" reason="+reason) {
			t.Errorf("no refusal logged with reason %s", reason)
		}
	}
	for _, secret := range []string{expiredPass, forgedPass, validPass, testSecret} {
		if strings.Contains(out, secret) {
			t.Errorf("password material %q in the logs", secret)
		}
	}
}

// TestExpiryGatesAllocateOnly: a credential that expires during a call
// keeps its allocation going (permissions, refreshes), as with coturn, but
// makes no new allocation.
func TestExpiryGatesAllocateOnly(t *testing.T) {
	s, _ := testServer(t, Config{})
	// The username holds whole seconds: 3 s leave at least 2 for the
	// first allocation on a busy machine.
	user, pass := Credentials(testSecret, "alice", 3*time.Second, time.Now())
	c := newRawClient(t, s.Addrs().UDP, user, pass)
	if code := c.allocate(""); code != 0 {
		t.Fatalf("Allocate: code %d", code)
	}
	expiry, _, _ := parseUsername(user)
	time.Sleep(time.Until(expiry) + 100*time.Millisecond)

	if code := c.createPermission(netip.MustParseAddr("8.8.8.8")); code != 0 {
		t.Errorf("CreatePermission after expiry on the allocation: code %d, want success", code)
	}
	if code := newRawClient(t, s.Addrs().UDP, user, pass).allocate(""); code != stun.CodeUnauthorized {
		t.Errorf("new Allocate after expiry: code %d, want 401", code)
	}
	if got := s.Stats().RefusedAuth.Expired; got != 1 {
		t.Errorf("expired refusals %d, want 1", got)
	}
}
