package mediaaddr

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

func addrs(s ...string) []netip.Addr {
	var out []netip.Addr
	for _, a := range s {
		out = append(out, netip.MustParseAddr(a))
	}
	return out
}

// host is a multi-homed machine: loopback, two private addresses, a public
// IPv6 one and a link-local one; the default route leaves from 10.0.0.5.
var host = Host{
	Addrs: addrs("127.0.0.1", "::1", "10.0.0.5", "192.168.7.2", "2001:db8::5", "fe80::1"),
	Route: func(dst netip.Addr) (netip.Addr, error) {
		if dst.Is4() {
			return netip.MustParseAddr("10.0.0.5"), nil
		}
		return netip.MustParseAddr("2001:db8::5"), nil
	},
}

func TestResolve(t *testing.T) {
	for _, c := range []struct {
		name     string
		o        Options
		h        Host
		want     string // Plan.String()
		loopback bool
	}{
		{"no public IP: the host's addresses, no loopback, no link-local", Options{}, host,
			"10.0.0.5, 192.168.7.2, 2001:db8::5", false},
		{"loopback asked for", Options{Loopback: true}, host,
			"10.0.0.5, 192.168.7.2, 2001:db8::5, 127.0.0.1, ::1", true},
		{"a host with loopback only", Options{}, Host{Addrs: addrs("127.0.0.1", "::1")},
			"127.0.0.1, ::1", true},
		{"listening on one address: media there", Options{Listen: netip.MustParseAddr("192.168.7.2")}, host,
			"192.168.7.2", false},
		{"listening on loopback (behind a proxy): every address", Options{Listen: netip.MustParseAddr("127.0.0.1")}, host,
			"10.0.0.5, 192.168.7.2, 2001:db8::5", false},
		{"public IP that is the host's own", Options{Public: []string{"192.168.7.2"}}, host,
			"192.168.7.2", false},
		{"1:1 NAT to the listen address", Options{Public: []string{"203.0.113.7"}, Listen: netip.MustParseAddr("192.168.7.2")}, host,
			"192.168.7.2 as 203.0.113.7", false},
		{"1:1 NAT to the default route's address", Options{Public: []string{"203.0.113.7"}}, host,
			"10.0.0.5 as 203.0.113.7", false},
		{"1:1 NAT pinned", Options{Public: []string{"203.0.113.7/192.168.7.2"}, Listen: netip.MustParseAddr("10.0.0.5")}, host,
			"192.168.7.2 as 203.0.113.7", false},
		{"IPv4 behind NAT and IPv6 own", Options{Public: []string{"203.0.113.7", "2001:db8::5"}}, host,
			"10.0.0.5 as 203.0.113.7, 2001:db8::5", false},
		{"two public addresses for one local", Options{Public: []string{"203.0.113.7", "198.51.100.7"}}, host,
			"10.0.0.5 as 203.0.113.7 and 198.51.100.7", false},
		{"public IP and loopback for local browsers", Options{Public: []string{"192.168.7.2"}, Loopback: true}, host,
			"192.168.7.2, 127.0.0.1, ::1", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, err := Resolve(c.o, c.h)
			if err != nil {
				t.Fatal(err)
			}
			if got := p.String(); got != c.want {
				t.Errorf("plan %q, want %q", got, c.want)
			}
			if p.Loopback != c.loopback {
				t.Errorf("loopback %v, want %v", p.Loopback, c.loopback)
			}
		})
	}
}

func TestResolveRefuses(t *testing.T) {
	noRoute := Host{Addrs: host.Addrs, Route: func(netip.Addr) (netip.Addr, error) { return netip.Addr{}, errors.New("no route") }}
	for _, c := range []struct {
		name string
		o    Options
		h    Host
		want string
	}{
		{"not an address", Options{Public: []string{"meet.example.com"}}, host, "not an address clients can reach"},
		{"unspecified", Options{Public: []string{"0.0.0.0"}}, host, "not an address clients can reach"},
		{"pinned to a foreign address", Options{Public: []string{"203.0.113.7/10.9.9.9"}}, host, "10.9.9.9 is not an address of this host"},
		{"pinned across families", Options{Public: []string{"203.0.113.7/2001:db8::5"}}, host, "must both be IPv4 or both IPv6"},
		{"pinned to garbage", Options{Public: []string{"203.0.113.7/x"}}, host, `"x" is not an IP address`},
		{"NAT that cannot be told", Options{Public: []string{"203.0.113.7"}}, noRoute, "give it as 203.0.113.7/LOCAL"},
		{"listen on a foreign address", Options{Listen: netip.MustParseAddr("10.9.9.9")}, host, "--listen 10.9.9.9 is not an address of this host"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Resolve(c.o, c.h)
			if !errors.Is(err, ErrPublicIP) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want one saying %q", err, c.want)
			}
		})
	}
}

func TestTranslate(t *testing.T) {
	p, err := Resolve(Options{Public: []string{"203.0.113.7", "2001:db8::5"}}, host)
	if err != nil {
		t.Fatal(err)
	}
	if l, ok := p.Translate(netip.MustParseAddr("203.0.113.7")); !ok || l != netip.MustParseAddr("10.0.0.5") {
		t.Errorf("203.0.113.7 translates to %v %v, want 10.0.0.5", l, ok)
	}
	if l, ok := p.Translate(netip.MustParseAddr("::ffff:203.0.113.7")); !ok || l != netip.MustParseAddr("10.0.0.5") {
		t.Errorf("the IPv4-mapped form translates to %v %v, want 10.0.0.5", l, ok)
	}
	if _, ok := p.Translate(netip.MustParseAddr("2001:db8::5")); ok {
		t.Error("an own address is translated")
	}
	if !p.HasLocal(netip.MustParseAddr("10.0.0.5")) || p.HasLocal(netip.MustParseAddr("192.168.7.2")) {
		t.Errorf("locals %v", p.Locals())
	}
}
