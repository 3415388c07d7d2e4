package browser

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parley/parley/client"
	"github.com/parley/parley/internal/check"
	"github.com/parley/parley/internal/config"
	"github.com/parley/parley/internal/node"
	"github.com/parley/parley/test/harness"
	"github.com/parley/parley/test/netns"
)

// TestMain fails the run when a test left a namespace, link, nftables
// table or process of test/netns behind.
func TestMain(m *testing.M) {
	code := m.Run()
	if left := netns.Leftovers(os.Getpid()); len(left) > 0 {
		fmt.Fprintf(os.Stderr, "--- FAIL: the tests left network namespaces behind:\n")
		for _, l := range left {
			fmt.Fprintf(os.Stderr, "    %s\n", l)
		}
		code = 1
	}
	os.Exit(code)
}

// labNode runs a node on addr, an address of the host that the lab's
// branches reach, with no loopback media: its clients are elsewhere. It
// serves plain HTTP on a free port and HTTPS (a self-signed certificate)
// on another: browsers give a page camera and microphone only in a secure
// context, which http:// to anything but localhost is not.
func labNode(t *testing.T, addr netip.Addr, mutate func(*config.Config)) *node.Node {
	t.Helper()
	cfg := harness.Config(t)
	cfg.Listen = net.JoinHostPort(addr.String(), "0")
	cfg.TLSListen = net.JoinHostPort(addr.String(), "0")
	cfg.MediaLoopback = false
	// A fixed media port, as in production: every local socket of the
	// bridge is on the same port, and only a candidate backed by the right
	// one is answered from the address the client sent to. (Free ports
	// per address would hide that.) The lab's address is this test's own.
	cfg.UDPPort = 10000
	if mutate != nil {
		mutate(&cfg)
	}
	return harness.StartNode(t, &cfg)
}

// httpAt and httpsAt are the node's URLs at addr (its public address,
// where a NAT translates it).
func httpAt(addr netip.Addr, n *node.Node) string {
	return "http://" + net.JoinHostPort(addr.String(), strconv.Itoa(n.Addr().(*net.TCPAddr).Port))
}

func httpsAt(addr netip.Addr, n *node.Node) string {
	return "https://" + net.JoinHostPort(addr.String(), strconv.Itoa(n.TLSAddr().Port))
}

// checkFrom runs `parley check --json url` in the branch and returns its
// report.
func checkFrom(t *testing.T, b *netns.Branch, url string) *check.Report {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := b.Command(ctx, harness.Binary(t), "check", "--json", "--timeout", "10s", "--duration", "2s", url)
	out, err := cmd.Output()
	var r check.Report
	if jerr := json.Unmarshal(out, &r); jerr != nil {
		t.Fatalf("parley check %s from %s: %v (%v)\n%s", url, b.Name(), err, jerr, out)
	}
	return &r
}

// wantUDPCheck asserts a check that found a call works over UDP, and that
// its quality figures were measured over UDP.
func wantUDPCheck(t *testing.T, r *check.Report) {
	t.Helper()
	if !r.CanCall || r.Path != client.PathUDP {
		t.Errorf("check: can call %v over %q, want true over udp: %s", r.CanCall, r.Path, r.Summary)
	}
	for _, id := range []string{check.ItemUDP, check.ItemRTT, check.ItemLoss} {
		it, ok := r.Item(id)
		if !ok || it.Status != check.Pass {
			t.Errorf("check item %s: %s: %s (%s)", id, it.Status, it.Detail, it.Advice)
		}
	}
	if rtt, _ := r.Item(check.ItemRTT); !strings.Contains(rtt.Detail, "directly over UDP") {
		t.Errorf("round trip measured %q, want over UDP", rtt.Detail)
	}
}

// --public-ip naming the node's own address, and a node behind 1:1 NAT
// with --public-ip naming the public address: from a branch, the network
// check passes over UDP and a three-person meeting decodes video over UDP.
func TestBranchMeetingWithPublicIP(t *testing.T) {
	lab := netns.New(t)
	branch := lab.Branch("office", netns.BranchOptions{})
	own := lab.LocalAddr()
	public, private := lab.NATNode()
	for _, c := range []struct {
		name           string
		listen, public netip.Addr // where the node listens; what clients use
	}{
		{"own address", own, own},
		{"behind 1:1 NAT", private, public},
	} {
		t.Run(c.name, func(t *testing.T) {
			n := labNode(t, c.listen, func(cfg *config.Config) { cfg.PublicIP = []string{c.public.String()} })
			wantUDPCheck(t, checkFrom(t, branch, httpAt(c.public, n)))
			b := startBrowser(t, branch.Namespace())
			tabs := openMeeting(t, b, httpsAt(c.public, n), "branch-room", "", []string{"Ann", "Bob", "Cid"})
			waitPath(t, tabs, "udp")
		})
	}
}
