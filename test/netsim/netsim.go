// Package netsim impairs a Go client's network in process: random loss, a
// bottleneck of limited rate with a bounded queue, and added delay, applied
// to every UDP packet the client receives. It plugs into pion through
// SettingEngine.SetNet, so the impairment sits below ICE, DTLS and SRTP,
// where a real network's would.
package netsim

import (
	"errors"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/transport/v5"
	"github.com/pion/transport/v5/stdnet"
)

// Link is the impairment of one client's downlink. Its settings may change
// while traffic flows.
type Link struct {
	mu       sync.Mutex
	loss     float64
	rate     int // bits per second; 0 = unlimited
	delay    time.Duration
	maxQueue time.Duration // tail drop beyond this much queueing
	rng      *rand.Rand
	// next is when the bottleneck is free again.
	next time.Time
	// OnDrop, when set, sees every dropped packet (before it is dropped).
	onDrop func([]byte)

	Delivered   atomic.Uint64
	DroppedLoss atomic.Uint64 // dropped by random loss
	DroppedFull atomic.Uint64 // dropped because the bottleneck queue was full
}

// NewLink makes a link with no impairment. seed makes the loss pattern
// repeatable.
func NewLink(seed uint64) *Link {
	return &Link{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), maxQueue: 200 * time.Millisecond}
}

// SetLoss sets the probability that a packet is dropped at random.
func (l *Link) SetLoss(p float64) { l.mu.Lock(); l.loss = p; l.mu.Unlock() }

// SetRate sets the bottleneck's rate in bits per second; 0 lifts it.
func (l *Link) SetRate(bps int) { l.mu.Lock(); l.rate = bps; l.mu.Unlock() }

// SetDelay adds a fixed one-way delay.
func (l *Link) SetDelay(d time.Duration) { l.mu.Lock(); l.delay = d; l.mu.Unlock() }

// SetMaxQueue bounds the bottleneck's queue, as time to drain it.
func (l *Link) SetMaxQueue(d time.Duration) { l.mu.Lock(); l.maxQueue = d; l.mu.Unlock() }

// OnDrop registers fn to see each dropped packet.
func (l *Link) OnDrop(fn func([]byte)) { l.mu.Lock(); l.onDrop = fn; l.mu.Unlock() }

// admit decides a packet's fate: its delivery time, or false to drop it.
func (l *Link) admit(pkt []byte, now time.Time) (time.Time, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.loss > 0 && l.rng.Float64() < l.loss {
		l.DroppedLoss.Add(1)
		l.dropped(pkt)
		return time.Time{}, false
	}
	at := now
	if l.rate > 0 {
		start := now
		if l.next.After(start) {
			start = l.next
		}
		if start.Sub(now) > l.maxQueue {
			l.DroppedFull.Add(1)
			l.dropped(pkt)
			return time.Time{}, false
		}
		// Count IP and UDP headers too, as a real bottleneck would.
		l.next = start.Add(time.Duration(int64(len(pkt)+28) * 8 * int64(time.Second) / int64(l.rate)))
		at = l.next
	}
	l.Delivered.Add(1)
	return at.Add(l.delay), true
}

func (l *Link) dropped(pkt []byte) {
	if l.onDrop != nil {
		l.onDrop(pkt)
	}
}

// Net is a pion transport.Net whose UDP sockets receive through a Link.
type Net struct {
	*stdnet.Net
	link *Link
}

// NewNet wraps the host's network with link.
func NewNet(link *Link) (*Net, error) {
	n, err := stdnet.NewNet()
	if err != nil {
		return nil, err
	}
	return &Net{Net: n, link: link}, nil
}

// ListenUDP opens an impaired UDP socket.
func (n *Net) ListenUDP(network string, laddr *net.UDPAddr) (transport.UDPConn, error) {
	c, err := n.Net.ListenUDP(network, laddr)
	if err != nil {
		return nil, err
	}
	return newConn(c, n.link), nil
}

// ListenPacket opens an impaired UDP socket.
func (n *Net) ListenPacket(network, address string) (net.PacketConn, error) {
	addr, err := net.ResolveUDPAddr(network, address)
	if err != nil {
		return nil, err
	}
	return n.ListenUDP(network, addr)
}

type packet struct {
	data []byte
	from net.Addr
	at   time.Time
}

// conn delivers received packets through the link: a reader goroutine
// takes them off the socket as they arrive, and ReadFrom hands them out at
// their delivery times. Close ends a ReadFrom that waits, however full the
// queue.
type conn struct {
	transport.UDPConn
	link   *Link
	queue  chan packet
	closed chan struct{}
	once   sync.Once
	err    atomic.Pointer[error]
}

func newConn(c transport.UDPConn, link *Link) *conn {
	w := &conn{UDPConn: c, link: link, queue: make(chan packet, 8192), closed: make(chan struct{})}
	go w.pump()
	return w
}

func (c *conn) pump() {
	buf := make([]byte, 1<<16)
	for {
		n, from, err := c.UDPConn.ReadFrom(buf)
		if err != nil {
			c.err.Store(&err)
			c.Close()
			return
		}
		at, ok := c.link.admit(buf[:n], time.Now())
		if !ok {
			continue
		}
		select {
		case c.queue <- packet{data: append([]byte(nil), buf[:n]...), from: from, at: at}:
		case <-c.closed:
			return
		}
	}
}

func (c *conn) ReadFrom(p []byte) (int, net.Addr, error) {
	var pkt packet
	select {
	case pkt = <-c.queue:
	case <-c.closed:
		return 0, nil, c.closedErr()
	}
	if wait := time.Until(pkt.at); wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-t.C:
		case <-c.closed:
			return 0, nil, c.closedErr()
		}
	}
	return copy(p, pkt.data), pkt.from, nil
}

// closedErr is what reads return once the conn is closed: the socket's
// error if it failed, net.ErrClosed otherwise.
func (c *conn) closedErr() error {
	if err := c.err.Load(); err != nil {
		return *err
	}
	return net.ErrClosed
}

func (c *conn) ReadFromUDP(p []byte) (int, *net.UDPAddr, error) {
	n, from, err := c.ReadFrom(p)
	if err != nil {
		return n, nil, err
	}
	ua, ok := from.(*net.UDPAddr)
	if !ok {
		return n, nil, errors.New("netsim: not a UDP address")
	}
	return n, ua, nil
}

func (c *conn) Read(p []byte) (int, error) {
	n, _, err := c.ReadFrom(p)
	return n, err
}

func (c *conn) Close() error {
	c.once.Do(func() { close(c.closed) })
	return c.UDPConn.Close()
}
