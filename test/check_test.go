package test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parley/parley/client"
	"github.com/parley/parley/internal/check"
	"github.com/parley/parley/test/harness"
)

func runCheck(t *testing.T, opts check.Options) *check.Report {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	opts.Logger = testLogger(t)
	if opts.Duration == 0 {
		opts.Duration = 3 * time.Second
	}
	r, err := check.Run(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	_ = check.WriteText(&out, r)
	t.Logf("\n%s", out.String())
	return r
}

// Against a healthy server (TLS with a trusted certificate, UDP media,
// ICE-TCP and TURN on every transport) every item passes.
func TestCheckHealthy(t *testing.T) {
	cfg, roots := edgeConfig(t)
	n := harness.StartNode(t, &cfg)
	r := runCheck(t, check.Options{URL: tlsBase(n), Roots: roots})
	want := []string{
		check.ItemDNS, check.ItemTCP, check.ItemTLS, check.ItemSignaling, check.ItemUDP, check.ItemICETCP,
		check.ItemTURNUDP, check.ItemTURNTCP, check.ItemTURNTLS, check.ItemRTT, check.ItemJitter, check.ItemLoss, check.ItemMTU,
	}
	if len(r.Items) != len(want) {
		t.Errorf("%d items, want %d", len(r.Items), len(want))
	}
	for i, id := range want {
		it, ok := r.Item(id)
		if !ok {
			t.Errorf("no %s item", id)
			continue
		}
		if it.Status != check.Pass {
			t.Errorf("%s: %s: %s (%s)", id, it.Status, it.Detail, it.Advice)
		}
		if i < len(r.Items) && r.Items[i].ID != id {
			t.Errorf("item %d is %s, want %s", i, r.Items[i].ID, id)
		}
	}
	if !r.CanCall || r.Path != client.PathUDP {
		t.Errorf("can call %v over %q, want true over udp: %s", r.CanCall, r.Path, r.Summary)
	}
}

// Against a server whose UDP media is unreachable (here: turned off) the
// UDP item fails, names the fallback calls will use and says what to ask
// for; a call still works, over ICE-TCP on the TLS port. The command says
// the same, as JSON, and exits 0; against nothing at all it exits 1.
func TestCheckWithoutUDP(t *testing.T) {
	cfg, roots := edgeConfig(t)
	cfg.MediaUDP = false
	n := harness.StartNode(t, &cfg)
	tlsPort := strconv.Itoa(n.TLSAddr().Port)
	r := runCheck(t, check.Options{URL: tlsBase(n), Roots: roots, Timeout: 5 * time.Second})
	udp, _ := r.Item(check.ItemUDP)
	if udp.Status != check.Fail {
		t.Fatalf("UDP item %s: %s", udp.Status, udp.Detail)
	}
	for _, want := range []string{"fall back to media over TCP " + tlsPort + " (ICE-TCP)", "network team", "UDP"} {
		if !strings.Contains(udp.Advice, want) {
			t.Errorf("UDP advice %q does not say %q", udp.Advice, want)
		}
	}
	if tcp, _ := r.Item(check.ItemICETCP); tcp.Status != check.Pass {
		t.Errorf("ICE-TCP item %s: %s", tcp.Status, tcp.Detail)
	}
	if !r.CanCall || r.Path != client.PathTCP || !strings.Contains(r.Summary, "fallback") {
		t.Errorf("can call %v over %q: %s", r.CanCall, r.Path, r.Summary)
	}

	// The command, as a script would run it.
	certFile := cfg.TLSCert
	bin := harness.Binary(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "check", "--json", "--duration", "2s", "--timeout", "5s", "--ca-file", certFile, tlsBase(n))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("parley check: %v\n%s", err, stderr.String())
	}
	var fromCmd check.Report
	if err := json.Unmarshal(stdout.Bytes(), &fromCmd); err != nil {
		t.Fatalf("parley check --json: %v\n%s", err, stdout.String())
	}
	if it, _ := fromCmd.Item(check.ItemUDP); it.Status != check.Fail || !fromCmd.CanCall {
		t.Errorf("parley check --json: UDP %s, can call %v", it.Status, fromCmd.CanCall)
	}

	// Nothing listening (on a port reserved for this test): no call,
	// exit status 1.
	dead := fmt.Sprintf("https://127.0.0.1:%d", harness.FreePort(t))
	cmd = exec.CommandContext(ctx, bin, "check", "--timeout", "2s", dead)
	out, err := cmd.CombinedOutput()
	if code := cmd.ProcessState.ExitCode(); code != 1 {
		t.Errorf("parley check against nothing: exit %d (%v), want 1\n%s", code, err, out)
	}
	if !strings.Contains(string(out), "Calls cannot work from here") {
		t.Errorf("parley check against nothing says:\n%s", out)
	}
}

// A server that admits no guests refuses the check's joins: the report
// says media was not checked and how to fix that, instead of blaming the
// network, and the node hands out no TURN credential for checks.
func TestCheckNoGuests(t *testing.T) {
	cfg, roots := edgeConfig(t)
	cfg.AllowGuests = false
	cfg.JWTSecret = strings.Repeat("k", 32)
	cfg.JWTIssuer, cfg.JWTAudience = "test", "parley"
	n := harness.StartNode(t, &cfg)
	if cc := checkConfig(t, httpsClient(roots), tlsBase(n)); len(cc.ICEServers) != 0 {
		t.Errorf("TURN credentials for a check without guests: %+v", cc.ICEServers)
	}
	r := runCheck(t, check.Options{URL: tlsBase(n), Roots: roots, Timeout: 5 * time.Second})
	if sig, _ := r.Item(check.ItemSignaling); sig.Status != check.Pass {
		t.Errorf("signaling %s: %s", sig.Status, sig.Detail)
	}
	if udp, _ := r.Item(check.ItemUDP); udp.Status != check.Skip {
		t.Errorf("UDP %s: %s", udp.Status, udp.Detail)
	}
	if r.CanCall || !strings.Contains(r.Summary, "--token") {
		t.Errorf("can call %v: %s", r.CanCall, r.Summary)
	}
}
