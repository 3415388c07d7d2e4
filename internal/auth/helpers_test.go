package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

const (
	testSecret   = "parley-test-secret-0123456789abcdef"
	otherSecret  = "another-secret-that-is-long-enough-0000"
	testIssuer   = "https://idp.example.com"
	testAudience = "parley"
	testRoom     = "standup"
)

// testNow is the clock of every test that does not move time.
var testNow = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

var sentinels = []error{
	ErrMalformed, ErrAlgorithm, ErrNoKeys, ErrUnknownKey, ErrBadSignature,
	ErrIssuer, ErrAudience, ErrMissingExp, ErrExpired, ErrNotYetValid, ErrRoom,
}

// sentinelOf returns the one sentinel err wraps; it fails the test when err
// wraps none or several.
func sentinelOf(t testing.TB, err error) error {
	t.Helper()
	var found []error
	for _, s := range sentinels {
		if errors.Is(err, s) {
			found = append(found, s)
		}
	}
	if len(found) != 1 {
		t.Fatalf("error %q wraps %d sentinels (%v), want exactly one", err, len(found), found)
	}
	return found[0]
}

// Keys are slow to make: one of each kind for the whole test binary.
var (
	rsaKey     = sync.OnceValue(func() *rsa.PrivateKey { return mustRSA(2048) })
	rsaOther   = sync.OnceValue(func() *rsa.PrivateKey { return mustRSA(2048) })
	ecKey      = sync.OnceValue(func() *ecdsa.PrivateKey { return mustEC(elliptic.P256()) })
	ecOther    = sync.OnceValue(func() *ecdsa.PrivateKey { return mustEC(elliptic.P256()) })
	ecKeyP384  = sync.OnceValue(func() *ecdsa.PrivateKey { return mustEC(elliptic.P384()) })
	testLogger = slog.New(slog.DiscardHandler)
)

func mustRSA(bits int) *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		panic(err)
	}
	return k
}

func mustEC(c elliptic.Curve) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(c, rand.Reader)
	if err != nil {
		panic(err)
	}
	return k
}

// pemPublic encodes a public key as a PKIX PEM block with optional headers.
func pemPublic(t testing.TB, pub any, headers map[string]string) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Headers: headers, Bytes: der})
}

// writeFile writes data to name in dir and returns its path.
func writeFile(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// claims returns a valid claim set for testRoom at testNow, changed by edit.
func claims(edit func(jwt.MapClaims)) jwt.MapClaims {
	c := jwt.MapClaims{
		"iss":  testIssuer,
		"aud":  testAudience,
		"sub":  "user-1",
		"exp":  testNow.Add(time.Hour).Unix(),
		"nbf":  testNow.Add(-time.Minute).Unix(),
		"iat":  testNow.Add(-time.Minute).Unix(),
		"room": testRoom,
		"name": "Ada Lovelace",
	}
	if edit != nil {
		edit(c)
	}
	return c
}

// signWith signs claims with any method and key, with kid in the header when
// it is not empty.
func signWith(t testing.TB, method jwt.SigningMethod, key any, kid string, c jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, c)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func hs256(t testing.TB, c jwt.MapClaims) string {
	t.Helper()
	s, err := Sign(testSecret, "HS256", c)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// rawHS256 signs a hand-made header and payload, byte for byte, with secret.
func rawHS256(t testing.TB, secret, header, payload string) string {
	t.Helper()
	signed := b64(header) + "." + b64(payload)
	sig, err := jwt.SigningMethodHS256.Sign(signed, []byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	return signed + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// jwkOf encodes a public key as a JWK with kid.
func jwkOf(kid string, pub any) map[string]any {
	enc := base64.RawURLEncoding.EncodeToString
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return map[string]any{"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
			"n": enc(k.N.Bytes()), "e": enc(big.NewInt(int64(k.E)).Bytes())}
	case *ecdsa.PublicKey:
		point, err := k.Bytes()
		if err != nil {
			panic(err)
		}
		size := (len(point) - 1) / 2
		return map[string]any{"kty": "EC", "kid": kid, "use": "sig", "crv": k.Curve.Params().Name,
			"x": enc(point[1 : 1+size]), "y": enc(point[1+size:])}
	}
	panic("unknown key type")
}

// jwksServer serves a JWKS document that tests can change, and counts the
// requests it gets. While failing is above zero it answers 503 and counts
// it down.
type jwksServer struct {
	*httptest.Server
	fetches atomic.Int32
	failing atomic.Int32
	mu      sync.Mutex
	doc     []byte
}

func newJWKSServer(t testing.TB, keys ...map[string]any) *jwksServer {
	t.Helper()
	s := &jwksServer{}
	s.set(t, keys...)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fetches.Add(1)
		if s.failing.Load() > 0 {
			s.failing.Add(-1)
			http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
			return
		}
		s.mu.Lock()
		doc := s.doc
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Write(doc)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *jwksServer) set(t testing.TB, keys ...map[string]any) {
	t.Helper()
	if keys == nil {
		keys = []map[string]any{}
	}
	doc := mustJSON(t, map[string]any{"keys": keys})
	s.mu.Lock()
	s.doc = []byte(doc)
	s.mu.Unlock()
}

// clock is a settable clock safe for concurrent use.
type clock struct{ ns atomic.Int64 }

func newClock(t time.Time) *clock {
	c := &clock{}
	c.ns.Store(t.UnixNano())
	return c
}

func (c *clock) Now() time.Time          { return time.Unix(0, c.ns.Load()).UTC() }
func (c *clock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// newVerifier builds a Verifier from cfg with the test issuer, audience,
// clock and a silent logger filled in where cfg leaves them empty, and
// closes it when the test ends.
func newVerifier(t testing.TB, cfg Config) *Verifier {
	t.Helper()
	if cfg.Issuer == "" {
		cfg.Issuer = testIssuer
	}
	if cfg.Audience == "" {
		cfg.Audience = testAudience
	}
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return testNow }
	}
	if cfg.Logger == nil {
		cfg.Logger = testLogger
	}
	v, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(v.Close)
	return v
}
