package main

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestReport runs the fixture package's tests (which pass, fail, skip and
// hang on purpose) under go test -json and reads the report of them.
func TestReport(t *testing.T) {
	cmd := exec.Command("go", "test", "-json", "-count=1", "./testdata/fixture")
	cmd.Env = append(os.Environ(), "REPORT_FIXTURE=1", "REPORT_FIXTURE_HANG=1")
	stream, _ := cmd.CombinedOutput() // the fixture fails on purpose
	var out, log bytes.Buffer
	r := newRun(&out, &log)
	if err := r.read(bytes.NewReader(stream)); err != nil {
		t.Fatal(err)
	}
	r.summary("the-log-file")
	got := out.String()
	t.Logf("report:\n%s", got)

	if !r.failed() {
		t.Error("a run with failures is not reported as failed")
	}
	for _, want := range []string{
		"1 packages with tests; 6 tests and subtests: 2 passed, 3 failed, 1 skipped",
		"fixture.TestSkipped: fixture_test.go:41: no Chromium here",
		"--- FAIL: test/report/testdata/fixture.TestFails",
		"want 3 packets, got 2",
		"second line of the message",
		"--- FAIL: test/report/testdata/fixture.TestSubtests/broken",
		"the broken subtest",
		"the test binary ended while TestHangs ran",
		"--- DEADLINE: TestHangs did not finish within 300ms",
		"fixture.TestHangs  fixture_test.go:",
		"the whole output is in the-log-file",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the report lacks %q", want)
		}
	}
	// Logs are for the log file; the parent of a failed subtest is not a
	// failure of its own.
	for _, unwanted := range []string{"server log line", "a warning nobody needs to read", "--- FAIL: test/report/testdata/fixture.TestSubtests ("} {
		if strings.Contains(got, unwanted) {
			t.Errorf("the report has %q", unwanted)
		}
	}
	if !strings.Contains(log.String(), "server log line") {
		t.Error("the log file lacks the failed test's log")
	}
	// The failed tests' names come last.
	lines := strings.Split(strings.TrimSpace(got), "\n")
	last := lines[len(lines)-1]
	want := "FAILED: test/report/testdata/fixture.TestFails test/report/testdata/fixture.TestSubtests/broken test/report/testdata/fixture.TestHangs"
	if last != want {
		t.Errorf("last line %q, want %q", last, want)
	}
}

// A passing run's report is short: a line per package and the summary.
func TestReportPassing(t *testing.T) {
	cmd := exec.Command("go", "test", "-json", "-count=1", "./testdata/fixture")
	stream, err := cmd.CombinedOutput() // every fixture test skips
	if err != nil {
		t.Fatalf("%v\n%s", err, stream)
	}
	var out bytes.Buffer
	r := newRun(&out, &bytes.Buffer{})
	if err := r.read(bytes.NewReader(stream)); err != nil {
		t.Fatal(err)
	}
	r.summary("the-log-file")
	if r.failed() {
		t.Errorf("a passing run is reported as failed:\n%s", out.String())
	}
	if strings.Contains(out.String(), "FAIL") || strings.Contains(out.String(), "the-log-file") {
		t.Errorf("a passing run's report speaks of failures:\n%s", out.String())
	}
	if n := strings.Count(out.String(), "\n"); n > 20 {
		t.Errorf("a passing run of one package takes %d lines:\n%s", n, out.String())
	}
}
