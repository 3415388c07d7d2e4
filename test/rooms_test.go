package test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parley/parley/client"
	"github.com/parley/parley/protocol"
)

func moderate(t testing.TB, m *member, action, target, kind string, on bool, password string) {
	t.Helper()
	if err := m.s.Send(protocol.Moderate{Type: protocol.TypeModerate, Action: action, Target: target, Kind: kind, On: on, Password: password}); err != nil {
		t.Fatal(err)
	}
}

// policyIs waits until the last room state m was sent satisfies ok: the
// moderator's change has taken effect.
func policyIs(t testing.TB, m *member, what string, ok func(*protocol.RoomState) bool) {
	t.Helper()
	eventually(t, 5*time.Second, "room state: "+what, func() error {
		states := received[*protocol.RoomState](m)
		if len(states) == 0 || !ok(states[len(states)-1]) {
			return fmt.Errorf("not yet")
		}
		return nil
	})
}

func refusedCode(err error) string {
	var re *client.RefusedError
	if errors.As(err, &re) {
		return re.Code
	}
	return ""
}

// Moderator actions take effect on the target; a non-moderator's attempt
// is refused.
func TestModeration(t *testing.T) {
	n := startNode(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	url := nodeURL(n)
	mod := joinMember(t, ctx, url, "moderated", "mod", memberOpts{audio: true})
	if mod.s.Self().Role != protocol.RoleModerator {
		t.Fatalf("the first in is %q, want moderator", mod.s.Self().Role)
	}
	bob := joinMember(t, ctx, url, "moderated", "bob", memberOpts{audio: true, camera: true})
	obs := joinMember(t, ctx, url, "moderated", "obs", memberOpts{})
	if obs.s.Self().Role != protocol.RoleParticipant {
		t.Fatalf("a later participant is %q", obs.s.Self().Role)
	}
	mod.mic.SetLevel(50)
	bob.mic.SetLevel(50)
	eventually(t, 20*time.Second, "audio flows", func() error {
		if obs.count(bob.s.ID(), "audio") < 20 || obs.count(mod.s.ID(), "audio") < 20 {
			return fmt.Errorf("not yet")
		}
		return nil
	})

	// A non-moderator may not mute anyone; the target keeps being heard.
	moderate(t, obs, protocol.ActionMute, mod.s.ID(), protocol.KindAudio, false, "")
	eventually(t, 5*time.Second, "the attempt is refused", func() error {
		for _, e := range received[*protocol.Error](obs) {
			if e.Code == protocol.CodeNotModerator {
				return nil
			}
		}
		return fmt.Errorf("no not-moderator error")
	})
	before := obs.count(mod.s.ID(), "audio")
	eventually(t, 10*time.Second, "the moderator is still heard after a refused mute", func() error {
		if n := obs.count(mod.s.ID(), "audio") - before; n < 50 {
			return fmt.Errorf("%d audio packets since the refusal", n)
		}
		return nil
	})

	// The moderator mutes bob: the bridge stops forwarding his audio, and he
	// is told.
	moderate(t, mod, protocol.ActionMute, bob.s.ID(), protocol.KindAudio, false, "")
	eventually(t, 5*time.Second, "bob is told he was muted", func() error {
		for _, m := range received[*protocol.Muted](bob) {
			if m.Kind == protocol.KindAudio && m.By == "mod" {
				return nil
			}
		}
		return fmt.Errorf("no muted message")
	})
	stopped := quiet(t, obs, bob.s.ID(), "audio")
	if obs.count(bob.s.ID(), "video") < 10 {
		t.Errorf("bob's video stopped too")
	}
	// Bob unmutes himself: forwarded again.
	if err := bob.s.SetMuted(false, false); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "bob is heard again after unmuting", func() error {
		if got := obs.count(bob.s.ID(), "audio"); got < stopped+20 {
			return fmt.Errorf("%d packets", got-stopped)
		}
		return nil
	})

	// Stop bob's camera; ask him to unmute; hand moderator to obs.
	moderate(t, mod, protocol.ActionMute, bob.s.ID(), protocol.KindVideo, false, "")
	moderate(t, mod, protocol.ActionAskUnmute, bob.s.ID(), protocol.KindAudio, false, "")
	moderate(t, mod, protocol.ActionGrantModerator, obs.s.ID(), "", false, "")
	eventually(t, 5*time.Second, "video stopped, unmute asked, moderator granted", func() error {
		if len(received[*protocol.UnmuteRequest](bob)) == 0 {
			return fmt.Errorf("no unmute request")
		}
		granted := false
		for _, u := range received[*protocol.ParticipantUpdated](bob) {
			granted = granted || (u.Participant.ID == obs.s.ID() && u.Participant.Role == protocol.RoleModerator)
		}
		if !granted {
			return fmt.Errorf("obs not moderator yet")
		}
		return nil
	})
	quiet(t, obs, bob.s.ID(), "video")

	// The new moderator removes bob.
	moderate(t, obs, protocol.ActionRemove, bob.s.ID(), "", false, "")
	select {
	case <-bob.s.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("bob was not removed")
	}
	if r := bob.s.ClosedReason(); r == "" {
		t.Error("bob got no reason")
	}
	// End the meeting for all.
	moderate(t, mod, protocol.ActionEndMeeting, "", "", false, "")
	for _, m := range []*member{mod, obs} {
		select {
		case <-m.s.Done():
		case <-time.After(5 * time.Second):
			t.Fatalf("%s still in the ended meeting", m.name)
		}
	}
}

// quiet waits until m receives nothing more of a participant's source for
// a second (packets in flight at the moment of a mute still arrive), and
// returns the count at that point.
func quiet(t *testing.T, m *member, participant, kind string) int {
	t.Helper()
	var n int
	eventually(t, 10*time.Second, participant+"'s "+kind+" stops being forwarded", func() error {
		n = m.count(participant, kind)
		time.Sleep(time.Second)
		if got := m.count(participant, kind); got != n {
			return fmt.Errorf("%d more packets in a second", got-n)
		}
		return nil
	})
	return n
}

// Chat to the room and privately, raised hands in order.
func TestChatAndHands(t *testing.T) {
	n := startNode(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	url := nodeURL(n)
	ann := joinMember(t, ctx, url, "chatty", "ann", memberOpts{})
	bob := joinMember(t, ctx, url, "chatty", "bob", memberOpts{})
	cid := joinMember(t, ctx, url, "chatty", "cid", memberOpts{})
	if err := ann.s.Send(protocol.Chat{Type: protocol.TypeChat, Text: "hello all"}); err != nil {
		t.Fatal(err)
	}
	if err := bob.s.Send(protocol.Chat{Type: protocol.TypeChat, Text: "psst ann", To: ann.s.ID()}); err != nil {
		t.Fatal(err)
	}
	if err := cid.s.Send(protocol.Hand{Type: protocol.TypeHand, Raised: true}); err != nil {
		t.Fatal(err)
	}
	// bob raises his hand once cid's is known to be up: the order is then
	// defined whatever the machine's load.
	eventually(t, 5*time.Second, "cid's hand is up", func() error {
		for _, u := range received[*protocol.ParticipantUpdated](bob) {
			if u.Participant.ID == cid.s.ID() && u.Participant.HandRaisedAt > 0 {
				return nil
			}
		}
		return fmt.Errorf("not yet")
	})
	if err := bob.s.Send(protocol.Hand{Type: protocol.TypeHand, Raised: true}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "chat and hands arrive", func() error {
		for _, m := range []*member{ann, bob, cid} {
			room := 0
			for _, c := range received[*protocol.Chat](m) {
				if c.Text == "hello all" && c.Name == "ann" && c.From == ann.s.ID() && c.Time > 0 {
					room++
				}
			}
			if room != 1 {
				return fmt.Errorf("%s got the room message %d times", m.name, room)
			}
		}
		private := func(m *member) int {
			n := 0
			for _, c := range received[*protocol.Chat](m) {
				if c.Text == "psst ann" {
					n++
				}
			}
			return n
		}
		if private(ann) != 1 || private(bob) != 1 || private(cid) != 0 {
			return fmt.Errorf("private message reached ann %d, bob %d, cid %d times", private(ann), private(bob), private(cid))
		}
		var cidAt, bobAt int64
		for _, u := range received[*protocol.ParticipantUpdated](ann) {
			switch u.Participant.ID {
			case cid.s.ID():
				cidAt = u.Participant.HandRaisedAt
			case bob.s.ID():
				bobAt = u.Participant.HandRaisedAt
			}
		}
		if cidAt == 0 || bobAt == 0 || cidAt > bobAt {
			return fmt.Errorf("hands raised at cid %d, bob %d", cidAt, bobAt)
		}
		return nil
	})
	// A message over the limit is refused; a newcomer gets the history.
	big := make([]byte, 2500)
	for i := range big {
		big[i] = 'x'
	}
	if err := ann.s.Send(protocol.Chat{Type: protocol.TypeChat, Text: string(big)}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "the long message is refused", func() error {
		for _, e := range received[*protocol.Error](ann) {
			if e.Code == protocol.CodeTooLarge && e.Ref == protocol.TypeChat {
				return nil
			}
		}
		return fmt.Errorf("no error")
	})
}

// Password, lock and lobby (the browser test covers the lobby end to end).
func TestRoomPolicy(t *testing.T) {
	n := startNode(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	url := nodeURL(n)
	mod := joinMember(t, ctx, url, "policy", "mod", memberOpts{camera: true})

	moderate(t, mod, protocol.ActionPassword, "", "", false, "s3cret")
	eventually(t, 5*time.Second, "room state shows the password", func() error {
		for _, s := range received[*protocol.RoomState](mod) {
			if s.HasPassword {
				return nil
			}
		}
		return fmt.Errorf("no room-state")
	})
	if _, err := tryJoin(t, ctx, url, "policy", "nopass", memberOpts{}); refusedCode(err) != protocol.CodePasswordRequired {
		t.Errorf("join without password: %v", err)
	}
	if _, err := tryJoin(t, ctx, url, "policy", "wrongpass", memberOpts{password: "guess"}); refusedCode(err) != protocol.CodeWrongPassword {
		t.Errorf("join with a wrong password: %v", err)
	}
	if _, err := tryJoin(t, ctx, url, "policy", "rightpass", memberOpts{password: "s3cret"}); err != nil {
		t.Errorf("join with the password: %v", err)
	}
	moderate(t, mod, protocol.ActionPassword, "", "", false, "")

	moderate(t, mod, protocol.ActionLock, "", "", true, "")
	policyIs(t, mod, "locked", func(s *protocol.RoomState) bool { return s.Locked && !s.HasPassword })
	if _, err := tryJoin(t, ctx, url, "policy", "late", memberOpts{}); refusedCode(err) != protocol.CodeRoomLocked {
		t.Errorf("join of a locked room: %v", err)
	}
	moderate(t, mod, protocol.ActionLock, "", "", false, "")

	// Lobby: the guest waits, the moderator sees the knock and admits.
	moderate(t, mod, protocol.ActionLobby, "", "", true, "")
	policyIs(t, mod, "lobby on", func(s *protocol.RoomState) bool { return s.Lobby && !s.Locked })
	waiting := make(chan struct{})
	var guest *member
	var guestErr error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		guest, guestErr = tryJoin(t, ctx, url, "policy", "guest", memberOpts{lobby: waiting})
	}()
	knock := knockOf(t, mod, "guest", waiting)
	moderate(t, mod, protocol.ActionAdmit, knock.Participant.ID, "", false, "")
	wg.Wait()
	if guestErr != nil {
		t.Fatalf("admitted guest: %v", guestErr)
	}
	eventually(t, 20*time.Second, "the admitted guest gets media", func() error {
		if guest.count(mod.s.ID(), "video") < 10 {
			return fmt.Errorf("%d packets", guest.count(mod.s.ID(), "video"))
		}
		return nil
	})

	// A denied guest is turned away with a reason.
	waiting = make(chan struct{})
	denied := make(chan error, 1)
	go func() {
		_, err := tryJoin(t, ctx, url, "policy", "turned-away", memberOpts{lobby: waiting})
		denied <- err
	}()
	knock = knockOf(t, mod, "turned-away", waiting)
	moderate(t, mod, protocol.ActionDeny, knock.Participant.ID, "", false, "")
	select {
	case err := <-denied:
		if refusedCode(err) != "closed" {
			t.Errorf("denied guest: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the denied guest still waits")
	}
}

// knockOf waits until the guest name is sent to the lobby (waiting closes)
// and the moderator mod sees them knock, and returns the knock.
func knockOf(t *testing.T, mod *member, name string, waiting <-chan struct{}) *protocol.LobbyRequest {
	t.Helper()
	select {
	case <-waiting:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s was not sent to the lobby", name)
	}
	var knock *protocol.LobbyRequest
	eventually(t, 5*time.Second, "the moderator sees "+name+" knock", func() error {
		for _, k := range received[*protocol.LobbyRequest](mod) {
			if k.Participant.Name == name {
				knock = k
				return nil
			}
		}
		return fmt.Errorf("no knock")
	})
	return knock
}

// 200 join attempts in one second from one address are limited; a meeting
// in progress goes on undisturbed.
func TestJoinFlood(t *testing.T) {
	n := startNode(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	url := nodeURL(n)
	a := joinPeer(t, ctx, url, "steady", "ann", true)
	b := joinPeer(t, ctx, url, "steady", "bob", true)
	meetMedia(t, 20*time.Second, a, b)
	before := a.count(b.s.ID(), "video")

	var mu sync.Mutex
	codes := map[string]int{}
	var wg sync.WaitGroup
	start := time.Now()
	for i := range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := dialRaw(t, ctx, url)
			c.write(ctx, websocket.MessageText, []byte(fmt.Sprintf(`{"type":"join","version":1,"room":"flood-%d","name":"bot"}`, i%5)))
			code := "joined"
			for {
				_, data, err := c.ws.Read(ctx)
				if err != nil {
					code = "read-error"
					break
				}
				m, err := protocol.Decode(data)
				if err != nil {
					continue
				}
				if e, ok := m.(*protocol.Error); ok {
					code = e.Code
					break
				}
				if _, ok := m.(*protocol.Joined); ok {
					break
				}
			}
			mu.Lock()
			codes[code]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	t.Logf("200 joins from one address in %v: %v", time.Since(start).Round(time.Millisecond), codes)
	if codes[protocol.CodeRateLimited] < 100 {
		t.Errorf("only %d of 200 joins were rate limited", codes[protocol.CodeRateLimited])
	}
	if codes["joined"] == 0 {
		t.Errorf("no join got through at all")
	}
	eventually(t, 10*time.Second, "the meeting goes on after the flood", func() error {
		if got := a.count(b.s.ID(), "video"); got < before+60 {
			return fmt.Errorf("%d → %d video packets", before, got)
		}
		return nil
	})
}
