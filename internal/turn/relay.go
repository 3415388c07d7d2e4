package turn

import (
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/turn/v5"
)

// relays hands out the relay sockets of allocations (pion's
// RelayAddressGenerator) and keeps what the limits need about each: whose
// it is, which peers it may hear from, and its counters.
type relays struct {
	ports      *turn.RelayAddressGeneratorPortRange
	self       Self
	maxPerUser int   // 0: no cap
	bitrate    int64 // per direction, bits/s; 0: no cap
	log        *slog.Logger
	totals     *totals

	mu      sync.Mutex
	byAddr  map[netip.AddrPort]*relayConn
	perUser map[string]int
}

func (r *relays) Validate() error { return r.ports.Validate() }

// underQuota is pion's QuotaHandler: a user at its cap gets 486
// (Allocation Quota Reached) before any socket is opened.
func (r *relays) underQuota(user, _ string, src net.Addr) bool {
	r.mu.Lock()
	ok := r.maxPerUser <= 0 || r.perUser[user] < r.maxPerUser
	r.mu.Unlock()
	if !ok {
		r.totals.refusedQuota.Add(1)
		r.log.Info("turn: allocation refused", "reason", "quota", "user", user, "client", src.String(), "max", r.maxPerUser)
	}
	return ok
}

// AllocatePacketConn opens a UDP relay socket in the port range. The cap is
// checked again here, with the count taken under the same lock, so that
// allocations racing on several connections cannot pass it together.
func (r *relays) AllocatePacketConn(conf turn.AllocateListenerConfig) (net.PacketConn, net.Addr, error) {
	if conf.UserID == "" {
		// pion's probe for a free even port: closed at once, not an allocation.
		return r.ports.AllocatePacketConn(conf)
	}
	r.mu.Lock()
	if r.maxPerUser > 0 && r.perUser[conf.UserID] >= r.maxPerUser {
		r.mu.Unlock()
		r.totals.refusedQuota.Add(1)
		return nil, nil, ErrQuota
	}
	r.perUser[conf.UserID]++
	r.mu.Unlock()

	pc, addr, err := r.ports.AllocatePacketConn(conf)
	if err != nil {
		r.release(conf.UserID)
		r.log.Warn("turn: no relay port free", "user", conf.UserID, "err", err)
		return nil, nil, err
	}
	ua, ok := addr.(*net.UDPAddr)
	if !ok {
		_ = pc.Close()
		r.release(conf.UserID)
		return nil, nil, ErrConfig
	}
	now := time.Now()
	c := &relayConn{
		PacketConn: pc, owner: r, user: conf.UserID, key: ua.AddrPort(),
		in: newBucket(r.bitrate, now), out: newBucket(r.bitrate, now),
	}
	r.mu.Lock()
	r.byAddr[c.key] = c
	r.mu.Unlock()
	r.totals.allocations.Add(1)
	return c, addr, nil
}

// AllocateListener would open a TCP relay (RFC 6062). WebRTC never asks for
// one, and each would be a TCP proxy into the network, so none is offered.
func (r *relays) AllocateListener(turn.AllocateListenerConfig) (net.Listener, net.Addr, error) {
	return nil, nil, ErrTCPRelay
}

// AllocateConn would dial a peer for a TCP relay; see AllocateListener.
func (r *relays) AllocateConn(turn.AllocateConnConfig) (net.Conn, error) {
	return nil, ErrTCPRelay
}

func (r *relays) release(user string) {
	r.mu.Lock()
	if r.perUser[user]--; r.perUser[user] <= 0 {
		delete(r.perUser, user)
	}
	r.mu.Unlock()
}

// permit follows pion's permissions (CreatePermission, ChannelBind and
// their expiry) so that a relay socket drops what no permission admits
// before it costs the allocation's bitrate.
func (r *relays) permit(relay net.Addr, peer net.IP, granted bool) {
	ua, ok := relay.(*net.UDPAddr)
	if !ok {
		return
	}
	ip, ok := netip.AddrFromSlice(peer)
	if !ok {
		return
	}
	r.mu.Lock()
	c := r.byAddr[ua.AddrPort()]
	r.mu.Unlock()
	if c != nil {
		c.setPermitted(ip.Unmap(), granted)
	}
}

// active returns the open relay sockets, for Stats.
func (r *relays) active() []*relayConn {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]*relayConn, 0, len(r.byAddr))
	for _, c := range r.byAddr {
		out = append(out, c)
	}
	return out
}

// relayConn is an allocation's relay socket. ReadFrom carries packets from
// peers to the client, WriteTo from the client to peers; each direction has
// its own bitrate cap. Counters are the allocation's own and are summed
// when Stats is read, so no counter is shared across allocations.
type relayConn struct {
	net.PacketConn
	owner *relays
	user  string
	key   netip.AddrPort

	in, out   *bucket
	permitted atomic.Pointer[[]netip.Addr] // copy on write
	// translated maps the local media addresses this relay sent to in
	// place of the node's public ones back to them, for replies.
	translated sync.Map // netip.AddrPort → netip.AddrPort

	packetsIn, bytesIn, packetsOut, bytesOut, dropped atomic.Uint64
	droppedSelf                                       atomic.Uint64
	closeOnce                                         sync.Once
	closeErr                                          error
}

func (c *relayConn) ReadFrom(p []byte) (int, net.Addr, error) {
	for {
		n, from, err := c.PacketConn.ReadFrom(p)
		if err != nil {
			return n, from, err
		}
		ua, ok := from.(*net.UDPAddr)
		if !ok {
			continue
		}
		src := netip.AddrPortFrom(ua.AddrPort().Addr().Unmap(), ua.AddrPort().Port())
		if pub, ok := c.translated.Load(src); ok {
			src = pub.(netip.AddrPort)
			from = net.UDPAddrFromAddrPort(src)
		}
		if !c.permits(src.Addr()) {
			continue // pion would drop it too
		}
		if r := c.owner; r.self.own(src.Addr()) && !r.self.mediaPort(src.Port()) {
			c.refused(src)
			continue
		}
		if !c.in.allow(n, time.Now()) {
			c.dropped.Add(1)
			continue
		}
		c.packetsIn.Add(1)
		c.bytesIn.Add(uint64(n))
		return n, from, nil
	}
}

func (c *relayConn) WriteTo(p []byte, to net.Addr) (int, error) {
	if ua, ok := to.(*net.UDPAddr); ok {
		dst := netip.AddrPortFrom(ua.AddrPort().Addr().Unmap(), ua.AddrPort().Port())
		if self := c.owner.self; self.own(dst.Addr()) {
			if !self.mediaPort(dst.Port()) {
				c.refused(dst)
				return len(p), nil // dropped, as a firewall would
			}
			if self.Translate != nil {
				if l, ok := self.Translate(dst.Addr()); ok {
					local := netip.AddrPortFrom(l, dst.Port())
					c.translated.Store(local, dst)
					to = net.UDPAddrFromAddrPort(local)
				}
			}
		}
	}
	if !c.out.allow(len(p), time.Now()) {
		c.dropped.Add(1)
		return len(p), nil // dropped like on a congested link, not an error
	}
	n, err := c.PacketConn.WriteTo(p, to)
	if err == nil {
		c.packetsOut.Add(1)
		c.bytesOut.Add(uint64(n))
	}
	return n, err
}

// Close retires the allocation: its user's count goes down and its
// counters go to the totals. Both the server and pion close relays, so a
// second Close is not an error.
func (c *relayConn) Close() error {
	c.closeOnce.Do(func() {
		r := c.owner
		r.mu.Lock()
		delete(r.byAddr, c.key)
		r.mu.Unlock()
		r.release(c.user)
		t := r.totals
		t.packetsIn.Add(c.packetsIn.Swap(0))
		t.bytesIn.Add(c.bytesIn.Swap(0))
		t.packetsOut.Add(c.packetsOut.Swap(0))
		t.bytesOut.Add(c.bytesOut.Swap(0))
		t.dropped.Add(c.dropped.Swap(0))
		t.droppedSelf.Add(c.droppedSelf.Swap(0))
		c.closeErr = c.PacketConn.Close()
	})
	return c.closeErr
}

// refused counts a packet to or from a port of the node's own that is not
// a media port, and logs the first of each allocation.
func (c *relayConn) refused(peer netip.AddrPort) {
	if c.droppedSelf.Add(1) == 1 {
		c.owner.log.Info("turn: relay to this node refused", "peer", peer.String(), "class", ClassSelf,
			"user", c.user, "reason", "only the bridge's media port may be reached on the node's own addresses")
	}
}

func (c *relayConn) permits(ip netip.Addr) bool {
	if l := c.permitted.Load(); l != nil {
		return slices.Contains(*l, ip)
	}
	return false
}

func (c *relayConn) setPermitted(ip netip.Addr, granted bool) {
	for {
		old := c.permitted.Load()
		var cur []netip.Addr
		if old != nil {
			cur = *old
		}
		has := slices.Contains(cur, ip)
		if has == granted {
			return
		}
		var next []netip.Addr
		if granted {
			next = append(slices.Clone(cur), ip)
		} else {
			next = slices.DeleteFunc(slices.Clone(cur), func(a netip.Addr) bool { return a == ip })
		}
		if c.permitted.CompareAndSwap(old, &next) {
			return
		}
	}
}
