package auth

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// FuzzVerify feeds arbitrary strings to a Verifier with a fixed secret and
// static RSA and ECDSA keys. None may panic, and none may verify: every seed
// is a token the verifier must refuse (another secret or key, alg none,
// tampered claims), so no mutation of it can carry a valid signature.
func FuzzVerify(f *testing.F) {
	dir := f.TempDir()
	rsaFile := writeFile(f, dir, "rsa.pem", pemPublic(f, &rsaKey().PublicKey, nil))
	ecFile := writeFile(f, dir, "ec.pem", pemPublic(f, &ecKey().PublicKey, nil))
	v := newVerifier(f, Config{
		Secret:     testSecret,
		PublicKeys: []string{rsaFile, ecFile},
		Algorithms: []string{"HS256", "HS384", "HS512", "RS256", "ES256", "none"},
		Leeway:     30 * time.Second,
	})
	valid := claims(func(c jwt.MapClaims) {
		c["context"] = map[string]any{"user": map[string]any{"name": "x", "moderator": "true"}, "features": map[string]any{"recording": "true"}}
	})
	validJSON := mustJSON(f, valid)
	seeds := []string{
		"",
		".",
		"..",
		"a.b.c",
		"not a token",
		signWith(f, jwt.SigningMethodHS256, []byte(otherSecret), "", valid),
		signWith(f, jwt.SigningMethodHS512, []byte(otherSecret), "k", valid),
		signWith(f, jwt.SigningMethodRS256, rsaOther(), "rsa", valid),
		signWith(f, jwt.SigningMethodES256, ecOther(), "ec", valid),
		signWith(f, jwt.SigningMethodHS256, pemPublic(f, &rsaKey().PublicKey, nil), "rsa", valid),
		b64(`{"alg":"none"}`) + "." + b64(validJSON) + ".",
		b64(`{"alg":"HS256","kid":"x","crit":[]}`) + "." + b64(validJSON) + ".AAAA",
		b64(`{"alg":"RS256"}`) + "." + b64(`{"exp":1e400}`) + "." + strings.Repeat("A", 342),
		b64(`{"alg":"ES256","kid":"ec"}`) + "." + b64(`[]`) + "." + strings.Repeat("A", 86),
		rawHS256(f, otherSecret, `{"alg":"HS256"}`, `{"aud":[1,{}],"exp":"x"}`),
	}
	for _, s := range seeds {
		f.Add(s, testRoom)
	}
	f.Fuzz(func(t *testing.T, token, room string) {
		id, err := v.Verify(token, room)
		if err == nil {
			t.Fatalf("Verify accepted %q for room %q: %+v", token, room, id)
		}
		sentinelOf(t, err)
		if err.Error() == "" {
			t.Fatal("empty error message")
		}
	})
}

// FuzzParseJWKS checks that no document makes the JWKS parser panic, and
// that whatever it keeps is a usable RSA or ECDSA key.
func FuzzParseJWKS(f *testing.F) {
	f.Add(mustJSON(f, map[string]any{"keys": []any{jwkOf("r", &rsaKey().PublicKey), jwkOf("e", &ecKey().PublicKey)}}))
	f.Add(`{"keys":[{"kty":"EC","crv":"P-521","x":"AA","y":"AA"},{"kty":"RSA","n":"AQAB","e":"AQAB"}]}`)
	f.Add(`{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}`)
	f.Add(`{"keys":null}`)
	f.Fuzz(func(t *testing.T, doc string) {
		keys, _, err := parseJWKS([]byte(doc))
		if err != nil && len(keys) > 0 {
			t.Fatal("keys returned with an error")
		}
		for _, k := range keys {
			switch key := k.key.(type) {
			case *rsa.PublicKey:
				if key.N.BitLen() < minRSABits {
					t.Fatalf("kept an RSA key of %d bits", key.N.BitLen())
				}
			case *ecdsa.PublicKey:
				if curveAlg(key.Curve.Params().Name) == "" {
					t.Fatalf("kept a key on %s", key.Curve.Params().Name)
				}
			default:
				t.Fatalf("kept a %T", key)
			}
		}
	})
}
