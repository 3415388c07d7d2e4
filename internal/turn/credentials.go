package turn

import (
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // HMAC-SHA1 is what the TURN REST scheme and coturn use.
	"encoding/base64"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/parley/parley/protocol"
)

// Credentials issues a short-lived TURN credential in the TURN REST form
// (draft-uberti-behave-turn-rest, coturn's use-auth-secret): the username
// is "<unix expiry>:<user>" and the password is
// base64(HMAC-SHA1(secret, username)). Any server that shares secret,
// this package's or a coturn with static-auth-secret, accepts it until
// now+ttl.
func Credentials(secret, user string, ttl time.Duration, now time.Time) (username, password string) {
	username = strconv.FormatInt(now.Add(ttl).Unix(), 10) + ":" + user
	return username, restPassword(secret, username)
}

func restPassword(secret, username string) string {
	mac := hmac.New(sha1.New, []byte(secret))
	mac.Write([]byte(username))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// ICEServers returns the ICE servers a participant gets at join: urls
// (turn:, turns:, stun:) with a credential for user valid for ttl from now.
// No urls, no servers.
func ICEServers(urls []string, secret, user string, ttl time.Duration, now time.Time) []protocol.ICEServer {
	if len(urls) == 0 {
		return nil
	}
	username, password := Credentials(secret, user, ttl, now)
	return []protocol.ICEServer{{URLs: append([]string(nil), urls...), Username: username, Credential: password}}
}

// URLs builds the TURN URLs of a server reachable at host: TURN over UDP
// and TCP on plainPort, and over TLS on tlsPort (443 puts it on the port
// every firewall lets out). A zero port leaves its URLs out.
func URLs(host string, plainPort, tlsPort int) []string {
	var urls []string
	if plainPort != 0 {
		hp := net.JoinHostPort(host, strconv.Itoa(plainPort))
		urls = append(urls, "turn:"+hp+"?transport=udp", "turn:"+hp+"?transport=tcp")
	}
	if tlsPort != 0 {
		urls = append(urls, "turns:"+net.JoinHostPort(host, strconv.Itoa(tlsPort))+"?transport=tcp")
	}
	return urls
}

// Reasons a credential is refused; Stats counts each.
const (
	RefusedExpired   = "expired"
	RefusedMalformed = "malformed"
	RefusedForged    = "forged"
	RefusedRealm     = "wrong-realm"
)

// maxUsername keeps absurd usernames out of logs; STUN allows 513 bytes.
const maxUsername = 513

// parseUsername splits a TURN REST username into its expiry and user. The
// user is what quotas count; it may itself contain colons.
func parseUsername(username string) (expiry time.Time, user string, ok bool) {
	ts, user, found := strings.Cut(username, ":")
	if !found || user == "" || ts == "" || len(username) > maxUsername {
		return time.Time{}, "", false
	}
	for _, c := range ts {
		if c < '0' || c > '9' {
			return time.Time{}, "", false
		}
	}
	secs, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return time.Time{}, "", false
	}
	return time.Unix(secs, 0), user, true
}
