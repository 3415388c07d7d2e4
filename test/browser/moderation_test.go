package browser

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/parley/parley/test/harness"
)

// Hands go up in order and show in the participant list and on the tiles; the
// moderator (Ann, first in) mutes Bob, who hears of it and whose microphone
// turns off, asks him to unmute, which he does from the notice, and then
// removes him, which ends his meeting with the reason.
func TestBrowserModeration(t *testing.T) {
	n := harness.StartNode(t, nil)
	b := newBrowser(t)
	base := harness.URL(n) + "/e2e-moderation?autojoin=1&name="
	// Ann first, so that she is the moderator.
	ann := b.open("Ann", base+"Ann")
	waitState(t, ann, "meeting")
	bob, cid := b.open("Bob", base+"Bob"), b.open("Cid", base+"Cid")
	waitState(t, bob, "meeting")
	waitState(t, cid, "meeting")
	bobID, cidID := evalString(t, bob, `window.parley.participantId`), evalString(t, cid, `window.parley.participantId`)
	eventually(t, 30*time.Second, "Ann sees both others", func() error {
		var others int
		if err := ann.eval(`window.parley.participants().length`, &others); err != nil {
			return err
		}
		if others != 2 {
			return fmt.Errorf("Ann sees %d others", others)
		}
		return nil
	})
	if role := evalString(t, ann, `window.parley.role()`); role != "moderator" {
		t.Fatalf("Ann, first in, has role %q", role)
	}

	// Bob's hand goes up before Cid's: Ann's list shows Bob first, then Cid, then herself.
	must(t, bob.click("#hand-toggle"))
	eventually(t, 30*time.Second, "Ann sees Bob's hand", func() error {
		return handsOrder(ann, []string{bobID})
	})
	must(t, cid.click("#hand-toggle"))
	must(t, ann.click("#people-toggle"))
	eventually(t, 30*time.Second, "Ann's list has raised hands first, in order", func() error {
		if err := handsOrder(ann, []string{bobID, cidID}); err != nil {
			return err
		}
		var shown bool
		err := ann.eval(fmt.Sprintf(`!document.querySelector('[data-participant-id=%q] .indicator-hand').hidden`, cidID), &shown)
		if err != nil || !shown {
			return fmt.Errorf("Cid's tile shows no hand (%v)", err)
		}
		return nil
	})
	var pressed string
	must(t, bob.eval(`document.getElementById('hand-toggle').getAttribute('aria-pressed')`, &pressed))
	if pressed != "true" {
		t.Fatalf("Bob's hand toggle is aria-pressed=%q", pressed)
	}

	// Ann mutes Bob: his microphone goes off and he is told by whom.
	must(t, ann.click(fmt.Sprintf(`button[data-action="mute"][data-target=%q]`, bobID)))
	eventually(t, 30*time.Second, "Bob is muted and told", func() error {
		var got struct {
			Mic    string
			Notice string
		}
		err := bob.eval(`({mic: document.getElementById('mic-toggle').getAttribute('aria-pressed'),
			notice: document.querySelector('[data-notice="muted"]')?.textContent ?? ''})`, &got)
		if err != nil {
			return err
		}
		if got.Mic != "false" || !strings.Contains(got.Notice, "Ann") {
			return fmt.Errorf("Bob has %+v", got)
		}
		return participantMuted(ann, bobID, true)
	})

	// Ann asks him to unmute; he does, from the notice.
	must(t, ann.click(fmt.Sprintf(`button[data-action="ask-unmute"][data-target=%q]`, bobID)))
	eventually(t, 30*time.Second, "Bob is asked to unmute", func() error {
		var ok bool
		if err := bob.eval(`document.querySelector('[data-notice="unmute-request"] button[data-action="unmute"]') !== null`, &ok); err != nil || !ok {
			return fmt.Errorf("no unmute request shows (%v)", err)
		}
		return nil
	})
	must(t, bob.click(`[data-notice="unmute-request"] button[data-action="unmute"]`))
	eventually(t, 30*time.Second, "Bob unmuted", func() error {
		var mic string
		if err := bob.eval(`document.getElementById('mic-toggle').getAttribute('aria-pressed')`, &mic); err != nil {
			return err
		}
		if mic != "true" {
			return fmt.Errorf("Bob's mic toggle is %q", mic)
		}
		return participantMuted(ann, bobID, false)
	})

	// Ann removes Bob (after confirming): his meeting ends with the reason.
	must(t, ann.click(fmt.Sprintf(`button[data-action="remove"][data-target=%q]`, bobID)))
	must(t, ann.click("#confirm-ok"))
	waitState(t, bob, "ended")
	if reason := evalString(t, bob, `document.getElementById('ended-reason').textContent`); !strings.Contains(reason, "removed") || !strings.Contains(reason, "Ann") {
		t.Fatalf("Bob's ended screen says %q", reason)
	}
	eventually(t, 30*time.Second, "Bob is gone for the others", func() error {
		var rows int
		if err := ann.eval(`document.querySelectorAll('#people-list [data-person-id]').length`, &rows); err != nil {
			return err
		}
		if rows != 2 {
			return fmt.Errorf("Ann's list has %d people", rows)
		}
		return nil
	})
}

// handsOrder checks that the participant list of tb starts with the raised
// hands want, in that order, and that nobody else has a hand up.
func handsOrder(tb *tab, want []string) error {
	var rows []struct {
		ID   string
		Hand string
	}
	err := tb.eval(`[...document.querySelectorAll('#people-list [data-person-id]')].map((li) => ({id: li.dataset.personId, hand: li.dataset.hand}))`, &rows)
	if err != nil {
		return err
	}
	for i, r := range rows {
		if raised := i < len(want); raised != (r.Hand == "true") || (raised && r.ID != want[i]) {
			return fmt.Errorf("%s's list: %+v, want hands %v first", tb.name, rows, want)
		}
	}
	return nil
}

func participantMuted(tb *tab, id string, want bool) error {
	var muted bool
	if err := tb.eval(fmt.Sprintf(`window.parley.participants().find((p) => p.id === %q)?.audioMuted`, id), &muted); err != nil {
		return err
	}
	if muted != want {
		return fmt.Errorf("%s sees audioMuted %v", tb.name, muted)
	}
	return nil
}
