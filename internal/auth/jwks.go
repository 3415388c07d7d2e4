package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// JWKS timings.
const (
	jwksRefreshEvery = 10 * time.Minute // scheduled refresh
	jwksOnDemandGap  = 30 * time.Second // least time between two refreshes an unknown kid asks for
	jwksRetryMin     = time.Second      // first retry after a failed fetch
	jwksRetryMax     = time.Minute      // longest wait between retries
	jwksMaxBody      = 1 << 20          // largest JWKS document read
)

// jwks keeps the keys of a JSON Web Key Set fetched over HTTP. Fetches are
// coalesced (one at a time; callers who ask during one wait for it), and the
// refreshes that unknown key ids ask for are rate limited so that a stream
// of forged tokens cannot turn into a stream of requests to the issuer.
type jwks struct {
	url    string
	shown  string // url without credentials, for logs and messages
	client *http.Client
	log    *slog.Logger
	now    func() time.Time

	mu           sync.Mutex
	keys         []publicKey
	loaded       bool
	lastErr      error
	inflight     chan struct{} // closed when the fetch under way ends
	lastOnDemand time.Time
}

func newJWKS(rawURL string, client *http.Client, log *slog.Logger, now func() time.Time) (*jwks, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("jwt JWKS URL %q is not an http(s) URL", rawURL)
	}
	return &jwks{url: rawURL, shown: u.Redacted(), client: client, log: log, now: now}, nil
}

// snapshot returns the current keys, whether a fetch ever succeeded, and the
// last fetch's error.
func (j *jwks) snapshot() ([]publicKey, bool, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.keys, j.loaded, j.lastErr
}

// refresh fetches the key set, or waits for the fetch already under way.
// onDemand marks a refresh asked for by a token with an unknown key: it is
// skipped when the previous one was less than jwksOnDemandGap ago.
func (j *jwks) refresh(ctx context.Context, onDemand bool) error {
	j.mu.Lock()
	if ch := j.inflight; ch != nil {
		j.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
		_, _, err := j.snapshot()
		return err
	}
	if onDemand {
		now := j.now()
		if !j.lastOnDemand.IsZero() && now.Sub(j.lastOnDemand) < jwksOnDemandGap {
			j.mu.Unlock()
			return nil
		}
		j.lastOnDemand = now
	}
	ch := make(chan struct{})
	j.inflight = ch
	j.mu.Unlock()

	keys, err := j.fetch(ctx)

	j.mu.Lock()
	j.inflight = nil
	j.lastErr = err
	if err == nil {
		j.keys, j.loaded = keys, true
	}
	j.mu.Unlock()
	close(ch)
	if err != nil {
		j.log.Warn("jwt: cannot fetch JWKS; keeping the keys I have", "url", j.shown, "err", err)
	} else if len(keys) == 0 {
		j.log.Warn("jwt: JWKS holds no usable RSA or ECDSA signing key", "url", j.shown)
	}
	return err
}

// run refreshes the key set every jwksRefreshEvery, and retries with backoff
// after a failure, until ctx ends. ok tells whether the first fetch worked.
func (j *jwks) run(ctx context.Context, ok bool) {
	delay := jwksRefreshEvery
	if !ok {
		delay = jwksRetryMin
	}
	t := time.NewTimer(delay)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := j.refresh(ctx, false); err != nil {
			if delay == jwksRefreshEvery {
				delay = jwksRetryMin
			} else {
				delay = min(2*delay, jwksRetryMax)
			}
		} else {
			delay = jwksRefreshEvery
		}
		t.Reset(delay)
	}
}

func (j *jwks) fetch(ctx context.Context) ([]publicKey, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, j.url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := j.client.Do(req)
	if err != nil {
		// The error names the URL; say it without credentials.
		var uerr *url.Error
		if errors.As(err, &uerr) {
			return nil, fmt.Errorf("GET %s: %w", j.shown, uerr.Err)
		}
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", j.shown, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, jwksMaxBody+1))
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", j.shown, err)
	}
	if len(body) > jwksMaxBody {
		return nil, fmt.Errorf("GET %s: JWKS larger than %d bytes", j.shown, jwksMaxBody)
	}
	keys, skipped, err := parseJWKS(body)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", j.shown, err)
	}
	for _, s := range skipped {
		j.log.Debug("jwt: JWKS key skipped", "url", j.shown, "why", s)
	}
	return keys, nil
}

// jwk is one key of a JWKS document (RFC 7517), the fields Parley reads.
type jwk struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	N   string `json:"n"`
	E   string `json:"e"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y"`
}

// parseJWKS reads the RSA and EC signing keys of a JWKS document. Other keys
// (encryption keys, symmetric "oct" keys, algorithms Parley does not verify)
// are skipped, each with the reason in skipped. Symmetric keys in particular
// are never used: an HMAC key comes only from the configured secret.
func parseJWKS(data []byte) (keys []publicKey, skipped []string, err error) {
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, nil, fmt.Errorf("not a JWKS document: %w", err)
	}
	if doc.Keys == nil {
		return nil, nil, errors.New(`not a JWKS document: no "keys" array`)
	}
	for i, raw := range doc.Keys {
		var k jwk
		if err := json.Unmarshal(raw, &k); err != nil {
			skipped = append(skipped, fmt.Sprintf("key %d: %v", i, err))
			continue
		}
		key, err := k.publicKey()
		if err != nil {
			skipped = append(skipped, fmt.Sprintf("key %d (kid %q): %v", i, k.Kid, err))
			continue
		}
		keys = append(keys, key)
	}
	return keys, skipped, nil
}

func (k jwk) publicKey() (publicKey, error) {
	if k.Use != "" && k.Use != "sig" {
		return publicKey{}, fmt.Errorf("use %q is not sig", k.Use)
	}
	switch k.Kty {
	case "RSA":
		if k.Alg != "" && !(family(k.Alg) == "RS" && supportedAlg(k.Alg)) {
			return publicKey{}, fmt.Errorf("alg %q is not RS256/384/512", k.Alg)
		}
		n, err := b64Int(k.N)
		if err != nil {
			return publicKey{}, fmt.Errorf("n: %w", err)
		}
		e, err := b64Int(k.E)
		if err != nil {
			return publicKey{}, fmt.Errorf("e: %w", err)
		}
		if !e.IsInt64() || e.Int64() < 3 || e.Int64() > 1<<31-1 || e.Bit(0) == 0 {
			return publicKey{}, errors.New("e is not a valid RSA exponent")
		}
		key, err := checkKey(&rsa.PublicKey{N: n, E: int(e.Int64())})
		if err != nil {
			return publicKey{}, err
		}
		return publicKey{kid: k.Kid, alg: k.Alg, key: key}, nil
	case "EC":
		var curve elliptic.Curve
		switch k.Crv {
		case "P-256":
			curve = elliptic.P256()
		case "P-384":
			curve = elliptic.P384()
		case "P-521":
			curve = elliptic.P521()
		default:
			return publicKey{}, fmt.Errorf("curve %q is not P-256, P-384 or P-521", k.Crv)
		}
		if k.Alg != "" && k.Alg != curveAlg(k.Crv) {
			return publicKey{}, fmt.Errorf("alg %q does not go with curve %s", k.Alg, k.Crv)
		}
		size := (curve.Params().BitSize + 7) / 8
		x, err := b64Bytes(k.X)
		if err != nil || len(x) == 0 || len(x) > size {
			return publicKey{}, errors.New("x is not a coordinate on the curve")
		}
		y, err := b64Bytes(k.Y)
		if err != nil || len(y) == 0 || len(y) > size {
			return publicKey{}, errors.New("y is not a coordinate on the curve")
		}
		point := make([]byte, 1+2*size)
		point[0] = 4
		copy(point[1+size-len(x):1+size], x)
		copy(point[1+2*size-len(y):], y)
		key, err := ecdsa.ParseUncompressedPublicKey(curve, point)
		if err != nil {
			return publicKey{}, fmt.Errorf("not a point on %s: %w", k.Crv, err)
		}
		return publicKey{kid: k.Kid, alg: k.Alg, key: key}, nil
	}
	return publicKey{}, fmt.Errorf("kty %q is not RSA or EC", k.Kty)
}

// b64Bytes decodes base64url, with or without padding.
func b64Bytes(s string) ([]byte, error) {
	return base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
}

func b64Int(s string) (*big.Int, error) {
	b, err := b64Bytes(s)
	if err != nil {
		return nil, err
	}
	if len(b) == 0 {
		return nil, errors.New("empty")
	}
	return new(big.Int).SetBytes(b), nil
}
