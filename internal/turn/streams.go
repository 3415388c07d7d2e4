package turn

import (
	"errors"
	"net"
	"sync"
	"syscall"
	"time"
)

// Default timeouts of stream connections: the first bytes must come soon
// after connecting (a TLS handshake included), and a connection silent for
// 15 minutes carries no call (a client with traffic refreshes its
// permissions every few minutes) and is closed.
const (
	defaultFirstBytesTimeout = 10 * time.Second
	defaultIdleTimeout       = 15 * time.Minute
)

// ServeConn serves TURN on one stream connection accepted elsewhere, such
// as a TLS connection on a shared port whose first bytes inside TLS turned
// out to be STUN. c must carry STUN/TURN framing (RFC 8656 over TCP) from
// its first byte: bytes already read to tell protocols apart must be
// replayed by c's Read. c's RemoteAddr must be the client's address. The
// server owns c from here on; ServeConn returns without waiting for c to
// end.
func (s *Server) ServeConn(c net.Conn) error {
	sc := &streamConn{Conn: c, owner: s, idle: s.cfg.idleTimeout}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = c.Close()
		return ErrClosed
	}
	s.conns[sc] = struct{}{}
	s.mu.Unlock()
	_ = c.SetReadDeadline(time.Now().Add(s.cfg.firstBytesTimeout))
	if err := s.streams.push(sc); err != nil {
		_ = sc.Close()
		return err
	}
	return nil
}

// ServeListener accepts connections on l and serves TURN on each (see
// ServeConn), until l fails or the server is closed; Close closes l. It
// returns ErrClosed after Close.
func (s *Server) ServeListener(l net.Listener) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = l.Close()
		return ErrClosed
	}
	s.listeners[l] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, l)
		s.mu.Unlock()
	}()

	var backoff time.Duration
	for {
		c, err := l.Accept()
		if err != nil {
			s.mu.Lock()
			closed := s.closed
			s.mu.Unlock()
			if closed {
				return ErrClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || isResourceShortage(err) {
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				s.log.Warn("turn: accept failed; retrying", "addr", l.Addr().String(), "err", err, "in", backoff)
				time.Sleep(backoff)
				continue
			}
			return err
		}
		backoff = 0
		if err := s.ServeConn(c); err != nil {
			return err
		}
	}
}

func (s *Server) forget(c *streamConn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

// streamConn is one TCP or TLS connection of a client, with the deadlines
// that keep silent connections from piling up.
type streamConn struct {
	net.Conn
	owner     *Server
	idle      time.Duration
	greeted   bool      // some bytes have arrived; read by pion's loop only
	armed     time.Time // when the idle deadline was last pushed back
	closeOnce sync.Once
}

func (c *streamConn) Read(p []byte) (int, error) {
	if c.greeted {
		// Pushing the deadline back once a second is enough and keeps a
		// timer update off most packets.
		if now := time.Now(); now.Sub(c.armed) >= time.Second {
			_ = c.Conn.SetReadDeadline(now.Add(c.idle))
			c.armed = now
		}
	}
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.greeted = true
	}
	return n, err
}

func (c *streamConn) Close() error {
	err := c.Conn.Close()
	c.closeOnce.Do(func() { c.owner.forget(c) })
	return err
}

// chanListener is a net.Listener fed by ServeConn: pion takes its stream
// connections from listeners only, and the node accepts some of them on a
// port it shares with HTTPS.
type chanListener struct {
	conns     chan net.Conn
	done      chan struct{}
	closeOnce sync.Once
}

func newChanListener() *chanListener {
	return &chanListener{conns: make(chan net.Conn), done: make(chan struct{})}
}

func (l *chanListener) push(c net.Conn) error {
	select {
	case l.conns <- c:
		return nil
	case <-l.done:
		return ErrClosed
	}
}

func (l *chanListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *chanListener) Close() error {
	l.closeOnce.Do(func() { close(l.done) })
	return nil
}

func (l *chanListener) Addr() net.Addr { return chanAddr{} }

type chanAddr struct{}

func (chanAddr) Network() string { return "turn-stream" }
func (chanAddr) String() string  { return "handed-over connections" }

// isResourceShortage reports accept errors that pass: out of file
// descriptors, or a connection reset before it was accepted.
func isResourceShortage(err error) bool {
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) || errors.Is(err, syscall.ECONNABORTED)
}
