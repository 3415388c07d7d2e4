// Package auth verifies the JSON Web Tokens that let people into rooms and
// turns their signed claims into an Identity: who they are, the room they may
// join, whether they moderate it and which features they may use. Tokens are
// signed with a shared secret (HS256/384/512) or with RSA or ECDSA keys
// (RS*/ES*) read from PEM files or a JWKS URL. The issuer and audience are
// pinned, exp is required, the algorithm comes from an allow-list and "none"
// is never accepted. Every refusal wraps one sentinel of errors.go and says
// in words what the holder of the token can do about it.
package auth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"
)

const (
	// maxTokenLen bounds the work an unauthenticated token can cause.
	maxTokenLen = 8192
	// minSecretLen is the shortest HMAC secret (256 bits), as config demands.
	minSecretLen = 32
	// defaultJWKSTimeout bounds one JWKS request of the default client.
	defaultJWKSTimeout = 10 * time.Second
)

// DefaultAlgorithms is the allow-list used when Config.Algorithms is empty.
var DefaultAlgorithms = []string{"HS256", "RS256", "ES256"}

// Config says which tokens a Verifier accepts. It mirrors the jwt_* options
// of internal/config.
type Config struct {
	// Secret is the HS256/384/512 key; "" accepts no HMAC token.
	Secret string
	// PublicKeys are PEM files of RSA or ECDSA public keys (or certificates).
	// A key's id is the PEM block's "kid" header, else the file's base name
	// without its extension.
	PublicKeys []string
	// JWKSURL is fetched at start and refreshed every 10 minutes, and at once
	// (at most once per 30 s) when a token names an unknown kid.
	JWKSURL string
	// Issuer and Audience are pinned: a token must carry exactly this iss
	// and an aud containing Audience. Both are required when any key is
	// configured.
	Issuer, Audience string
	// Algorithms is the allow-list (empty: DefaultAlgorithms). "none" is
	// never accepted, even if listed.
	Algorithms []string
	// Leeway is the clock skew allowed on exp, nbf and iat.
	Leeway time.Duration
	// RoomWildcard lets a room claim "*" match every room.
	RoomWildcard bool
	// HTTPClient fetches the JWKS; nil uses a client with a 10 s timeout.
	HTTPClient *http.Client
	// Now is the clock of token times and of the JWKS refresh rate limit
	// (tests); nil is time.Now.
	Now func() time.Time
	// Logger gets the JWKS fetch warnings; nil is slog.Default().
	Logger *slog.Logger
}

// Identity is what a verified token says about its holder. Every field comes
// from the signed claims.
type Identity struct {
	Subject   string    // sub
	Name      string    // "name", else Jitsi's "context.user.name"
	Moderator bool      // "moderator": true, "context.user.moderator": true or "true", or "affiliation": "owner"
	Features  []string  // "features" (list, or object of true values) and Jitsi's "context.features"; sorted
	Room      string    // the room claim, lower-cased; "*" only with Config.RoomWildcard
	Expires   time.Time // exp
}

// Verifier checks tokens. It is safe for concurrent use.
type Verifier struct {
	secret   []byte
	algs     []string
	static   []publicKey
	jwks     *jwks // nil without a JWKS URL
	issuer   string
	audience string
	leeway   time.Duration
	wildcard bool
	now      func() time.Time

	ctx    context.Context // ends with Close
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New returns a Verifier for cfg. It reads the PEM files (an error names the
// file that failed) and fetches the JWKS once; when the JWKS cannot be
// fetched it logs a warning and keeps trying in the background, refusing
// RS*/ES* tokens that need its keys (ErrNoKeys) until they arrive. ctx bounds
// that first fetch and the background refreshes; Close stops them too.
func New(ctx context.Context, cfg Config) (*Verifier, error) {
	algs, err := allowList(cfg.Algorithms)
	if err != nil {
		return nil, err
	}
	if cfg.Secret != "" && len(cfg.Secret) < minSecretLen {
		return nil, fmt.Errorf("jwt secret is %d bytes; it must be at least %d (256 bits) for HMAC tokens", len(cfg.Secret), minSecretLen)
	}
	if cfg.Leeway < 0 {
		return nil, fmt.Errorf("jwt leeway %s must not be negative", cfg.Leeway)
	}
	keyed := cfg.Secret != "" || len(cfg.PublicKeys) > 0 || cfg.JWKSURL != ""
	if keyed && (cfg.Issuer == "" || cfg.Audience == "") {
		return nil, errors.New("jwt issuer and audience must both be set: tokens are checked against a pinned issuer and audience")
	}
	v := &Verifier{
		algs:     algs,
		issuer:   cfg.Issuer,
		audience: cfg.Audience,
		leeway:   cfg.Leeway,
		wildcard: cfg.RoomWildcard,
		now:      cfg.Now,
	}
	if cfg.Secret != "" {
		v.secret = []byte(cfg.Secret)
	}
	if v.now == nil {
		v.now = time.Now
	}
	for _, path := range cfg.PublicKeys {
		keys, err := loadPEMFile(path)
		if err != nil {
			return nil, err
		}
		v.static = append(v.static, keys...)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	client := cfg.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: defaultJWKSTimeout}
	}
	v.ctx, v.cancel = context.WithCancel(ctx)
	if cfg.JWKSURL != "" {
		j, err := newJWKS(cfg.JWKSURL, client, log, v.now)
		if err != nil {
			v.cancel()
			return nil, err
		}
		v.jwks = j
		ok := j.refresh(v.ctx, false) == nil
		v.wg.Go(func() { j.run(v.ctx, ok) })
	}
	return v, nil
}

// Close stops the background JWKS refresh. Tokens still verify afterwards
// with the keys already loaded.
func (v *Verifier) Close() {
	v.cancel()
	v.wg.Wait()
}

// supportedAlg reports whether Parley can verify alg.
func supportedAlg(alg string) bool {
	switch alg {
	case "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "ES256", "ES384", "ES512":
		return true
	}
	return false
}

// allowList checks the configured algorithms and drops "none".
func allowList(list []string) ([]string, error) {
	if len(list) == 0 {
		return slices.Clone(DefaultAlgorithms), nil
	}
	var algs []string
	for _, a := range list {
		switch {
		case strings.EqualFold(a, "none"):
			// Never accepted; listing it changes nothing.
		case supportedAlg(a):
			if !slices.Contains(algs, a) {
				algs = append(algs, a)
			}
		default:
			return nil, fmt.Errorf("jwt algorithm %q is not supported; use HS256/384/512, RS256/384/512 or ES256/384/512", a)
		}
	}
	if len(algs) == 0 {
		return nil, errors.New(`jwt algorithms: "none" is never accepted; name at least one of HS256, RS256, ES256`)
	}
	return algs, nil
}

// header is the part of a token's header Parley reads.
type header struct {
	alg string
	kid string
}

// Verify checks token for joining room (the normalized, lower-case room
// name) and returns its holder's Identity. The signature is checked before
// the claims are even decoded. A refusal wraps exactly one sentinel error.
// When the token names a key id nobody knows, Verify may wait for a JWKS
// refresh (at most one per 30 s, bounded by the HTTP client's timeout).
func (v *Verifier) Verify(token, room string) (Identity, error) {
	token = strings.TrimSpace(token)
	if token == "" {
		return Identity{}, refuse(ErrMalformed, "the token is empty; use the whole link you were given")
	}
	if len(token) > maxTokenLen {
		return Identity{}, refuse(ErrMalformed, "the token is longer than %d bytes; use the link you were given", maxTokenLen)
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return Identity{}, refuse(ErrMalformed, "the token should have 3 dot-separated parts, not %d; copy the whole link you were given", len(parts))
	}
	h, err := parseHeader(parts[0])
	if err != nil {
		return Identity{}, err
	}
	payload, err := base64.RawURLEncoding.Strict().DecodeString(parts[1])
	if err != nil {
		return Identity{}, refuse(ErrMalformed, "the token's claims are not base64url; copy the whole link you were given")
	}
	sig, err := base64.RawURLEncoding.Strict().DecodeString(parts[2])
	if err != nil {
		return Identity{}, refuse(ErrMalformed, "the token's signature is not base64url; copy the whole link you were given")
	}
	if strings.EqualFold(h.alg, "none") {
		return Identity{}, refuse(ErrAlgorithm, "algorithm none is never accepted: the token is not signed")
	}
	if !slices.Contains(v.algs, h.alg) {
		name := h.alg
		if !supportedAlg(name) {
			name = strconv.Quote(clip(name))
		}
		return Identity{}, refuse(ErrAlgorithm, "algorithm %s is not allowed; this server accepts %s", name, strings.Join(v.algs, ", "))
	}
	keys, err := v.keysFor(h.alg, h.kid)
	if err != nil {
		return Identity{}, err
	}
	method := jwt.GetSigningMethod(h.alg)
	signed := parts[0] + "." + parts[1]
	verified := false
	for _, key := range keys {
		if method.Verify(signed, sig, key) == nil {
			verified = true
			break
		}
	}
	if !verified {
		return Identity{}, refuse(ErrBadSignature, "the token's signature is invalid: it was not signed by an issuer this server trusts, or it was altered; ask for a new link")
	}
	claims, err := decodeClaims(payload)
	if err != nil {
		return Identity{}, err
	}
	return v.identity(claims, asciiLower(room))
}

func parseHeader(seg string) (header, error) {
	raw, err := base64.RawURLEncoding.Strict().DecodeString(seg)
	if err != nil {
		return header{}, refuse(ErrMalformed, "the token's header is not base64url; copy the whole link you were given")
	}
	var fields map[string]any
	if err := json.Unmarshal(raw, &fields); err != nil || fields == nil {
		return header{}, refuse(ErrMalformed, "the token's header is not a JSON object; copy the whole link you were given")
	}
	var h header
	var ok bool
	if h.alg, ok = fields["alg"].(string); !ok || h.alg == "" {
		return header{}, refuse(ErrMalformed, "the token's header names no signing algorithm (alg)")
	}
	if kid, present := fields["kid"]; present {
		if h.kid, ok = kid.(string); !ok {
			return header{}, refuse(ErrMalformed, "the token's key id (kid) is not a string")
		}
	}
	// RFC 7515 4.1.11: extensions marked critical must be understood, and
	// Parley understands none.
	if _, present := fields["crit"]; present {
		return header{}, refuse(ErrMalformed, "the token uses critical header extensions (crit) this server does not understand")
	}
	return h, nil
}

// keysFor returns the keys that may verify a token signed with alg and
// naming kid ("" for none). HMAC tokens get the secret and nothing else;
// RS*/ES* tokens get the public keys of their own type and curve.
func (v *Verifier) keysFor(alg, kid string) ([]any, error) {
	if family(alg) == "HS" {
		if v.secret == nil {
			return nil, refuse(ErrNoKeys, "this server accepts no %s tokens (it has no shared secret); ask for a new link", alg)
		}
		return []any{v.secret}, nil
	}
	keys := v.publicKeys(alg, kid)
	if len(keys) == 0 && v.jwks != nil && v.ctx.Err() == nil {
		// A rotated key, or one the first fetch missed: ask the issuer again.
		v.jwks.refresh(v.ctx, true)
		keys = v.publicKeys(alg, kid)
	}
	if len(keys) > 0 {
		return keys, nil
	}
	if kid != "" && len(v.publicKeys(alg, "")) > 0 {
		return nil, refuse(ErrUnknownKey, "the token was signed with key %q, which this server does not know; ask for a new link", clip(kid))
	}
	if v.jwks != nil {
		if _, loaded, _ := v.jwks.snapshot(); !loaded {
			return nil, refuse(ErrNoKeys, "this server could not load its keys for %s tokens yet; try again in a minute (operators: see the JWKS warnings in the log)", alg)
		}
	}
	if kid != "" {
		return nil, refuse(ErrUnknownKey, "the token was signed with key %q, and this server has no %s key of that id; ask for a new link", clip(kid), alg)
	}
	return nil, refuse(ErrNoKeys, "this server has no key for %s tokens; ask for a new link, or ask the administrator to configure the issuer's key", alg)
}

func (v *Verifier) publicKeys(alg, kid string) []any {
	var keys []any
	add := func(list []publicKey) {
		for _, k := range list {
			if k.suits(alg) && (kid == "" || k.kid == kid) {
				keys = append(keys, k.key)
			}
		}
	}
	add(v.static)
	if v.jwks != nil {
		fetched, _, _ := v.jwks.snapshot()
		add(fetched)
	}
	return keys
}

// asciiLower lower-cases the ASCII letters of s only. Room names are ASCII
// (protocol.NormalizeRoom), so a token's room with other letters must not
// fold into one (as the Kelvin sign would under strings.ToLower).
func asciiLower(s string) string {
	return strings.Map(func(r rune) rune {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, s)
}

// clip shortens a token-supplied string for a message, keeping whole runes.
func clip(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
