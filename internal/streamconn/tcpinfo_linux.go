package streamconn

import (
	"net"

	"golang.org/x/sys/unix"
)

// ackState reads from TCP_INFO how many bytes the receiver has
// acknowledged and whether any wait in the kernel, sent or not.
func ackState(c *net.TCPConn) (acked uint64, pending bool, ok bool) {
	if c == nil {
		return 0, false, false
	}
	raw, err := c.SyscallConn()
	if err != nil {
		return 0, false, false
	}
	var info *unix.TCPInfo
	var ierr error
	if err := raw.Control(func(fd uintptr) {
		info, ierr = unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO)
	}); err != nil || ierr != nil {
		return 0, false, false
	}
	return info.Bytes_acked, info.Unacked > 0 || info.Notsent_bytes > 0, true
}
