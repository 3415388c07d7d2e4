package netns

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The names of what labs make, each with the PID of the process that made
// it: namespaces parley-<pid>-<n>-<label>, host links pt<pid in base
// 36>-<n in base 36><role>, nftables tables parley_test_<pid>_<n>.
var (
	namespacePattern = regexp.MustCompile(`^parley-([0-9]+)-[0-9a-z-]+$`)
	linkPattern      = regexp.MustCompile(`^pt([0-9a-z]{1,6})-[0-9a-z]{1,6}[a-z]$`)
	tablePattern     = regexp.MustCompile(`^parley_test_([0-9]+)_[0-9]+$`)
)

var (
	probeOnce sync.Once
	probeErr  error
	skipOnce  sync.Once
)

// probe checks, once per process, that this process can make network
// namespaces: root, the tools, and a namespace actually made and removed.
func probe() error {
	probeOnce.Do(func() {
		if euid := os.Geteuid(); euid != 0 {
			probeErr = fmt.Errorf("not root (euid %d)", euid)
			return
		}
		for _, tool := range []string{"ip", "nft", "tc"} {
			if _, err := exec.LookPath(tool); err != nil {
				probeErr = fmt.Errorf("%s not found (apt-get install iproute2 nftables): %w", tool, err)
				return
			}
		}
		name := fmt.Sprintf("parley-%d-probe", pid)
		if err := run("ip", "netns", "add", name); err != nil {
			probeErr = err
			return
		}
		probeErr = run("ip", "netns", "del", name)
	})
	return probeErr
}

// skipLoudly skips the test, and says so on standard error once per
// process, where go test shows it even without -v.
func skipLoudly(t testing.TB, err error) {
	t.Helper()
	msg := fmt.Sprintf("network namespaces unavailable: %v; these tests run as root in CI", err)
	skipOnce.Do(func() { fmt.Fprintf(os.Stderr, "netns: SKIPPING real-network tests: %s\n", msg) })
	t.Skip(msg)
}

// object is one namespace, link or nftables table of some lab.
type object struct {
	kind   string // "namespace", "link" or "table"
	name   string
	family string // of a table
	pid    int    // of the process that made it
}

func (o object) String() string {
	if o.kind == "table" {
		return "nftables table " + o.family + " " + o.name
	}
	return o.kind + " " + o.name
}

// listObjects lists the namespaces, host links and nftables tables of every
// lab on the host, whatever process made them.
func listObjects() ([]object, error) {
	var objs []object
	out, err := output(nil, "ip", "netns", "list")
	if err != nil {
		return nil, err
	}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if m := namespacePattern.FindStringSubmatch(f[0]); m != nil {
			p, _ := strconv.Atoi(m[1])
			objs = append(objs, object{kind: "namespace", name: f[0], pid: p})
		}
	}

	out, err = output(nil, "ip", "-j", "link", "show")
	if err != nil {
		return nil, err
	}
	var links []struct {
		Name string `json:"ifname"`
	}
	if err := json.Unmarshal(out, &links); err != nil {
		return nil, fmt.Errorf("reading ip -j link show: %w", err)
	}
	for _, ln := range links {
		if m := linkPattern.FindStringSubmatch(ln.Name); m != nil {
			p, _ := strconv.ParseInt(m[1], 36, 64)
			objs = append(objs, object{kind: "link", name: ln.Name, pid: int(p)})
		}
	}

	if _, err := exec.LookPath("nft"); err != nil {
		return objs, nil // no nftables tool, so no table of ours either
	}
	out, err = output(nil, "nft", "list", "tables")
	if err != nil {
		return nil, err
	}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line) // table <family> <name>
		if len(f) != 3 || f[0] != "table" {
			continue
		}
		if m := tablePattern.FindStringSubmatch(f[2]); m != nil {
			p, _ := strconv.Atoi(m[1])
			objs = append(objs, object{kind: "table", name: f[2], family: f[1], pid: p})
		}
	}
	return objs, nil
}

// alive reports whether a process with the PID exists. In doubt, it says
// yes: a live test's objects must never be swept.
func alive(p int) bool {
	if p <= 0 {
		return true
	}
	err := unix.Kill(p, 0)
	return !errors.Is(err, unix.ESRCH)
}

// sweep removes the objects of labs whose process is no longer alive:
// namespaces (killing their processes first), host links, tables. Other
// processes may sweep at the same time, so an object that went away
// meanwhile is no error.
func sweep() []error {
	if _, err := exec.LookPath("ip"); err != nil {
		return nil
	}
	objs, err := listObjects()
	if err != nil {
		return []error{err}
	}
	var errs []error
	for _, o := range objs {
		if o.pid == pid || alive(o.pid) {
			continue
		}
		if err := remove(o); err != nil && stillThere(o) {
			errs = append(errs, fmt.Errorf("%s of dead process %d: %w", o, o.pid, err))
		}
	}
	return errs
}

// remove removes one object.
func remove(o object) error {
	switch o.kind {
	case "namespace":
		return removeNamespace(o.name)
	case "link":
		return run("ip", "link", "del", o.name)
	default:
		return run("nft", "delete", "table", o.family, o.name)
	}
}

// stillThere reports whether the object still exists (or cannot be told).
func stillThere(o object) bool {
	objs, err := listObjects()
	if err != nil {
		return true
	}
	for _, x := range objs {
		if x.kind == o.kind && x.name == o.name {
			return true
		}
	}
	return false
}

// removeNamespace kills every process in the namespace, waits for them to
// die, and deletes it; its links go with it.
func removeNamespace(name string) error {
	if err := killAll(name); err != nil {
		return err
	}
	return run("ip", "netns", "del", name)
}

// killAll kills the processes in the namespace and waits, with a deadline,
// until none is left.
func killAll(ns string) error {
	deadline := time.Now().Add(killTimeout)
	for {
		pids, err := namespacePIDs(ns)
		if err != nil || len(pids) == 0 {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("processes %v in namespace %s still alive %v after SIGKILL", pids, ns, killTimeout)
		}
		for _, p := range pids {
			_ = unix.Kill(p, unix.SIGKILL) // it may be gone already
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// namespacePIDs lists the processes in the namespace.
func namespacePIDs(ns string) ([]int, error) {
	out, err := output(nil, "ip", "netns", "pids", ns)
	if err != nil {
		return nil, err
	}
	var pids []int
	for _, f := range strings.Fields(string(out)) {
		if p, err := strconv.Atoi(f); err == nil {
			pids = append(pids, p)
		}
	}
	return pids, nil
}

// Leftovers lists what is left of the labs made by the process with this PID:
// namespaces, host links, nftables tables, and processes in those
// namespaces. It is empty when all was cleaned up. A TestMain calls it with
// os.Getpid() after m.Run to prove that the tests left nothing behind.
func Leftovers(p int) []string {
	if _, err := exec.LookPath("ip"); err != nil || os.Geteuid() != 0 {
		return nil // labs need root and ip; without them none was made
	}
	objs, err := listObjects()
	if err != nil {
		return []string{"cannot list: " + err.Error()}
	}
	var left []string
	for _, o := range objs {
		if o.pid != p {
			continue
		}
		left = append(left, o.String())
		if o.kind != "namespace" {
			continue
		}
		pids, _ := namespacePIDs(o.name)
		for _, q := range pids {
			comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", q))
			left = append(left, fmt.Sprintf("process %d (%s) in namespace %s", q, strings.TrimSpace(string(comm)), o.name))
		}
	}
	return left
}
