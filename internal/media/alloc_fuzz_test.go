package media

import (
	"testing"

	"github.com/parley/parley/protocol"
)

// FuzzAllocateConstraints feeds allocation what a receiver may send on the
// bridge channel (any constraints the decoder accepts) and any budget:
// allocation never panics, gives each source a layer it has or none, and
// names each source it leaves out at most once.
func FuzzAllocateConstraints(f *testing.F) {
	f.Add([]byte(`{"type":"constraints","lastN":2,"onStage":["a"],"maxHeight":{"a":720},"defaultMaxHeight":180}`), uint32(1_000_000))
	f.Add([]byte(`{"type":"constraints","lastN":0}`), uint32(0))
	f.Add([]byte(`{"type":"constraints","lastN":-5,"onStage":["x","a","a","b"],"maxHeight":{"b":0,"c":-3},"defaultMaxHeight":-1}`), uint32(50_000))
	f.Fuzz(func(t *testing.T, data []byte, budget uint32) {
		msg, err := protocol.DecodeChannel(data)
		if err != nil {
			return
		}
		c, ok := msg.(*protocol.Constraints)
		if !ok {
			return
		}
		b := camera("b", "B")
		b.Layers[1].Active = false // a paused middle layer
		in := AllocInput{
			Sources:  []Source{camera("a", "A"), b, screen("s", "S"), {ID: "empty", Owner: "E"}},
			Speakers: []string{"B", "A"},
			Constraints: Constraints{LastN: c.LastN, OnStage: c.OnStage, MaxHeight: c.MaxHeight,
				DefaultMaxHeight: c.DefaultMaxHeight},
			Budget: int(budget % 50_000_000),
		}
		a := Allocate(in)
		if a.Used < 0 {
			t.Fatalf("used %d", a.Used)
		}
		seen := map[string]bool{}
		for _, s := range in.Sources {
			l, ok := a.Layers[s.ID]
			if !ok {
				t.Fatalf("no decision for %s", s.ID)
			}
			if l < -1 || l >= len(s.Layers) {
				t.Fatalf("%s given layer %d of %d", s.ID, l, len(s.Layers))
			}
		}
		for _, id := range append(append([]string(nil), a.Forwarded...), a.Suspended...) {
			if seen[id] {
				t.Fatalf("%s forwarded or suspended twice: %+v", id, a)
			}
			seen[id] = true
		}
	})
}
