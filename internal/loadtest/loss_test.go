package loadtest

import (
	"testing"
	"time"
)

// pkt is a packet in a loss test: its sequence number, whether it is
// padding, and when it arrives (ms).
type pkt struct {
	seq     uint16
	padding bool
	at      int64
}

func seqs(at int64, ss ...uint16) []pkt {
	out := make([]pkt, len(ss))
	for i, s := range ss {
		out[i] = pkt{seq: s, at: at}
	}
	return out
}

func cat(parts ...[]pkt) []pkt {
	var out []pkt
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func run1(n int, from uint16, at int64) []pkt {
	out := make([]pkt, n)
	for i := range out {
		out[i] = pkt{seq: from + uint16(i), at: at}
	}
	return out
}

func TestLossTracker(t *testing.T) {
	tests := []struct {
		name string
		pkts []pkt
		want LossCounts
	}{
		{"in order", run1(100, 1, 0), LossCounts{Expected: 100}},
		{"hole repaired in time", cat(seqs(0, 1, 2, 4), []pkt{{seq: 3, at: 50}}, seqs(60, 5)),
			LossCounts{Expected: 5, LostBeforeRepair: 1, Repaired: 1}},
		{"hole repaired too late", cat(seqs(0, 1, 2, 4), seqs(1500, 5), seqs(1600, 3)),
			LossCounts{Expected: 5, LostBeforeRepair: 1, LostAfterRepair: 1, Late: 1}},
		{"hole still open at the end", seqs(0, 1, 2, 4),
			LossCounts{Expected: 4, LostBeforeRepair: 1, LostAfterRepair: 1}},
		{"hole of three, two repaired", cat(seqs(0, 10, 14), seqs(100, 12, 11), seqs(2000, 15)),
			LossCounts{Expected: 6, LostBeforeRepair: 3, LostAfterRepair: 1, Repaired: 2}},
		{"reordered within a frame", seqs(0, 1, 3, 2, 4),
			LossCounts{Expected: 4, LostBeforeRepair: 1, Repaired: 1}},
		{"wraparound", seqs(0, 65533, 65534, 65535, 0, 1), LossCounts{Expected: 5}},
		{"hole at the wrap", cat(seqs(0, 65534, 65535, 1), seqs(30, 0)),
			LossCounts{Expected: 4, LostBeforeRepair: 1, Repaired: 1}},
		{"hole across the wrap, lost", seqs(0, 65534, 1),
			LossCounts{Expected: 4, LostBeforeRepair: 2, LostAfterRepair: 2}},
		{"duplicates", seqs(0, 1, 2, 2, 3, 1, 3), LossCounts{Expected: 3, Duplicates: 3}},
		{"duplicate retransmission", cat(seqs(0, 1, 3), seqs(20, 2, 2)),
			LossCounts{Expected: 3, LostBeforeRepair: 1, Repaired: 1, Duplicates: 1}},
		{"padding is not expected", []pkt{{seq: 1}, {seq: 2}, {seq: 3, padding: true}, {seq: 4, padding: true}, {seq: 5}},
			LossCounts{Expected: 3, Padding: 2}},
		{"duplicate padding", []pkt{{seq: 1}, {seq: 2, padding: true}, {seq: 2, padding: true}, {seq: 3}},
			LossCounts{Expected: 2, Padding: 1, Duplicates: 1}},
		{"before the first packet", seqs(0, 100, 101, 99), LossCounts{Expected: 2, Stale: 1}},
		{"too old to tell", cat(run1(5000, 1, 0), seqs(0, 2)), LossCounts{Expected: 5000, Stale: 1}},
		{"a jump past the window", seqs(0, 1, 10000, 10001),
			LossCounts{Expected: 10001, LostBeforeRepair: 9998, LostAfterRepair: 9998}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var lt LossTracker
			for _, p := range tt.pkts {
				lt.Packet(p.seq, p.padding, p.at*int64(time.Millisecond))
			}
			lt.Finish()
			if got := lt.Counts(); got != tt.want {
				t.Errorf("counts\n got  %+v\n want %+v", got, tt.want)
			}
		})
	}
}

// More holes than the tracker queues are judged early, oldest first.
func TestLossTrackerManyHoles(t *testing.T) {
	var lt LossTracker
	const holes = maxPending + 100
	for i := range holes + 1 {
		lt.Packet(uint16(2*i), false, 0) // every odd number is missing
	}
	lt.Packet(1, false, int64(10*time.Millisecond))         // judged early: late
	lt.Packet(2*holes-1, false, int64(10*time.Millisecond)) // still queued: repaired
	lt.Finish()
	want := LossCounts{Expected: 2*holes + 1, LostBeforeRepair: holes, LostAfterRepair: holes - 1, Repaired: 1, Late: 1}
	if got := lt.Counts(); got != want {
		t.Errorf("counts\n got  %+v\n want %+v", got, want)
	}
}

// After the measured phase, Repair fills the holes opened in it and counts
// nothing new.
func TestLossTrackerRepair(t *testing.T) {
	var lt LossTracker
	for _, s := range []uint16{1, 2, 4, 5, 7} {
		lt.Packet(s, false, 0)
	}
	for _, s := range []uint16{8, 9, 3, 12} {
		lt.Repair(s, false, int64(100*time.Millisecond))
	}
	lt.Finish()
	want := LossCounts{Expected: 7, LostBeforeRepair: 2, LostAfterRepair: 1, Repaired: 1}
	if got := lt.Counts(); got != want {
		t.Errorf("counts\n got  %+v\n want %+v", got, want)
	}
	var fresh LossTracker
	if fresh.Repair(5, false, 0) || fresh.Counts() != (LossCounts{}) {
		t.Error("Repair counted a packet of a stream it had not seen")
	}
}

// ResetCounts keeps the stream's position: the next packet in order is no
// loss.
func TestLossTrackerReset(t *testing.T) {
	var lt LossTracker
	lt.Packet(1, false, 0)
	lt.Packet(3, false, 0)
	lt.ResetCounts()
	lt.Packet(4, false, 0)
	lt.Packet(2, false, 0) // a hole from before the reset
	lt.Finish()
	want := LossCounts{Expected: 1, Late: 1}
	if got := lt.Counts(); got != want {
		t.Errorf("counts\n got  %+v\n want %+v", got, want)
	}
}

func TestLossTrackerAllocates(t *testing.T) {
	var lt LossTracker
	seq := uint16(0)
	n := testing.AllocsPerRun(10000, func() {
		seq += 1 + seq%3 // with holes
		lt.Packet(seq, false, int64(seq)*int64(time.Millisecond))
	})
	if n != 0 {
		t.Errorf("Packet allocates %v times", n)
	}
}
