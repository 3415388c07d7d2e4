package config

import (
	"fmt"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// validateEdge checks the options of the network edge: TLS, TURN, the
// media port.
func (c *Config) validateEdge(bad func(name, format string, args ...any)) {
	if c.TLSListen != "" {
		checkHostPort(bad, "tls-listen", c.TLSListen, " (for example :443)", 0)
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		bad("tls-cert", "give both --tls-cert and --tls-key, or neither")
	}
	// A slice, not a map: problems are reported in a fixed order.
	for _, f := range []struct{ name, file string }{{"tls-cert", c.TLSCert}, {"tls-key", c.TLSKey}} {
		if f.file != "" {
			if _, err := os.Stat(f.file); err != nil {
				bad(f.name, "cannot read %q: %v", f.file, err)
			}
		}
	}
	if len(c.ACMEDomains) > 0 && c.TLSCert != "" {
		bad("acme-domains", "certificate files and ACME exclude each other; drop one")
	}
	for _, d := range c.ACMEDomains {
		if strings.ContainsAny(d, "/:* ") || !strings.Contains(d, ".") {
			bad("acme-domains", "%q is not a host name (for example meet.example.com)", d)
		}
	}
	if (c.TLSCert != "" || len(c.ACMEDomains) > 0) && c.TLSListen == "" {
		bad("tls-listen", "a certificate is configured but no TLS port: set --tls-listen (for example :443)")
	}
	if !c.MediaUDP && c.TLSListen == "" {
		bad("media-udp", "without the UDP media port clients need ICE-TCP or TURN over TLS: set --tls-listen")
	}
	if c.TURNListen != "" {
		checkHostPort(bad, "turn-listen", c.TURNListen, " (for example :3478)", 0)
	}
	if (c.TURNListen != "" || len(c.TURNURLs) > 0) && c.TURNSecret == "" {
		bad("turn-secret", "TURN needs a shared secret for its credentials")
	}
	if c.TURNSecret != "" && len(c.TURNSecret) < 16 {
		bad("turn-secret", "must be at least 16 characters")
	}
	if !validToken(c.TURNRealm) && !strings.Contains(c.TURNRealm, ".") {
		bad("turn-realm", "%q must be a token or a domain name", c.TURNRealm)
	}
	if _, _, err := ParsePortRange(c.TURNRelayPorts); err != nil {
		bad("turn-relay-ports", "%v", err)
	}
	if c.TURNMaxAllocations < 1 {
		bad("turn-max-allocations", "%d must be at least 1", c.TURNMaxAllocations)
	}
	if c.TURNMaxBitrate < 0 {
		bad("turn-max-bitrate", "%d must not be negative (0: no cap)", c.TURNMaxBitrate)
	}
	for _, p := range c.TURNAllowPeers {
		if _, err := netip.ParsePrefix(p); err != nil {
			if _, err := netip.ParseAddr(p); err != nil {
				bad("turn-allow-peers", "%q is not a CIDR or an address", p)
			}
		}
	}
	for _, u := range c.TURNURLs {
		if parsed, err := url.Parse(u); err != nil || (parsed.Scheme != "turn" && parsed.Scheme != "turns") || parsed.Opaque == "" {
			bad("turn-urls", "%q is not a TURN URL (turn:host:3478?transport=udp or turns:host:443?transport=tcp)", u)
		}
	}
	if len(c.TURNURLs) > 0 && c.TURNListen != "" {
		bad("turn-urls", "an external TURN server replaces the embedded one: drop --turn-listen")
	}
	if c.TURNCredentialTTL < time.Minute || c.TURNCredentialTTL > 7*24*time.Hour {
		bad("turn-credential-ttl", "%s must be between 1m and 168h", c.TURNCredentialTTL)
	}
	if c.PublicHost != "" && strings.ContainsAny(c.PublicHost, "/: ") && !isIP(c.PublicHost) {
		bad("public-host", "%q must be a host name or address, without port or scheme", c.PublicHost)
	}
}

// isIP reports whether s is a bare IP address without zone (an IPv6 one
// holds colons).
func isIP(s string) bool {
	a, err := netip.ParseAddr(s)
	return err == nil && a.Zone() == ""
}

// ParsePortRange parses "min-max".
func ParsePortRange(s string) (lo, hi uint16, err error) {
	a, b, ok := strings.Cut(s, "-")
	x, err1 := strconv.ParseUint(strings.TrimSpace(a), 10, 16)
	y, err2 := strconv.ParseUint(strings.TrimSpace(b), 10, 16)
	if !ok || err1 != nil || err2 != nil || x < 1024 || x > y {
		return 0, 0, fmt.Errorf("%q is not a port range min-max with 1024 <= min <= max <= 65535", s)
	}
	return uint16(x), uint16(y), nil
}
