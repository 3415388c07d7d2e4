//go:build !linux || !(amd64 || arm64)

package udpbatch

import "net/netip"

// Without sendmmsg, a queue is sent one datagram at a time: batching still
// holds datagrams until the batch ends, but saves no system calls.
type sysQueue struct{}

func (*sysQueue) init(*queue)                        {}
func (*sysQueue) put(int, int, netip.AddrPort, bool) {}

type sender struct{}

func (*sender) init(*Conn) {}

func (c *Conn) send(q *queue) (calls, msgs, dropped int) {
	for i := range q.n {
		calls++
		if _, err := c.UDPConn.WriteToUDPAddrPort(q.bufs[i][:q.lens[i]], q.addrs[i]); err != nil {
			dropped++
		}
	}
	return calls, calls, dropped
}
