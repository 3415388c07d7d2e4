package turn

import (
	"fmt"
	"net/netip"
	"strings"
)

// Peer classes a relay refuses by default. Classify returns one of them, or
// "" for an address that may be relayed to.
const (
	ClassInvalid       = "invalid"
	ClassUnspecified   = "unspecified"
	ClassLoopback      = "loopback"
	ClassPrivate       = "private"
	ClassLinkLocal     = "link-local"
	ClassMulticast     = "multicast"
	ClassCGNAT         = "carrier-grade-nat"
	ClassThisNetwork   = "this-network"
	ClassBenchmarking  = "benchmarking"
	ClassReserved      = "reserved"
	ClassNAT64         = "nat64"
	ClassDocumentation = "documentation"
	ClassProtocol      = "protocol-assignments"
	// ClassSelf is the node's own address, where only its media port may
	// be reached.
	ClassSelf = "this-node"
)

// denied lists the networks a relay must not reach unless allowed: the
// host itself, the site's own networks and the cloud metadata service
// (169.254.169.254) are what an open relay gets abused for. IPv4-mapped
// IPv6 addresses are unmapped before they are looked up here.
var denied = []struct {
	prefix netip.Prefix
	class  string
}{
	{netip.MustParsePrefix("0.0.0.0/32"), ClassUnspecified},
	{netip.MustParsePrefix("::/128"), ClassUnspecified},
	{netip.MustParsePrefix("0.0.0.0/8"), ClassThisNetwork},
	{netip.MustParsePrefix("127.0.0.0/8"), ClassLoopback},
	{netip.MustParsePrefix("::1/128"), ClassLoopback},
	{netip.MustParsePrefix("10.0.0.0/8"), ClassPrivate},
	{netip.MustParsePrefix("172.16.0.0/12"), ClassPrivate},
	{netip.MustParsePrefix("192.168.0.0/16"), ClassPrivate},
	{netip.MustParsePrefix("fc00::/7"), ClassPrivate},
	{netip.MustParsePrefix("169.254.0.0/16"), ClassLinkLocal},
	{netip.MustParsePrefix("fe80::/10"), ClassLinkLocal},
	{netip.MustParsePrefix("224.0.0.0/4"), ClassMulticast},
	{netip.MustParsePrefix("ff00::/8"), ClassMulticast},
	{netip.MustParsePrefix("100.64.0.0/10"), ClassCGNAT},
	{netip.MustParsePrefix("198.18.0.0/15"), ClassBenchmarking},
	{netip.MustParsePrefix("240.0.0.0/4"), ClassReserved}, // 255.255.255.255 included
	{netip.MustParsePrefix("64:ff9b::/96"), ClassNAT64},
	{netip.MustParsePrefix("64:ff9b:1::/48"), ClassNAT64},
	{netip.MustParsePrefix("192.0.0.0/24"), ClassProtocol},
	{netip.MustParsePrefix("192.0.2.0/24"), ClassDocumentation},
	{netip.MustParsePrefix("198.51.100.0/24"), ClassDocumentation},
	{netip.MustParsePrefix("203.0.113.0/24"), ClassDocumentation},
	{netip.MustParsePrefix("2001:db8::/32"), ClassDocumentation},
}

// Classify says which refused class ip falls in, or "" when it is an
// ordinary public address. An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is
// classified as the IPv4 address it carries.
func Classify(ip netip.Addr) string {
	if !ip.IsValid() {
		return ClassInvalid
	}
	ip = ip.Unmap()
	for _, d := range denied {
		if d.prefix.Contains(ip) {
			return d.class
		}
	}
	return ""
}

// PeerAllowed reports whether a relay may send to ip: ip is inside one of
// allow, or in no refused class. When it is not, class says why.
func PeerAllowed(ip netip.Addr, allow []netip.Prefix) (ok bool, class string) {
	ip = ip.Unmap()
	for _, p := range allow {
		if p.Contains(ip) {
			return true, ""
		}
	}
	class = Classify(ip)
	return class == "", class
}

// ParsePrefixes reads allowed-peer entries: CIDRs ("10.1.0.0/16") or single
// addresses ("10.1.2.3"). Host bits are masked off and IPv4-mapped IPv6
// prefixes become IPv4 ones. The first malformed entry is an error that
// names it, so a node can refuse to start.
func ParsePrefixes(entries []string) ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(entries))
	for _, e := range entries {
		s := strings.TrimSpace(e)
		var p netip.Prefix
		if strings.Contains(s, "/") {
			var err error
			if p, err = netip.ParsePrefix(s); err != nil {
				return nil, fmt.Errorf("%w %q: want a CIDR such as 10.1.0.0/16 or 2001:db8::/48 (%v)", ErrBadPrefix, e, err)
			}
		} else {
			a, err := netip.ParseAddr(s)
			if err != nil {
				return nil, fmt.Errorf("%w %q: want a CIDR such as 10.1.0.0/16 or an IP address (%v)", ErrBadPrefix, e, err)
			}
			if a.Zone() != "" {
				return nil, fmt.Errorf("%w %q: an address with a zone cannot be allowed", ErrBadPrefix, e)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		if a := p.Addr(); a.Is4In6() {
			bits := p.Bits() - 96
			if bits < 0 {
				return nil, fmt.Errorf("%w %q: an IPv4-mapped prefix needs at least 96 bits", ErrBadPrefix, e)
			}
			p = netip.PrefixFrom(a.Unmap(), bits)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}
