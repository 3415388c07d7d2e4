// Package browser drives Debian's Chromium through the real web client
// against a node running in process. These tests are never skipped in CI:
// without Chromium they fail and say how to get it (scripts/test installs
// it); PARLEY_SKIP_BROWSER=1 skips them on a developer's machine.
package browser

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/parley/parley/test/deadline"
	"github.com/parley/parley/test/harness"
)

func chromiumPath(t *testing.T) string {
	t.Helper()
	if os.Getenv("PARLEY_SKIP_BROWSER") == "1" {
		t.Skip("PARLEY_SKIP_BROWSER=1: browser tests skipped on request")
	}
	if p := os.Getenv("PARLEY_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("Chromium not found: run ./scripts/test (it installs Debian's chromium) or set PARLEY_CHROMIUM")
	return ""
}

// browser is one Chromium process; each tab is a participant.
type browser struct {
	t    *testing.T
	ctx  context.Context
	mu   sync.Mutex
	logs []string
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	return startBrowser(t, "")
}

// startBrowser starts Chromium, in the network namespace netns when it is
// not "" (a client on another host, as far as the kernel is concerned).
// chromedp talks to it over a pipe (file descriptors 3 and 4), which `ip
// netns exec` passes on.
func startBrowser(t *testing.T, netns string) *browser {
	t.Helper()
	harness.Quiet(t)
	deadline.Arm(t, deadline.Default)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("headless", "new"),
		chromedp.NoSandbox,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("use-fake-ui-for-media-stream", true),
		chromedp.Flag("use-fake-device-for-media-stream", true),
		chromedp.Flag("allow-loopback-in-peer-connection", true),
		// The one-port tests' nodes use a self-signed certificate, for the
		// page and for TURN over TLS.
		chromedp.Flag("ignore-certificate-errors", true),
		// Screen capture without a picker: the whole (virtual) screen.
		chromedp.Flag("auto-select-desktop-capture-source", "Entire"),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("mute-audio", true),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
		// Every tab is a participant: none may be throttled as a background tab.
		chromedp.Flag("disable-renderer-backgrounding", true),
		chromedp.Flag("disable-background-timer-throttling", true),
		chromedp.Flag("disable-backgrounding-occluded-windows", true),
		chromedp.WindowSize(960, 600),
	}
	if netns != "" {
		ip, err := exec.LookPath("ip")
		if err != nil {
			t.Fatalf("Chromium in namespace %s: %v", netns, err)
		}
		opts = append(opts, chromedp.ModifyCmdFunc(func(cmd *exec.Cmd) {
			cmd.Args = append([]string{ip, "netns", "exec", netns, cmd.Path}, cmd.Args[1:]...)
			cmd.Path = ip
		}))
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	if err := chromedp.Do(ctx); err != nil {
		cancel()
		cancelAlloc()
		t.Fatalf("start Chromium: %v", err)
	}
	b := &browser{t: t, ctx: ctx}
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
		if t.Failed() {
			b.mu.Lock()
			for _, l := range b.logs {
				t.Log(l)
			}
			b.mu.Unlock()
		}
	})
	return b
}

// tab is one page in the browser.
type tab struct {
	b    *browser
	name string
	ctx  context.Context
}

func (b *browser) open(name, url string) *tab {
	b.t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx)
	b.t.Cleanup(cancel)
	err := chromedp.Listen(ctx, func(ev any) {
		if ev, ok := ev.(*runtime.EventConsoleAPICalled); ok {
			var parts []string
			for _, a := range ev.Args {
				parts = append(parts, strings.Trim(string(a.Value), `"`))
			}
			b.mu.Lock()
			b.logs = append(b.logs, fmt.Sprintf("[%s console.%s] %s", name, ev.Type, strings.Join(parts, " ")))
			b.mu.Unlock()
		}
	})
	if err != nil {
		b.t.Fatalf("%s: open tab: %v", name, err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		b.t.Fatalf("%s: open %s: %v", name, url, err)
	}
	return &tab{b: b, name: name, ctx: ctx}
}

// openAll opens one tab per name on room, joining at once under that name,
// with the extra query appended.
func (b *browser) openAll(base, room, query string, names []string) []*tab {
	b.t.Helper()
	tabs := make([]*tab, len(names))
	for i, name := range names {
		tabs[i] = b.open(name, fmt.Sprintf("%s/%s?name=%s&autojoin=1%s", base, room, name, query))
	}
	return tabs
}

// eval evaluates a JavaScript expression (awaiting promises) and decodes
// its JSON value into out.
func (tb *tab) eval(expr string, out any) error {
	ctx, cancel := context.WithTimeout(tb.ctx, 10*time.Second)
	defer cancel()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		return fmt.Errorf("%s: %s: %w", tb.name, expr, err)
	}
	return json.Unmarshal(raw, out)
}

// do runs one action in the tab, for at most 10 s.
func (tb *tab) do(action chromedp.Action[chromedp.Void]) error {
	ctx, cancel := context.WithTimeout(tb.ctx, 10*time.Second)
	defer cancel()
	return chromedp.Do(ctx, action)
}

func (tb *tab) click(selector string) error {
	return tb.do(chromedp.Click(chromedp.CSS(selector)))
}

func (tb *tab) setValue(selector, value string) error {
	return tb.do(chromedp.SetValue(chromedp.CSS(selector), value))
}

func (tb *tab) sendKeys(selector, keys string) error {
	return tb.do(chromedp.SendKeys(chromedp.CSS(selector), keys))
}

// inState says why the tab's window.parley.state is not want (with the
// error the page shows), or nil when it is.
func (tb *tab) inState(want string) error {
	var state string
	if err := tb.eval(`window.parley ? window.parley.state : ""`, &state); err != nil {
		return err
	}
	if state != want {
		var code string
		_ = tb.eval(`(document.querySelector('[data-error]')||{}).dataset?.error || ""`, &code)
		return fmt.Errorf("%s is in state %q (error %q)", tb.name, state, code)
	}
	return nil
}

// waitState waits until the tab's window.parley.state is want.
func waitState(t *testing.T, tb *tab, want string) {
	t.Helper()
	eventually(t, 30*time.Second, fmt.Sprintf("%s reaches %q", tb.name, want), func() error {
		return tb.inState(want)
	})
}

func evalString(t *testing.T, tb *tab, expr string) string {
	t.Helper()
	var s string
	if err := tb.eval(expr, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

var eventually = harness.Eventually

type stats map[string]struct {
	FramesDecoded        float64 `json:"framesDecoded"`
	AudioPacketsReceived float64 `json:"audioPacketsReceived"`
	ScreenFramesDecoded  float64 `json:"screenFramesDecoded"`
	FrameHeight          float64 `json:"frameHeight"`
	VideoPacketsReceived float64 `json:"videoPacketsReceived"`
	VideoBytesReceived   float64 `json:"videoBytesReceived"`
	VideoPacketsLost     float64 `json:"videoPacketsLost"`
}

// readStats reads window.parley.stats().
func (tb *tab) readStats() (stats, error) {
	var st stats
	err := tb.eval(`window.parley.stats()`, &st)
	return st, err
}
