package turn

import (
	"bytes"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/stun/v4"
)

// A relay reaches the node's own addresses at its media port only: a
// datagram to another local service is dropped and counted, the media
// port answers, and the node's public address behind 1:1 NAT is relayed
// to the local one it stands for, replies appearing to come from it.
func TestRelayToSelf(t *testing.T) {
	media, other := udpPeer(t), udpPeer(t)
	mediaPort := uint16(media.LocalAddr().(*net.UDPAddr).Port)
	public := netip.MustParseAddr("203.0.113.7")
	s, _ := testServer(t, Config{
		// 127.0.0.1 is allowed as a peer: the rule for the node's own
		// addresses must hold whatever AllowPeers says.
		AllowPeers: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")},
		Self: Self{
			Addrs:      []netip.Addr{netip.MustParseAddr("127.0.0.1"), public},
			MediaPorts: func() []uint16 { return []uint16{mediaPort} },
			Translate: func(a netip.Addr) (netip.Addr, bool) {
				return netip.MustParseAddr("127.0.0.1"), a == public
			},
		},
	})
	user, pass := Credentials(testSecret, "guest", time.Hour, time.Now())
	client := dialTURN(t, "udp", s.Addrs().UDP, user, pass)
	relay, err := client.Allocate()
	if err != nil {
		t.Fatalf("Allocate: %v", err)
	}
	defer relay.Close()

	// Another port of the node's own: nothing arrives.
	if _, err := relay.WriteTo([]byte("knock"), other.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	if got, from, err := readWithin(other, 500*time.Millisecond); err == nil {
		t.Fatalf("a local service got %q from %v through the relay", got, from)
	}
	waitFor(t, "the refusal to be counted", func() bool { return s.Stats().DroppedToSelf >= 1 })

	// The media port: reached, and its answer comes back.
	echo := func(peer net.Addr, want net.Addr) {
		t.Helper()
		if _, err := relay.WriteTo([]byte("media"), peer); err != nil {
			t.Fatal(err)
		}
		got, from, err := readWithin(media, 5*time.Second)
		if err != nil || !bytes.Equal(got, []byte("media")) {
			t.Fatalf("the media port got %q, %v", got, err)
		}
		if _, err := media.WriteTo([]byte("reply"), from); err != nil {
			t.Fatal(err)
		}
		_ = relay.SetReadDeadline(time.Now().Add(5 * time.Second))
		buf := make([]byte, 100)
		n, src, err := relay.ReadFrom(buf)
		if err != nil || string(buf[:n]) != "reply" {
			t.Fatalf("the reply through the relay: %q, %v", buf[:n], err)
		}
		if src.String() != want.String() {
			t.Errorf("the reply came from %v, want %v", src, want)
		}
	}
	echo(media.LocalAddr(), media.LocalAddr())
	pub := &net.UDPAddr{IP: public.AsSlice(), Port: int(mediaPort)}
	echo(pub, pub)

	// The local service cannot answer through the relay either.
	if _, err := other.WriteTo([]byte("unasked"), relayAddr(t, relay)); err != nil {
		t.Fatal(err)
	}
	_ = relay.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
	buf := make([]byte, 100)
	if n, src, err := relay.ReadFrom(buf); err == nil {
		t.Errorf("the client got %q from %v, a port of the node's own that is not the media port", buf[:n], src)
	}
}

// A node without a bridge (no media port) refuses permissions towards its
// own addresses outright.
func TestRelayToSelfWithoutBridge(t *testing.T) {
	s, _ := testServer(t, Config{Self: Self{Addrs: []netip.Addr{netip.MustParseAddr("198.51.100.9")}}})
	user, pass := Credentials(testSecret, "guest", time.Hour, time.Now())
	client := dialTURN(t, "udp", s.Addrs().UDP, user, pass)
	relay, err := client.Allocate()
	if err != nil {
		t.Fatalf("Allocate: %v", err)
	}
	defer relay.Close()
	for _, peer := range []string{"198.51.100.9", "127.0.0.1"} {
		err := client.CreatePermission(&net.UDPAddr{IP: net.ParseIP(peer), Port: 10000})
		if code := turnCode(err); code != stun.CodeForbidden {
			t.Errorf("CreatePermission(%s): %v, want 403 Forbidden", peer, err)
		}
	}
}

// relayAddr is where peers send to reach relay: its address on loopback.
func relayAddr(t *testing.T, relay net.PacketConn) net.Addr {
	t.Helper()
	ua, ok := relay.LocalAddr().(*net.UDPAddr)
	if !ok {
		t.Fatalf("relay address %v", relay.LocalAddr())
	}
	return &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: ua.Port}
}
