// Package netns builds real networks on one machine for tests. A Lab is one
// test's set of network namespaces joined to the host by veth pairs
// ("branches"), each branch behind a firewall, a bandwidth limit or a
// symmetric NAT of its choosing, plus host addresses of its own and host
// addresses behind 1:1 NAT. A client in a branch is another host to a node
// listening on the host. Loopback hides what real networks do; a lab does
// not. Every object a lab makes is named after the test process's PID and
// removed at the test's cleanup, and New first sweeps away what test
// processes that died (kill -9) left behind. Traffic stays between the host
// and the lab's own addresses: branches have no route anywhere else, and the
// lab's forward rules drop anything that would leave the lab.
package netns

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley/parley/test/harness"
)

// Bounds on every wait the package makes: one command of ip, nft or tc, and
// the death of the processes in a namespace.
const (
	commandTimeout = 30 * time.Second
	killTimeout    = 10 * time.Second
)

var (
	pid = os.Getpid()
	// seq numbers labs, namespaces and links, so that names are unique
	// within the process; the PID in them makes them unique across
	// processes.
	seq atomic.Uint64
)

// Lab is one test's set of namespaces, links and nftables rules. Its methods
// fail the test (t.Fatal) when the network cannot be built; call them from
// the test's goroutine.
type Lab struct {
	t     testing.TB
	table string // the lab's nftables table, family inet

	mu      sync.Mutex
	steps   []step // undone in reverse order at cleanup
	cancels []context.CancelFunc
	names   []string // every object made, to check that cleanup removed it
	natOn   bool     // the nat chains exist

	stubMu sync.Mutex // held while the stub is made
	stub   string     // the stub's host end (see stubLink)
}

// step is one thing made, with how to remove it.
type step struct {
	what string
	undo func() error
}

// New makes an empty lab for the test and removes all of it, and every
// process started in it, when the test ends. It skips the test, loudly, only
// where network namespaces cannot be made at all.
func New(t testing.TB) *Lab {
	t.Helper()
	if err := probe(); err != nil {
		skipLoudly(t, err)
	}
	// Adding and removing links in the host's namespace is a network
	// change to every browser there, which aborts what it is loading
	// (net::ERR_NETWORK_CHANGED): a lab is made and removed while no
	// browser test runs (harness.Quiet, released after the lab's cleanup).
	harness.Quiet(t)
	for _, err := range sweep() {
		t.Logf("netns: sweeping leftovers of dead test processes: %v", err)
	}
	l := &Lab{t: t, table: fmt.Sprintf("parley_test_%d_%d", pid, seq.Add(1))}
	t.Cleanup(l.cleanup)
	if err := l.makeTable(); err != nil {
		t.Fatalf("netns: %v", err)
	}
	return l
}

// makeTable creates the lab's nftables table with its filter chains. The
// nat chains come with the first NATNode, so that a kernel without NAT
// fails only the tests that need it.
func (l *Lab) makeTable() error {
	script := fmt.Sprintf(`table inet %[1]s {
	chain input { type filter hook input priority filter; policy accept; }
	chain output { type filter hook output priority filter; policy accept; }
	chain forward { type filter hook forward priority filter; policy accept; }
}
`, l.table)
	if err := nft(script); err != nil {
		return fmt.Errorf("creating nftables table %s: %w", l.table, err)
	}
	l.made("nftables table inet "+l.table, l.table, func() error {
		return run("nft", "delete", "table", "inet", l.table)
	})
	return nil
}

// made records an object of the lab, to be removed by undo at cleanup.
func (l *Lab) made(what, name string, undo func() error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.steps = append(l.steps, step{what, undo})
	if name != "" {
		l.names = append(l.names, name)
	}
}

// cleanup stops the lab's commands, then removes what the lab made in
// reverse order, and fails the test if anything is left.
func (l *Lab) cleanup() {
	l.mu.Lock()
	steps, cancels, names := l.steps, l.cancels, l.names
	l.steps, l.cancels = nil, nil
	l.mu.Unlock()
	for _, cancel := range cancels {
		cancel()
	}
	for i := len(steps) - 1; i >= 0; i-- {
		if err := steps[i].undo(); err != nil {
			l.t.Errorf("netns: removing %s: %v", steps[i].what, err)
		}
	}
	objs, err := listObjects()
	if err != nil {
		l.t.Errorf("netns: checking cleanup: %v", err)
		return
	}
	for _, o := range objs {
		for _, n := range names {
			if o.name == n {
				l.t.Errorf("netns: left behind after cleanup: %s", o)
			}
		}
	}
}

// namespace makes a network namespace named after the process and label,
// with its loopback up. Removing it kills every process in it first.
func (l *Lab) namespace(label string) (string, error) {
	name := fmt.Sprintf("parley-%d-%d-%s", pid, seq.Add(1), label)
	if err := run("ip", "netns", "add", name); err != nil {
		return "", err
	}
	l.made("namespace "+name, name, func() error { return removeNamespace(name) })
	// The lab is IPv4. With IPv6 on, each link would get a link-local
	// address a second or two after it came up (once duplicate address
	// detection ends): a network change to a browser in the namespace,
	// which aborts the page it is loading (net::ERR_NETWORK_CHANGED).
	if err := run("ip", "netns", "exec", name, "sh", "-c",
		"echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6 && echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6"); err != nil {
		return name, err
	}
	return name, run("ip", "-n", name, "link", "set", "lo", "up")
}

// linkName names a host-side link: "pt", the PID and a sequence number in
// base 36, and a letter for its role (v: a branch's veth, a: the stub that
// holds the host's extra addresses). At most 2+5+1+6+1 = 15 characters, the
// kernel's limit.
func linkName(role byte) string {
	return "pt" + strconv.FormatInt(int64(pid), 36) + "-" + strconv.FormatUint(seq.Add(1), 36) + string(role)
}

// label makes s usable in a namespace name.
func label(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		}
		if b.Len() == 20 {
			break
		}
	}
	if b.Len() == 0 {
		return "x"
	}
	return b.String()
}

// run runs a command of ip, nft or tc on the host, with a deadline, and
// returns its output in the error when it fails.
func run(name string, args ...string) error {
	_, err := output(nil, name, args...)
	return err
}

// output runs a command with stdin and a deadline and returns its standard
// output.
func output(stdin []byte, name string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

// nft loads an nftables script into the host.
func nft(script string) error {
	_, err := output([]byte(script), "nft", "-f", "-")
	return err
}
