package browser

import (
	"fmt"
	"testing"
	"time"

	"github.com/parley/parley/internal/config"
	"github.com/parley/parley/internal/node"
	"github.com/parley/parley/test/harness"
)

// onePortNode runs a node whose one TLS port (with the self-signed
// certificate a node makes for itself) carries the page, signaling, TURN
// over TLS and ICE-TCP; TURN has no other port and may relay to loopback,
// where the bridge is.
func onePortNode(t *testing.T, mutate func(*config.Config)) (*node.Node, string) {
	t.Helper()
	cfg := harness.Config(t)
	cfg.TLSListen = "127.0.0.1:0"
	cfg.TURNSecret = "browser-test-secret-0123456789"
	cfg.TURNAllowPeers = []string{"127.0.0.1"}
	if mutate != nil {
		mutate(&cfg)
	}
	n := harness.StartNode(t, &cfg)
	return n, "https://" + n.TLSAddr().String()
}

// openMeeting opens one tab per name on room with the extra query and waits
// until everyone decodes video and receives audio from everyone else.
func openMeeting(t *testing.T, b *browser, base, room, query string, names []string) []*tab {
	t.Helper()
	tabs := b.openAll(base, room, query, names)
	waitMeeting(t, tabs)
	return tabs
}

// waitPath waits until every tab's connection info shows path.
func waitPath(t *testing.T, tabs []*tab, path string) {
	t.Helper()
	eventually(t, 15*time.Second, "the connection info shows "+path, func() error {
		for _, tb := range tabs {
			var got string
			if err := tb.eval(`(document.getElementById('connection-path')||{}).dataset?.path || ""`, &got); err != nil {
				return err
			}
			var visible bool
			if err := tb.eval(`!document.getElementById('connection-path').hidden`, &visible); err != nil {
				return err
			}
			if got != path || !visible {
				return fmt.Errorf("%s shows %q (visible %v)", tb.name, got, visible)
			}
		}
		return nil
	})
}

// With iceTransportPolicy "relay" (?relay=1) a meeting works through the
// embedded TURN server over TLS on the one TCP port, and the connection
// info says so.
func TestBrowserRelayOverTLS(t *testing.T) {
	n, base := onePortNode(t, nil)
	b := newBrowser(t)
	tabs := openMeeting(t, b, base, "relay-room", "&relay=1", []string{"Ann", "Bob"})
	waitPath(t, tabs, "relay-tls")
	if st := n.TURN().Stats(); st.AllocationsActive < 2 || st.PacketsToPeers == 0 || st.PacketsFromPeers == 0 {
		t.Errorf("TURN stats %+v: want both tabs' media relayed", st)
	}
}

// With the bridge's UDP port off, a meeting still works: the browsers
// reach the bridge over ICE-TCP on the one TCP port.
func TestBrowserWithoutUDP(t *testing.T) {
	n, base := onePortNode(t, func(c *config.Config) {
		c.MediaUDP = false
		c.TURNSecret, c.TURNAllowPeers = "", nil
	})
	if n.MediaPort() != 0 {
		t.Fatalf("media port %d with UDP off", n.MediaPort())
	}
	b := newBrowser(t)
	tabs := openMeeting(t, b, base, "tcp-room", "", []string{"Ann", "Bob"})
	waitPath(t, tabs, "tcp")
}

// The pre-join page's "Test my connection" reaches the server over the
// WebSocket and gets a relay over TLS; TURN on UDP and TCP is not offered.
func TestBrowserNetcheck(t *testing.T) {
	_, base := onePortNode(t, nil)
	b := newBrowser(t)
	tb := b.open("Ann", base+"/check-room")
	eventually(t, 20*time.Second, "the pre-join screen", func() error {
		return tb.inState("prejoin")
	})
	if err := tb.click("#netcheck-button"); err != nil {
		t.Fatal(err)
	}
	var results map[string]string
	eventually(t, 30*time.Second, "the checks finish", func() error {
		var done bool
		if err := tb.eval(`document.getElementById('netcheck-results').dataset.done === 'true'`, &done); err != nil {
			return err
		}
		if !done {
			return fmt.Errorf("not done")
		}
		return tb.eval(`Object.fromEntries([...document.querySelectorAll('#netcheck-results li')].map((li) => [li.dataset.check, li.dataset.status]))`, &results)
	})
	want := map[string]string{"webrtc": "pass", "signaling": "pass", "turn-udp": "skip", "turn-tcp": "skip", "turn-tls": "pass"}
	for id, status := range want {
		if results[id] != status {
			t.Errorf("%s: %q, want %q (all: %v)", id, results[id], status, results)
		}
	}
}
