//go:build linux && (amd64 || arm64)

package udpbatch

import (
	"net/netip"
	"syscall"
	"unsafe"
)

// Linux UDP generic segmentation offload (udp(7)).
const (
	solUDP      = 17  // SOL_UDP
	udpSegment  = 103 // UDP_SEGMENT
	maxSegments = 64  // UDP_MAX_SEGMENTS
	maxGSOBytes = 65000
)

// mmsghdr is struct mmsghdr of <sys/socket.h>.
type mmsghdr struct {
	hdr syscall.Msghdr
	len uint32
	_   [4]byte
}

// gsoCmsg is a control message carrying UDP_SEGMENT: a uint16 segment size.
type gsoCmsg struct {
	hdr  syscall.Cmsghdr
	size uint16
	_    [6]byte
}

// sysQueue holds, beside the queued datagrams, what sendmmsg reads: an
// iovec and an address per datagram, built when the datagram is queued, and
// the message headers, built when the queue is sent. Datagrams to one
// address are sent back to back, in the order they were queued, and a run
// of them whose sizes allow it leaves as one message with UDP_SEGMENT: the
// kernel cuts it into the datagrams, walking its stack once.
type sysQueue struct {
	iovs    [maxBatch]syscall.Iovec
	names   [maxBatch]syscall.RawSockaddrInet6 // or a RawSockaddrInet4 in its first bytes
	nameLen [maxBatch]uint32

	// order is the slots grouped by address; runIovs the iovecs in that
	// order, so that a run's are contiguous.
	order   [maxBatch]int
	runIovs [maxBatch]syscall.Iovec
	groups  grouper

	msgs  [maxBatch]mmsghdr
	first [maxBatch]int // where in order each message starts
	segs  [maxBatch]int // how many datagrams each carries
	cmsgs [maxBatch]gsoCmsg
	nmsgs int
}

func (s *sysQueue) init(q *queue) {
	for i := range s.iovs {
		s.iovs[i].Base = &q.bufs[i][0]
		s.cmsgs[i].hdr.Level = solUDP
		s.cmsgs[i].hdr.Type = udpSegment
		s.cmsgs[i].hdr.SetLen(syscall.CmsgLen(2))
	}
}

func (s *sysQueue) put(i, n int, addr netip.AddrPort, v4 bool) {
	s.iovs[i].SetLen(n)
	port := addr.Port()
	if v4 {
		sa := (*syscall.RawSockaddrInet4)(unsafe.Pointer(&s.names[i]))
		*sa = syscall.RawSockaddrInet4{Family: syscall.AF_INET, Addr: addr.Addr().Unmap().As4()}
		p := (*[2]byte)(unsafe.Pointer(&sa.Port))
		p[0], p[1] = byte(port>>8), byte(port)
		s.nameLen[i] = syscall.SizeofSockaddrInet4
		return
	}
	sa := &s.names[i]
	*sa = syscall.RawSockaddrInet6{Family: syscall.AF_INET6, Addr: addr.Addr().As16()}
	p := (*[2]byte)(unsafe.Pointer(&sa.Port))
	p[0], p[1] = byte(port>>8), byte(port)
	s.nameLen[i] = syscall.SizeofSockaddrInet6
}

// build orders the queue's slots, grouped by address when gso is on
// (writers on several goroutines interleave their runs), and makes the
// message headers.
func (s *sysQueue) build(q *queue, gso bool) {
	if gso {
		s.groups.group(q.addrs[:q.n], s.order[:q.n])
	} else {
		for i := range q.n {
			s.order[i] = i
		}
	}
	for j, i := range s.order[:q.n] {
		s.runIovs[j] = s.iovs[i]
	}
	s.messages(q, 0, gso)
}

// messages makes the message headers for order[from:], joining runs into
// segmented messages when gso is on.
func (s *sysQueue) messages(q *queue, from int, gso bool) {
	s.nmsgs = 0
	order := s.order[:q.n]
	for j := from; j < len(order); {
		i := order[j]
		k, total := 1, q.lens[i]
		if gso {
			size := q.lens[i]
			for j+k < len(order) && k < maxSegments {
				next, prev := order[j+k], order[j+k-1]
				if q.addrs[next] != q.addrs[i] || q.lens[prev] != size || q.lens[next] > size || total+q.lens[next] > maxGSOBytes {
					break
				}
				total += q.lens[next]
				k++
			}
		}
		m := &s.msgs[s.nmsgs]
		m.hdr.Name = (*byte)(unsafe.Pointer(&s.names[i]))
		m.hdr.Namelen = s.nameLen[i]
		m.hdr.Iov = &s.runIovs[j]
		m.hdr.Iovlen = uint64(k)
		if k > 1 {
			c := &s.cmsgs[s.nmsgs]
			c.size = uint16(q.lens[i])
			m.hdr.Control = (*byte)(unsafe.Pointer(c))
			m.hdr.SetControllen(syscall.CmsgSpace(2))
		} else {
			m.hdr.Control = nil
			m.hdr.SetControllen(0)
		}
		s.first[s.nmsgs] = j
		s.segs[s.nmsgs] = k
		s.nmsgs++
		j += k
	}
}

// sender sends a queue with sendmmsg through the socket's RawConn; its
// callback is bound once, so that sending allocates nothing.
type sender struct {
	c       *Conn
	q       *queue
	off     int // next message
	calls   int
	dropped int
	noGSO   bool // the socket refused a segmented message once
	fn      func(fd uintptr) bool
}

func (s *sender) init(c *Conn) {
	s.c = c
	s.fn = s.write
}

// send sends every datagram of q and returns the system calls and messages
// it took and the datagrams the kernel refused (they are dropped, as a lost
// packet would be).
func (c *Conn) send(q *queue) (calls, msgs, dropped int) {
	s := &c.sender
	s.q, s.off, s.calls, s.dropped = q, 0, 0, 0
	q.sys.build(q, !s.noGSO && c.g.gso)
	for s.off < q.sys.nmsgs {
		if err := c.raw.Write(s.fn); err != nil {
			// Closed, or the mux's write deadline: the rest is lost.
			for j := s.off; j < q.sys.nmsgs; j++ {
				s.dropped += q.sys.segs[j]
			}
			break
		}
	}
	s.q = nil
	return s.calls, q.sys.nmsgs, s.dropped
}

// write is the RawConn callback: false asks to wait until the socket is
// writable.
func (s *sender) write(fd uintptr) bool {
	q := s.q
	sys := &q.sys
	for s.off < sys.nmsgs {
		// A raw system call: the socket does not block, and a long one
		// (a full queue is tens of microseconds of kernel work) would
		// otherwise make the runtime hand the P to another thread and
		// back, which costs more than the call.
		n, _, errno := syscall.RawSyscall6(sysSendmmsg, fd,
			uintptr(unsafe.Pointer(&sys.msgs[s.off])), uintptr(sys.nmsgs-s.off), 0, 0, 0)
		s.calls++
		switch errno {
		case 0:
			s.off += int(n)
		case syscall.EAGAIN:
			return false
		case syscall.EINTR:
		default:
			if sys.segs[s.off] > 1 && !s.noGSO {
				// No segmentation offload here (an old kernel, a device
				// without checksum offload): send the rest one by one.
				s.noGSO = true
				sys.messages(q, sys.first[s.off], false)
				s.off = 0
				continue
			}
			// The first message was refused (a bad address, too big):
			// drop it and send the rest.
			s.dropped += sys.segs[s.off]
			s.off++
		}
	}
	return true
}
