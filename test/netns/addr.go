package netns

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// Address pools: lab subnets come from labNet, public addresses of nodes
// behind 1:1 NAT from publicNet (TEST-NET-3, a documentation range that
// nothing on the Internet answers to).
var (
	labNet    = netip.MustParsePrefix("10.250.0.0/16")
	publicNet = netip.MustParsePrefix("203.0.113.0/24")
)

// lockPath is the file whose flock serialises address allocation across
// test processes, from picking a free address to putting it on a link.
const (
	lockPath    = "/run/parley-netns.lock"
	lockTimeout = 30 * time.Second
)

// withAddrLock runs fn holding the allocation lock. A free address is one
// that no interface and no route of the host uses, so fn must put what it
// picks on a link or route before it returns.
func withAddrLock(fn func(used []netip.Prefix) error) error {
	f, err := os.OpenFile(lockPath, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return fmt.Errorf("opening the address lock: %w", err)
	}
	defer f.Close() // releases the lock
	deadline := time.Now().Add(lockTimeout)
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, unix.EWOULDBLOCK) {
			return fmt.Errorf("locking %s: %w", lockPath, err)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s still locked after %v", lockPath, lockTimeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
	used, err := usedPrefixes()
	if err != nil {
		return err
	}
	return fn(used)
}

// usedPrefixes lists the IPv4 addresses (as /32s) and subnets of the host's
// interfaces and the destinations of its routes.
func usedPrefixes() ([]netip.Prefix, error) {
	out, err := output(nil, "ip", "-j", "-4", "addr", "show")
	if err != nil {
		return nil, err
	}
	var links []struct {
		Addrs []struct {
			Local     string `json:"local"`
			PrefixLen int    `json:"prefixlen"`
		} `json:"addr_info"`
	}
	if err := json.Unmarshal(out, &links); err != nil {
		return nil, fmt.Errorf("reading ip -j addr show: %w", err)
	}
	var used []netip.Prefix
	for _, ln := range links {
		for _, a := range ln.Addrs {
			ip, err := netip.ParseAddr(a.Local)
			if err != nil {
				continue
			}
			used = append(used, netip.PrefixFrom(ip, 32))
			if p, err := ip.Prefix(a.PrefixLen); err == nil {
				used = append(used, p)
			}
		}
	}

	out, err = output(nil, "ip", "-j", "-4", "route", "show", "table", "all")
	if err != nil {
		return nil, err
	}
	var routes []struct {
		Dst string `json:"dst"`
	}
	if err := json.Unmarshal(out, &routes); err != nil {
		return nil, fmt.Errorf("reading ip -j route show: %w", err)
	}
	for _, r := range routes {
		if p, err := netip.ParsePrefix(r.Dst); err == nil {
			used = append(used, p)
		} else if ip, err := netip.ParseAddr(r.Dst); err == nil {
			used = append(used, netip.PrefixFrom(ip, 32))
		}
	}
	return used, nil
}

// pick chooses a random free prefix of the given length in pool and adds it
// to used. Prefixes wider than the pool (a default route, a 10.0.0.0/8 on
// the host's own network) do not count as using it: the lab's more specific
// routes win on this host, and no lab traffic leaves it.
func pick(used *[]netip.Prefix, pool netip.Prefix, bits int) (netip.Prefix, error) {
	n := 1 << (bits - pool.Bits())
	free := func(i int, c netip.Prefix) bool {
		if i == 0 || (bits == 32 && i == n-1) {
			return false // the pool's network and broadcast addresses
		}
		for _, u := range *used {
			if u.Bits() >= pool.Bits() && u.Overlaps(c) {
				return false
			}
		}
		return true
	}
	base := binary.BigEndian.Uint32(pool.Masked().Addr().AsSlice())
	start := rand.IntN(n) // random, so that a freed subnet is not reused at once
	for k := range n {
		i := (start + k) % n
		var a [4]byte
		binary.BigEndian.PutUint32(a[:], base+uint32(i)<<(32-bits))
		c := netip.PrefixFrom(netip.AddrFrom4(a), bits)
		if free(i, c) {
			*used = append(*used, c)
			return c, nil
		}
	}
	return netip.Prefix{}, fmt.Errorf("no free /%d left in %s", bits, pool)
}

// host returns the i-th address of the subnet (1 for a /30's first host).
func host(p netip.Prefix, i int) netip.Addr {
	a := p.Masked().Addr()
	for range i {
		a = a.Next()
	}
	return a
}

// stubLink returns the host end of the lab's stub, a veth pair that holds
// the host's extra addresses: the host end carries them, the other end sits
// alone in a namespace of the lab and swallows what is routed to it. (A
// dummy link would do, but not every kernel has the dummy driver; every
// kernel that runs labs has veth.) It is made on first use.
func (l *Lab) stubLink() (string, error) {
	l.stubMu.Lock()
	defer l.stubMu.Unlock()
	if l.stub != "" {
		return l.stub, nil
	}
	ns, err := l.namespace("addrs")
	if err != nil {
		return "", err
	}
	link := linkName('a')
	if err := run("ip", "link", "add", link, "type", "veth", "peer", "name", "eth0", "netns", ns); err != nil {
		return "", err
	}
	l.made("link "+link, link, func() error { return run("ip", "link", "del", link) })
	for _, args := range [][]string{
		{"ip", "link", "set", link, "up"},
		{"ip", "-n", ns, "link", "set", "eth0", "up"},
	} {
		if err := run(args[0], args[1:]...); err != nil {
			return "", err
		}
	}
	l.stub = link
	return link, nil
}

// LocalAddr gives the host an extra address of its own, with no NAT, for a
// node that listens on its own address. Every branch reaches it.
func (l *Lab) LocalAddr() netip.Addr {
	l.t.Helper()
	a, err := l.localAddr()
	if err != nil {
		l.t.Fatalf("netns: local address: %v", err)
	}
	return a
}

func (l *Lab) localAddr() (netip.Addr, error) {
	link, err := l.stubLink()
	if err != nil {
		return netip.Addr{}, err
	}
	var a netip.Addr
	err = withAddrLock(func(used []netip.Prefix) error {
		p, err := pick(&used, labNet, 30)
		if err != nil {
			return err
		}
		a = host(p, 1)
		return run("ip", "addr", "add", a.String()+"/32", "dev", link)
	})
	return a, err
}

// NATNode gives the host a private address and a public one (from
// 203.0.113.0/24) translated 1:1 to it, as a cloud VM behind 1:1 NAT has: a
// node listens on private and announces public. Branches reach public
// through DNAT in prerouting; the host itself reaches it through DNAT in
// output (hairpin). Replies appear to come from public.
func (l *Lab) NATNode() (public, private netip.Addr) {
	l.t.Helper()
	public, private, err := l.natNode()
	if err != nil {
		l.t.Fatalf("netns: NAT node: %v", err)
	}
	return public, private
}

func (l *Lab) natNode() (public, private netip.Addr, err error) {
	if err := l.natChains(); err != nil {
		return public, private, err
	}
	if private, err = l.localAddr(); err != nil {
		return public, private, err
	}
	link, err := l.stubLink()
	if err != nil {
		return public, private, err
	}
	// The route to public through the stub marks the address as used, makes
	// the host's own connections to it start from private, and sends them
	// into the stub, not out to the world, should the DNAT ever fail.
	err = withAddrLock(func(used []netip.Prefix) error {
		p, err := pick(&used, publicNet, 32)
		if err != nil {
			return err
		}
		public = p.Addr()
		return run("ip", "route", "add", public.String()+"/32", "dev", link, "src", private.String())
	})
	if err != nil {
		return public, private, err
	}
	// In prerouting only traffic from the lab's range is translated, never
	// what arrives from the host's real networks.
	rules := fmt.Sprintf("add rule inet %[1]s prerouting ip saddr %[2]s ip daddr %[3]s dnat ip to %[4]s\n"+
		"add rule inet %[1]s output_nat ip daddr %[3]s dnat ip to %[4]s\n", l.table, labNet, public, private)
	if err := nft(rules); err != nil {
		return public, private, fmt.Errorf("DNAT %s to %s: %w", public, private, err)
	}
	return public, private, nil
}

// natChains adds the nat chains to the lab's table on first use.
func (l *Lab) natChains() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.natOn {
		return nil
	}
	script := fmt.Sprintf(`table inet %[1]s {
	chain prerouting { type nat hook prerouting priority -100; policy accept; }
	chain output_nat { type nat hook output priority -100; policy accept; }
}
`, l.table)
	if err := nft(script); err != nil {
		return fmt.Errorf("nat chains (does the kernel have nf_nat?): %w", err)
	}
	l.natOn = true
	return nil
}
