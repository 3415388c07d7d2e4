package test

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/parley/parley/internal/auth"
	"github.com/parley/parley/protocol"
	"github.com/parley/parley/test/harness"
)

// Join tokens: a valid one joins with its name and role; every kind of bad
// one is refused with a clear error; without one, guests are refused here.
func TestJoinTokens(t *testing.T) {
	const secret = "a-shared-secret-of-at-least-32-bytes!"
	cfg := harness.Config(t)
	cfg.JWTSecret, cfg.JWTIssuer, cfg.JWTAudience = secret, "https://intranet.example", "parley"
	cfg.AllowGuests = false
	n := harness.StartNode(t, &cfg)
	url := harness.URL(n)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	now := time.Now()
	claims := func(mod func(jwt.MapClaims)) jwt.MapClaims {
		c := jwt.MapClaims{
			"iss": "https://intranet.example", "aud": "parley", "room": "board",
			"name": "Dana Director", "moderator": true, "sub": "dana",
			"exp": now.Add(time.Hour).Unix(), "iat": now.Unix(),
		}
		if mod != nil {
			mod(c)
		}
		return c
	}
	sign := func(c jwt.MapClaims) string {
		tok, err := auth.Sign(secret, "HS256", c)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	b64 := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	unsigned := b64(`{"alg":"none","typ":"JWT"}`) + "." + b64(fmt.Sprintf(`{"iss":"https://intranet.example","aud":"parley","room":"board","exp":%d}`, now.Add(time.Hour).Unix())) + "."
	forged, _ := auth.Sign("another-secret-that-is-also-32-bytes-long", "HS256", claims(nil))

	// A valid token: in with the token's name and as moderator, whatever
	// the client says.
	m := joinMember(t, ctx, url, "board", "someone else", memberOpts{token: sign(claims(nil))})
	if self := m.s.Self(); self.Name != "Dana Director" || self.Role != protocol.RoleModerator {
		t.Errorf("joined as %q (%s), want Dana Director (moderator)", self.Name, self.Role)
	}
	// A token without the moderator claim joins as a participant.
	p := joinMember(t, ctx, url, "board", "x", memberOpts{token: sign(claims(func(c jwt.MapClaims) { delete(c, "moderator"); c["name"] = "Pat" }))})
	if self := p.s.Self(); self.Name != "Pat" || self.Role != protocol.RoleParticipant {
		t.Errorf("joined as %q (%s), want Pat (participant)", self.Name, self.Role)
	}

	for _, tc := range []struct {
		name, token, code, says string
	}{
		{"expired", sign(claims(func(c jwt.MapClaims) { c["exp"] = now.Add(-time.Hour).Unix() })), protocol.CodeAuthFailed, "expired"},
		{"not yet valid", sign(claims(func(c jwt.MapClaims) { c["nbf"] = now.Add(time.Hour).Unix() })), protocol.CodeAuthFailed, "not valid"},
		{"wrong signature", forged, protocol.CodeAuthFailed, "signature"},
		{"alg none", unsigned, protocol.CodeAuthFailed, "none"},
		{"wrong issuer", sign(claims(func(c jwt.MapClaims) { c["iss"] = "https://evil.example" })), protocol.CodeAuthFailed, "issuer"},
		{"wrong audience", sign(claims(func(c jwt.MapClaims) { c["aud"] = "someone-else" })), protocol.CodeAuthFailed, "meant for"},
		{"wrong room", sign(claims(func(c jwt.MapClaims) { c["room"] = "other" })), protocol.CodeAuthFailed, "room"},
		{"missing exp", sign(claims(func(c jwt.MapClaims) { delete(c, "exp") })), protocol.CodeAuthFailed, "exp"},
		{"garbage", "not.a.token", protocol.CodeAuthFailed, ""},
		{"no token, no guests", "", protocol.CodeAuthRequired, "token"},
	} {
		_, err := tryJoin(t, ctx, url, "board", "intruder", memberOpts{token: tc.token})
		if refusedCode(err) != tc.code {
			t.Errorf("%s: got %v, want %s", tc.name, err, tc.code)
			continue
		}
		if !strings.Contains(strings.ToLower(err.Error()), tc.says) {
			t.Errorf("%s: %q does not say %q", tc.name, err, tc.says)
		}
	}
}
