package turn

import (
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/stun/v4"
)

func TestAllocationsPerUserCapped(t *testing.T) {
	s, logs := testServer(t, Config{MaxAllocationsPerUser: 2})
	a := s.Addrs()
	allocate := func(transport string, addr net.Addr, user string) (net.PacketConn, error) {
		username, password := Credentials(testSecret, user, time.Hour, time.Now())
		return dialTURN(t, transport, addr, username, password).Allocate()
	}

	first, err := allocate("udp", a.UDP, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := allocate("tcp", a.TCP, "alice"); err != nil {
		t.Fatal(err)
	}
	for _, tr := range []struct {
		name string
		addr net.Addr
	}{{"udp", a.UDP}, {"tls", a.TLS}} {
		_, err := allocate(tr.name, tr.addr, "alice")
		if code := turnCode(err); code != stun.CodeAllocQuotaReached {
			t.Errorf("third allocation of alice over %s: %v, want 486 Allocation Quota Reached", tr.name, err)
		}
	}
	if got := s.Stats().RefusedQuota; got != 2 {
		t.Errorf("refused by quota %d, want 2", got)
	}
	if _, err := allocate("udp", a.UDP, "bob"); err != nil {
		t.Errorf("bob is not capped by alice's allocations: %v", err)
	}

	_ = first.Close() // deallocates (Refresh with lifetime 0)
	waitFor(t, "alice's first allocation to end", func() bool { return s.Stats().AllocationsActive == 2 })
	if _, err := allocate("udp", a.UDP, "alice"); err != nil {
		t.Errorf("alice under her cap again: %v", err)
	}
	if st := s.Stats(); st.AllocationsActive != 3 || st.AllocationsTotal != 4 {
		t.Errorf("allocations active %d total %d, want 3 and 4", st.AllocationsActive, st.AllocationsTotal)
	}
	if !strings.Contains(logs.String(), "reason=quota user=alice") {
		t.Errorf("quota refusal not logged:\n%s", logs)
	}
}

// TestBitrateCapped sends through a relay capped at 400 kbit/s, below the
// cap and then at twice it, in each direction, and measures what passes.
func TestBitrateCapped(t *testing.T) {
	const bitrate = 400_000
	const rate = bitrate / 8 // bytes per second
	s, _ := testServer(t, Config{AllowPeers: loopback, MaxBitrate: bitrate})
	peer := udpPeer(t)
	username, password := Credentials(testSecret, "alice", time.Hour, time.Now())
	relay, err := dialTURN(t, "udp", s.Addrs().UDP, username, password).Allocate()
	if err != nil {
		t.Fatal(err)
	}
	defer relay.Close()
	// Permission, channel binding and the peer's view of the relay address.
	if _, err := relay.WriteTo([]byte("hello"), peer.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	_, relayAddr, err := readWithin(peer, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // the channel binding settles

	payload := make([]byte, 1000)
	// send paces 1000-byte packets at bytesPerSecond for d and returns the
	// bytes sent and how long sending took.
	send := func(write func([]byte) error, bytesPerSecond int, d time.Duration) (int, time.Duration) {
		interval := time.Second * time.Duration(len(payload)) / time.Duration(bytesPerSecond)
		start := time.Now()
		sent := 0
		for i := 0; time.Duration(i)*interval < d; i++ {
			time.Sleep(time.Until(start.Add(time.Duration(i) * interval)))
			if err := write(payload); err != nil {
				t.Fatal(err)
			}
			sent += len(payload)
		}
		return sent, time.Since(start)
	}
	// count reads from c until it is quiet for 300 ms.
	count := func(c net.PacketConn, total *atomic.Int64, done chan<- struct{}) {
		defer close(done)
		for {
			got, _, err := readWithin(c, 300*time.Millisecond)
			if err != nil {
				return
			}
			total.Add(int64(len(got)))
		}
	}
	burst := rate * burstWindow.Seconds()

	for _, dir := range []struct {
		name  string
		write func([]byte) error
		read  net.PacketConn
	}{
		{"to peer", func(p []byte) error { _, err := relay.WriteTo(p, peer.LocalAddr()); return err }, peer},
		{"from peer", func(p []byte) error { _, err := peer.WriteTo(p, relayAddr); return err }, relay},
	} {
		t.Run(dir.name, func(t *testing.T) {
			time.Sleep(time.Duration(burst / rate * float64(time.Second))) // refill the bucket
			var got atomic.Int64
			done := make(chan struct{})
			go count(dir.read, &got, done)
			before := s.Stats().DroppedOverRate
			sent, _ := send(dir.write, rate/2, 500*time.Millisecond)
			<-done
			if dropped := s.Stats().DroppedOverRate - before; dropped != 0 || got.Load() != int64(sent) {
				t.Errorf("at half the cap: %d of %d bytes arrived, %d packets dropped; want all, none", got.Load(), sent, dropped)
			}

			got.Store(0)
			done = make(chan struct{})
			go count(dir.read, &got, done)
			time.Sleep(time.Duration(burst / rate * float64(time.Second)))
			sent, took := send(dir.write, 2*rate, time.Second)
			<-done
			want := min(float64(sent), burst+rate*took.Seconds())
			measured := float64(got.Load()) / took.Seconds() * 8
			t.Logf("at twice the cap: sent %d bytes in %v, %d arrived (%.0f kbit/s), cap allows %.0f", sent, took.Round(time.Millisecond), got.Load(), measured/1000, want)
			if g := float64(got.Load()); g < 0.85*want || g > 1.05*want+float64(len(payload)) {
				t.Errorf("%.0f bytes arrived, want about %.0f (the cap and one burst)", g, want)
			}
			if s.Stats().DroppedOverRate == before {
				t.Error("no packet counted as dropped over the rate")
			}
		})
	}
}

func TestBucket(t *testing.T) {
	if b := newBucket(0, time.Now()); b != nil || !b.allow(1<<20, time.Now()) {
		t.Fatal("no cap must allow everything")
	}
	now := time.Unix(0, 0)
	b := newBucket(80_000, now) // 10 kB/s, burst 3000 (the floor)
	passed := 0
	for i := range 100 { // 1000 bytes every 10 ms: 100 kB/s for one second
		if b.allow(1000, now.Add(time.Duration(i)*10*time.Millisecond)) {
			passed += 1000
		}
	}
	if passed < 12_000 || passed > 14_000 {
		t.Fatalf("%d bytes passed in a second at 10 kB/s with a 3000-byte burst", passed)
	}
}
