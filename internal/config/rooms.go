package config

import (
	"net/url"
	"os"
	"time"
)

// validateRooms checks the options of identity, room policy and limits.
func (c *Config) validateRooms(bad func(name, format string, args ...any)) {
	if c.JWTSecret != "" && len(c.JWTSecret) < 32 {
		bad("jwt-secret", "must be at least 32 characters (256 bits) for HS256")
	}
	for _, f := range c.JWTPublicKeys {
		if _, err := os.Stat(f); err != nil {
			bad("jwt-public-keys", "cannot read %q: %v", f, err)
		}
	}
	if c.JWTJWKSURL != "" {
		if u, err := url.Parse(c.JWTJWKSURL); err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
			bad("jwt-jwks-url", "%q is not an http(s) URL", c.JWTJWKSURL)
		}
	}
	tokens := c.JWTSecret != "" || len(c.JWTPublicKeys) > 0 || c.JWTJWKSURL != ""
	if tokens && (c.JWTIssuer == "" || c.JWTAudience == "") {
		bad("jwt-issuer", "tokens are checked against a pinned issuer and audience: set --jwt-issuer and --jwt-audience")
	}
	if !tokens && !c.AllowGuests {
		bad("allow-guests", "with guests refused, configure tokens (--jwt-secret, --jwt-public-keys or --jwt-jwks-url) or nobody can join")
	}
	if len(c.JWTAlgorithms) == 0 {
		bad("jwt-algorithms", "name at least one of HS256, RS256, ES256")
	}
	for _, a := range c.JWTAlgorithms {
		switch a {
		case "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "ES256", "ES384", "ES512":
		default:
			bad("jwt-algorithms", "%q is not allowed; use HS256/384/512, RS256/384/512 or ES256/384/512", a)
		}
	}
	if c.JWTLeeway < 0 || c.JWTLeeway > 5*time.Minute {
		bad("jwt-leeway", "%s must be between 0 and 5m", c.JWTLeeway)
	}
	if c.MaxParticipants < 2 || c.MaxParticipants > 10000 {
		bad("max-participants", "%d must be between 2 and 10000", c.MaxParticipants)
	}
	if c.AdminKey != "" && len(c.AdminKey) < 16 {
		bad("admin-key", "must be at least 16 characters")
	}
	if c.JoinRate < 1 {
		bad("join-rate", "%d must be at least 1 (joins per address per minute)", c.JoinRate)
	}
	if c.MessageRate < 1 {
		bad("message-rate", "%d must be at least 1 (messages per client per second)", c.MessageRate)
	}
	if c.RoomJoinRate < 0 {
		bad("room-join-rate", "%d must be 0 (twice max-participants) or more (joins per room per minute)", c.RoomJoinRate)
	}
	if c.ChatMaxLength < 1 || c.ChatMaxLength > 100000 {
		bad("chat-max-length", "%d must be between 1 and 100000", c.ChatMaxLength)
	}
}
