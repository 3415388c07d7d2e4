// Package mediaaddr decides which local addresses a bridge takes media on
// and which address it tells clients for each. Two rules make candidates
// right on every deployment: each advertised address is one clients can
// reach, and the socket a request arrives on is the one its reply leaves
// from (one socket per local address, never a loopback one standing in for
// a public address).
//
// The operator's --public-ip entries are "P" (P is an address of this
// host, or P is translated 1:1 to one of them by a NAT in front) or
// "P/L" (P is translated to the local address L). Without --public-ip the
// host's own addresses are advertised as they are.
package mediaaddr

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
)

// ErrPublicIP marks a --public-ip entry that cannot be used.
var ErrPublicIP = errors.New("public IP")

// Mapping is one local address the media port is bound on and the
// addresses clients are told for it (Local itself without NAT).
type Mapping struct {
	Local  netip.Addr
	Public []netip.Addr
}

// NAT reports whether clients are told other addresses than Local.
func (m Mapping) NAT() bool { return len(m.Public) != 1 || m.Public[0] != m.Local }

// Plan is where a bridge takes media.
type Plan struct {
	Mappings []Mapping
	// Loopback says loopback addresses are among the locals: only clients
	// on this host can use them (development, tests).
	Loopback bool
}

// Locals are the addresses the media port is bound on.
func (p Plan) Locals() []netip.Addr {
	out := make([]netip.Addr, 0, len(p.Mappings))
	for _, m := range p.Mappings {
		out = append(out, m.Local)
	}
	return out
}

// HasLocal reports whether ip is one of the plan's local addresses.
func (p Plan) HasLocal(ip netip.Addr) bool {
	return slices.Contains(p.Locals(), ip.Unmap())
}

// Advertised are the addresses clients are told.
func (p Plan) Advertised() []netip.Addr {
	var out []netip.Addr
	for _, m := range p.Mappings {
		out = append(out, m.Public...)
	}
	return out
}

// Translate gives the local address a public one stands for (a TURN relay
// on this host sends there instead of out through the NAT and back), and
// false when public is not translated.
func (p Plan) Translate(public netip.Addr) (netip.Addr, bool) {
	public = public.Unmap()
	for _, m := range p.Mappings {
		if m.NAT() && slices.Contains(m.Public, public) {
			return m.Local, true
		}
	}
	return netip.Addr{}, false
}

// String lists the plan for a log line: "10.0.0.5 as 203.0.113.7, 10.0.1.5".
func (p Plan) String() string {
	var parts []string
	for _, m := range p.Mappings {
		if !m.NAT() {
			parts = append(parts, m.Local.String())
			continue
		}
		var pubs []string
		for _, a := range m.Public {
			pubs = append(pubs, a.String())
		}
		parts = append(parts, m.Local.String()+" as "+strings.Join(pubs, " and "))
	}
	return strings.Join(parts, ", ")
}

// Options are the operator's choices.
type Options struct {
	// Public are the --public-ip entries: "P" or "P/LOCAL".
	Public []string
	// Listen is the address the node serves on when --listen or
	// --tls-listen names one (invalid for all addresses). A node that
	// serves on one address takes media there.
	Listen netip.Addr
	// Loopback asks for loopback candidates too (clients on this host).
	Loopback bool
}

// Host is what Resolve needs to know about the machine.
type Host struct {
	// Addrs are the interface addresses.
	Addrs []netip.Addr
	// Route gives the source address the kernel picks to reach dst.
	Route func(dst netip.Addr) (netip.Addr, error)
}

// System is this machine: its interface addresses, and routes looked up by
// connecting a UDP socket (which sends nothing).
func System() (Host, error) {
	ifaddrs, err := net.InterfaceAddrs()
	if err != nil {
		return Host{}, fmt.Errorf("mediaaddr: the host's addresses: %w", err)
	}
	var h Host
	for _, a := range ifaddrs {
		if ipn, ok := a.(*net.IPNet); ok {
			if ip, ok := netip.AddrFromSlice(ipn.IP); ok {
				h.Addrs = append(h.Addrs, ip.Unmap())
			}
		}
	}
	h.Route = func(dst netip.Addr) (netip.Addr, error) {
		c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(dst, 9)))
		if err != nil {
			return netip.Addr{}, err
		}
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).AddrPort().Addr().Unmap(), nil
	}
	return h, nil
}

// usable says whether clients could reach a local address at all.
func usable(a netip.Addr) bool {
	return a.IsValid() && !a.IsUnspecified() && !a.IsLinkLocalUnicast() && !a.IsMulticast() && a.Zone() == ""
}

// Resolve makes the plan for o on h. Every problem is an error naming the
// entry and what to give instead.
func Resolve(o Options, h Host) (Plan, error) {
	local := func(a netip.Addr) bool { return slices.Contains(h.Addrs, a) }
	var loopbacks, others []netip.Addr
	for _, a := range h.Addrs {
		switch {
		case !usable(a):
		case a.IsLoopback():
			loopbacks = append(loopbacks, a)
		default:
			others = append(others, a)
		}
	}
	var p Plan
	add := func(l, pub netip.Addr) {
		for i := range p.Mappings {
			if p.Mappings[i].Local == l {
				if !slices.Contains(p.Mappings[i].Public, pub) {
					p.Mappings[i].Public = append(p.Mappings[i].Public, pub)
				}
				return
			}
		}
		p.Mappings = append(p.Mappings, Mapping{Local: l, Public: []netip.Addr{pub}})
	}
	listen := o.Listen.Unmap()
	switch {
	case len(o.Public) > 0:
		for _, e := range o.Public {
			pub, l, err := resolveEntry(strings.TrimSpace(e), listen, h, local)
			if err != nil {
				return Plan{}, err
			}
			add(l, pub)
		}
	case listen.IsValid() && !listen.IsUnspecified() && !listen.IsLoopback():
		if !local(listen) {
			return Plan{}, fmt.Errorf("%w: --listen %s is not an address of this host", ErrPublicIP, listen)
		}
		add(listen, listen)
	default:
		for _, a := range others {
			add(a, a)
		}
	}
	if o.Loopback || len(p.Mappings) == 0 {
		// Asked for, or nothing else exists: a machine without a network
		// still holds meetings between its own browsers.
		for _, a := range loopbacks {
			add(a, a)
		}
	}
	if len(p.Mappings) == 0 {
		return Plan{}, fmt.Errorf("%w: this host has no address to take media on", ErrPublicIP)
	}
	for _, m := range p.Mappings {
		if m.Local.IsLoopback() {
			p.Loopback = true
		}
	}
	return p, nil
}

// resolveEntry reads one --public-ip entry and finds the local address it
// stands for.
func resolveEntry(e string, listen netip.Addr, h Host, local func(netip.Addr) bool) (pub, l netip.Addr, err error) {
	pubText, localText, pinned := strings.Cut(e, "/")
	pub, err = netip.ParseAddr(pubText)
	if err != nil || !usable(pub) {
		return pub, l, fmt.Errorf("%w: %q is not an address clients can reach (give 203.0.113.7, or 203.0.113.7/10.0.0.5 where a NAT translates the first to this host's second)", ErrPublicIP, e)
	}
	pub = pub.Unmap()
	sameFamily := func(a netip.Addr) bool { return a.Is4() == pub.Is4() }
	switch {
	case pinned:
		l, err = netip.ParseAddr(localText)
		if err != nil {
			return pub, l, fmt.Errorf("%w: %q: %q is not an IP address", ErrPublicIP, e, localText)
		}
		l = l.Unmap()
		if !local(l) {
			return pub, l, fmt.Errorf("%w: %q: %s is not an address of this host", ErrPublicIP, e, l)
		}
		if !sameFamily(l) {
			return pub, l, fmt.Errorf("%w: %q: the public and the local address must both be IPv4 or both IPv6", ErrPublicIP, e)
		}
		return pub, l, nil
	case local(pub):
		return pub, pub, nil
	case listen.IsValid() && !listen.IsUnspecified() && !listen.IsLoopback() && local(listen) && sameFamily(listen):
		// Behind 1:1 NAT, serving HTTP on the address the NAT translates to.
		return pub, listen, nil
	}
	if h.Route != nil {
		if r, err := h.Route(pub); err == nil && local(r) && usable(r) && !r.IsLoopback() && sameFamily(r) {
			// The address this host reaches the world from: a cloud VM's one
			// private address behind its provider's 1:1 NAT.
			return pub, r, nil
		}
	}
	return pub, l, fmt.Errorf("%w: %s is not an address of this host, and which of its addresses a NAT translates it to cannot be told: "+
		"give it as %s/LOCAL (for example %s/10.0.0.5)", ErrPublicIP, pub, pub, pub)
}
