package auth

import (
	"encoding/base64"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func TestJWKSAccepts(t *testing.T) {
	srv := newJWKSServer(t, jwkOf("rsa-1", &rsaKey().PublicKey), jwkOf("ec-1", &ecKey().PublicKey))
	v := newVerifier(t, Config{JWKSURL: srv.URL})
	tests := []struct {
		name  string
		token string
	}{
		{"RS256 with kid", signWith(t, jwt.SigningMethodRS256, rsaKey(), "rsa-1", claims(nil))},
		{"ES256 with kid", signWith(t, jwt.SigningMethodES256, ecKey(), "ec-1", claims(nil))},
		{"ES256 without kid", signWith(t, jwt.SigningMethodES256, ecKey(), "", claims(nil))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := v.Verify(tt.token, testRoom)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if id.Name != "Ada Lovelace" || id.Room != testRoom {
				t.Errorf("Identity = %+v", id)
			}
		})
	}
	if n := srv.fetches.Load(); n != 1 {
		t.Errorf("JWKS fetched %d times, want 1 (at start)", n)
	}
}

func TestJWKSUnknownKid(t *testing.T) {
	srv := newJWKSServer(t, jwkOf("k1", &rsaKey().PublicKey))
	v := newVerifier(t, Config{JWKSURL: srv.URL})
	token := signWith(t, jwt.SigningMethodRS256, rsaOther(), "k2", claims(nil))

	_, err := v.Verify(token, testRoom)
	if sentinelOf(t, err) != ErrUnknownKey || !strings.Contains(err.Error(), `signed with key "k2"`) {
		t.Fatalf("Verify: %v, want ErrUnknownKey", err)
	}
	if n := srv.fetches.Load(); n != 2 {
		t.Fatalf("JWKS fetched %d times, want 2 (at start, then once for the unknown kid)", n)
	}
	// The same token again, at once: refused without another fetch.
	if _, err := v.Verify(token, testRoom); sentinelOf(t, err) != ErrUnknownKey {
		t.Fatalf("second Verify: %v, want ErrUnknownKey", err)
	}
	if n := srv.fetches.Load(); n != 2 {
		t.Errorf("JWKS fetched %d times, want still 2", n)
	}
}

func TestJWKSRotation(t *testing.T) {
	srv := newJWKSServer(t, jwkOf("k1", &rsaKey().PublicKey))
	v := newVerifier(t, Config{JWKSURL: srv.URL})
	// The issuer rotates to k2 after Parley fetched the set.
	srv.set(t, jwkOf("k1", &rsaKey().PublicKey), jwkOf("k2", &rsaOther().PublicKey))
	token := signWith(t, jwt.SigningMethodRS256, rsaOther(), "k2", claims(nil))
	if _, err := v.Verify(token, testRoom); err != nil {
		t.Fatalf("Verify with the rotated key: %v", err)
	}
	// k1 retired: the next refresh drops it.
	srv.set(t, jwkOf("k2", &rsaOther().PublicKey))
	if err := v.jwks.refresh(t.Context(), false); err != nil {
		t.Fatal(err)
	}
	old := signWith(t, jwt.SigningMethodRS256, rsaKey(), "k1", claims(nil))
	if _, err := v.Verify(old, testRoom); sentinelOf(t, err) != ErrUnknownKey {
		t.Errorf("Verify with the retired key: %v, want ErrUnknownKey", err)
	}
}

func TestJWKSRateLimit(t *testing.T) {
	srv := newJWKSServer(t, jwkOf("k1", &ecKey().PublicKey))
	clk := newClock(testNow)
	v := newVerifier(t, Config{JWKSURL: srv.URL, Now: clk.Now})

	// A storm of tokens, each naming a kid nobody knows.
	storm := func(n int) {
		var wg sync.WaitGroup
		for i := range n {
			token := signWith(t, jwt.SigningMethodES256, ecOther(), fmt.Sprintf("forged-%d", i), claims(nil))
			wg.Go(func() {
				if _, err := v.Verify(token, testRoom); sentinelOf(t, err) != ErrUnknownKey {
					t.Errorf("Verify: %v, want ErrUnknownKey", err)
				}
			})
		}
		wg.Wait()
	}
	storm(200)
	if n := srv.fetches.Load(); n != 2 {
		t.Fatalf("after 200 unknown kids: %d fetches, want 2 (start + one refresh)", n)
	}
	clk.Advance(29 * time.Second)
	storm(50)
	if n := srv.fetches.Load(); n != 2 {
		t.Fatalf("29 s later: %d fetches, want still 2", n)
	}
	clk.Advance(2 * time.Second)
	storm(50)
	if n := srv.fetches.Load(); n != 3 {
		t.Fatalf("31 s after the refresh: %d fetches, want 3", n)
	}
}

func TestJWKSUnreachableAtStart(t *testing.T) {
	srv := newJWKSServer(t, jwkOf("k1", &rsaKey().PublicKey))
	srv.failing.Store(2) // the fetch at start and the first refresh fail
	v := newVerifier(t, Config{JWKSURL: srv.URL, Secret: testSecret})
	token := signWith(t, jwt.SigningMethodRS256, rsaKey(), "k1", claims(nil))

	_, err := v.Verify(token, testRoom)
	if sentinelOf(t, err) != ErrNoKeys || !strings.Contains(err.Error(), "try again in a minute") {
		t.Fatalf("Verify before the keys arrived: %v, want ErrNoKeys", err)
	}
	// HMAC tokens do not wait for the JWKS.
	if _, err := v.Verify(hs256(t, claims(nil)), testRoom); err != nil {
		t.Fatalf("HS256 Verify: %v", err)
	}
	// The background retry (after about a second) loads the keys.
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, loaded, _ := v.jwks.snapshot(); loaded {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("keys not loaded after 10 s; %d fetches", srv.fetches.Load())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := v.Verify(token, testRoom); err != nil {
		t.Fatalf("Verify after the keys arrived: %v", err)
	}
}

func TestJWKSCloseStopsRefresh(t *testing.T) {
	srv := newJWKSServer(t)
	srv.failing.Store(1 << 20) // always down: the loop retries every second or so
	v := newVerifier(t, Config{JWKSURL: srv.URL})
	v.Close()
	n := srv.fetches.Load()
	time.Sleep(1500 * time.Millisecond)
	if m := srv.fetches.Load(); m != n {
		t.Errorf("%d fetches after Close", m-n)
	}
	v.Close() // twice is fine
}

func TestParseJWKS(t *testing.T) {
	enc := base64.RawURLEncoding.EncodeToString
	rsaJWK := jwkOf("r", &rsaKey().PublicKey)
	ecJWK := jwkOf("e", &ecKey().PublicKey)
	with := func(base map[string]any, k string, v any) map[string]any {
		m := map[string]any{}
		for a, b := range base {
			m[a] = b
		}
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	short := jwkOf("s", &mustRSA(1024).PublicKey)
	tests := []struct {
		name    string
		doc     string
		keys    int
		skipped string // part of a skip reason
		err     string
	}{
		{"RSA and EC", mustJSON(t, map[string]any{"keys": []any{rsaJWK, ecJWK}}), 2, "", ""},
		{"padded base64", mustJSON(t, map[string]any{"keys": []any{with(rsaJWK, "e", "AQAB====")}}), 1, "", ""},
		{"oct key never used", mustJSON(t, map[string]any{"keys": []any{map[string]any{"kty": "oct", "k": enc([]byte(testSecret))}}}), 0, `kty "oct"`, ""},
		{"encryption key", mustJSON(t, map[string]any{"keys": []any{with(rsaJWK, "use", "enc")}}), 0, `use "enc"`, ""},
		{"PS256 key", mustJSON(t, map[string]any{"keys": []any{with(rsaJWK, "alg", "PS256")}}), 0, `alg "PS256"`, ""},
		{"short RSA", mustJSON(t, map[string]any{"keys": []any{short}}), 0, "too short", ""},
		{"even exponent", mustJSON(t, map[string]any{"keys": []any{with(rsaJWK, "e", enc([]byte{2}))}}), 0, "exponent", ""},
		{"EC point off the curve", mustJSON(t, map[string]any{"keys": []any{with(ecJWK, "y", enc(make([]byte, 32)))}}), 0, "not a point", ""},
		{"EC coordinate too long", mustJSON(t, map[string]any{"keys": []any{with(ecJWK, "x", enc(make([]byte, 33)))}}), 0, "x is not", ""},
		{"EC alg for another curve", mustJSON(t, map[string]any{"keys": []any{with(ecJWK, "alg", "ES384")}}), 0, "does not go with", ""},
		{"EC unknown curve", mustJSON(t, map[string]any{"keys": []any{with(ecJWK, "crv", "secp256k1")}}), 0, "curve", ""},
		{"RSA without n", mustJSON(t, map[string]any{"keys": []any{with(rsaJWK, "n", nil)}}), 0, "n:", ""},
		{"key not an object", `{"keys":[7]}`, 0, "key 0", ""},
		{"empty set", `{"keys":[]}`, 0, "", ""},
		{"no keys array", `{}`, 0, "", `no "keys" array`},
		{"not JSON", `<html>`, 0, "", "not a JWKS document"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keys, skipped, err := parseJWKS([]byte(tt.doc))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(keys) != tt.keys {
				t.Errorf("%d keys, want %d (skipped %q)", len(keys), tt.keys, skipped)
			}
			if tt.skipped != "" && !strings.Contains(strings.Join(skipped, "\n"), tt.skipped) {
				t.Errorf("skipped %q, want a reason with %q", skipped, tt.skipped)
			}
		})
	}
}

func TestJWKSBadDocumentKeepsKeys(t *testing.T) {
	srv := newJWKSServer(t, jwkOf("k1", &rsaKey().PublicKey))
	v := newVerifier(t, Config{JWKSURL: srv.URL})
	srv.mu.Lock()
	srv.doc = []byte("<html>oops</html>")
	srv.mu.Unlock()
	if err := v.jwks.refresh(t.Context(), false); err == nil || !strings.Contains(err.Error(), "not a JWKS document") {
		t.Fatalf("refresh: %v, want a JWKS document error", err)
	}
	token := signWith(t, jwt.SigningMethodRS256, rsaKey(), "k1", claims(nil))
	if _, err := v.Verify(token, testRoom); err != nil {
		t.Errorf("Verify after a bad refresh: %v", err)
	}
}
