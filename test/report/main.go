// Command report turns the event stream of `go test -json` into what a
// person wants to read: a line per package as it finishes, then a summary
// (packages, tests passed, failed and skipped, the slowest tests, the total
// time) and, last, each failed test with its first failure messages. The
// whole output goes to a log file for when that is not enough.
//
//	go test -json ./... 2>&1 | go run ./test/report -log out/test/go-test.log
//
// It exits 1 when anything failed, so a pipeline with pipefail fails too.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/parley/parley/test/deadline"
)

func main() {
	logPath := flag.String("log", "", "write the whole test output to this file")
	failedPath := flag.String("failed", "", "write the failed tests' names to this file, one per line")
	flag.Parse()

	var logFile io.Writer = io.Discard
	if *logPath != "" {
		if err := os.MkdirAll(filepath.Dir(*logPath), 0o755); err != nil {
			fmt.Fprintln(os.Stderr, "report:", err)
			os.Exit(2)
		}
		f, err := os.Create(*logPath)
		if err != nil {
			fmt.Fprintln(os.Stderr, "report:", err)
			os.Exit(2)
		}
		defer f.Close()
		logFile = f
	}
	r := newRun(os.Stdout, logFile)
	if err := r.read(os.Stdin); err != nil {
		fmt.Fprintln(os.Stderr, "report: reading go test's output:", err)
		os.Exit(2)
	}
	r.summary(*logPath)
	if *failedPath != "" {
		var names strings.Builder
		for _, n := range r.failedNames() {
			names.WriteString(n + "\n")
		}
		if err := os.WriteFile(*failedPath, []byte(names.String()), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "report:", err)
			os.Exit(2)
		}
	}
	if r.failed() {
		os.Exit(1)
	}
}

// event is one line of `go test -json` (cmd/test2json), build events
// included.
type event struct {
	Time       time.Time
	Action     string
	Package    string
	ImportPath string
	Test       string
	Elapsed    float64
	Output     string
}

// test is one test or subtest, or a package's own output (name "").
type test struct {
	pkg, name string
	result    string // pass, fail, skip; "" while it runs
	elapsed   float64
	output    []string
}

type pkg struct {
	name     string
	all      []string // the output of every test, in order
	result   string
	elapsed  float64
	noTests  bool
	tests    int
	buildErr bool
}

// run is everything read so far.
type run struct {
	out, log   io.Writer
	start, end time.Time
	tests      map[[2]string]*test
	order      []*test
	pkgs       map[string]*pkg
	pkgOrder   []*pkg
	build      []string // build output, printed as it comes
	raw        int      // lines that were not JSON
}

func newRun(out, log io.Writer) *run {
	return &run{out: out, log: log, tests: map[[2]string]*test{}, pkgs: map[string]*pkg{}}
}

func (r *run) read(in io.Reader) error {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var ev event
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &ev) != nil {
			// go vet's and the compiler's messages, or anything else that
			// is not an event: show it, it is rare and matters.
			r.raw++
			fmt.Fprintln(r.out, string(line))
			fmt.Fprintln(r.log, string(line))
			continue
		}
		r.event(ev)
	}
	return sc.Err()
}

func (r *run) event(ev event) {
	if !ev.Time.IsZero() {
		if r.start.IsZero() {
			r.start = ev.Time
		}
		r.end = ev.Time
	}
	switch ev.Action {
	case "build-output":
		r.build = append(r.build, ev.Output)
		fmt.Fprint(r.out, ev.Output)
		fmt.Fprint(r.log, ev.Output)
		return
	case "build-fail":
		return
	}
	if ev.Package == "" {
		return
	}
	p := r.pkg(ev.Package)
	if ev.Action == "output" {
		fmt.Fprint(r.log, ev.Output)
		p.all = append(p.all, ev.Output)
	}
	if ev.Test == "" {
		switch ev.Action {
		case "output":
			t := r.test(ev.Package, "")
			t.output = append(t.output, ev.Output)
		case "pass", "fail", "skip":
			p.result, p.elapsed = ev.Action, ev.Elapsed
			p.noTests = ev.Action == "skip" && p.tests == 0
			if ev.Action == "fail" {
				for _, line := range r.test(ev.Package, "").output {
					if strings.Contains(line, "[build failed]") || strings.Contains(line, "[setup failed]") {
						p.buildErr = true
					}
				}
			}
			r.pkgDone(p)
		}
		return
	}
	t := r.test(ev.Package, ev.Test)
	switch ev.Action {
	case "run":
		p.tests++
	case "output":
		t.output = append(t.output, ev.Output)
	case "pass", "fail", "skip":
		t.result, t.elapsed = ev.Action, ev.Elapsed
	}
}

func (r *run) pkg(name string) *pkg {
	p := r.pkgs[name]
	if p == nil {
		p = &pkg{name: name}
		r.pkgs[name] = p
		r.pkgOrder = append(r.pkgOrder, p)
	}
	return p
}

func (r *run) test(pkg, name string) *test {
	k := [2]string{pkg, name}
	t := r.tests[k]
	if t == nil {
		t = &test{pkg: pkg, name: name}
		r.tests[k] = t
		r.order = append(r.order, t)
	}
	return t
}

// pkgDone prints the line of a finished package.
func (r *run) pkgDone(p *pkg) {
	if p.noTests {
		return
	}
	status := "ok  "
	if p.result == "fail" {
		status = "FAIL"
	}
	fmt.Fprintf(r.out, "%s %-40s %6.1fs  %d tests\n", status, short(p.name), p.elapsed, p.tests)
}

// short drops the module path from a package name.
func short(pkg string) string {
	if _, rest, ok := strings.Cut(pkg, "github.com/parley/parley/"); ok && rest != "" {
		return rest
	}
	if pkg == "github.com/parley/parley" {
		return "."
	}
	return pkg
}

// leafFailures are the failed tests none of whose subtests failed (the
// failure is theirs), then the tests that never finished in a failed
// package (a crash or a deadline ended the test binary).
func (r *run) leafFailures() (failed, unfinished []*test) {
	for _, t := range r.order {
		if t.name == "" {
			continue
		}
		switch {
		case t.result == "fail" && !r.failedChild(t):
			failed = append(failed, t)
		case t.result == "" && r.pkgs[t.pkg].result == "fail" && !r.hasChild(t):
			unfinished = append(unfinished, t)
		}
	}
	return failed, unfinished
}

func (r *run) failedChild(t *test) bool {
	for _, c := range r.order {
		if c.pkg == t.pkg && strings.HasPrefix(c.name, t.name+"/") && c.result == "fail" {
			return true
		}
	}
	return false
}

func (r *run) hasChild(t *test) bool {
	for _, c := range r.order {
		if c.pkg == t.pkg && strings.HasPrefix(c.name, t.name+"/") {
			return true
		}
	}
	return false
}

// failedPackages are the failed packages none of whose tests is to blame:
// a build error, a crash outside any test, a timeout.
func (r *run) failedPackages() []*pkg {
	failed, unfinished := r.leafFailures()
	blamed := map[string]bool{}
	for _, t := range append(failed, unfinished...) {
		blamed[t.pkg] = true
	}
	var out []*pkg
	for _, p := range r.pkgOrder {
		if p.result == "fail" && !blamed[p.name] {
			out = append(out, p)
		}
	}
	return out
}

func (r *run) failed() bool {
	for _, p := range r.pkgOrder {
		if p.result == "fail" || p.result == "" {
			return true
		}
	}
	return len(r.build) > 0 && len(r.pkgOrder) == 0
}

// failedNames lists what failed as pkg.Test, one entry per failure.
func (r *run) failedNames() []string {
	failed, unfinished := r.leafFailures()
	var names []string
	for _, t := range append(failed, unfinished...) {
		names = append(names, short(t.pkg)+"."+t.name)
	}
	for _, p := range r.failedPackages() {
		names = append(names, short(p.name))
	}
	for _, p := range r.pkgOrder {
		if p.result == "" {
			names = append(names, short(p.name)+" (no result)")
		}
	}
	return names
}

// summary prints the totals, the slowest tests, the skipped tests, and the
// failures last.
func (r *run) summary(logPath string) {
	var pass, fail, skip, pkgs int
	for _, t := range r.order {
		switch {
		case t.name == "":
		case t.result == "pass":
			pass++
		case t.result == "fail":
			fail++
		case t.result == "skip":
			skip++
		}
	}
	for _, p := range r.pkgOrder {
		if !p.noTests {
			pkgs++
		}
	}
	w := r.out
	fmt.Fprintln(w)
	fmt.Fprintf(w, "%d packages with tests; %d tests and subtests: %d passed, %d failed, %d skipped; %s\n",
		pkgs, pass+fail+skip, pass, fail, skip, r.end.Sub(r.start).Round(time.Second))

	var top []*test
	for _, t := range r.order {
		if t.name != "" && !strings.Contains(t.name, "/") && t.result != "" {
			top = append(top, t)
		}
	}
	slices.SortFunc(top, func(a, b *test) int {
		switch {
		case a.elapsed > b.elapsed:
			return -1
		case a.elapsed < b.elapsed:
			return 1
		}
		return 0
	})
	if len(top) > 0 {
		fmt.Fprintln(w, "slowest tests:")
		for _, t := range top[:min(len(top), 8)] {
			fmt.Fprintf(w, "  %6.1fs  %s.%s\n", t.elapsed, short(t.pkg), t.name)
		}
	}

	var skipped []*test
	for _, t := range r.order {
		if t.result == "skip" && t.name != "" {
			skipped = append(skipped, t)
		}
	}
	if len(skipped) > 0 {
		fmt.Fprintln(w, "skipped:")
		for i, t := range skipped {
			if i == 10 {
				fmt.Fprintf(w, "  ... and %d more (see the log)\n", len(skipped)-10)
				break
			}
			fmt.Fprintf(w, "  %s.%s: %s\n", short(t.pkg), t.name, firstMessage(t.output))
		}
	}

	failed, unfinished := r.leafFailures()
	badPkgs := r.failedPackages()
	if len(failed)+len(unfinished)+len(badPkgs) > 0 || r.failed() {
		if logPath != "" {
			fmt.Fprintf(w, "\nthe whole output is in %s\n", logPath)
		}
		for _, t := range failed {
			fmt.Fprintf(w, "\n--- FAIL: %s.%s (%.1fs)\n", short(t.pkg), t.name, t.elapsed)
			for _, l := range failureLines(t.output) {
				fmt.Fprintln(w, l)
			}
		}
		for _, p := range r.pkgOrder {
			var names []string
			for _, t := range unfinished {
				if t.pkg == p.name {
					names = append(names, t.name)
				}
			}
			if len(names) == 0 && !slices.Contains(badPkgs, p) {
				continue
			}
			fmt.Fprintf(w, "\n--- FAIL: package %s", short(p.name))
			if len(names) > 0 {
				fmt.Fprintf(w, ": the test binary ended while %s ran", strings.Join(names, ", "))
			}
			fmt.Fprintln(w)
			for _, l := range packageLines(p.all) {
				fmt.Fprintln(w, l)
			}
		}
		fmt.Fprintf(w, "\nFAILED: %s\n", strings.Join(r.failedNames(), " "))
	}
}

// A message of t.Log or t.Error: indented, then file:line and a colon.
func isMessage(line string) (file string, ok bool) {
	s := strings.TrimLeft(line, " ")
	if len(s) == len(line) || len(line)-len(s) > 8 {
		return "", false
	}
	colon := strings.Index(s, ": ")
	if colon < 0 {
		return "", false
	}
	loc := s[:colon]
	i := strings.LastIndexByte(loc, ':')
	if i < 0 || !strings.HasSuffix(loc[:i], ".go") || strings.ContainsAny(loc, " \t") {
		return "", false
	}
	for _, c := range loc[i+1:] {
		if c < '0' || c > '9' {
			return "", false
		}
	}
	return loc[:i], true
}

// firstMessage is the first t.Log/t.Skip message of a test, on one line.
func firstMessage(output []string) string {
	for _, l := range output {
		if _, ok := isMessage(l); ok {
			return clip(strings.TrimSpace(l))
		}
	}
	return "(no reason given)"
}

// failureLines picks a failed test's first messages: those of its own
// _test.go files first (the assertions; t.Helper puts a helper's failure
// there too), each with a few continuation lines, leaving out the logs.
func failureLines(output []string) []string {
	type msg struct{ lines []string }
	var own, other []msg
	for i := 0; i < len(output); i++ {
		file, ok := isMessage(output[i])
		if !ok {
			continue
		}
		m := msg{lines: []string{clip(strings.TrimRight(output[i], "\n"))}}
		indent := len(output[i]) - len(strings.TrimLeft(output[i], " "))
		for j := i + 1; j < len(output) && len(m.lines) < 4; j++ {
			next := output[j]
			if len(next)-len(strings.TrimLeft(next, " ")) <= indent {
				break
			}
			m.lines = append(m.lines, clip(strings.TrimRight(next, "\n")))
		}
		if strings.HasSuffix(file, "_test.go") {
			own = append(own, m)
		} else {
			other = append(other, m)
		}
	}
	msgs := own
	if len(msgs) == 0 {
		msgs = other
	}
	var out []string
	for i, m := range msgs {
		if i == 3 {
			out = append(out, fmt.Sprintf("    ... %d more messages in the log", len(msgs)-3))
			break
		}
		out = append(out, m.lines...)
	}
	if len(out) == 0 {
		out = append(out, "    (no message: see the log)")
	}
	return out
}

// packageLines picks from a package's own output what says why it failed:
// a deadline's or a panic's report, go test's timeout, a build error. At
// most 80 lines.
func packageLines(output []string) []string {
	var out []string
	keep := false
	for i, l := range output {
		l = strings.TrimRight(l, "\n")
		switch {
		case strings.HasPrefix(l, "--- DEADLINE"), strings.HasPrefix(l, "panic:"), strings.HasPrefix(l, "fatal error:"),
			strings.Contains(l, "[build failed]"), strings.Contains(l, "[setup failed]"):
			keep = true
		case strings.HasPrefix(l, "goroutine ") && strings.Contains(l, "[") && keep:
			// The full dump of a panic or of go test's timeout: shown
			// condensed, as a deadline shows it.
			var dump strings.Builder
			for _, d := range output[i:] {
				dump.WriteString(d)
			}
			out = append(out, "goroutines in Parley's code:")
			for _, c := range strings.Split(strings.TrimSpace(deadline.Condense([]byte(dump.String()))), "\n") {
				out = append(out, c)
				if len(out) == 80 {
					return append(out, "    ... (see the log)")
				}
			}
			return out
		}
		if keep {
			out = append(out, clip(l))
			if len(out) == 80 {
				return append(out, "    ... (see the log)")
			}
		}
	}
	if len(out) == 0 {
		for _, l := range output[max(0, len(output)-10):] {
			out = append(out, clip(strings.TrimRight(l, "\n")))
		}
	}
	return out
}

func clip(s string) string {
	if len(s) > 300 {
		return s[:300] + " ..."
	}
	return s
}
