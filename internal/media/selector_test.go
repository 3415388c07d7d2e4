package media

import "testing"

// selStep is a SetTarget (set) or a Select of pkt with the expected
// decision; cur, when set, is the expected Current afterwards.
type selStep struct {
	set  *[2]int
	pkt  PacketInfo
	want Decision
	cur  *[2]int
}

func target(s, t int) *[2]int { return &[2]int{s, t} }

// Packet shorthands: key starts a keyframe; start and mid are the first
// and a later packet of a frame, with a TID.
func key(layer int) PacketInfo {
	return PacketInfo{Layer: layer, Keyframe: true, StartOfFrame: true, HasTID: true}
}
func start(layer int, tid uint8) PacketInfo {
	return PacketInfo{Layer: layer, StartOfFrame: true, HasTID: true, TID: tid}
}
func mid(layer int, tid uint8) PacketInfo {
	return PacketInfo{Layer: layer, HasTID: true, TID: tid}
}
func ysync(p PacketInfo) PacketInfo  { p.LayerSync = true; return p }
func marker(p PacketInfo) PacketInfo { p.Marker = true; return p }

var (
	fwd      = Decision{Forward: true}
	drop     = Decision{}
	switched = Decision{Forward: true, Switched: true}
	waitKey  = Decision{NeedKeyframe: true}
	fwdWait  = Decision{Forward: true, NeedKeyframe: true}
)

func TestSelector(t *testing.T) {
	tests := []struct {
		name  string
		steps []selStep
	}{
		{
			name: "zero selector forwards nothing",
			steps: []selStep{
				{pkt: key(0), want: drop, cur: target(-1, 0)},
			},
		},
		{
			name: "start waits for a keyframe",
			steps: []selStep{
				{set: target(1, 3)},
				{pkt: start(1, 0), want: waitKey},
				{pkt: mid(1, 0), want: waitKey},
				{pkt: key(0), want: waitKey}, // not the target layer
				{pkt: key(1), want: switched, cur: target(1, 3)},
				{pkt: mid(1, 0), want: fwd},
				{pkt: start(1, 2), want: fwd},
				{pkt: start(0, 0), want: drop}, // other layer
			},
		},
		{
			name: "switch up keeps the current layer until the keyframe",
			steps: []selStep{
				{set: target(0, 3)},
				{pkt: key(0), want: switched},
				{set: target(2, 3)},
				{pkt: start(0, 0), want: fwdWait, cur: target(0, 3)},
				{pkt: start(2, 0), want: waitKey},
				{pkt: mid(0, 0), want: fwdWait},
				{pkt: key(2), want: switched, cur: target(2, 3)},
				{pkt: mid(0, 0), want: drop}, // tail of the old layer's frame
				{pkt: mid(2, 0), want: fwd},
			},
		},
		{
			name: "switch down also waits for a keyframe",
			steps: []selStep{
				{set: target(2, 3)},
				{pkt: key(2), want: switched},
				{set: target(0, 3)},
				{pkt: start(0, 0), want: waitKey},
				{pkt: start(2, 1), want: fwdWait},
				{pkt: key(0), want: switched, cur: target(0, 3)},
				{pkt: start(2, 0), want: drop},
			},
		},
		{
			name: "a keyframe must start its frame",
			steps: []selStep{
				{set: target(0, 0)},
				{pkt: PacketInfo{Layer: 0, Keyframe: true}, want: waitKey},
				{pkt: PacketInfo{Layer: 0, Keyframe: true, StartOfFrame: true}, want: switched},
			},
		},
		{
			name: "target -1 stops at once",
			steps: []selStep{
				{set: target(1, 3)},
				{pkt: key(1), want: switched},
				{pkt: start(1, 0), want: fwd},
				{set: target(-1, 3), cur: target(-1, 3)},
				{pkt: mid(1, 0), want: drop},
				{pkt: key(1), want: drop},
				{set: target(1, 3)},
				{pkt: mid(1, 0), want: waitKey}, // tail of a frame whose start was not forwarded
				{pkt: start(1, 0), want: waitKey},
				{pkt: key(1), want: switched},
			},
		},
		{
			name: "temporal layers above the target are dropped",
			steps: []selStep{
				{set: target(0, 1)},
				{pkt: key(0), want: switched, cur: target(0, 1)},
				{pkt: start(0, 2), want: drop},
				{pkt: mid(0, 2), want: drop},
				{pkt: start(0, 1), want: fwd},
				{pkt: mid(0, 1), want: fwd},
				{pkt: start(0, 0), want: fwd},
				{pkt: PacketInfo{Layer: 0, StartOfFrame: true}, want: fwd}, // no TID: cannot filter
			},
		},
		{
			name: "lowering the temporal target waits for the next frame",
			steps: []selStep{
				{set: target(0, 2)},
				{pkt: key(0), want: switched},
				{pkt: start(0, 2), want: fwd},
				{set: target(0, 0)},
				{pkt: mid(0, 2), want: fwd, cur: target(0, 2)}, // rest of the frame
				{pkt: start(0, 1), want: drop, cur: target(0, 0)},
				{pkt: mid(0, 1), want: drop},
				{pkt: start(0, 0), want: fwd},
			},
		},
		{
			name: "raising the temporal target waits for TID 0",
			steps: []selStep{
				{set: target(0, 0)},
				{pkt: key(0), want: switched},
				{set: target(0, 2)},
				{pkt: start(0, 2), want: drop, cur: target(0, 0)},
				{pkt: start(0, 1), want: drop},
				{pkt: mid(0, 1), want: drop},
				{pkt: start(0, 0), want: fwd, cur: target(0, 2)},
				{pkt: start(0, 2), want: fwd},
			},
		},
		{
			name: "a layer sync frame raises to its own layer",
			steps: []selStep{
				{set: target(0, 0)},
				{pkt: key(0), want: switched},
				{set: target(0, 2)},
				{pkt: ysync(start(0, 1)), want: fwd, cur: target(0, 1)},
				{pkt: mid(0, 1), want: fwd},
				{pkt: start(0, 2), want: drop}, // may depend on TL2 frames never sent
				{pkt: ysync(start(0, 2)), want: fwd, cur: target(0, 2)},
				{pkt: start(0, 2), want: fwd},
			},
		},
		{
			name: "a layer sync frame above the target does not raise",
			steps: []selStep{
				{set: target(0, 0)},
				{pkt: key(0), want: switched},
				{set: target(0, 1)},
				{pkt: ysync(start(0, 2)), want: drop, cur: target(0, 0)},
				{pkt: ysync(start(0, 1)), want: fwd, cur: target(0, 1)},
			},
		},
		{
			name: "raising mid-frame does not forward that frame's tail",
			steps: []selStep{
				{set: target(0, 0)},
				{pkt: key(0), want: switched},
				{pkt: start(0, 1), want: drop},
				{set: target(0, 3)},
				{pkt: mid(0, 1), want: drop},
				{pkt: marker(mid(0, 1)), want: drop},
			},
		},
		{
			name: "a frame whose start was lost upstream is judged by its TID",
			steps: []selStep{
				{set: target(0, 0)},
				{pkt: key(0), want: switched},
				{pkt: marker(mid(0, 0)), want: fwd},
				{pkt: start(0, 1), want: drop},
				{pkt: marker(mid(0, 1)), want: drop},
				// The next frame's first packet is lost; the rest arrives.
				{pkt: mid(0, 0), want: fwd},
				{pkt: marker(mid(0, 0)), want: fwd},
				{pkt: mid(0, 1), want: drop},
			},
		},
		{
			name: "out-of-range targets are clamped",
			steps: []selStep{
				{set: target(-5, 9), cur: target(-1, 0)},
				{pkt: key(0), want: drop},
				{set: target(0, -2)},
				{pkt: key(0), want: switched, cur: target(0, 0)},
				{pkt: start(0, 1), want: drop},
			},
		},
		{
			name: "retargeting the current layer cancels a pending switch",
			steps: []selStep{
				{set: target(1, 3)},
				{pkt: key(1), want: switched},
				{set: target(2, 3)},
				{pkt: start(1, 0), want: fwdWait},
				{set: target(1, 3)},
				{pkt: start(1, 0), want: fwd},
				{pkt: key(2), want: drop},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var s Selector
			for i, st := range tc.steps {
				if st.set != nil {
					s.SetTarget(st.set[0], st.set[1])
				} else if got := s.Select(st.pkt); got != st.want {
					t.Fatalf("step %d: Select(%+v) = %+v, want %+v", i, st.pkt, got, st.want)
				}
				if st.cur != nil {
					if sp, tp := s.Current(); sp != st.cur[0] || tp != st.cur[1] {
						t.Fatalf("step %d: Current() = %d, %d; want %d, %d", i, sp, tp, st.cur[0], st.cur[1])
					}
				}
			}
		})
	}
}

// A long simulated stream: three simulcast layers with an L1T3 pattern and
// frames of several packets, switched around at random. Whatever the
// targets, a forwarded non-start packet always belongs to a frame whose
// start was forwarded (or whose start was never seen), and nothing above
// the current temporal layer or off the current spatial layer goes out.
func TestSelectorStreamInvariants(t *testing.T) {
	var s Selector
	pattern := []uint8{0, 2, 1, 2}
	seed := uint32(1)
	rnd := func(n int) int {
		seed = seed*1664525 + 1013904223
		return int(seed>>16) % n
	}
	startFwd := [3]bool{} // per layer: was the current frame's start forwarded
	for frame := range 3000 {
		if rnd(40) == 0 {
			s.SetTarget(rnd(4)-1, rnd(4))
		}
		tid := pattern[frame%len(pattern)]
		keyframe := frame%97 == 0 || rnd(200) == 0
		for layer := range 3 {
			n := 1 + rnd(4)
			for i := range n {
				p := PacketInfo{Layer: layer, StartOfFrame: i == 0, Keyframe: i == 0 && keyframe,
					HasTID: true, TID: tid, LayerSync: tid == 1 && frame%8 == 1, Marker: i == n-1}
				if keyframe {
					p.TID = 0
				}
				d := s.Select(p)
				sp, tp := s.Current()
				if d.Forward {
					if layer != sp {
						t.Fatalf("frame %d: forwarded layer %d while current is %d", frame, layer, sp)
					}
					if int(p.TID) > tp {
						t.Fatalf("frame %d: forwarded TID %d above current %d", frame, p.TID, tp)
					}
					if i > 0 && !startFwd[layer] {
						t.Fatalf("frame %d: forwarded the tail of a frame whose start was dropped", frame)
					}
				}
				if i == 0 {
					startFwd[layer] = d.Forward
				}
				if d.Switched && !(p.Keyframe && p.StartOfFrame) {
					t.Fatalf("frame %d: switched on a non-keyframe", frame)
				}
			}
		}
	}
}

func BenchmarkSelector(b *testing.B) {
	b.ReportAllocs()
	var s Selector
	s.SetTarget(1, 1)
	pkts := []PacketInfo{key(1), mid(1, 0), start(0, 0), start(1, 2), mid(1, 2), start(1, 1), start(2, 0)}
	i := 0
	for b.Loop() {
		s.Select(pkts[i])
		i++
		if i == len(pkts) {
			i = 0
		}
	}
}
