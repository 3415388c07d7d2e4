package netns

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"strings"
)

// Firewall is what a branch's firewall, on the host's end of its link, lets
// through between the branch and the host.
type Firewall int

const (
	// FirewallOpen lets everything through.
	FirewallOpen Firewall = iota
	// FirewallNoUDP lets no UDP through, in either direction: the branch
	// may send no UDP to the host and receives none from it.
	FirewallNoUDP
	// FirewallTCPOnly lets the branch open TCP connections to the ports in
	// BranchOptions.TCPPorts on the host and nothing else; the replies of
	// those connections come back. Anything the host starts toward the
	// branch is dropped.
	FirewallTCPOnly
)

// NATKind is how a branch's clients are seen from the host.
type NATKind int

const (
	// NATNone: the client's own address is routable from the host.
	NATNone NATKind = iota
	// NATSymmetric: the clients sit behind a router namespace that
	// masquerades with endpoint-dependent mapping (fully random ports), so
	// each destination sees a new source port: the NAT that defeats
	// server-reflexive candidates and needs a relay.
	NATSymmetric
)

// BranchOptions describe a branch's network. The zero value is an open,
// unshaped, routable branch.
type BranchOptions struct {
	Firewall Firewall
	// TCPPorts are the host's ports that a FirewallTCPOnly branch may
	// connect to, such as the node's TLS port.
	TCPPorts []int
	// DownRate, a tc rate such as "1mbit" or "500kbit", limits what the
	// branch receives (a token bucket on the host's end of the link).
	DownRate string
	NAT      NATKind
}

// check rejects options that cannot mean what the test wants.
func (o BranchOptions) check() error {
	switch o.Firewall {
	case FirewallOpen, FirewallNoUDP:
		if len(o.TCPPorts) > 0 {
			return errors.New("TCPPorts is only for FirewallTCPOnly")
		}
	case FirewallTCPOnly:
		if len(o.TCPPorts) == 0 {
			return errors.New("FirewallTCPOnly needs the TCPPorts the branch may reach")
		}
		for _, p := range o.TCPPorts {
			if p < 1 || p > 65535 {
				return fmt.Errorf("TCP port %d out of range", p)
			}
		}
	default:
		return fmt.Errorf("unknown firewall %d", o.Firewall)
	}
	if o.NAT != NATNone && o.NAT != NATSymmetric {
		return fmt.Errorf("unknown NAT kind %d", o.NAT)
	}
	return nil
}

// Branch is one "other host": a namespace joined to the host by a veth pair,
// its default route via the host's end.
type Branch struct {
	lab    *Lab
	name   string
	ns     string // the clients' namespace
	router string // the NAT router's namespace, with NATSymmetric
	link   string // the host's end of the link

	hostIP netip.Addr // on link
	ip     netip.Addr // the client's address in ns
	source netip.Addr // what the host sees as the branch's source address
}

// Branch makes a branch with the given options. name is for people: it
// appears in the namespace's name.
func (l *Lab) Branch(name string, o BranchOptions) *Branch {
	l.t.Helper()
	b, err := l.branch(name, o)
	if err != nil {
		l.t.Fatalf("netns: branch %s: %v", name, err)
	}
	return b
}

func (l *Lab) branch(name string, o BranchOptions) (*Branch, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	var rate float64
	if o.DownRate != "" {
		r, err := tcRate(o.DownRate)
		if err != nil {
			return nil, err
		}
		rate = r
	}
	b := &Branch{lab: l, name: name}
	var err error
	if b.ns, err = l.namespace(label(name)); err != nil {
		return nil, err
	}
	edge := b.ns // the namespace at the far end of the host's link
	if o.NAT == NATSymmetric {
		if b.router, err = l.namespace(label(name) + "-nat"); err != nil {
			return nil, err
		}
		edge = b.router
	}

	b.link = linkName('v')
	if err := run("ip", "link", "add", b.link, "type", "veth", "peer", "name", "eth0", "netns", edge); err != nil {
		return nil, err
	}
	l.made("link "+b.link, b.link, func() error { return run("ip", "link", "del", b.link) })

	var outer, inner netip.Prefix
	err = withAddrLock(func(used []netip.Prefix) error {
		var err error
		if outer, err = pick(&used, labNet, 30); err != nil {
			return err
		}
		if o.NAT == NATSymmetric {
			// Behind the router, seen by no one else; kept apart from the
			// host's subnets all the same, to keep traces unambiguous.
			if inner, err = pick(&used, labNet, 30); err != nil {
				return err
			}
		}
		return run("ip", "addr", "add", prefixOf(host(outer, 1), 30), "dev", b.link)
	})
	if err != nil {
		return nil, err
	}
	b.hostIP, b.source, b.ip = host(outer, 1), host(outer, 2), host(outer, 2)
	cmds := [][]string{
		{"ip", "link", "set", b.link, "up"},
		{"ip", "-n", edge, "addr", "add", prefixOf(b.source, 30), "dev", "eth0"},
		{"ip", "-n", edge, "link", "set", "eth0", "up"},
		{"ip", "-n", edge, "route", "add", "default", "via", b.hostIP.String()},
	}
	if o.NAT == NATSymmetric {
		b.ip = host(inner, 2)
		gw := host(inner, 1)
		cmds = append(cmds,
			[]string{"ip", "-n", b.router, "link", "add", "eth1", "type", "veth", "peer", "name", "eth0", "netns", b.ns},
			[]string{"ip", "-n", b.router, "addr", "add", prefixOf(gw, 30), "dev", "eth1"},
			[]string{"ip", "-n", b.router, "link", "set", "eth1", "up"},
			[]string{"ip", "-n", b.ns, "addr", "add", prefixOf(b.ip, 30), "dev", "eth0"},
			[]string{"ip", "-n", b.ns, "link", "set", "eth0", "up"},
			[]string{"ip", "-n", b.ns, "route", "add", "default", "via", gw.String()},
		)
	}
	if rate > 0 {
		cmds = append(cmds, []string{"tc", "qdisc", "add", "dev", b.link, "root", "tbf",
			"rate", o.DownRate, "burst", strconv.Itoa(burst(rate)), "latency", "50ms"})
	}
	for _, c := range cmds {
		if err := run(c[0], c[1:]...); err != nil {
			return nil, err
		}
	}
	if o.NAT == NATSymmetric {
		if err := b.startRouter(); err != nil {
			return nil, err
		}
	}
	if err := nft(branchRules(l.table, b.link, o)); err != nil {
		return nil, fmt.Errorf("firewall: %w", err)
	}
	return b, nil
}

// startRouter makes the router namespace a symmetric NAT: it forwards,
// masquerades what leaves toward the host with a fresh random port per
// flow, and lets in from the host only what answers a flow of its clients.
func (b *Branch) startRouter() error {
	err := inNamespace(b.router, func() error {
		return os.WriteFile("/proc/sys/net/ipv4/ip_forward", []byte("1"), 0)
	})
	if err != nil {
		return fmt.Errorf("enabling forwarding in %s: %w", b.router, err)
	}
	const script = `table ip nat {
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "eth0" masquerade fully-random
	}
}
table ip filter {
	chain forward {
		type filter hook forward priority filter; policy accept;
		iifname "eth0" ct state established,related accept
		iifname "eth0" drop
	}
}
`
	if _, err := output([]byte(script), "ip", "netns", "exec", b.router, "nft", "-f", "-"); err != nil {
		return fmt.Errorf("NAT in %s: %w", b.router, err)
	}
	return nil
}

// branchRules are the host's rules for one branch's link: the firewall the
// options ask for, and a guard that lets nothing of the branch's cross the
// host to addresses outside the lab's range.
func branchRules(table, link string, o BranchOptions) string {
	var b strings.Builder
	add := func(chain, rule string) { fmt.Fprintf(&b, "add rule inet %s %s %s\n", table, chain, rule) }
	in, out := fmt.Sprintf("iifname %q", link), fmt.Sprintf("oifname %q", link)

	add("forward", in+" meta nfproto ipv6 drop")
	add("forward", in+" ip daddr != "+labNet.String()+" drop")
	add("forward", out+" ip saddr != "+labNet.String()+" drop")
	switch o.Firewall {
	case FirewallNoUDP:
		for _, c := range []string{"input", "forward"} {
			add(c, in+" meta l4proto udp drop")
		}
		for _, c := range []string{"output", "forward"} {
			add(c, out+" meta l4proto udp drop")
		}
	case FirewallTCPOnly:
		ports := make([]string, len(o.TCPPorts))
		for i, p := range o.TCPPorts {
			ports[i] = strconv.Itoa(p)
		}
		for _, c := range []string{"input", "forward"} {
			add(c, in+" ct state established,related accept")
			add(c, in+" tcp dport { "+strings.Join(ports, ", ")+" } accept")
			add(c, in+" drop")
		}
		for _, c := range []string{"output", "forward"} {
			add(c, out+" ct state established,related accept")
			add(c, out+" drop")
		}
	}
	return b.String()
}

// tcRate reads a tc rate ("1mbit", "500kbit", "2mbps") as bits per second.
func tcRate(s string) (float64, error) {
	units := []struct {
		suffix string
		bits   float64
	}{
		{"gbit", 1e9}, {"mbit", 1e6}, {"kbit", 1e3}, {"gbps", 8e9}, {"mbps", 8e6}, {"kbps", 8e3}, {"bps", 8}, {"bit", 1},
	}
	for _, u := range units {
		if num, ok := strings.CutSuffix(strings.ToLower(s), u.suffix); ok {
			v, err := strconv.ParseFloat(num, 64)
			if err != nil || v <= 0 {
				break
			}
			return v * u.bits, nil
		}
	}
	return 0, fmt.Errorf("DownRate %q is not a tc rate such as 1mbit or 500kbit", s)
}

// burst is the token bucket's size in bytes for a rate: 10 ms of it, and at
// least a few full-size packets.
func burst(rate float64) int {
	return max(4000, int(rate/8/100))
}

// prefixOf writes an address with a prefix length, as ip addr add wants it.
func prefixOf(a netip.Addr, bits int) string {
	return netip.PrefixFrom(a, bits).String()
}

// Name is the name the branch was made with.
func (b *Branch) Name() string { return b.name }

// Namespace is the name of the clients' network namespace, for ip netns exec.
func (b *Branch) Namespace() string { return b.ns }

// HostLink is the name of the host's end of the branch's link (with
// NATSymmetric, of the router's link), where its firewall and rate limit sit.
func (b *Branch) HostLink() string { return b.link }

// HostIP is the host's end of the branch's link: a node listening here is
// reachable from the branch.
func (b *Branch) HostIP() netip.Addr { return b.hostIP }

// IP is the client's address inside the branch's namespace.
func (b *Branch) IP() netip.Addr { return b.ip }

// SourceIP is the address the host sees the branch's traffic come from: IP,
// or with NATSymmetric the router's address.
func (b *Branch) SourceIP() netip.Addr { return b.source }
