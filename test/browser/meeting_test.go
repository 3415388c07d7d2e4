package browser

import (
	"fmt"
	"testing"
	"time"

	"github.com/parley/parley/test/harness"
)

// Three people join one room through the real web client; each decodes
// video from both others; when one leaves, their tile disappears for the
// others.
func TestBrowserMeeting(t *testing.T) {
	n := harness.StartNode(t, nil)
	b := newBrowser(t)
	base := harness.URL(n)

	names := []string{"Ann", "Bob", "Cid"}
	tabs, ids := joinTabs(t, b, base, "e2e-room", names)

	// Each decodes video from both others, and keeps decoding.
	first := make([]stats, len(tabs))
	eventually(t, 45*time.Second, "everyone decodes video and receives audio from both others", func() error {
		for i, tb := range tabs {
			st, err := tb.readStats()
			if err != nil {
				return err
			}
			for j, id := range ids {
				if j == i {
					continue
				}
				s, ok := st[id]
				if !ok || s.FramesDecoded < 10 || s.AudioPacketsReceived < 10 {
					return fmt.Errorf("%s has from %s: %+v", tb.name, names[j], s)
				}
			}
			first[i] = st
		}
		return nil
	})
	eventually(t, 20*time.Second, "decoding goes on", func() error {
		for i, tb := range tabs {
			st, err := tb.readStats()
			if err != nil {
				return err
			}
			for j, id := range ids {
				if j != i && st[id].FramesDecoded < first[i][id].FramesDecoded+30 {
					return fmt.Errorf("%s: frames from %s went %v → %v", tb.name, names[j], first[i][id].FramesDecoded, st[id].FramesDecoded)
				}
			}
		}
		return nil
	})

	// Cid leaves: the tile disappears for Ann and Bob.
	leaver := tabs[2]
	if err := leaver.click("#leave-button"); err != nil {
		t.Fatalf("click leave: %v", err)
	}
	eventually(t, 20*time.Second, "the leaver's tile disappears for the others", func() error {
		var state string
		if err := leaver.eval(`window.parley.state`, &state); err != nil {
			return err
		}
		if state != "left" {
			return fmt.Errorf("leaver is in state %q", state)
		}
		for _, tb := range tabs[:2] {
			var gone bool
			if err := tb.eval(fmt.Sprintf(`document.querySelector('[data-participant-id=%q]') === null`, ids[2]), &gone); err != nil {
				return err
			}
			var tiles int
			if err := tb.eval(`document.querySelectorAll('[data-participant-id]').length`, &tiles); err != nil {
				return err
			}
			if !gone || tiles != 2 {
				return fmt.Errorf("%s still shows the leaver (tiles %d)", tb.name, tiles)
			}
		}
		return nil
	})
}

// joinTabs opens one tab per name on the room with autojoin and waits until
// every tab is in the meeting with all the others; it returns the tabs and
// their participant ids.
func joinTabs(t *testing.T, b *browser, base, room string, names []string) ([]*tab, []string) {
	t.Helper()
	tabs := b.openAll(base, room, "", names)
	ids := make([]string, len(tabs))
	eventually(t, 45*time.Second, "everyone is in the meeting with the others", func() error {
		for i, tb := range tabs {
			if err := tb.inState("meeting"); err != nil {
				return err
			}
			if err := tb.eval(`window.parley.participantId || ""`, &ids[i]); err != nil {
				return err
			}
			var others, tiles int
			if err := tb.eval(`window.parley.participants().length`, &others); err != nil {
				return err
			}
			if err := tb.eval(`document.querySelectorAll('[data-participant-id]').length`, &tiles); err != nil {
				return err
			}
			if others != len(names)-1 || tiles != len(names) {
				return fmt.Errorf("%s sees %d others and %d tiles", tb.name, others, tiles)
			}
		}
		return nil
	})
	return tabs, ids
}
