// Package udpbatch sends UDP datagrams in batches. It wraps the sockets under
// pion's ICE UDP mux: while a batch of its Group is open, datagrams written
// to them are queued, and they leave together, with one sendmmsg(2) per
// socket, when the batch closes. The bridge opens a batch around the fan-out
// of one received packet, so the copies for all its subscribers cost one
// system call instead of one each, while SRTP, ICE and the mux stay pion's.
//
// Writes made while no batch is open (ICE, DTLS, RTCP, retransmissions)
// leave at once; those made while another goroutine's batch is open join
// that batch and leave when it closes, so nothing waits longer than the
// longest open batch. Queueing copies the datagram into a slot of a fixed
// ring, allocating nothing.
package udpbatch

import (
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/pion/transport/v5"
)

const (
	// maxBatch is how many datagrams one socket queues before it sends them
	// without waiting for the batch to close.
	maxBatch = 64
	// slotSize is the largest datagram that is queued; larger ones (none on
	// a path with a 1500-byte MTU) are sent at once.
	slotSize = 1500
)

// Group is a set of batching sockets that open and close batches together.
// Its zero value is not usable; a nil *Group batches nothing.
type Group struct {
	gso   bool // join runs to one address into segmented sends
	open  atomic.Int32
	mu    sync.Mutex
	conns atomic.Pointer[[]*Conn]

	batches   atomic.Uint64
	messages  atomic.Uint64
	datagrams atomic.Uint64
	dropped   atomic.Uint64
}

// NewGroup returns a group without sockets; Net adds them. With gso, a
// run of datagrams queued back to back for one address, all of one size
// but the last, leaves as one segmented send (UDP GSO) where the kernel
// supports it.
func NewGroup(gso bool) *Group {
	g := &Group{gso: gso}
	g.conns.Store(&[]*Conn{})
	return g
}

// Begin opens a batch: until the matching End, datagrams written to the
// group's sockets are queued. Batches may overlap; each Begin needs an End.
func (g *Group) Begin() {
	if g != nil {
		g.open.Add(1)
	}
}

// End closes a batch and sends what the group's sockets queued.
func (g *Group) End() {
	if g == nil {
		return
	}
	g.open.Add(-1)
	for _, c := range *g.conns.Load() {
		c.flush()
	}
}

// Stats are a group's totals since it was made.
type Stats struct {
	Batches   uint64 // system calls that sent queued datagrams
	Messages  uint64 // messages they carried: a segmented run (GSO) is one
	Datagrams uint64 // datagrams they sent
	Dropped   uint64 // queued datagrams the kernel refused
}

// Stats returns the group's totals.
func (g *Group) Stats() Stats {
	if g == nil {
		return Stats{}
	}
	return Stats{Batches: g.batches.Load(), Messages: g.messages.Load(), Datagrams: g.datagrams.Load(), Dropped: g.dropped.Load()}
}

func (g *Group) add(c *Conn) {
	g.mu.Lock()
	defer g.mu.Unlock()
	old := *g.conns.Load()
	next := append(append(make([]*Conn, 0, len(old)+1), old...), c)
	g.conns.Store(&next)
}

func (g *Group) remove(c *Conn) {
	g.mu.Lock()
	defer g.mu.Unlock()
	old := *g.conns.Load()
	next := make([]*Conn, 0, len(old))
	for _, x := range old {
		if x != c {
			next = append(next, x)
		}
	}
	g.conns.Store(&next)
}

// Net returns n with ListenUDP wrapped: the sockets it opens belong to the
// group. Pass it to ice.UDPMuxFromPortWithNet.
func (g *Group) Net(n transport.Net) transport.Net { return &groupNet{Net: n, g: g} }

type groupNet struct {
	transport.Net
	g *Group
}

func (n *groupNet) ListenUDP(network string, laddr *net.UDPAddr) (transport.UDPConn, error) {
	c, err := n.Net.ListenUDP(network, laddr)
	if err != nil {
		return nil, err
	}
	udp, ok := c.(*net.UDPConn)
	if !ok {
		return c, nil // not a kernel socket: nothing to batch
	}
	bc, err := newConn(udp, n.g)
	if err != nil {
		return c, nil //nolint:nilerr // a socket that cannot batch still works unbatched
	}
	return bc, nil
}

// Conn is a UDP socket of a Group. Besides net.PacketConn it has
// ReadFromAddrPort and WriteToAddrPort, which pion's UDP mux uses to avoid
// allocating addresses.
type Conn struct {
	*net.UDPConn
	g   *Group
	raw syscall.RawConn
	v4  bool // an AF_INET socket

	mu       sync.Mutex
	q        *queue // being filled
	flushing bool   // a flush is sending: new writes queue behind it

	sendMu sync.Mutex // serialises flushes, so datagrams leave in order
	spare  *queue     // being sent; guarded by sendMu
	sender
}

func newConn(udp *net.UDPConn, g *Group) (*Conn, error) {
	raw, err := udp.SyscallConn()
	if err != nil {
		return nil, err
	}
	la, _ := udp.LocalAddr().(*net.UDPAddr)
	c := &Conn{
		UDPConn: udp, g: g, raw: raw,
		v4: la != nil && la.IP.To4() != nil,
		q:  newQueue(), spare: newQueue(),
	}
	c.sender.init(c)
	g.add(c)
	return c, nil
}

// Close flushes nothing: queued datagrams are dropped with the socket.
func (c *Conn) Close() error {
	c.g.remove(c)
	return c.UDPConn.Close()
}

// ReadFromAddrPort reads a datagram.
func (c *Conn) ReadFromAddrPort(b []byte) (int, netip.AddrPort, error) {
	return c.UDPConn.ReadFromUDPAddrPort(b)
}

// WriteTo writes a datagram, queued if a batch is open.
func (c *Conn) WriteTo(b []byte, addr net.Addr) (int, error) {
	ua, ok := addr.(*net.UDPAddr)
	if !ok {
		return c.UDPConn.WriteTo(b, addr)
	}
	return c.WriteToUDP(b, ua)
}

// WriteToUDP writes a datagram, queued if a batch is open.
func (c *Conn) WriteToUDP(b []byte, addr *net.UDPAddr) (int, error) {
	if addr.Zone != "" {
		return c.UDPConn.WriteToUDP(b, addr)
	}
	return c.WriteToAddrPort(b, addr.AddrPort())
}

// WriteToUDPAddrPort writes a datagram, queued if a batch is open.
func (c *Conn) WriteToUDPAddrPort(b []byte, addr netip.AddrPort) (int, error) {
	return c.WriteToAddrPort(b, addr)
}

// WriteToAddrPort writes a datagram: at once when no batch is open and
// nothing is queued, else into the queue, which the next End sends.
func (c *Conn) WriteToAddrPort(b []byte, addr netip.AddrPort) (int, error) {
	if len(b) > slotSize || !c.queueable(addr) {
		return c.UDPConn.WriteToUDPAddrPort(b, addr)
	}
	c.mu.Lock()
	for {
		if c.q.n == 0 && !c.flushing && c.g.open.Load() == 0 {
			c.mu.Unlock()
			return c.UDPConn.WriteToUDPAddrPort(b, addr)
		}
		if c.q.n < maxBatch {
			break
		}
		c.mu.Unlock()
		c.flush()
		c.mu.Lock()
	}
	c.q.put(b, addr, c.v4)
	c.mu.Unlock()
	return len(b), nil
}

// queueable reports whether the socket's address family can carry addr
// without a zone (a link-local scope), which the queue does not keep.
func (c *Conn) queueable(addr netip.AddrPort) bool {
	a := addr.Addr()
	if a.Zone() != "" {
		return false
	}
	return !c.v4 || a.Unmap().Is4()
}

// flush sends what is queued, and what is queued meanwhile, in order.
func (c *Conn) flush() {
	c.mu.Lock()
	empty := c.q.n == 0
	c.mu.Unlock()
	if empty {
		return
	}
	c.sendMu.Lock()
	defer c.sendMu.Unlock()
	for {
		c.mu.Lock()
		if c.q.n == 0 {
			c.flushing = false
			c.mu.Unlock()
			return
		}
		c.q, c.spare = c.spare, c.q
		c.flushing = true
		c.mu.Unlock()
		calls, msgs, dropped := c.send(c.spare)
		c.g.batches.Add(uint64(calls))
		c.g.messages.Add(uint64(msgs))
		c.g.datagrams.Add(uint64(c.spare.n))
		if dropped > 0 {
			c.g.dropped.Add(uint64(dropped))
		}
		c.spare.n = 0
	}
}

// queue is a fixed ring of datagram slots.
type queue struct {
	n     int
	bufs  [maxBatch][slotSize]byte
	lens  [maxBatch]int
	addrs [maxBatch]netip.AddrPort
	sys   sysQueue // what the system call needs, built as datagrams are put
}

func newQueue() *queue {
	q := &queue{}
	q.sys.init(q)
	return q
}

func (q *queue) put(b []byte, addr netip.AddrPort, v4 bool) {
	i := q.n
	q.lens[i] = copy(q.bufs[i][:], b)
	q.addrs[i] = addr
	q.sys.put(i, q.lens[i], addr, v4)
	q.n++
}
