package browser

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp/kb"

	"github.com/parley/parley/test/harness"
)

// The first to join (Ann, the moderator) sets a password and turns the lobby
// on through the meeting's settings. Bob opens the link: he is asked for the
// password, gets a wrong one refused, enters the right one, waits in the
// lobby, and is let in by Ann; then each decodes the other's video. A chat
// message from Ann reaches Bob as text, counted unread while his chat is closed.
func TestBrowserLobbyAndPassword(t *testing.T) {
	n := harness.StartNode(t, nil)
	b := newBrowser(t)
	base := harness.URL(n)
	const room, password = "e2e-lobby", "open sesame"

	ann := b.open("Ann", base+"/"+room+"?name=Ann&autojoin=1")
	waitState(t, ann, "meeting")
	if role := evalString(t, ann, `window.parley.role()`); role != "moderator" {
		t.Fatalf("Ann, the first in the room, has role %q", role)
	}

	// Ann: a password and the lobby, through the participant panel.
	must(t, ann.click("#people-toggle"))
	must(t, ann.setValue("#room-password", password))
	must(t, ann.click("#room-password-set"))
	must(t, ann.click("#lobby-toggle"))
	eventually(t, 30*time.Second, "the room has a password and a lobby", func() error {
		var st struct{ Locked, Lobby, HasPassword bool }
		if err := ann.eval(`window.parley.roomState()`, &st); err != nil {
			return err
		}
		var shown bool
		if err := ann.eval(`!document.getElementById('state-lobby').hidden && !document.getElementById('state-password').hidden`, &shown); err != nil {
			return err
		}
		if !st.Lobby || !st.HasPassword || st.Locked || !shown {
			return fmt.Errorf("room state %+v, shown in the header: %v", st, shown)
		}
		return nil
	})

	// Bob: asked for the password; a wrong one is refused in plain words.
	bob := b.open("Bob", base+"/"+room+"?name=Bob&autojoin=1")
	waitState(t, bob, "password")
	must(t, bob.setValue("#password-input", "guess"))
	must(t, bob.click("#password-submit"))
	eventually(t, 30*time.Second, "a wrong password is refused", func() error {
		var hint struct {
			State  string
			Shown  bool
			Text   string
			Submit bool
		}
		err := bob.eval(`(() => { const h = document.getElementById('password-hint');
			return {state: window.parley.state, shown: !h.hidden, text: h.textContent,
				submit: !document.getElementById('password-submit').disabled}; })()`, &hint)
		if err != nil {
			return err
		}
		if hint.State != "password" || !hint.Shown || hint.Text == "" || !hint.Submit {
			return fmt.Errorf("Bob sees %+v", hint)
		}
		return nil
	})

	// The right password: Bob waits in the lobby and Ann sees him knock.
	must(t, bob.setValue("#password-input", password))
	must(t, bob.click("#password-submit"))
	waitState(t, bob, "lobby")
	var bobID string
	eventually(t, 30*time.Second, "Ann sees Bob knock", func() error {
		var guests []struct{ ID, Name string }
		if err := ann.eval(`window.parley.lobby()`, &guests); err != nil {
			return err
		}
		if len(guests) != 1 || guests[0].Name != "Bob" {
			return fmt.Errorf("Ann's lobby: %+v", guests)
		}
		bobID = guests[0].ID
		return nil
	})
	must(t, ann.click(fmt.Sprintf(`[data-lobby-id=%q] button[data-action="admit"]`, bobID)))
	waitState(t, bob, "meeting")
	if role := evalString(t, bob, `window.parley.role()`); role != "participant" {
		t.Fatalf("Bob, let in from the lobby, has role %q", role)
	}
	annID := evalString(t, ann, `window.parley.participantId`)
	if got := evalString(t, bob, `window.parley.participantId`); got != bobID {
		t.Fatalf("Bob joined as %q, knocked as %q", got, bobID)
	}

	// Media flows both ways.
	eventually(t, 45*time.Second, "Ann and Bob decode each other's video", func() error {
		for _, c := range []struct {
			tb   *tab
			from string
		}{{ann, bobID}, {bob, annID}} {
			st, err := c.tb.readStats()
			if err != nil {
				return err
			}
			if s := st[c.from]; s.FramesDecoded < 10 {
				return fmt.Errorf("%s decoded %v frames", c.tb.name, s.FramesDecoded)
			}
		}
		var waiting int
		if err := ann.eval(`window.parley.lobby().length`, &waiting); err != nil {
			return err
		}
		if waiting != 0 {
			return fmt.Errorf("Ann's lobby still lists %d", waiting)
		}
		return nil
	})

	// Chat: Ann writes (Enter sends); Bob, chat closed, gets it unread and as text.
	const msg = "Welcome <b>Bob</b> https://example.com"
	must(t, ann.click("#chat-toggle"))
	must(t, ann.sendKeys("#chat-input", msg+kb.Enter))
	eventually(t, 30*time.Second, "Bob gets the message, unread", func() error {
		var got struct {
			Texts  []string
			Unread string
			Shown  bool
			Markup bool
		}
		err := bob.eval(`(() => { const u = document.getElementById('chat-unread');
			return {texts: window.parley.chat().map((m) => m.text), unread: u.textContent, shown: !u.hidden,
				markup: document.querySelector('#chat-log b, #chat-log a') !== null}; })()`, &got)
		if err != nil {
			return err
		}
		if len(got.Texts) != 1 || got.Texts[0] != msg || got.Unread != "1" || !got.Shown || got.Markup {
			return fmt.Errorf("Bob has %+v", got)
		}
		return nil
	})
	eventually(t, 10*time.Second, "Ann's message comes back to her", func() error {
		var shown string
		if err := ann.eval(`document.querySelector('#chat-log .chat-text')?.textContent ?? ''`, &shown); err != nil {
			return err
		}
		if shown != msg {
			return fmt.Errorf("Ann's chat shows %q", shown)
		}
		return nil
	})
	must(t, bob.click("#chat-toggle"))
	eventually(t, 10*time.Second, "opening the chat reads it", func() error {
		var hidden bool
		if err := bob.eval(`document.getElementById('chat-unread').hidden`, &hidden); err != nil {
			return err
		}
		if !hidden {
			return fmt.Errorf("the unread count still shows")
		}
		return nil
	})

	// Over the server's length limit: refused, the limit shown, the text kept.
	long := strings.Repeat("x", 2001)
	must(t, bob.setValue("#chat-input", long))
	must(t, bob.click("#chat-send"))
	eventually(t, 30*time.Second, "Bob is told the length limit", func() error {
		var got struct {
			Error string
			Kept  bool
		}
		err := bob.eval(fmt.Sprintf(`({error: document.getElementById('chat-error').hidden ? '' : document.getElementById('chat-error').textContent,
			kept: document.getElementById('chat-input').value.length === %d})`, len(long)), &got)
		if err != nil {
			return err
		}
		if !strings.Contains(got.Error, "2000") || !got.Kept {
			return fmt.Errorf("Bob sees %+v", got)
		}
		return nil
	})
}
