package edge

import (
	"net"
	"sync"
	"time"
)

// peek reads from c until classify decides or max bytes have come. The
// caller sets the read deadline that bounds the wait.
func peek(c net.Conn, classify func([]byte) Kind, max int) (Kind, []byte, error) {
	buf := make([]byte, 0, max)
	for {
		n, err := c.Read(buf[len(buf):max])
		buf = buf[:len(buf)+n]
		if k := classify(buf); k != KindUndecided {
			return k, buf, nil
		}
		if err != nil {
			return KindUndecided, buf, err
		}
		if len(buf) == max {
			return KindGarbage, buf, nil
		}
	}
}

// prefixConn replays the bytes read to classify a connection before the
// rest of it.
type prefixConn struct {
	net.Conn
	prefix []byte
}

// NetConn is the connection underneath, for socket options.
func (c *prefixConn) NetConn() net.Conn { return c.Conn }

func (c *prefixConn) Read(p []byte) (int, error) {
	if len(c.prefix) > 0 {
		n := copy(p, c.prefix)
		c.prefix = c.prefix[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}

// chanListener is a net.Listener fed with connections the edge has
// classified. Its Addr is the shared port's own address: pion's ICE-TCP
// mux takes the port of its candidates from it. Closed, it answers
// net.ErrClosed, which http.Server and pion take as the end.
type chanListener struct {
	addr      net.Addr
	conns     chan net.Conn
	done      chan struct{}
	closeOnce sync.Once
}

func newChanListener(addr net.Addr) *chanListener {
	return &chanListener{addr: addr, conns: make(chan net.Conn), done: make(chan struct{})}
}

// push hands c to Accept, waiting up to timeout for a taker.
func (l *chanListener) push(c net.Conn, timeout time.Duration) error {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case l.conns <- c:
		return nil
	case <-l.done:
		return net.ErrClosed
	case <-t.C:
		return errNotAccepted
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

func (l *chanListener) Addr() net.Addr { return l.addr }
