package udpbatch

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pion/transport/v5/stdnet"
)

// pair is a batching socket and a plain receiving socket on loopback.
type pair struct {
	g    *Group
	conn *Conn
	recv *net.UDPConn
	to   netip.AddrPort
}

func newPair(t *testing.T, network, ip string) *pair {
	t.Helper()
	n, err := stdnet.NewNet()
	if err != nil {
		t.Fatal(err)
	}
	g := NewGroup(true)
	c, err := g.Net(n).ListenUDP(network, &net.UDPAddr{IP: net.ParseIP(ip)})
	if err != nil {
		t.Skipf("%s loopback: %v", network, err)
	}
	conn, ok := c.(*Conn)
	if !ok {
		t.Fatalf("ListenUDP returned %T, want *Conn", c)
	}
	recv, err := net.ListenUDP(network, &net.UDPAddr{IP: net.ParseIP(ip)})
	if err != nil {
		t.Fatal(err)
	}
	_ = recv.SetReadBuffer(4 << 20)
	t.Cleanup(func() {
		_ = conn.Close()
		_ = recv.Close()
	})
	return &pair{g: g, conn: conn, recv: recv, to: recv.LocalAddr().(*net.UDPAddr).AddrPort()}
}

func datagram(i int) []byte {
	b := make([]byte, 100+i%900)
	binary.BigEndian.PutUint32(b, uint32(i))
	return b
}

// receive reads n datagrams and returns their numbers in arrival order.
func (p *pair) receive(t *testing.T, n int) []int {
	t.Helper()
	buf := make([]byte, 2000)
	var got []int
	_ = p.recv.SetReadDeadline(time.Now().Add(5 * time.Second))
	for len(got) < n {
		m, err := p.recv.Read(buf)
		if err != nil {
			t.Fatalf("after %d of %d datagrams: %v", len(got), n, err)
		}
		i := int(binary.BigEndian.Uint32(buf))
		if want := len(datagram(i)); m != want {
			t.Fatalf("datagram %d: %d bytes, want %d", i, m, want)
		}
		got = append(got, i)
	}
	return got
}

func (p *pair) nothingPending(t *testing.T) {
	t.Helper()
	_ = p.recv.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if _, err := p.recv.Read(make([]byte, 2000)); err == nil {
		t.Fatal("an extra datagram arrived")
	}
}

func TestBatchSendsInOrder(t *testing.T) {
	for _, tc := range []struct {
		name, network, ip string
		n                 int
	}{
		{"ipv4 one call", "udp4", "127.0.0.1", 10},
		{"ipv4 several calls", "udp4", "127.0.0.1", 3*maxBatch + 5},
		{"ipv6", "udp6", "::1", 2*maxBatch + 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPair(t, tc.network, tc.ip)
			p.g.Begin()
			for i := range tc.n {
				if n, err := p.conn.WriteToAddrPort(datagram(i), p.to); err != nil || n != len(datagram(i)) {
					t.Fatalf("write %d: %d, %v", i, n, err)
				}
			}
			if tc.n < maxBatch {
				p.nothingPending(t) // held until End
			}
			p.g.End()
			got := p.receive(t, tc.n)
			for i, x := range got {
				if x != i {
					t.Fatalf("datagram %d arrived as %d: %v", x, i, got)
				}
			}
			st := p.g.Stats()
			if st.Datagrams != uint64(tc.n) || st.Dropped != 0 {
				t.Errorf("stats %+v, want %d datagrams, none dropped", st, tc.n)
			}
			if want := uint64((tc.n + maxBatch - 1) / maxBatch); st.Batches != want {
				t.Errorf("%d system calls, want %d", st.Batches, want)
			}
		})
	}
}

func TestIPv4ToIPv6Socket(t *testing.T) {
	p := newPair(t, "udp6", "::1")
	// An IPv4 address in IPv6 form goes out of an IPv4 socket; an IPv6
	// socket takes both forms.
	to := netip.AddrPortFrom(netip.AddrFrom16(p.to.Addr().As16()), p.to.Port())
	p.g.Begin()
	_, _ = p.conn.WriteToAddrPort(datagram(0), to)
	p.g.End()
	p.receive(t, 1)
}

func TestNoBatchWritesAtOnce(t *testing.T) {
	p := newPair(t, "udp4", "127.0.0.1")
	if _, err := p.conn.WriteTo(datagram(7), net.UDPAddrFromAddrPort(p.to)); err != nil {
		t.Fatal(err)
	}
	if got := p.receive(t, 1); got[0] != 7 {
		t.Fatalf("got %v", got)
	}
	if st := p.g.Stats(); st.Batches != 0 {
		t.Errorf("a write outside a batch was queued: %+v", st)
	}
}

// A write from outside any batch while a batch is open joins it.
func TestWriteDuringOtherBatchLeavesAtEnd(t *testing.T) {
	p := newPair(t, "udp4", "127.0.0.1")
	p.g.Begin()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = p.conn.WriteToAddrPort(datagram(1), p.to)
	}()
	<-done
	p.nothingPending(t)
	p.g.End()
	p.receive(t, 1)
}

// Overlapping batches from many goroutines and unbatched writes: every
// datagram arrives, none is left queued once every batch has ended.
func TestConcurrentBatches(t *testing.T) {
	p := newPair(t, "udp4", "127.0.0.1")
	const goroutines, rounds, per = 4, 50, 7
	var wg sync.WaitGroup
	for gi := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range rounds {
				p.g.Begin()
				for k := range per {
					_, _ = p.conn.WriteToAddrPort(datagram((gi*rounds+r)*per+k), p.to)
				}
				p.g.End()
			}
		}()
	}
	const loose = 200
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range loose {
			_, _ = p.conn.WriteToAddrPort(datagram(goroutines*rounds*per+i), p.to)
		}
	}()
	wg.Wait()
	total := goroutines*rounds*per + loose
	got := p.receive(t, total)
	seen := make(map[int]bool, total)
	for _, i := range got {
		if seen[i] {
			t.Fatalf("datagram %d twice", i)
		}
		seen[i] = true
	}
	p.nothingPending(t)
}

func TestNilGroup(t *testing.T) {
	var g *Group
	g.Begin()
	g.End()
	if g.Stats() != (Stats{}) {
		t.Fatal("nil group has stats")
	}
}

func TestBatchAllocatesNothing(t *testing.T) {
	p := newPair(t, "udp4", "127.0.0.1")
	b := datagram(1)
	go func() { // keep the receiver's buffer from filling
		buf := make([]byte, 2000)
		for {
			if _, err := p.recv.Read(buf); err != nil {
				return
			}
		}
	}()
	allocs := testing.AllocsPerRun(200, func() {
		p.g.Begin()
		for range 20 {
			_, _ = p.conn.WriteToAddrPort(b, p.to)
		}
		p.g.End()
	})
	if allocs != 0 {
		t.Errorf("a batch of 20 allocates %.1f times", allocs)
	}
}

// BenchmarkSend compares ways to send 1200-byte datagrams to loopback
// sockets that nobody reads (the kernel drops them at their buffers): one
// system call each; one packet fanned out to 20 subscribers in one batch;
// and a 6-packet frame for each of 20 subscribers, packet by packet and
// subscriber by subscriber (runs that GSO joins).
func BenchmarkSend(b *testing.B) {
	for _, tc := range []struct {
		name            string
		dests, per      int
		batched, byDest bool
	}{
		{"unbatched", 1, 1, false, false},
		{"fanout20", 20, 1, true, false},
		{"frame6x20-packet-major", 20, 6, true, false},
		{"frame6x20-subscriber-major", 20, 6, true, true},
	} {
		b.Run(tc.name, func(b *testing.B) {
			p := newPair(&testing.T{}, "udp4", "127.0.0.1")
			to := make([]netip.AddrPort, tc.dests)
			for i := range to {
				r, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
				if err != nil {
					b.Fatal(err)
				}
				defer r.Close()
				to[i] = r.LocalAddr().(*net.UDPAddr).AddrPort()
			}
			buf := make([]byte, 1200)
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			cpu0 := threadCPU()
			b.ReportAllocs()
			for b.Loop() {
				if tc.batched {
					p.g.Begin()
				}
				for k := range tc.dests * tc.per {
					d, _ := k%tc.dests, k/tc.dests
					if tc.byDest {
						d = k / tc.per
					}
					_, _ = p.conn.WriteToAddrPort(buf, to[d])
				}
				if tc.batched {
					p.g.End()
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*tc.dests*tc.per), "ns/datagram")
			b.ReportMetric(float64((threadCPU()-cpu0).Nanoseconds())/float64(b.N*tc.dests*tc.per), "cpu-ns/datagram")
		})
	}
}

// sized is datagram i padded or cut to n bytes.
func sized(i, n int) []byte {
	b := make([]byte, n)
	binary.BigEndian.PutUint32(b, uint32(i))
	return b
}

// Runs to one address leave as segmented sends where the kernel can, and
// arrive as the datagrams they were, in order, whatever the kernel does.
func TestRunsToOneAddress(t *testing.T) {
	p := newPair(t, "udp4", "127.0.0.1")
	other := newPair(t, "udp4", "127.0.0.1")
	type dg struct{ i, size int }
	var mine, theirs []dg
	p.g.Begin()
	for i := range 40 {
		size := 1200
		if i%10 == 9 {
			size = 700 // a frame's last packet
		}
		to, list := p.to, &mine
		if i/10%2 == 1 {
			to, list = other.to, &theirs
		}
		_, _ = p.conn.WriteToAddrPort(sized(i, size), to)
		*list = append(*list, dg{i, size})
	}
	p.g.End()
	for _, tc := range []struct {
		recv *net.UDPConn
		want []dg
	}{{p.recv, mine}, {other.recv, theirs}} {
		buf := make([]byte, 2000)
		_ = tc.recv.SetReadDeadline(time.Now().Add(5 * time.Second))
		for _, w := range tc.want {
			n, err := tc.recv.Read(buf)
			if err != nil {
				t.Fatal(err)
			}
			if i := int(binary.BigEndian.Uint32(buf)); i != w.i || n != w.size {
				t.Fatalf("got datagram %d of %d bytes, want %d of %d", i, n, w.i, w.size)
			}
		}
	}
	// Each address's two frames are two segmented messages.
	if st := p.g.Stats(); st.Datagrams != 40 || st.Dropped != 0 || st.Messages != 4 || st.Batches != 1 {
		t.Errorf("stats %+v, want 40 datagrams in 4 messages, 1 system call", st)
	}
}

func TestGroup(t *testing.T) {
	a := netip.MustParseAddrPort("127.0.0.1:1000")
	b := netip.MustParseAddrPort("127.0.0.1:1001")
	c := netip.MustParseAddrPort("[::1]:1000")
	for _, tc := range []struct {
		name  string
		addrs []netip.AddrPort
		want  []int
	}{
		{"empty", nil, nil},
		{"one address", []netip.AddrPort{a, a, a}, []int{0, 1, 2}},
		{"all different", []netip.AddrPort{a, b, c}, []int{0, 1, 2}},
		{"interleaved", []netip.AddrPort{a, b, a, c, b, a}, []int{0, 2, 5, 1, 4, 3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var g grouper
			order := make([]int, len(tc.addrs))
			g.group(tc.addrs, order)
			if fmt.Sprint(order) != fmt.Sprint(tc.want) && len(tc.want) > 0 {
				t.Errorf("order %v, want %v", order, tc.want)
			}
			// The table is clean for the next queue.
			g.group(tc.addrs, order)
			if fmt.Sprint(order) != fmt.Sprint(tc.want) && len(tc.want) > 0 {
				t.Errorf("second time: order %v, want %v", order, tc.want)
			}
		})
	}
	// A full queue of addresses that collide in the table.
	var g grouper
	addrs := make([]netip.AddrPort, maxBatch)
	for i := range addrs {
		addrs[i] = netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, byte(i % 7)}), 5000)
	}
	order := make([]int, maxBatch)
	g.group(addrs, order)
	seen := map[int]bool{}
	for k, i := range order {
		if seen[i] {
			t.Fatalf("slot %d twice", i)
		}
		seen[i] = true
		if k > 0 && addrs[order[k-1]] != addrs[i] && addrs[order[k-1]].Addr().As4()[3] > addrs[i].Addr().As4()[3] {
			t.Fatalf("order %v is not grouped by first appearance", order)
		}
	}
}

// Two writers interleave their runs in one queue; each address's datagrams
// still leave as one segmented message, in order.
func TestInterleavedWriters(t *testing.T) {
	p := newPair(t, "udp4", "127.0.0.1")
	other := newPair(t, "udp4", "127.0.0.1")
	p.g.Begin()
	for i := range 6 {
		_, _ = p.conn.WriteToAddrPort(sized(i, 1000), p.to)
		_, _ = p.conn.WriteToAddrPort(sized(100+i, 1000), other.to)
	}
	p.g.End()
	for _, tc := range []struct {
		recv  *net.UDPConn
		first int
	}{{p.recv, 0}, {other.recv, 100}} {
		buf := make([]byte, 2000)
		_ = tc.recv.SetReadDeadline(time.Now().Add(5 * time.Second))
		for k := range 6 {
			if _, err := tc.recv.Read(buf); err != nil {
				t.Fatal(err)
			}
			if i := int(binary.BigEndian.Uint32(buf)); i != tc.first+k {
				t.Fatalf("got datagram %d, want %d", i, tc.first+k)
			}
		}
	}
	if st := p.g.Stats(); st.Messages != 2 {
		t.Errorf("%d messages, want 2", st.Messages)
	}
}

// threadCPU is the CPU time, user and system, of the calling thread
// (RUSAGE_THREAD): what a benchmark costs, whatever else the machine runs.
func threadCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(1, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
