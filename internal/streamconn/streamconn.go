// Package streamconn keeps a slow reader of a stream connection from
// slowing down its writer.
//
// Media sent over a stream transport (ICE-TCP; RFC 4571 framing, one frame
// per Write) would otherwise block the sending goroutine in the kernel's
// write whenever the receiver stops reading: behind a stalled TCP
// connection, one receiver would hold up the fan-out of a source for
// everyone. A Conn's Write instead queues the frame and returns at once; a
// goroutine of its own writes the queue out. The queue is bounded in bytes:
// a frame that does not fit is dropped whole (the framing stays intact),
// and the receiver sees it as loss, which its bandwidth estimate and layer
// choice answer like any lossy link. The kernel's send buffer is kept
// small too (SendBuffer), so that what waits for a slow receiver is never
// more than a second or two of media. A connection that takes nothing for
// StallAfter while data waits for it (over TCP on Linux: whose receiver
// acknowledges nothing, which the kernel tells in TCP_INFO) is closed, and
// OnStall says so.
package streamconn

import (
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults for Config.
const (
	DefaultMaxQueue   = 256 << 10 // about a second of 2 Mbit/s video
	DefaultStallAfter = 5 * time.Second
	DefaultSendBuffer = 128 << 10
	// writeSlice is how long one write may wait before the writer looks
	// at how long the connection has made no progress.
	writeSlice = 250 * time.Millisecond
)

// Config bounds each connection's queue.
type Config struct {
	// MaxQueue is the most bytes queued on one connection, those being
	// written included.
	MaxQueue int
	// StallAfter is how long a connection may take nothing at all while
	// data waits for it before it is closed: over TCP on Linux, how long
	// the receiver may acknowledge nothing.
	StallAfter time.Duration
	// SendBuffer is the kernel's send buffer for a TCP connection
	// (SO_SNDBUF; the kernel doubles it for its bookkeeping).
	SendBuffer int
	// OnStall, when set, is called (on the connection's writer goroutine)
	// after a stalled connection was closed and its queue emptied.
	OnStall func(c *Conn)
}

func (c Config) withDefaults() Config {
	if c.MaxQueue <= 0 {
		c.MaxQueue = DefaultMaxQueue
	}
	if c.StallAfter <= 0 {
		c.StallAfter = DefaultStallAfter
	}
	if c.SendBuffer <= 0 {
		c.SendBuffer = DefaultSendBuffer
	}
	return c
}

// Stats counts what all connections of a Listener did: frames queued and
// dropped, connections cut off, and the bytes queued now.
type Stats struct {
	Frames, Dropped, Stalled uint64
	Queued                   int64
}

type counters struct {
	frames, dropped, stalled atomic.Uint64
	queued                   atomic.Int64
}

// Listener wraps the connections another listener accepts.
type Listener struct {
	net.Listener
	cfg Config
	n   counters
}

// Listen wraps l: every connection it accepts is a *Conn.
func Listen(l net.Listener, cfg Config) *Listener {
	return &Listener{Listener: l, cfg: cfg.withDefaults()}
}

// Accept returns the next connection, wrapped.
func (l *Listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return newConn(c, l.cfg, &l.n), nil
}

// Stats returns what the listener's connections queued, dropped and cut off.
func (l *Listener) Stats() Stats {
	return Stats{Frames: l.n.frames.Load(), Dropped: l.n.dropped.Load(), Stalled: l.n.stalled.Load(), Queued: l.n.queued.Load()}
}

// Conn is a connection whose writes never block.
type Conn struct {
	net.Conn
	cfg Config
	n   *counters

	mu     sync.Mutex
	queue  []*[]byte // frames waiting, oldest first
	spare  []*[]byte // the writer's previous batch, for reuse
	queued int       // bytes in queue and in the batch being written
	closed bool
	err    error // why the connection closed, for Write

	wake chan struct{}
	done chan struct{}

	// The writer goroutine's: the TCP connection underneath (nil if none),
	// the bytes it had acknowledged when last looked at, and when it last
	// took something.
	tcp      *net.TCPConn
	acked    uint64
	progress time.Time
}

// ErrStalled is what Write returns once the connection was closed because
// it took nothing for Config.StallAfter.
var ErrStalled = errors.New("streamconn: the connection took nothing for too long and was closed")

// New wraps c.
func New(c net.Conn, cfg Config) *Conn {
	return newConn(c, cfg.withDefaults(), &counters{})
}

func newConn(c net.Conn, cfg Config, n *counters) *Conn {
	sc := &Conn{Conn: c, cfg: cfg, n: n, wake: make(chan struct{}, 1), done: make(chan struct{}), tcp: tcpOf(c)}
	if sc.tcp != nil {
		// The kernel's own send buffer grows to megabytes by default:
		// minutes of media queued for a receiver that takes nothing.
		_ = sc.tcp.SetWriteBuffer(cfg.SendBuffer)
	}
	go sc.writeLoop()
	return sc
}

// tcpOf finds the TCP connection under c, through wrappers that have a
// NetConn method (as *tls.Conn has).
func tcpOf(c net.Conn) *net.TCPConn {
	for range 8 {
		switch v := c.(type) {
		case *net.TCPConn:
			return v
		case interface{ NetConn() net.Conn }:
			c = v.NetConn()
		default:
			return nil
		}
	}
	return nil
}

var pool = sync.Pool{New: func() any { b := make([]byte, 0, 1504); return &b }}

// Write queues b, one whole frame, and returns at once. A frame the queue
// has no room for is dropped, and Write still reports it written: to the
// sender it is a packet lost on the way.
func (c *Conn) Write(b []byte) (int, error) {
	c.mu.Lock()
	if c.closed {
		err := c.err
		c.mu.Unlock()
		return 0, err
	}
	if c.queued+len(b) > c.cfg.MaxQueue {
		c.mu.Unlock()
		c.n.dropped.Add(1)
		return len(b), nil
	}
	frame := pool.Get().(*[]byte)
	*frame = append((*frame)[:0], b...)
	c.queue = append(c.queue, frame)
	c.queued += len(b)
	c.mu.Unlock()
	c.n.frames.Add(1)
	c.n.queued.Add(int64(len(b)))
	select {
	case c.wake <- struct{}{}:
	default:
	}
	return len(b), nil
}

// Queued is how many bytes wait to be written.
func (c *Conn) Queued() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.queued
}

// Close closes the connection; queued frames are dropped.
func (c *Conn) Close() error {
	if !c.shut(net.ErrClosed) {
		return nil
	}
	return c.Conn.Close()
}

// shut marks the connection closed with err; it reports whether it was open.
func (c *Conn) shut(err error) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return false
	}
	c.closed, c.err = true, err
	close(c.done)
	return true
}

// SetDeadline sets the read deadline only: writes are the writer's.
func (c *Conn) SetDeadline(t time.Time) error { return c.Conn.SetReadDeadline(t) }

// SetWriteDeadline does nothing: Write never blocks, and the writer keeps
// its own deadlines.
func (c *Conn) SetWriteDeadline(time.Time) error { return nil }

func (c *Conn) writeLoop() {
	defer c.release()
	tick := time.NewTicker(writeSlice)
	defer tick.Stop()
	c.progress = time.Now()
	for {
		select {
		case <-c.done:
			return
		case <-tick.C:
			if c.stalled(false) {
				c.cutOff()
				return
			}
			continue
		case <-c.wake:
		}
		c.mu.Lock()
		batch := c.queue
		c.queue, c.spare = c.spare[:0], nil
		c.mu.Unlock()
		if len(batch) == 0 {
			continue
		}
		size := 0
		for _, f := range batch {
			size += len(*f)
		}
		err := c.writeAll(batch)
		for i, f := range batch {
			pool.Put(f)
			batch[i] = nil
		}
		c.mu.Lock()
		c.queued -= size
		c.spare = batch[:0]
		c.mu.Unlock()
		c.n.queued.Add(-int64(size))
		if errors.Is(err, ErrStalled) {
			c.cutOff()
		}
		if err != nil {
			return
		}
	}
}

// cutOff closes a stalled connection and says so.
func (c *Conn) cutOff() {
	if !c.shut(ErrStalled) {
		return // closed meanwhile: not a stall
	}
	_ = c.Conn.Close()
	c.release()
	c.n.stalled.Add(1)
	if c.cfg.OnStall != nil {
		c.cfg.OnStall(c)
	}
}

// writeAll writes batch, in short slices of time so that a connection that
// takes nothing for StallAfter is noticed.
func (c *Conn) writeAll(batch []*[]byte) error {
	bufs := make(net.Buffers, len(batch))
	for i, f := range batch {
		bufs[i] = *f
	}
	for len(bufs) > 0 {
		_ = c.Conn.SetWriteDeadline(time.Now().Add(writeSlice))
		n, err := bufs.WriteTo(c.Conn)
		if err == nil {
			continue
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			select {
			case <-c.done:
				return net.ErrClosed
			default:
			}
			if c.stalled(n > 0) {
				return ErrStalled
			}
			continue
		}
		if c.shut(err) {
			_ = c.Conn.Close()
		}
		return err
	}
	return nil
}

// stalled reports whether the connection has taken nothing for
// StallAfter while data waited for it; wrote says the last write slice
// handed the kernel some bytes. Over TCP on Linux, taking means the
// receiver acknowledging bytes (TCP_INFO), which a stalled receiver stops
// doing however much the kernel's buffers still take; elsewhere it means
// the kernel taking writes. It runs on the writer goroutine only.
func (c *Conn) stalled(wrote bool) bool {
	now := time.Now()
	c.mu.Lock()
	waiting := c.queued > 0
	c.mu.Unlock()
	if acked, pending, ok := ackState(c.tcp); ok {
		if acked != c.acked || (!waiting && !pending) {
			c.acked, c.progress = acked, now
		}
	} else if wrote || !waiting {
		c.progress = now
	}
	return now.Sub(c.progress) >= c.cfg.StallAfter
}

// release returns what is still queued to the pool once the writer ends.
func (c *Conn) release() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, f := range c.queue {
		pool.Put(f)
	}
	c.n.queued.Add(-int64(c.queued))
	c.queue, c.queued = nil, 0
}
