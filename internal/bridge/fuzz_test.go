package bridge

import (
	"encoding/json"
	"log/slog"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/parley/parley/internal/bus"
	"github.com/parley/parley/internal/busmsg"
	"github.com/parley/parley/internal/mediaaddr"
)

// fuzzBridge is one bridge on loopback with an embedded bus, shared by
// every input of FuzzEndpointRequest.
var fuzzBridge struct {
	once sync.Once
	b    *Bridge
	err  error
}

func bridgeForFuzz(f *testing.F) *Bridge {
	fuzzBridge.once.Do(func() {
		log := slog.New(slog.DiscardHandler)
		e, err := bus.StartEmbedded(bus.EmbeddedOptions{Name: "fuzz", StoreDir: f.TempDir(), Log: log})
		if err != nil {
			fuzzBridge.err = err
			return
		}
		bs, err := bus.Connect(bus.Options{Embedded: e, Name: "fuzz", Log: log})
		if err != nil {
			fuzzBridge.err = err
			return
		}
		plan, err := mediaaddr.Resolve(mediaaddr.Options{Public: []string{"127.0.0.1"}, Loopback: true},
			mediaaddr.Host{Addrs: []netip.Addr{netip.MustParseAddr("127.0.0.1")}})
		if err != nil {
			fuzzBridge.err = err
			return
		}
		fuzzBridge.b, fuzzBridge.err = New(Config{ID: "fuzz", Media: plan, Bus: bs, Log: log})
	})
	if fuzzBridge.err != nil {
		f.Fatal(fuzzBridge.err)
	}
	return fuzzBridge.b
}

// FuzzEndpointRequest sends the bridge arbitrary endpoint requests, as
// the bus delivers them: whatever arrives, the bridge answers (or errs)
// and does not panic, and the endpoints it made can be expired.
func FuzzEndpointRequest(f *testing.F) {
	seeds := []busmsg.EndpointRequest{
		{Op: busmsg.OpAllocate, Conference: "c", Endpoint: "a"},
		{Op: busmsg.OpOffer, Conference: "c", Endpoint: "a", SDP: "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"},
		{Op: busmsg.OpAnswer, Conference: "c", Endpoint: "a", SDP: "garbage"},
		{Op: busmsg.OpBlock, Conference: "c", Endpoint: "a", Block: &busmsg.Block{Video: true}},
		{Op: busmsg.OpExpire, Conference: "c", Endpoint: "a"},
		{Op: "nonsense"},
	}
	for _, s := range seeds {
		data, _ := json.Marshal(s)
		f.Add(data)
	}
	f.Add([]byte(`{"op":"candidate","conference":"c","endpoint":"a","candidate":{"candidate":"candidate:1 1 udp 1 1.2.3.4 5 typ host"}}`))
	f.Add([]byte(`{"op":"offer","conference":"c","endpoint":"a","tracks":[{"mid":"0","source":"video"}],"sdp":"v=0"}`))
	b := bridgeForFuzz(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		var req busmsg.EndpointRequest
		if err := bus.Decode(&nats.Msg{Subject: "fuzz", Data: data}, &req); err != nil {
			return
		}
		// A few conferences and endpoints, so that inputs meet the state
		// earlier ones left.
		req.Conference = "c" + string('0'+byte(len(req.Conference)%2))
		req.Endpoint = "e" + string('0'+byte(len(req.Endpoint)%3))
		// A request the bridge sits on holds up every later one: each
		// must be answered within a few seconds.
		done := make(chan struct{})
		go func() {
			defer close(done)
			_, _ = b.do(req)
		}()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatalf("request %s (%d bytes of SDP) not answered within 5 s", req.Op, len(req.SDP))
		}
		b.mu.Lock()
		n := len(b.conferences)
		b.mu.Unlock()
		if n > 2 {
			t.Fatalf("%d conferences from two names", n)
		}
		// Expire what the input made, now and then, to keep the state
		// (and the peer connections) bounded.
		if len(data)%4 == 0 {
			for _, c := range []string{"c0", "c1"} {
				for _, e := range []string{"e0", "e1", "e2"} {
					_, _ = b.do(busmsg.EndpointRequest{Op: busmsg.OpExpire, Conference: c, Endpoint: e})
				}
			}
		}
	})
}
