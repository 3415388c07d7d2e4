package test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parley/parley/protocol"
)

// rawConn is a WebSocket to /ws without the Go client's good manners.
type rawConn struct {
	t  *testing.T
	ws *websocket.Conn
}

func dialRaw(t *testing.T, ctx context.Context, url string) *rawConn {
	t.Helper()
	ws, _, err := websocket.Dial(ctx, strings.Replace(url, "http://", "ws://", 1)+"/ws", nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	ws.SetReadLimit(1 << 20)
	t.Cleanup(func() { _ = ws.CloseNow() })
	return &rawConn{t: t, ws: ws}
}

func (c *rawConn) write(ctx context.Context, typ websocket.MessageType, data []byte) {
	c.t.Helper()
	if err := c.ws.Write(ctx, typ, data); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// next reads messages until one of the wanted type arrives (candidates and
// other chatter are skipped).
func (c *rawConn) next(ctx context.Context, wantType string) map[string]any {
	c.t.Helper()
	for {
		_, data, err := c.ws.Read(ctx)
		if err != nil {
			c.t.Fatalf("read (waiting for %s): %v", wantType, err)
		}
		var m map[string]any
		if err := json.Unmarshal(data, &m); err != nil {
			c.t.Fatalf("server sent non-JSON: %q", data)
		}
		if m["type"] == wantType {
			return m
		}
	}
}

// Malformed messages each get an error reply, the connection stays up, and a
// meeting in another room keeps flowing throughout.
func TestMalformedMessages(t *testing.T) {
	n := startNode(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	url := nodeURL(n)

	a := joinPeer(t, ctx, url, "busy-room", "ann", true)
	b := joinPeer(t, ctx, url, "busy-room", "bob", true)
	eventually(t, 20*time.Second, "meeting flows", func() error {
		if a.count(b.s.ID(), "video") < 20 || b.count(a.s.ID(), "video") < 20 {
			return fmt.Errorf("not yet")
		}
		return nil
	})
	beforeA, beforeB := a.count(b.s.ID(), "video"), b.count(a.s.ID(), "video")

	c := dialRaw(t, ctx, url)
	big := `{"type":"join","version":1,"room":"x","name":"` + strings.Repeat("a", protocol.MaxMessageBytes) + `"}`
	cases := []struct {
		name string
		typ  websocket.MessageType
		data string
		code string
	}{
		{"not json", websocket.MessageText, `not json`, protocol.CodeBadJSON},
		{"array", websocket.MessageText, `[1,2,3]`, protocol.CodeBadJSON},
		{"invalid utf-8", websocket.MessageText, "\xff\xfe{", protocol.CodeBadJSON},
		{"binary frame", websocket.MessageBinary, `{"type":"ping","seq":1}`, protocol.CodeBadJSON},
		{"no type", websocket.MessageText, `{"room":"x"}`, protocol.CodeBadField},
		{"null type", websocket.MessageText, `{"type":null}`, protocol.CodeBadField},
		{"numeric type", websocket.MessageText, `{"type":5}`, protocol.CodeBadField},
		{"unknown type", websocket.MessageText, `{"type":"frobnicate"}`, protocol.CodeUnknownType},
		{"server-only type", websocket.MessageText, `{"type":"joined","you":{"id":"x"}}`, protocol.CodeWrongDirection},
		{"offer before join", websocket.MessageText, `{"type":"offer","sdp":"v=0"}`, protocol.CodeNotJoined},
		{"version as string", websocket.MessageText, `{"type":"join","version":"1","room":"r","name":"n"}`, protocol.CodeBadField},
		{"future version", websocket.MessageText, `{"type":"join","version":2,"room":"r","name":"n"}`, protocol.CodeUnsupportedVersion},
		{"room with spaces", websocket.MessageText, `{"type":"join","version":1,"room":"my room","name":"n"}`, protocol.CodeInvalidRoom},
		{"room with dots", websocket.MessageText, `{"type":"join","version":1,"room":"a.b.>","name":"n"}`, protocol.CodeInvalidRoom},
		{"room too long", websocket.MessageText, `{"type":"join","version":1,"room":"` + strings.Repeat("r", 65) + `","name":"n"}`, protocol.CodeInvalidRoom},
		{"empty name", websocket.MessageText, `{"type":"join","version":1,"room":"r","name":"   "}`, protocol.CodeInvalidName},
		{"name with control chars", websocket.MessageText, `{"type":"join","version":1,"room":"r","name":"a\u0007b"}`, protocol.CodeInvalidName},
		{"name as number", websocket.MessageText, `{"type":"join","version":1,"room":"r","name":42}`, protocol.CodeBadField},
		{"oversize", websocket.MessageText, big, protocol.CodeTooLarge},
		{"candidate as string", websocket.MessageText, `{"type":"candidate","candidate":"x"}`, protocol.CodeBadField},
		{"mute as string", websocket.MessageText, `{"type":"mute","audio":"yes"}`, protocol.CodeBadField},
		{"empty sdp", websocket.MessageText, `{"type":"answer","sdp":""}`, protocol.CodeBadField},
	}
	if len(cases) < 20 {
		t.Fatalf("only %d cases", len(cases))
	}
	for _, tc := range cases {
		c.write(ctx, tc.typ, []byte(tc.data))
		m := c.next(ctx, protocol.TypeError)
		if m["code"] != tc.code {
			t.Errorf("%s: got error %v (%v), want code %s", tc.name, m["code"], m["message"], tc.code)
		}
		if msg, _ := m["message"].(string); msg == "" {
			t.Errorf("%s: error has no message", tc.name)
		}
	}

	// The same connection still works: ping, then a real join.
	c.write(ctx, websocket.MessageText, []byte(`{"type":"ping","seq":7}`))
	if m := c.next(ctx, protocol.TypePong); m["seq"] != float64(7) {
		t.Errorf("pong seq = %v", m["seq"])
	}
	c.write(ctx, websocket.MessageText, []byte(`{"type":"join","version":1,"room":"Other-Room","name":"Eve"}`))
	joined := c.next(ctx, protocol.TypeJoined)
	if joined["room"] != "other-room" {
		t.Errorf("joined room %v, want other-room (lower-cased)", joined["room"])
	}
	// After joining: garbage negotiation is refused with a reason.
	for _, tc := range []struct{ data, code string }{
		{`{"type":"join","version":1,"room":"r","name":"n"}`, protocol.CodeAlreadyJoined},
		{`{"type":"answer","sdp":"garbage"}`, protocol.CodeNegotiation},
		{`{"type":"offer","sdp":"v=0\r\ngarbage"}`, protocol.CodeNegotiation},
		{`{"type":"candidate","candidate":{"candidate":"candidate:garbage"}}`, ""},
	} {
		c.write(ctx, websocket.MessageText, []byte(tc.data))
		if tc.code == "" {
			continue // buffered until an offer arrives: no reply expected
		}
		if m := c.next(ctx, protocol.TypeError); m["code"] != tc.code {
			t.Errorf("%s: got %v (%v), want %s", tc.data, m["code"], m["message"], tc.code)
		}
	}

	// The meeting in the other room kept flowing.
	eventually(t, 10*time.Second, "meeting keeps flowing", func() error {
		if a.count(b.s.ID(), "video") < beforeA+30 || b.count(a.s.ID(), "video") < beforeB+30 {
			return fmt.Errorf("video stalled: %d→%d, %d→%d", beforeA, a.count(b.s.ID(), "video"), beforeB, b.count(a.s.ID(), "video"))
		}
		return nil
	})
	if a.hasEnded(b.s.ID(), "video") || b.hasEnded(a.s.ID(), "video") {
		t.Error("a track of the meeting ended")
	}
}
