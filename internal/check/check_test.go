package check

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/parley/parley/internal/turn"
	"github.com/parley/parley/protocol"
)

func TestMeasure(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	var samples []sample
	// Audio every 20 ms with 40 ms transit, alternately 5 ms late; video
	// with a hole of 3 packets and a duplicate; sequence numbers wrap.
	for i := range 100 {
		sent := t0.Add(time.Duration(i) * 20 * time.Millisecond)
		transit := 40 * time.Millisecond
		if i%2 == 1 {
			transit += 5 * time.Millisecond
		}
		samples = append(samples, sample{at: sent.Add(transit), sent: sent, ssrc: 1, seq: uint16(65500 + i), audio: true, size: 100})
	}
	for i := range 50 {
		if i >= 10 && i < 13 {
			continue
		}
		sent := t0.Add(time.Duration(i) * 30 * time.Millisecond)
		samples = append(samples, sample{at: sent.Add(40 * time.Millisecond), sent: sent, ssrc: 2, seq: uint16(i), size: 1000})
	}
	samples = append(samples, samples[len(samples)-1])
	q := measure(samples)
	if q.Transit != 40*time.Millisecond {
		t.Errorf("transit %s, want 40ms", q.Transit)
	}
	if q.Expected != 150 || q.Received != 147 {
		t.Errorf("expected %d, received %d; want 150, 147", q.Expected, q.Received)
	}
	if q.LossPercent < 1.99 || q.LossPercent > 2.01 {
		t.Errorf("loss %.2f%%, want 2%%", q.LossPercent)
	}
	// |D| is 5 ms every time: the estimate climbs towards it.
	if q.Jitter < 3*time.Millisecond || q.Jitter > 5*time.Millisecond {
		t.Errorf("jitter %s, want between 3 and 5 ms", q.Jitter)
	}
	if q := measure(nil); q.Expected != 0 || q.LossPercent != 0 {
		t.Errorf("no samples: %+v", q)
	}
}

func TestQualityItems(t *testing.T) {
	for _, tc := range []struct {
		q    quality
		want []Status
	}{
		{quality{Transit: 20 * time.Millisecond, Jitter: 2 * time.Millisecond, Expected: 100, Received: 100}, []Status{Pass, Pass, Pass}},
		{quality{Transit: 200 * time.Millisecond, Jitter: 40 * time.Millisecond, LossPercent: 2, Expected: 100, Received: 98}, []Status{Warn, Warn, Warn}},
		{quality{Transit: 400 * time.Millisecond, Jitter: 80 * time.Millisecond, LossPercent: 8, Expected: 100, Received: 92}, []Status{Fail, Fail, Fail}},
		{quality{}, []Status{Pass, Pass, Fail}},
	} {
		items := qualityItems(tc.q, "udp", 10*time.Second)
		for i, it := range items {
			if it.Status != tc.want[i] {
				t.Errorf("%+v: %s is %s, want %s", tc.q, it.ID, it.Status, tc.want[i])
			}
			if it.Status != Pass && it.Advice == "" {
				t.Errorf("%s %s without advice", it.ID, it.Status)
			}
		}
	}
}

func item(id string, s Status) Item {
	return Item{ID: id, Name: itemNames[id], Status: s, Detail: "x"}
}

// A blocked UDP port: the item names the fallback ICE picks, and the
// report says a call works over it; with nothing else either, it does not.
func TestFallbackAdvice(t *testing.T) {
	udpBlocked := Item{ID: ItemUDP, Name: "Media over UDP 10000", Status: Fail, Detail: "x",
		Advice: "Ask the network team to allow outbound UDP to meet.example.org, UDP 10000."}
	for _, tc := range []struct {
		name     string
		items    []Item
		path     string
		canCall  bool
		fallback string
	}{
		{"ice-tcp", []Item{item(ItemSignaling, Pass), udpBlocked,
			{ID: ItemICETCP, Name: "Media over TCP 443 (ICE-TCP)", Status: Pass},
			item(ItemTURNUDP, Fail), item(ItemTURNTCP, Pass), {ID: ItemTURNTLS, Name: "TURN over TLS 443", Status: Pass}},
			"tcp", true, "fall back to media over TCP 443 (ICE-TCP)"},
		{"turn over tls only", []Item{item(ItemSignaling, Pass), udpBlocked, item(ItemICETCP, Fail),
			item(ItemTURNUDP, Fail), item(ItemTURNTCP, Skip), {ID: ItemTURNTLS, Name: "TURN over TLS 443", Status: Pass}},
			"relay-tls", true, "fall back to TURN over TLS 443"},
		{"nothing", []Item{item(ItemSignaling, Pass), udpBlocked, item(ItemICETCP, Fail),
			item(ItemTURNUDP, Fail), item(ItemTURNTCP, Fail), item(ItemTURNTLS, Fail)},
			"", false, "calls cannot work from here"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &Report{Items: tc.items}
			adviseFallback(r)
			r.finish()
			udp, _ := r.Item(ItemUDP)
			if !strings.Contains(udp.Advice, tc.fallback) || !strings.Contains(udp.Advice, "allow outbound UDP") {
				t.Errorf("UDP advice %q: want the fallback %q and what to ask", udp.Advice, tc.fallback)
			}
			if r.Path != tc.path || r.CanCall != tc.canCall {
				t.Errorf("path %q, can call %v; want %q, %v (%s)", r.Path, r.CanCall, tc.path, tc.canCall, r.Summary)
			}
		})
	}
	r := &Report{Items: []Item{item(ItemSignaling, Fail)}}
	r.finish()
	if r.CanCall || !strings.Contains(r.Summary, "WebSocket signaling failed") {
		t.Errorf("no signaling: can call %v, %q", r.CanCall, r.Summary)
	}
}

func TestWriteText(t *testing.T) {
	r := &Report{URL: "https://meet.example.org", Items: []Item{
		item(ItemDNS, Pass),
		{ID: ItemUDP, Name: "Media over UDP 10000", Status: Fail, Detail: "blocked", Advice: strings.Repeat("word ", 60)},
	}, Summary: "Calls cannot work from here."}
	var b bytes.Buffer
	if err := WriteText(&b, r); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"pass  DNS", "fail  Media over UDP 10000  blocked", "→ word", "Calls cannot work from here."} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in\n%s", want, out)
		}
	}
	for _, line := range strings.Split(out, "\n") {
		if len(line) > 110 {
			t.Errorf("line of %d characters: %q", len(line), line)
		}
	}
}

// The MTU probe against a real TURN server's UDP port on loopback, whose
// MTU is far above a full Ethernet frame.
func TestMTUProbe(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("Don't Fragment is set on Linux only")
	}
	s, err := turn.New(turn.Config{Secret: "mtu-test-secret-0123", UDPListen: "127.0.0.1:0", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	tg, err := newTarget(Options{URL: "https://127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	tg.servers = turnServers([]protocol.ICEServer{{URLs: []string{"turn:" + s.Addrs().UDP.String() + "?transport=udp"}}})
	it := tg.checkMTU(context.Background())
	if it.Status != Pass || it.Value == nil || *it.Value != mtuCeiling {
		t.Errorf("MTU item %+v", it)
	}
	// Without a STUN server on UDP there is nothing to probe.
	tg.servers = nil
	if it := tg.checkMTU(context.Background()); it.Status != Skip {
		t.Errorf("no UDP TURN: %+v", it)
	}
}

func TestTURNServers(t *testing.T) {
	got := turnServers([]protocol.ICEServer{{
		URLs:     []string{"turn:a.example:3478?transport=udp", "turn:a.example:3478?transport=tcp", "turns:a.example:443?transport=tcp", "stun:a.example"},
		Username: "u", Credential: "c",
	}})
	if len(got) != 3 || got[0].transport != "udp" || got[1].transport != "tcp" || got[2].transport != "tls" || got[2].port != 443 || got[2].username != "u" {
		t.Errorf("%+v", got)
	}
}

func TestBadURL(t *testing.T) {
	for _, u := range []string{"", "meet.example.org", "ftp://meet.example.org", "https://"} {
		if _, err := Run(context.Background(), Options{URL: u}); err == nil {
			t.Errorf("%q: no error", u)
		}
	}
}

// What the bridge offered is in the error of a path that failed, and the
// advice reads it: loopback only means the server lacks --public-ip; an
// address means it may be the wrong one.
func TestOfferedAdvice(t *testing.T) {
	for _, tc := range []struct {
		name    string
		offered []string
		want    string
	}{
		{"nothing", nil, "offered no address for this path"},
		{"loopback only", []string{"127.0.0.1 udp 10000", "::1 udp 10000"}, "only loopback addresses"},
		{"an address", []string{"203.0.113.7 udp 10000"}, "The bridge offered 203.0.113.7 udp 10000: if that is not the server's address"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := fmt.Errorf("check: %w", &noMediaError{timeout: time.Second, offered: tc.offered})
			if got := offeredAdvice(err); !strings.Contains(got, tc.want) || !strings.Contains(got, "--public-ip") && tc.offered != nil {
				t.Errorf("advice %q, want it to say %q and name --public-ip", got, tc.want)
			}
		})
	}
	if got := offeredAdvice(errors.New("refused")); got != "" {
		t.Errorf("advice %q for an error without offered addresses", got)
	}
}

// The bridge's candidates are read from the SDP it sent: address,
// transport and port, the type where it is not host.
func TestOffered(t *testing.T) {
	pc, err := webrtc.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	sdp := "v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n" +
		"c=IN IP4 0.0.0.0\r\na=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\n" +
		"a=fingerprint:sha-256 AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99\r\n" +
		"a=setup:actpass\r\na=mid:0\r\na=sctp-port:5000\r\n" +
		"a=candidate:1 1 udp 2130706431 203.0.113.7 10000 typ host\r\n" +
		"a=candidate:2 1 tcp 1671430143 203.0.113.7 443 typ host tcptype passive\r\n" +
		"a=candidate:3 1 UDP 16777215 198.51.100.9 50000 typ relay raddr 0.0.0.0 rport 0\r\n"
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: sdp}); err != nil {
		t.Fatal(err)
	}
	want := []string{"203.0.113.7 udp 10000", "203.0.113.7 tcp 443", "198.51.100.9 udp 50000 (relay)"}
	if got := offered(pc); !slices.Equal(got, want) {
		t.Errorf("offered %q, want %q", got, want)
	}
}
