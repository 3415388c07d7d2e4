package check

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/pion/stun/v4"
)

// Sizes of the path MTU probe: whole IP packets, from the smallest every
// IPv4 path carries to a full Ethernet frame.
const (
	mtuFloor   = 576
	mtuCeiling = 1500
	mtuStep    = 8
	// mtuMedia is about the largest packet WebRTC media sends (1,200 bytes
	// of RTP and SRTP, UDP, IP, a TURN header), rounded up to IPv6's
	// minimum MTU. A path below it drops full-size video packets.
	mtuMedia = 1280
	// mtuTight is the least that fits media packets at all.
	mtuTight = 1200
)

// errMTUUnsupported means this system cannot set Don't Fragment on a socket.
var errMTUUnsupported = errors.New("not measured on this operating system")

// checkMTU finds the largest UDP packet that reaches the server
// unfragmented: STUN Binding requests, padded to each size and sent with
// Don't Fragment set, to the server's TURN port on UDP (a TURN server
// answers them), by bisection. A size that does not fit fails at once
// (the local MTU, or one an ICMP "fragmentation needed" reported) or gets
// no answer (a tunnel that drops it silently). It measures the way out,
// where branch tunnels usually are.
func (t *target) checkMTU(ctx context.Context) Item {
	it := Item{ID: ItemMTU, Name: itemNames[ItemMTU]}
	srv, ok := t.turnServer("udp")
	if !ok {
		return skipItem(ItemMTU, "it needs a STUN answer on UDP, and the server offers no TURN over UDP (--turn-listen)")
	}
	p, err := newMTUProber(srv.addr())
	if err != nil {
		return skipItem(ItemMTU, err.Error())
	}
	defer p.close()
	if !p.fits(ctx, mtuFloor) {
		return skipItem(ItemMTU, fmt.Sprintf("no STUN answer from %s on UDP at all", srv.addr()))
	}
	largest := mtuCeiling
	if !p.fits(ctx, mtuCeiling) {
		lo, hi := mtuFloor, mtuCeiling // lo fits, hi does not
		for hi-lo > mtuStep {
			mid := (lo + hi) / 2 / 4 * 4
			if p.fits(ctx, mid) {
				lo = mid
			} else {
				hi = mid
			}
		}
		largest = lo
	}
	it.Value, it.Unit = value(float64(largest)), "bytes"
	more := ""
	if largest == mtuCeiling {
		more = " or more"
	}
	it.Detail = fmt.Sprintf("packets of %d bytes%s reach %s unfragmented", largest, more, srv.host)
	switch {
	case largest >= mtuMedia:
		it.Status = Pass
	case largest >= mtuTight:
		it.Status = Warn
		it.Advice = "The path (a VPN or tunnel, usually) leaves little room: media fits, barely. Ask the network team " +
			"whether the tunnel's MTU can be raised, and that ICMP \"fragmentation needed\" is not blocked."
	default:
		it.Status = Fail
		it.Advice = "Full-size media packets do not fit this path and will be lost (frozen video). Ask the network " +
			"team to raise the tunnel's MTU or to let ICMP \"fragmentation needed\" through so that senders adapt."
	}
	return it
}

// mtuProber sends padded Binding requests with Don't Fragment set.
type mtuProber struct {
	conn     *net.UDPConn
	server   *net.UDPAddr
	overhead int // IP and UDP headers
}

func newMTUProber(addr string) (*mtuProber, error) {
	server, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, err
	}
	conn, err := net.DialUDP("udp", nil, server)
	if err != nil {
		return nil, err
	}
	p := &mtuProber{conn: conn, server: server, overhead: 28}
	v6 := server.IP.To4() == nil
	if v6 {
		p.overhead = 48
	}
	raw, err := conn.SyscallConn()
	if err == nil {
		var serr error
		err = raw.Control(func(fd uintptr) { serr = setDontFragment(fd, v6) })
		if err == nil {
			err = serr
		}
	}
	if err != nil {
		_ = conn.Close()
		return nil, err
	}
	return p, nil
}

func (p *mtuProber) close() { _ = p.conn.Close() }

// paddingAttr is a comprehension-optional attribute type no server acts
// on: it only makes the request as large as the probe needs.
const paddingAttr stun.AttrType = 0xC0DE

// fits reports whether a packet of size bytes (IP header included) gets an
// answer: three tries, 400 ms each.
func (p *mtuProber) fits(ctx context.Context, size int) bool {
	pad := (size - p.overhead - 20 - 4) / 4 * 4
	if pad < 0 {
		pad = 0
	}
	msg, err := stun.Build(stun.TransactionID, stun.BindingRequest, stun.RawAttribute{Type: paddingAttr, Value: make([]byte, pad)})
	if err != nil {
		return false
	}
	buf := make([]byte, 1500)
	for range 3 {
		if ctx.Err() != nil {
			return false
		}
		if _, err := p.conn.Write(msg.Raw); err != nil {
			return false // EMSGSIZE: above the local MTU or a path MTU the kernel learned
		}
		deadline := time.Now().Add(400 * time.Millisecond)
		for {
			_ = p.conn.SetReadDeadline(deadline)
			n, err := p.conn.Read(buf)
			if err != nil {
				break // timeout (or an ICMP error): try again
			}
			var resp stun.Message
			resp.Raw = append(resp.Raw[:0], buf[:n]...)
			if resp.Decode() == nil && resp.TransactionID == msg.TransactionID {
				return true
			}
		}
	}
	return false
}
