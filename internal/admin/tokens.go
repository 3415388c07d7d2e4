package admin

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/parley/parley/internal/auth"
	"github.com/parley/parley/protocol"
)

const (
	defaultTTL = 2 * time.Hour
	maxTTL     = 7 * 24 * time.Hour
	minTTL     = time.Minute
	// maxFeatures and maxFeatureLen bound a token's feature list.
	maxFeatures   = 32
	maxFeatureLen = 64
)

// tokenRequest is the body of POST /tokens.
type tokenRequest struct {
	Room      string   `json:"room"`
	Name      string   `json:"name"`
	Moderator bool     `json:"moderator"`
	Features  []string `json:"features"`
	TTL       string   `json:"ttl"`
}

// tokenReply is the answer of POST /tokens.
type tokenReply struct {
	Token   string    `json:"token"`
	Expires time.Time `json:"expires"`
	URL     string    `json:"url"`
}

// issueToken answers POST /tokens with a signed join token and its link.
func (a *api) issueToken(w http.ResponseWriter, r *http.Request) error {
	if a.cfg.TokenSecret == "" {
		return ErrNoTokens
	}
	if a.cfg.TokenIssuer == "" || a.cfg.TokenAudience == "" {
		return failf(http.StatusNotImplemented, "tokens name a pinned issuer and audience; configure --jwt-issuer and --jwt-audience to issue tokens")
	}
	var req tokenRequest
	if err := decodeBody(w, r, &req); err != nil {
		return err
	}
	room, ttl, err := req.check()
	if err != nil {
		return err
	}
	now := a.cfg.Now().Truncate(time.Second)
	exp := now.Add(ttl)
	id := newTokenID()
	claims := jwt.MapClaims{
		"iss": a.cfg.TokenIssuer, "aud": a.cfg.TokenAudience,
		"iat": now.Unix(), "nbf": now.Unix(), "exp": exp.Unix(), "jti": id,
		"room": room, "moderator": req.Moderator,
	}
	if req.Name != "" {
		claims["name"] = req.Name
	}
	if len(req.Features) > 0 {
		claims["features"] = req.Features
	}
	token, err := auth.Sign(a.cfg.TokenSecret, "HS256", claims)
	if err != nil {
		return failf(http.StatusInternalServerError, "sign the token: %v", err)
	}
	a.log.Info("admin issued a join token", "room", room, "name", req.Name, "moderator", req.Moderator,
		"features", req.Features, "expires", exp.UTC(), "jti", id, "remote", r.RemoteAddr)
	writeJSON(w, http.StatusOK, tokenReply{
		Token:   token,
		Expires: exp.UTC(),
		URL:     a.cfg.PublicURL(r) + "/" + room + "?jwt=" + url.QueryEscape(token),
	})
	return nil
}

// check validates the request in place and returns the room and lifetime.
func (req *tokenRequest) check() (room string, ttl time.Duration, err error) {
	if req.Room == "" {
		return "", 0, badField("room", "is required")
	}
	room, derr := protocol.NormalizeRoom(req.Room)
	if derr != nil {
		return "", 0, badField("room", "%s", derr.Message)
	}
	if req.Name != "" {
		name, derr := protocol.NormalizeName(req.Name)
		if derr != nil {
			return "", 0, badField("name", "%s", derr.Message)
		}
		req.Name = name
	}
	if len(req.Features) > maxFeatures {
		return "", 0, badField("features", "at most %d", maxFeatures)
	}
	for _, f := range req.Features {
		if !validWord(f, maxFeatureLen, "-_.") {
			return "", 0, badField("features", "%q is not a feature name (letters, digits, '-', '_' and '.', at most %d)", clip(f), maxFeatureLen)
		}
	}
	slices.Sort(req.Features)
	req.Features = slices.Compact(req.Features)
	ttl = defaultTTL
	if req.TTL != "" {
		ttl, err = time.ParseDuration(req.TTL)
		if err != nil {
			return "", 0, badField("ttl", "%q is not a duration such as \"90m\" or \"24h\"", clip(req.TTL))
		}
		if ttl < minTTL {
			return "", 0, badField("ttl", "%s is shorter than the minimum of %s", ttl, minTTL)
		}
		if ttl > maxTTL {
			return "", 0, badField("ttl", "%s is longer than the maximum of 7 days (%s)", ttl, fmtHours(maxTTL))
		}
	}
	return room, ttl, nil
}

func fmtHours(d time.Duration) string { return fmt.Sprintf("%dh", int(d.Hours())) }

// newTokenID names a token in the logs, which never hold the token itself.
func newTokenID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
