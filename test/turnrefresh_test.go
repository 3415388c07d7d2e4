package test

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/turn/v5"
	"github.com/pion/webrtc/v4"

	"github.com/parley/parley/client"
	"github.com/parley/parley/protocol"
	"github.com/parley/parley/test/harness"
)

// A meeting longer than the TURN credentials' lifetime (6 s here): the
// relay-only participant is handed fresh credentials while it lasts, and
// after its first ones expired (the TURN server refuses them) it
// reconnects through the relay with the fresh ones and receives again.
func TestTURNCredentialsRefreshed(t *testing.T) {
	const ttl = 6 * time.Second
	cfg, _ := edgeConfig(t)
	cfg.TURNCredentialTTL = ttl // under the 1 minute operators may set
	n := harness.StartNodeAsIs(t, cfg)
	url := nodeURL(n)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	var mu sync.Mutex
	var joinedWith protocol.ICEServer // the credentials of the join
	relayOnly := func(c *client.Config) {
		c.ICETransportPolicy = webrtc.ICETransportPolicyRelay
		c.SelectICEServers = func(all []protocol.ICEServer) []protocol.ICEServer {
			srv, ok := turnURL(all, "udp")
			if !ok {
				t.Errorf("no TURN over UDP in %+v", all)
				return nil
			}
			mu.Lock()
			if joinedWith.Username == "" {
				joinedWith = srv
			}
			mu.Unlock()
			return []protocol.ICEServer{srv}
		}
	}
	pub := joinMember(t, ctx, url, "long", "pub", memberOpts{camera: true, audio: true})
	rcv := joinMember(t, ctx, url, "long", "relayed", memberOpts{tune: relayOnly})
	video := protocol.SourceID(pub.s.ID(), protocol.SourceVideo)
	eventually(t, 30*time.Second, "the relayed participant receives video", func() error {
		if got := rcv.count(pub.s.ID(), "video"); got < 30 {
			return fmt.Errorf("%d video packets (%s)", got, rcv.state(video))
		}
		return nil
	})
	if p := rcv.s.Path(); p != client.PathRelayUDP {
		t.Fatalf("path %q, want %q", p, client.PathRelayUDP)
	}

	// Past the first credentials' lifetime: the TURN server refuses them
	// now, and fresh ones have come meanwhile.
	time.Sleep(ttl + time.Second)
	mu.Lock()
	first := joinedWith
	mu.Unlock()
	if err := allocateUDP(first); err == nil {
		t.Fatal("the TURN server still takes the credentials of the join after their lifetime")
	} else {
		t.Logf("the join's credentials now: %v", err)
	}
	fresh := received[*protocol.ICEServers](rcv)
	if len(fresh) == 0 {
		t.Fatal("no ice-servers message in a meeting longer than the credentials' lifetime")
	}
	last, ok := turnURL(fresh[len(fresh)-1].ICEServers, "udp")
	if !ok || last.Username == first.Username {
		t.Fatalf("the last ice-servers message has no fresh TURN credentials: %+v", fresh[len(fresh)-1])
	}
	if err := allocateUDP(last); err != nil {
		t.Fatalf("the fresh credentials are refused: %v", err)
	}
	t.Logf("%d ice-servers messages in %s", len(fresh), ttl+time.Second)

	// An ICE restart after expiry: a new connection, relayed, with the
	// fresh credentials.
	restarted := time.Now()
	if err := rcv.s.Reconnect("the test restarts ICE"); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "video again through the relay after the restart", func() error {
		if got := len(rcv.since(video, restarted)); got < 30 {
			return fmt.Errorf("%d video packets since the restart (%s)", got, rcv.state(video))
		}
		if p := rcv.s.Path(); p != client.PathRelayUDP {
			return fmt.Errorf("path %q", p)
		}
		return nil
	})
}

// allocateUDP tries a TURN allocation over UDP with srv's credentials.
func allocateUDP(srv protocol.ICEServer) error {
	addr := strings.TrimPrefix(strings.TrimSuffix(srv.URLs[0], "?transport=udp"), "turn:")
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer conn.Close()
	c, err := turn.NewClient(&turn.ClientConfig{
		STUNServerAddr: addr, TURNServerAddr: addr, Conn: conn,
		Username: srv.Username, Password: srv.Credential,
	})
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Listen(); err != nil {
		return err
	}
	relay, err := c.Allocate()
	if err != nil {
		return err
	}
	return relay.Close()
}
