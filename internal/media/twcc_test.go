package media

import (
	"testing"

	"github.com/pion/rtcp"
)

// readAll returns what the reader sees in a report.
func readAll(fb *rtcp.TransportLayerCC) []twccPacket {
	r := newTWCCReader(fb, int64(fb.ReferenceTime)*twccRefUnit)
	var out []twccPacket
	var p twccPacket
	for r.next(&p) {
		out = append(out, p)
	}
	return out
}

// Reports built the way a receiver builds them, through pion's Marshal and
// Unmarshal, read back packet by packet.
func TestTWCCReader(t *testing.T) {
	regular := make([]int64, 30)
	for i := range regular {
		regular[i] = 5_000_000 + int64(i)*1000
	}
	alternating := make([]int64, 29)
	for i := range alternating {
		alternating[i] = -1
		if i%2 == 0 {
			alternating[i] = 9_000_000 + int64(i)*700
		}
	}
	tests := []struct {
		name     string
		base     uint16
		arrivals []int64 // µs, -1 lost
	}{
		{"run of received", 10, regular},
		{"one-bit vectors", 200, alternating},
		{"large and negative deltas", 7, []int64{1_000_000, 1_100_000, 1_099_000, -1, 1_400_000, 1_400_250, 1_380_000, 1_380_000}},
		{"long run of losses", 40000, append(append([]int64{2_000_000}, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1), 2_200_000)},
		{"sequence numbers wrap", 65530, regular[:12]},
		{"reference time near the 24-bit wrap", 3, []int64{(1<<24 - 1) * twccRefUnit, (1<<24-1)*twccRefUnit + 30_000}},
		{"single packet", 9, []int64{123_456}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fb := buildFeedback(t, tc.base, tc.arrivals, 0)
			got := readAll(fb)
			if len(got) != len(tc.arrivals) {
				t.Fatalf("read %d packets, want %d", len(got), len(tc.arrivals))
			}
			first := -1
			for i, a := range tc.arrivals {
				p := got[i]
				if p.seq != tc.base+uint16(i) {
					t.Fatalf("packet %d: seq %d, want %d", i, p.seq, tc.base+uint16(i))
				}
				if p.received != (a >= 0) || p.timed != (a >= 0) {
					t.Fatalf("packet %d: received %v timed %v, want %v", i, p.received, p.timed, a >= 0)
				}
				if a < 0 {
					continue
				}
				if first < 0 {
					first = i
				}
				// Arrival times keep their differences, to 250 µs.
				want := a/250*250 - tc.arrivals[first]/250*250
				if d := p.arrival - got[first].arrival; d != want {
					t.Errorf("packet %d: arrival %d after the first, want %d", i, d, want)
				}
			}
		})
	}
}

// Hand-made reports with odd contents must read without panicking, losing
// only what cannot be read.
func TestTWCCReaderMalformed(t *testing.T) {
	d := func(us int64) *rtcp.RecvDelta {
		return &rtcp.RecvDelta{Type: rtcp.TypeTCCPacketReceivedSmallDelta, Delta: us}
	}
	tests := []struct {
		name string
		fb   rtcp.TransportLayerCC
		want []twccPacket
	}{
		{
			name: "received without delta",
			fb: rtcp.TransportLayerCC{BaseSequenceNumber: 1, PacketStatusCount: 3, PacketChunks: []rtcp.PacketStatusChunk{
				&rtcp.StatusVectorChunk{SymbolSize: rtcp.TypeTCCSymbolSizeTwoBit, SymbolList: []uint16{3, 1, 3}},
			}, RecvDeltas: []*rtcp.RecvDelta{d(1000)}},
			want: []twccPacket{{seq: 1, received: true}, {seq: 2, received: true, timed: true, arrival: 1000}, {seq: 3, received: true}},
		},
		{
			name: "deltas missing",
			fb: rtcp.TransportLayerCC{BaseSequenceNumber: 1, PacketStatusCount: 2, PacketChunks: []rtcp.PacketStatusChunk{
				&rtcp.RunLengthChunk{PacketStatusSymbol: 1, RunLength: 2},
			}, RecvDeltas: []*rtcp.RecvDelta{nil}},
			want: []twccPacket{{seq: 1, received: true}, {seq: 2, received: true}},
		},
		{
			name: "count shorter than the chunks",
			fb: rtcp.TransportLayerCC{BaseSequenceNumber: 65535, PacketStatusCount: 2, PacketChunks: []rtcp.PacketStatusChunk{
				&rtcp.RunLengthChunk{PacketStatusSymbol: 0, RunLength: 100},
			}},
			want: []twccPacket{{seq: 65535}, {seq: 0}},
		},
		{
			name: "chunks shorter than the count, nil and empty chunks",
			fb: rtcp.TransportLayerCC{BaseSequenceNumber: 5, PacketStatusCount: 50, PacketChunks: []rtcp.PacketStatusChunk{
				nil, (*rtcp.RunLengthChunk)(nil), &rtcp.RunLengthChunk{RunLength: 0},
				&rtcp.StatusVectorChunk{SymbolList: []uint16{1, 0}},
			}, RecvDeltas: []*rtcp.RecvDelta{d(-250)}},
			want: []twccPacket{{seq: 5, received: true, timed: true, arrival: -250}, {seq: 6}},
		},
	}
	for _, tc := range tests {
		got := readAll(&tc.fb)
		if len(got) != len(tc.want) {
			t.Errorf("%s: read %+v, want %+v", tc.name, got, tc.want)
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("%s: packet %d = %+v, want %+v", tc.name, i, got[i], tc.want[i])
			}
		}
	}
}
