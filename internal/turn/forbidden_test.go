package turn

import (
	"log/slog"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/stun/v4"
)

// TestForbiddenPeersRefused: a server with no allowed networks refuses
// permissions towards every refused class, in whatever form the address
// comes, and counts each refusal.
func TestForbiddenPeersRefused(t *testing.T) {
	s, _ := testServer(t, Config{})
	user, pass := Credentials(testSecret, "mallory", time.Hour, time.Now())

	t.Run("pion client", func(t *testing.T) {
		client := dialTURN(t, "udp", s.Addrs().UDP, user, pass)
		relay, err := client.Allocate()
		if err != nil {
			t.Fatalf("Allocate: %v", err)
		}
		defer relay.Close()
		for _, peer := range []string{
			"127.0.0.1", "127.1.2.3", "0.0.0.0", "0.1.2.3", "10.0.0.1", "172.16.5.4", "192.168.1.1",
			"169.254.169.254", "224.0.0.1", "239.255.255.250", "100.64.0.1", "198.18.0.1",
			"240.0.0.1", "255.255.255.255",
		} {
			before := s.Stats().RefusedPeers
			err := client.CreatePermission(&net.UDPAddr{IP: net.ParseIP(peer), Port: 9})
			if code := turnCode(err); code != stun.CodeForbidden {
				t.Errorf("CreatePermission(%s): %v, want 403 Forbidden", peer, err)
			}
			if got := s.Stats().RefusedPeers; got != before+1 {
				t.Errorf("CreatePermission(%s): refused peers %d -> %d, want one more", peer, before, got)
			}
		}
		if err := client.CreatePermission(&net.UDPAddr{IP: net.ParseIP("8.8.8.8"), Port: 9}); err != nil {
			t.Errorf("CreatePermission(8.8.8.8): %v", err)
		}
	})

	t.Run("IPv4-mapped", func(t *testing.T) {
		c := newRawClient(t, s.Addrs().UDP, user, pass)
		if code := c.allocate(""); code != 0 {
			t.Fatalf("Allocate: code %d", code)
		}
		for _, peer := range []string{
			"::ffff:127.0.0.1", "::ffff:10.1.2.3", "::ffff:169.254.169.254", "::ffff:192.168.0.1",
			"::ffff:172.20.0.1", "::ffff:100.64.0.1", "::ffff:224.0.0.1", "::ffff:0.0.0.0", "::ffff:255.255.255.255",
		} {
			expectRefused(t, s, c, peer)
		}
		if code := c.createPermission(netip.MustParseAddr("::ffff:8.8.8.8")); code != 0 {
			t.Errorf("CreatePermission(::ffff:8.8.8.8): code %d, want success", code)
		}
	})

	t.Run("IPv6", func(t *testing.T) {
		s6, err := New(Config{Secret: testSecret, UDPListen: "[::1]:0", Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Skipf("no IPv6 loopback here (%v); the IPv6 classes are covered by TestClassify", err)
		}
		defer s6.Close()
		c := newRawClient(t, s6.Addrs().UDP, user, pass)
		if code := c.allocate(""); code != 0 {
			t.Fatalf("Allocate: code %d", code)
		}
		for _, peer := range []string{
			"::1", "::", "fc00::1", "fd00::5", "fe80::1", "ff02::1", "64:ff9b::a00:1", "64:ff9b::7f00:1", "64:ff9b:1::1",
		} {
			expectRefused(t, s6, c, peer)
		}
		if code := c.createPermission(netip.MustParseAddr("2001:4860::8888")); code != 0 {
			t.Errorf("CreatePermission(2001:4860::8888): code %d, want success", code)
		}
	})
}

func expectRefused(t *testing.T, s *Server, c *rawClient, peer string) {
	t.Helper()
	before := s.Stats().RefusedPeers
	if code := c.createPermission(netip.MustParseAddr(peer)); code != stun.CodeForbidden {
		t.Errorf("CreatePermission(%s): code %d, want 403", peer, code)
	}
	if got := s.Stats().RefusedPeers; got != before+1 {
		t.Errorf("CreatePermission(%s): refused peers %d -> %d, want one more", peer, before, got)
	}
}
