package browser

import (
	"fmt"
	"testing"
	"time"

	"github.com/parley/parley/test/harness"
)

// Three people meet; one shares their screen; the other two show it on
// stage and decode it. When sharing stops, the screen leaves the stage.
func TestBrowserScreenShare(t *testing.T) {
	n := harness.StartNode(t, nil)
	b := newBrowser(t)
	tabs, ids := joinTabs(t, b, harness.URL(n), "e2e-screen", []string{"Ann", "Bob", "Cid"})
	sharer, viewers := tabs[0], tabs[1:]
	screen := ids[0] + "-screen"

	if err := sharer.click("#screen-toggle"); err != nil {
		t.Fatalf("click share: %v", err)
	}
	var first []float64
	eventually(t, 30*time.Second, "viewers show the screen on stage and decode it", func() error {
		first = first[:0]
		for _, v := range viewers {
			var stage string
			if err := v.eval(`window.parley.stage() || ""`, &stage); err != nil {
				return err
			}
			if stage != screen {
				return fmt.Errorf("%s has %q on stage", v.name, stage)
			}
			st, err := v.readStats()
			if err != nil {
				return err
			}
			frames := st[ids[0]].ScreenFramesDecoded
			if frames < 10 {
				return fmt.Errorf("%s decoded %v screen frames", v.name, frames)
			}
			first = append(first, frames)
		}
		return nil
	})
	eventually(t, 20*time.Second, "screen frames keep coming", func() error {
		for i, v := range viewers {
			st, err := v.readStats()
			if err != nil {
				return err
			}
			if got := st[ids[0]].ScreenFramesDecoded; got < first[i]+5 {
				return fmt.Errorf("%s: screen frames %v → %v", v.name, first[i], got)
			}
		}
		return nil
	})

	if err := sharer.click("#screen-toggle"); err != nil {
		t.Fatalf("click stop sharing: %v", err)
	}
	eventually(t, 20*time.Second, "the screen leaves the stage", func() error {
		for _, v := range viewers {
			var stage string
			if err := v.eval(`window.parley.stage() || ""`, &stage); err != nil {
				return err
			}
			var tiles int
			if err := v.eval(fmt.Sprintf(`document.querySelectorAll('[data-screen-of=%q]').length`, ids[0]), &tiles); err != nil {
				return err
			}
			if stage == screen || tiles != 0 {
				return fmt.Errorf("%s still shows the screen (stage %q, %d tiles)", v.name, stage, tiles)
			}
		}
		return nil
	})
}
