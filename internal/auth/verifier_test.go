package auth

import (
	"encoding/base64"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// fixture holds the verifiers the table tests use.
type fixture struct {
	// all accepts HS256, HS512, RS256 and ES256: the secret, rsa.pem
	// (kid "rsa") and ec.pem (kid "ec-main", from its PEM header).
	all *Verifier
	// rsOnly has the RSA key and no secret, but HS256 on its allow-list.
	rsOnly *Verifier
	// wildcard accepts HS256 with room "*".
	wildcard *Verifier
	// noneListed lists "none" among its algorithms.
	noneListed *Verifier
	// rsaPEM is the RSA public key file's content.
	rsaPEM []byte
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	dir := t.TempDir()
	f := fixture{rsaPEM: pemPublic(t, &rsaKey().PublicKey, nil)}
	rsaFile := writeFile(t, dir, "rsa.pem", f.rsaPEM)
	ecFile := writeFile(t, dir, "ec.pem", pemPublic(t, &ecKey().PublicKey, map[string]string{"kid": "ec-main"}))
	f.all = newVerifier(t, Config{
		Secret:     testSecret,
		PublicKeys: []string{rsaFile, ecFile},
		Algorithms: []string{"HS256", "HS512", "RS256", "ES256"},
		Leeway:     30 * time.Second,
	})
	f.rsOnly = newVerifier(t, Config{PublicKeys: []string{rsaFile}, Algorithms: []string{"HS256", "RS256"}})
	f.wildcard = newVerifier(t, Config{Secret: testSecret, RoomWildcard: true})
	f.noneListed = newVerifier(t, Config{Secret: testSecret, Algorithms: []string{"none", "HS256"}})
	return f
}

func TestVerifyAccepts(t *testing.T) {
	f := newFixture(t)
	exp := testNow.Add(time.Hour)
	hs512, err := Sign(testSecret, "HS512", claims(nil))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		v     *Verifier
		token string
		room  string
		want  Identity
	}{
		{
			name: "HS256 with name, moderator and features",
			v:    f.all,
			token: hs256(t, claims(func(c jwt.MapClaims) {
				c["moderator"] = true
				c["features"] = []string{"recording", "livestream", "recording"}
			})),
			room: testRoom,
			want: Identity{Subject: "user-1", Name: "Ada Lovelace", Moderator: true,
				Features: []string{"livestream", "recording"}, Room: testRoom, Expires: exp},
		},
		{
			name:  "HS512",
			v:     f.all,
			token: hs512,
			room:  testRoom,
			want:  Identity{Subject: "user-1", Name: "Ada Lovelace", Room: testRoom, Expires: exp},
		},
		{
			name:  "RS256 from a PEM file, kid from the file name",
			v:     f.all,
			token: signWith(t, jwt.SigningMethodRS256, rsaKey(), "rsa", claims(nil)),
			room:  testRoom,
			want:  Identity{Subject: "user-1", Name: "Ada Lovelace", Room: testRoom, Expires: exp},
		},
		{
			name:  "RS256 without kid",
			v:     f.all,
			token: signWith(t, jwt.SigningMethodRS256, rsaKey(), "", claims(nil)),
			room:  testRoom,
			want:  Identity{Subject: "user-1", Name: "Ada Lovelace", Room: testRoom, Expires: exp},
		},
		{
			name:  "ES256 from a PEM file, kid from its header",
			v:     f.all,
			token: signWith(t, jwt.SigningMethodES256, ecKey(), "ec-main", claims(nil)),
			room:  testRoom,
			want:  Identity{Subject: "user-1", Name: "Ada Lovelace", Room: testRoom, Expires: exp},
		},
		{
			name: "expired but within the leeway",
			v:    f.all,
			token: hs256(t, claims(func(c jwt.MapClaims) {
				c["exp"] = testNow.Add(-20 * time.Second).Unix()
			})),
			room: testRoom,
			want: Identity{Subject: "user-1", Name: "Ada Lovelace", Room: testRoom, Expires: testNow.Add(-20 * time.Second)},
		},
		{
			name: "nbf and iat ahead, within the leeway",
			v:    f.all,
			token: hs256(t, claims(func(c jwt.MapClaims) {
				c["nbf"] = testNow.Add(20 * time.Second).Unix()
				c["iat"] = testNow.Add(20 * time.Second).Unix()
			})),
			room: testRoom,
			want: Identity{Subject: "user-1", Name: "Ada Lovelace", Room: testRoom, Expires: exp},
		},
		{
			name: "no nbf, no iat, aud a list",
			v:    f.all,
			token: hs256(t, claims(func(c jwt.MapClaims) {
				delete(c, "nbf")
				delete(c, "iat")
				c["aud"] = []string{"other-app", testAudience}
			})),
			room: testRoom,
			want: Identity{Subject: "user-1", Name: "Ada Lovelace", Room: testRoom, Expires: exp},
		},
		{
			name: "room claim compared without case",
			v:    f.all,
			token: hs256(t, claims(func(c jwt.MapClaims) {
				c["room"] = "StandUp"
			})),
			room: testRoom,
			want: Identity{Subject: "user-1", Name: "Ada Lovelace", Room: testRoom, Expires: exp},
		},
		{
			name: "Jitsi nested claims",
			v:    f.all,
			token: hs256(t, claims(func(c jwt.MapClaims) {
				delete(c, "name")
				c["context"] = map[string]any{
					"user": map[string]any{"name": "Grace Hopper", "moderator": "true", "id": "g1"},
					"features": map[string]any{
						"recording": "true", "livestreaming": "false", "transcription": true, "outbound-call": false,
					},
				}
			})),
			room: testRoom,
			want: Identity{Subject: "user-1", Name: "Grace Hopper", Moderator: true,
				Features: []string{"recording", "transcription"}, Room: testRoom, Expires: exp},
		},
		{
			name: "Jitsi moderator false, owner affiliation",
			v:    f.all,
			token: hs256(t, claims(func(c jwt.MapClaims) {
				c["context"] = map[string]any{"user": map[string]any{"moderator": "false", "affiliation": "owner"}}
			})),
			room: testRoom,
			want: Identity{Subject: "user-1", Name: "Ada Lovelace", Moderator: true, Room: testRoom, Expires: exp},
		},
		{
			name: "moderator must be JSON true",
			v:    f.all,
			token: hs256(t, claims(func(c jwt.MapClaims) {
				c["moderator"] = "yes"
				c["context"] = map[string]any{"user": map[string]any{"moderator": "1"}}
			})),
			room: testRoom,
			want: Identity{Subject: "user-1", Name: "Ada Lovelace", Room: testRoom, Expires: exp},
		},
		{
			name: "room * with RoomWildcard",
			v:    f.wildcard,
			token: hs256(t, claims(func(c jwt.MapClaims) {
				c["room"] = "*"
			})),
			room: "any-room",
			want: Identity{Subject: "user-1", Name: "Ada Lovelace", Room: "*", Expires: exp},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.v.Verify(tt.token, tt.room)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if !got.Expires.Equal(tt.want.Expires) {
				t.Errorf("Expires = %v, want %v", got.Expires, tt.want.Expires)
			}
			got.Expires, tt.want.Expires = time.Time{}, time.Time{}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Identity = %+v\nwant       %+v", got, tt.want)
			}
		})
	}
}

func TestVerifyRefuses(t *testing.T) {
	f := newFixture(t)
	valid := claims(nil)
	validJSON := mustJSON(t, valid)
	hsHeader := `{"alg":"HS256","typ":"JWT"}`
	goodSig := strings.Split(hs256(t, valid), ".")[2]
	tampered := func() string {
		parts := strings.Split(hs256(t, valid), ".")
		parts[1] = b64(mustJSON(t, claims(func(c jwt.MapClaims) { c["moderator"] = true })))
		return strings.Join(parts, ".")
	}()
	// The classic confusion attack: the RSA public key, which is no secret,
	// used as an HMAC key.
	confused := signWith(t, jwt.SigningMethodHS256, f.rsaPEM, "rsa", valid)

	tests := []struct {
		name  string
		v     *Verifier
		token string
		room  string
		want  error
		msg   string // a part of the message
	}{
		// Time.
		{"expired beyond the leeway", f.all,
			hs256(t, claims(func(c jwt.MapClaims) { c["exp"] = testNow.Add(-time.Minute).Unix() })),
			testRoom, ErrExpired, "token expired at 2026-03-01 09:59:00 UTC; ask for a new one"},
		{"expired exactly at exp plus leeway", f.all,
			hs256(t, claims(func(c jwt.MapClaims) { c["exp"] = testNow.Add(-30 * time.Second).Unix() })),
			testRoom, ErrExpired, "token expired at 2026-03-01 09:59:30 UTC"},
		{"not valid yet", f.all,
			hs256(t, claims(func(c jwt.MapClaims) { c["nbf"] = testNow.Add(time.Hour).Unix() })),
			testRoom, ErrNotYetValid, "not valid until 2026-03-01 11:00:00 UTC"},
		{"issued in the future", f.all,
			hs256(t, claims(func(c jwt.MapClaims) { c["iat"] = testNow.Add(time.Hour).Unix() })),
			testRoom, ErrNotYetValid, "issued at 2026-03-01 11:00:00 UTC"},
		{"missing exp", f.all,
			hs256(t, claims(func(c jwt.MapClaims) { delete(c, "exp") })),
			testRoom, ErrMissingExp, "tokens must expire"},
		{"exp not a number", f.all,
			hs256(t, claims(func(c jwt.MapClaims) { c["exp"] = "tomorrow" })),
			testRoom, ErrMalformed, "exp is not a number"},
		{"exp past year 9999", f.all,
			hs256(t, claims(func(c jwt.MapClaims) { c["exp"] = 1e20 })),
			testRoom, ErrMalformed, "between 1970 and 9999"},
		{"nbf negative", f.all,
			hs256(t, claims(func(c jwt.MapClaims) { c["nbf"] = -1 })),
			testRoom, ErrMalformed, "nbf"},

		// Signature.
		{"HS256 signed with another secret", f.all,
			signWith(t, jwt.SigningMethodHS256, []byte(otherSecret), "", valid),
			testRoom, ErrBadSignature, "signature is invalid"},
		{"claims changed after signing", f.all, tampered, testRoom, ErrBadSignature, "altered"},
		{"RS256 signed with another key under a known kid", f.all,
			signWith(t, jwt.SigningMethodRS256, rsaOther(), "rsa", valid),
			testRoom, ErrBadSignature, "signature is invalid"},
		{"ES256 signed with another key under a known kid", f.all,
			signWith(t, jwt.SigningMethodES256, ecOther(), "ec-main", valid),
			testRoom, ErrBadSignature, "signature is invalid"},
		{"signature removed", f.all,
			b64(hsHeader) + "." + b64(validJSON) + ".",
			testRoom, ErrBadSignature, "signature is invalid"},
		{"RS256 token whose signature is an HMAC", f.all,
			b64(`{"alg":"RS256"}`) + "." + b64(validJSON) + "." + goodSig,
			testRoom, ErrBadSignature, "signature is invalid"},

		// Algorithms.
		{"alg none", f.all,
			b64(`{"alg":"none","typ":"JWT"}`) + "." + b64(validJSON) + ".",
			testRoom, ErrAlgorithm, "algorithm none is never accepted"},
		{"alg None", f.all,
			b64(`{"alg":"None"}`) + "." + b64(validJSON) + ".",
			testRoom, ErrAlgorithm, "algorithm none is never accepted"},
		{"alg none with a signature", f.all,
			b64(`{"alg":"none"}`) + "." + b64(validJSON) + "." + goodSig,
			testRoom, ErrAlgorithm, "algorithm none is never accepted"},
		{"alg none even when listed", f.noneListed,
			b64(`{"alg":"none"}`) + "." + b64(validJSON) + ".",
			testRoom, ErrAlgorithm, "algorithm none is never accepted"},
		{"RS512 not on the allow-list", f.all,
			signWith(t, jwt.SigningMethodRS512, rsaKey(), "rsa", valid),
			testRoom, ErrAlgorithm, "algorithm RS512 is not allowed; this server accepts HS256, HS512, RS256, ES256"},
		{"HS384 not on the allow-list", f.all,
			signWith(t, jwt.SigningMethodHS384, []byte(testSecret), "", valid),
			testRoom, ErrAlgorithm, "algorithm HS384 is not allowed"},
		{"PS256 unknown", f.all,
			b64(`{"alg":"PS256"}`) + "." + b64(validJSON) + "." + goodSig,
			testRoom, ErrAlgorithm, `algorithm "PS256" is not allowed`},
		{"HS256 with the RSA public key as secret, no secret configured", f.rsOnly,
			confused, testRoom, ErrNoKeys, "accepts no HS256 tokens (it has no shared secret)"},
		{"HS256 with the RSA public key as secret, secret configured", f.all,
			confused, testRoom, ErrBadSignature, "signature is invalid"},
		{"ES256 on a verifier with RSA keys only", f.rsOnly,
			b64(`{"alg":"ES256"}`) + "." + b64(validJSON) + "." + goodSig,
			testRoom, ErrAlgorithm, "algorithm ES256 is not allowed"},

		// Keys.
		{"RS256 with an unknown kid", f.all,
			signWith(t, jwt.SigningMethodRS256, rsaOther(), "nobody", valid),
			testRoom, ErrUnknownKey, `signed with key "nobody"`},
		{"ES256 naming the RSA key's kid", f.all,
			signWith(t, jwt.SigningMethodES256, ecKey(), "rsa", valid),
			testRoom, ErrUnknownKey, `signed with key "rsa"`},
		{"RS256 on a verifier with no RSA key", f.wildcard,
			signWith(t, jwt.SigningMethodRS256, rsaKey(), "", valid),
			testRoom, ErrNoKeys, "no key for RS256 tokens"},

		// Issuer, audience, room.
		{"wrong issuer", f.all,
			hs256(t, claims(func(c jwt.MapClaims) { c["iss"] = "https://evil.example.com" })),
			testRoom, ErrIssuer, `token issuer "https://evil.example.com" is not the expected "https://idp.example.com"`},
		{"issuer differs in case", f.all,
			hs256(t, claims(func(c jwt.MapClaims) { c["iss"] = "https://IDP.example.com" })),
			testRoom, ErrIssuer, "is not the expected"},
		{"no issuer", f.all,
			hs256(t, claims(func(c jwt.MapClaims) { delete(c, "iss") })),
			testRoom, ErrIssuer, "no issuer"},
		{"wrong audience", f.all,
			hs256(t, claims(func(c jwt.MapClaims) { c["aud"] = "billing" })),
			testRoom, ErrAudience, `meant for "billing"`},
		{"audience list without ours", f.all,
			hs256(t, claims(func(c jwt.MapClaims) { c["aud"] = []string{"a", "b"} })),
			testRoom, ErrAudience, `meant for "a, b"`},
		{"no audience", f.all,
			hs256(t, claims(func(c jwt.MapClaims) { delete(c, "aud") })),
			testRoom, ErrAudience, "no audience"},
		{"audience not a string", f.all,
			hs256(t, claims(func(c jwt.MapClaims) { c["aud"] = 7 })),
			testRoom, ErrMalformed, "aud"},
		{"wrong room", f.all,
			hs256(t, claims(func(c jwt.MapClaims) { c["room"] = "Board" })),
			testRoom, ErrRoom, `token is for room "board", not "standup"`},
		{"no room", f.all,
			hs256(t, claims(func(c jwt.MapClaims) { delete(c, "room") })),
			testRoom, ErrRoom, "names no room"},
		{"room * without RoomWildcard", f.all,
			hs256(t, claims(func(c jwt.MapClaims) { c["room"] = "*" })),
			testRoom, ErrRoom, `every room ("*")`},
		{"room folds only in ASCII", f.all,
			hs256(t, claims(func(c jwt.MapClaims) { c["room"] = "\u212Aitchen" })), // Kelvin sign
			"kitchen", ErrRoom, "not"},
		{"room is a prefix", f.all,
			hs256(t, claims(func(c jwt.MapClaims) { c["room"] = "stand" })),
			testRoom, ErrRoom, "not"},

		// Malformed.
		{"empty", f.all, "", testRoom, ErrMalformed, "empty"},
		{"garbage", f.all, "not a token at all", testRoom, ErrMalformed, "3 dot-separated parts, not 1"},
		{"two parts", f.all, b64(hsHeader) + "." + b64(validJSON), testRoom, ErrMalformed, "3 dot-separated parts, not 2"},
		{"four parts", f.all, hs256(t, valid) + ".x", testRoom, ErrMalformed, "3 dot-separated parts, not 4"},
		{"header not base64", f.all, "!!!." + b64(validJSON) + "." + goodSig, testRoom, ErrMalformed, "header is not base64url"},
		{"header padded base64", f.all, base64.URLEncoding.EncodeToString([]byte(`{"alg":"HS256","x":12}`)) + "." + b64(validJSON) + "." + goodSig, testRoom, ErrMalformed, "not base64url"},
		{"header not JSON", f.all, b64(`{"alg":`) + "." + b64(validJSON) + "." + goodSig, testRoom, ErrMalformed, "not a JSON object"},
		{"header a JSON array", f.all, b64(`["HS256"]`) + "." + b64(validJSON) + "." + goodSig, testRoom, ErrMalformed, "not a JSON object"},
		{"header without alg", f.all, b64(`{"typ":"JWT"}`) + "." + b64(validJSON) + "." + goodSig, testRoom, ErrMalformed, "names no signing algorithm"},
		{"kid not a string", f.all, rawHS256(t, testSecret, `{"alg":"HS256","kid":5}`, validJSON), testRoom, ErrMalformed, "kid"},
		{"critical header", f.all, rawHS256(t, testSecret, `{"alg":"HS256","crit":["exp"],"exp":1}`, validJSON), testRoom, ErrMalformed, "crit"},
		{"claims not base64", f.all, b64(hsHeader) + ".%%%." + goodSig, testRoom, ErrMalformed, "claims are not base64url"},
		{"signature not base64", f.all, b64(hsHeader) + "." + b64(validJSON) + ".***", testRoom, ErrMalformed, "signature is not base64url"},
		{"claims not JSON, signed", f.all, rawHS256(t, testSecret, hsHeader, `{"iss":`), testRoom, ErrMalformed, "not a JSON object"},
		{"claims null, signed", f.all, rawHS256(t, testSecret, hsHeader, `null`), testRoom, ErrMalformed, "not a JSON object"},
		{"claims with trailing data, signed", f.all, rawHS256(t, testSecret, hsHeader, validJSON+`{}`), testRoom, ErrMalformed, "after the JSON object"},
		{"sub not a string", f.all,
			hs256(t, claims(func(c jwt.MapClaims) { c["sub"] = 12 })),
			testRoom, ErrMalformed, "sub"},
		{"too long", f.all, strings.Repeat("a", maxTokenLen+1), testRoom, ErrMalformed, "longer than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := tt.v.Verify(tt.token, tt.room)
			if err == nil {
				t.Fatalf("Verify accepted the token: %+v", id)
			}
			t.Log(err)
			if got := sentinelOf(t, err); got != tt.want {
				t.Errorf("error %q wraps %q, want %q", err, got, tt.want)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q does not say %q", err, tt.msg)
			}
			if !reflect.DeepEqual(id, Identity{}) {
				t.Errorf("refused, yet Identity = %+v", id)
			}
		})
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		cfg  Config
		msg  string
	}{
		{"short secret", Config{Secret: "short", Issuer: testIssuer, Audience: testAudience}, "at least 32"},
		{"no issuer", Config{Secret: testSecret, Audience: testAudience}, "issuer and audience"},
		{"no audience", Config{Secret: testSecret, Issuer: testIssuer}, "issuer and audience"},
		{"unsupported algorithm", Config{Secret: testSecret, Issuer: testIssuer, Audience: testAudience, Algorithms: []string{"PS256"}}, `"PS256" is not supported`},
		{"only none", Config{Secret: testSecret, Issuer: testIssuer, Audience: testAudience, Algorithms: []string{"none"}}, "never accepted"},
		{"negative leeway", Config{Secret: testSecret, Issuer: testIssuer, Audience: testAudience, Leeway: -time.Second}, "negative"},
		{"missing key file", Config{Issuer: testIssuer, Audience: testAudience, PublicKeys: []string{dir + "/missing.pem"}}, "missing.pem"},
		{"JWKS URL not http", Config{Issuer: testIssuer, Audience: testAudience, JWKSURL: "file:///etc/keys.json"}, "not an http(s) URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Logger = testLogger
			v, err := New(t.Context(), tt.cfg)
			if err == nil {
				v.Close()
				t.Fatal("New accepted the configuration")
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q does not say %q", err, tt.msg)
			}
		})
	}
}

func TestNoKeysConfigured(t *testing.T) {
	// Guests only: no key, no pinned issuer; every token is refused.
	v := newVerifier(t, Config{Issuer: "-", Audience: "-"})
	v2, err := New(t.Context(), Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer v2.Close()
	for _, v := range []*Verifier{v, v2} {
		_, err := v.Verify(hs256(t, claims(nil)), testRoom)
		if sentinelOf(t, err) != ErrNoKeys {
			t.Errorf("Verify: %v, want ErrNoKeys", err)
		}
	}
}

func TestSign(t *testing.T) {
	tests := []struct {
		name, secret, alg string
		ok                bool
	}{
		{"HS256", testSecret, "HS256", true},
		{"HS384", testSecret, "HS384", true},
		{"HS512", testSecret, "HS512", true},
		{"RS256 refused", testSecret, "RS256", false},
		{"none refused", testSecret, "none", false},
		{"short secret", "short", "HS256", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := Sign(tt.secret, tt.alg, claims(nil))
			if (err == nil) != tt.ok {
				t.Fatalf("Sign: %v, want ok=%v", err, tt.ok)
			}
			if !tt.ok {
				return
			}
			v := newVerifier(t, Config{Secret: tt.secret, Algorithms: []string{tt.alg}})
			if _, err := v.Verify(tok, testRoom); err != nil {
				t.Errorf("Verify of a signed token: %v", err)
			}
		})
	}
	if _, err := Sign(testSecret, "HS256", nil); err != nil {
		t.Errorf("Sign with nil claims: %v", err)
	}
}
