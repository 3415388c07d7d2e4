package auth

import (
	"bytes"
	"encoding/json"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// maxNumericDate is the last second of year 9999: later times (and negative
// ones) are not dates an issuer means, and would overflow time arithmetic.
const maxNumericDate = 253402300799

// decodeClaims decodes a verified payload: one JSON object, numbers kept
// exact.
func decodeClaims(payload []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	var claims map[string]any
	if err := dec.Decode(&claims); err != nil || claims == nil {
		return nil, refuse(ErrMalformed, "the token's claims are not a JSON object; ask its issuer for a valid token")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, refuse(ErrMalformed, "the token's claims hold data after the JSON object; ask its issuer for a valid token")
	}
	return claims, nil
}

// identity checks the registered claims of a verified token and reads the
// holder's identity from it.
func (v *Verifier) identity(c map[string]any, room string) (Identity, error) {
	iss, ok := c["iss"].(string)
	if !ok || iss == "" {
		return Identity{}, refuse(ErrIssuer, "the token has no issuer (iss); this server expects %q", v.issuer)
	}
	if iss != v.issuer {
		return Identity{}, refuse(ErrIssuer, "token issuer %q is not the expected %q", clip(iss), v.issuer)
	}
	aud, ok := audiences(c["aud"])
	if !ok {
		return Identity{}, refuse(ErrMalformed, "the token's audience (aud) is not a string or a list of strings")
	}
	if !slices.Contains(aud, v.audience) {
		if len(aud) == 0 {
			return Identity{}, refuse(ErrAudience, "the token has no audience (aud); this server expects %q", v.audience)
		}
		return Identity{}, refuse(ErrAudience, "the token is meant for %q, not for this server (%q); ask for a link to this server", clip(strings.Join(aud, ", ")), v.audience)
	}

	exp, present, err := numericDate(c, "exp")
	if err != nil {
		return Identity{}, err
	}
	if !present {
		return Identity{}, refuse(ErrMissingExp, "the token has no expiry (exp); tokens must expire, ask its issuer for one that does")
	}
	now := v.now()
	if !now.Before(exp.Add(v.leeway)) {
		return Identity{}, refuse(ErrExpired, "token expired at %s; ask for a new one", when(exp))
	}
	nbf, present, err := numericDate(c, "nbf")
	if err != nil {
		return Identity{}, err
	}
	if present && now.Add(v.leeway).Before(nbf) {
		return Identity{}, refuse(ErrNotYetValid, "the token is not valid until %s; try again then (if that looks wrong, the clock of this server or of the token's issuer is off)", when(nbf))
	}
	iat, present, err := numericDate(c, "iat")
	if err != nil {
		return Identity{}, err
	}
	if present && now.Add(v.leeway).Before(iat) {
		return Identity{}, refuse(ErrNotYetValid, "the token says it was issued at %s, which is still to come; the clock of this server or of the token's issuer is off", when(iat))
	}

	sub, ok := c["sub"].(string)
	if _, present := c["sub"]; present && !ok {
		return Identity{}, refuse(ErrMalformed, "the token's subject (sub) is not a string")
	}
	tokenRoom, _ := c["room"].(string)
	tokenRoom = asciiLower(tokenRoom)
	switch {
	case tokenRoom == "":
		return Identity{}, refuse(ErrRoom, "the token names no room; ask for a link to room %q", room)
	case tokenRoom == "*" && !v.wildcard:
		return Identity{}, refuse(ErrRoom, `the token is for every room ("*"), which this server does not accept; ask for a link to room %q`, room)
	case tokenRoom != "*" && tokenRoom != room:
		return Identity{}, refuse(ErrRoom, "token is for room %q, not %q", clip(tokenRoom), room)
	}

	jitsi, _ := c["context"].(map[string]any)
	user, _ := jitsi["user"].(map[string]any)
	id := Identity{
		Subject:  sub,
		Room:     tokenRoom,
		Expires:  exp,
		Features: features(c["features"], jitsi["features"]),
	}
	name, _ := c["name"].(string)
	if strings.TrimSpace(name) == "" {
		name, _ = user["name"].(string)
	}
	id.Name = strings.TrimSpace(name)
	id.Moderator = c["moderator"] == true || truthy(user["moderator"]) ||
		c["affiliation"] == "owner" || user["affiliation"] == "owner"
	return id, nil
}

// numericDate reads a NumericDate claim (seconds since 1970, RFC 7519 2).
func numericDate(c map[string]any, name string) (time.Time, bool, error) {
	raw, present := c[name]
	if !present {
		return time.Time{}, false, nil
	}
	n, ok := raw.(json.Number)
	if !ok {
		return time.Time{}, true, refuse(ErrMalformed, "the token's %s is not a number of seconds", name)
	}
	f, err := strconv.ParseFloat(n.String(), 64)
	if err != nil || math.IsNaN(f) || f < 0 || f > maxNumericDate {
		return time.Time{}, true, refuse(ErrMalformed, "the token's %s (%s) is not a date between 1970 and 9999", name, clip(n.String()))
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC(), true, nil
}

// audiences reads aud: one string or a list of strings (RFC 7519 4.1.3).
func audiences(raw any) ([]string, bool) {
	switch aud := raw.(type) {
	case nil:
		return nil, true
	case string:
		return []string{aud}, true
	case []any:
		list := make([]string, 0, len(aud))
		for _, a := range aud {
			s, ok := a.(string)
			if !ok {
				return nil, false
			}
			list = append(list, s)
		}
		return list, true
	}
	return nil, false
}

// features merges the feature claims: a list of names, or an object whose
// true (or "true") values name the granted features, as Jitsi's
// context.features does. The result is sorted, without duplicates.
func features(claims ...any) []string {
	var out []string
	for _, claim := range claims {
		switch f := claim.(type) {
		case []any:
			for _, name := range f {
				if s, ok := name.(string); ok && s != "" {
					out = append(out, s)
				}
			}
		case map[string]any:
			for name, on := range f {
				if truthy(on) && name != "" {
					out = append(out, name)
				}
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// truthy is true for JSON true and for the string "true", which Jitsi tokens
// use.
func truthy(v any) bool {
	return v == true || v == "true"
}
