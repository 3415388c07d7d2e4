package browser

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/parley/parley/internal/auth"
	"github.com/parley/parley/test/harness"
)

// On a server that admits only token holders, a link with ?jwt= joins with the
// token's name and role and the token leaves the address bar; without a token,
// or with a forged one, the page says so in plain words and offers no retry.
func TestBrowserJoinToken(t *testing.T) {
	const secret = "a-shared-secret-of-at-least-32-bytes!"
	cfg := harness.Config(t)
	cfg.JWTSecret, cfg.JWTIssuer, cfg.JWTAudience = secret, "https://intranet.example", "parley"
	cfg.AllowGuests = false
	n := harness.StartNode(t, &cfg)
	base := harness.URL(n)
	sign := func(secret string) string {
		tok, err := auth.Sign(secret, "HS256", jwt.MapClaims{
			"iss": "https://intranet.example", "aud": "parley", "room": "board",
			"name": "Dana Director", "moderator": true, "exp": time.Now().Add(time.Hour).Unix(),
		})
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	b := newBrowser(t)

	dana := b.open("Dana", base+"/board?autojoin=1&jwt="+sign(secret))
	waitState(t, dana, "meeting")
	if role := evalString(t, dana, `window.parley.role()`); role != "moderator" {
		t.Errorf("the token's moderator joined as %q", role)
	}
	if name := evalString(t, dana, `document.querySelector('[data-self="true"] .tile-name').textContent`); !strings.Contains(name, "Dana Director") {
		t.Errorf("the self tile says %q, want the token's name", name)
	}
	if addr := evalString(t, dana, `window.location.href`); strings.Contains(addr, "jwt") || !strings.Contains(addr, "autojoin=1") {
		t.Errorf("the address bar shows %q: the token must go, the rest stay", addr)
	}

	for _, c := range []struct{ name, query, code string }{
		{"Gus", "?name=Gus&autojoin=1", "auth-required"},
		{"Eve", "?name=Eve&autojoin=1&jwt=" + sign("another-secret-that-is-also-32-bytes-long"), "auth-failed"},
	} {
		tb := b.open(c.name, base+"/board"+c.query)
		waitState(t, tb, "error")
		eventually(t, 10*time.Second, c.name+" is told why", func() error {
			var got struct {
				Code  string
				Title string
				Retry bool
			}
			err := tb.eval(`({code: document.getElementById('error').dataset.error,
				title: document.getElementById('error-title').textContent,
				retry: !document.getElementById('retry-button').hidden})`, &got)
			if err != nil {
				return err
			}
			if got.Code != c.code || got.Title == "" || got.Retry {
				return fmt.Errorf("%s sees %+v, want %s without a retry button", c.name, got, c.code)
			}
			return nil
		})
	}
}
