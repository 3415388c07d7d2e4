package udpbatch

import (
	"encoding/binary"
	"net/netip"
)

// grouper orders a queue's datagrams so that those to one address sit back
// to back, each address's in the order they were queued, the addresses in
// the order they first appear. It hashes, so it costs the same whatever the
// order, and allocates nothing.
type grouper struct {
	// table maps an address (by hash, open addressing) to its chain: the
	// slot of its first and last datagram, +1 (0: empty).
	table [2 * maxBatch]struct{ head, tail int16 }
	used  [maxBatch]int16 // table entries in use, in order of first appearance
	next  [maxBatch]int16 // the next slot to the same address, +1
}

// group writes into order the slots of addrs grouped by address.
func (g *grouper) group(addrs []netip.AddrPort, order []int) {
	nused := 0
	for i, a := range addrs {
		g.next[i] = 0
		h := hashAddr(a) & (len(g.table) - 1)
		for {
			e := &g.table[h]
			if e.head == 0 {
				e.head, e.tail = int16(i+1), int16(i+1)
				g.used[nused] = int16(h)
				nused++
				break
			}
			if addrs[e.head-1] == a {
				g.next[e.tail-1] = int16(i + 1)
				e.tail = int16(i + 1)
				break
			}
			h = (h + 1) & (len(g.table) - 1)
		}
	}
	j := 0
	for _, h := range g.used[:nused] {
		e := &g.table[h]
		for i := e.head; i != 0; i = g.next[i-1] {
			order[j] = int(i - 1)
			j++
		}
		*e = struct{ head, tail int16 }{}
	}
}

func hashAddr(a netip.AddrPort) int {
	b := a.Addr().As16()
	x := binary.LittleEndian.Uint32(b[12:]) ^ binary.LittleEndian.Uint32(b[8:]) ^ uint32(a.Port())<<16 ^ uint32(a.Port())
	return int((x * 0x9e3779b1) >> 16)
}
