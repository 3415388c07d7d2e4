package loadtest

import (
	"bytes"
	"encoding/binary"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/parley/parley/internal/synth"
)

// packet builds an RTP packet as the bridge forwards it: an extension
// (like transport-wide sequence numbers), payload ending in a send-time
// trailer, or padding only.
func packet(t testing.TB, seq uint16, ts uint32, sent time.Time, padding bool) []byte {
	t.Helper()
	h := rtp.Header{Version: 2, SequenceNumber: seq, Timestamp: ts, SSRC: 0x1234, PayloadType: 96}
	if err := h.SetExtension(3, []byte{0x12, 0x34}); err != nil {
		t.Fatal(err)
	}
	var payload []byte
	if padding {
		h.Padding = true
		h.PaddingSize = 200
	} else {
		payload = make([]byte, 300)
		copy(payload[len(payload)-12:], "PRLY")
		binary.BigEndian.PutUint64(payload[len(payload)-8:], uint64(sent.UnixNano()))
		if got, ok := synth.SendTime(payload); !ok || !got.Equal(sent) {
			t.Fatal("the test's trailer is not synth's")
		}
	}
	p := rtp.Packet{Header: h, Payload: payload}
	b, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestTrackStatsPhases(t *testing.T) {
	base := time.Now()
	tr := &trackStats{kind: kindVideo, source: "p-video"}
	tr.forwarding.Store(1)
	at := func(ms int) (time.Time, int64) {
		now := base.Add(time.Duration(ms) * time.Millisecond)
		return now, now.Sub(base).Nanoseconds()
	}
	feed := func(ms int, seq uint16, ts uint32, ph phase, padding bool) bool {
		now, mono := at(ms)
		return tr.packet(packet(t, seq, ts, now.Add(-2*time.Millisecond), padding), now, mono, ph)
	}
	// Joining: followed, not counted; a hole that opens here is forgotten.
	feed(0, 1, 0, phaseJoining, false)
	feed(10, 3, 3000, phaseJoining, false)
	if tr.rxPackets.Load() != 2 {
		t.Fatalf("progress counters: %d packets", tr.rxPackets.Load())
	}
	// Measuring: 4 and 5 in one frame, padding, a hole at 7 repaired, a
	// freeze of 810 ms (from the frame at 50 ms to the one at 860 ms).
	feed(20, 4, 6000, phaseMeasuring, false)
	feed(21, 5, 6000, phaseMeasuring, false)
	if media := feed(22, 6, 6000, phaseMeasuring, true); media {
		t.Error("padding reported as media")
	}
	feed(50, 8, 9000, phaseMeasuring, false)
	feed(60, 7, 6000, phaseMeasuring, false)
	feed(860, 9, 12000, phaseMeasuring, false)
	feed(870, 11, 15000, phaseMeasuring, false) // 10 is missing
	// Draining: 10 is repaired, 12 does not count.
	feed(900, 10, 15000, phaseDraining, false)
	feed(901, 12, 18000, phaseDraining, false)
	_, end := at(880)
	if !tr.finish(end, phaseDone) {
		t.Fatal("figures of the measured phase not kept")
	}
	if tr.packets != 6 {
		t.Errorf("%d packets, want 6", tr.packets)
	}
	want := LossCounts{Expected: 7, LostBeforeRepair: 2, Repaired: 2, Padding: 1}
	if got := tr.lossCounts(); got != want {
		t.Errorf("loss\n got  %+v\n want %+v", got, want)
	}
	if n, p50 := tr.latency.Count(), tr.latency.Quantile(0.5); n != 6 || p50 < 2*time.Millisecond || p50 > 2*time.Millisecond+tier1Width {
		t.Errorf("latency: %d samples, p50 %v; want 6, 2 ms", n, p50)
	}
	if tr.freeze.Count != 1 || tr.freeze.Total != 810*time.Millisecond {
		t.Errorf("freezes %d, %v; want 1, 810ms", tr.freeze.Count, tr.freeze.Total)
	}
}

// A track that saw nothing of the measured phase contributes nothing of
// the joining phase.
func TestTrackStatsNothingMeasured(t *testing.T) {
	base := time.Now()
	tr := &trackStats{kind: kindAudio}
	tr.packet(packet(t, 1, 0, base, false), base, 1, phaseJoining)
	tr.packet(packet(t, 3, 0, base, false), base, 2, phaseJoining)
	if tr.finish(3, phaseJoining) {
		t.Error("a track that ended while joining was kept")
	}
	tr = &trackStats{kind: kindAudio}
	tr.packet(packet(t, 1, 0, base, false), base, 1, phaseJoining)
	tr.packet(packet(t, 3, 0, base, false), base, 2, phaseJoining)
	tr.finish(3, phaseDone)
	if tr.packets != 0 || tr.lossCounts() != (LossCounts{}) || tr.latency.Count() != 0 {
		t.Errorf("joining phase counted: %d packets, %+v", tr.packets, tr.lossCounts())
	}
}

func TestTrackStatsSSRCChange(t *testing.T) {
	base := time.Now()
	tr := &trackStats{kind: kindAudio}
	b := packet(t, 100, 0, base, false)
	tr.packet(b, base, 1, phaseMeasuring)
	b = packet(t, 102, 0, base, false)
	tr.packet(b, base, 2, phaseMeasuring)
	b = packet(t, 7, 0, base, false)
	binary.BigEndian.PutUint32(b[8:], 0x9999)
	tr.packet(b, base, 3, phaseMeasuring)
	tr.finish(4, phaseDone)
	want := LossCounts{Expected: 4, LostBeforeRepair: 1, LostAfterRepair: 1} // 100–102, then 7
	if got := tr.lossCounts(); got != want {
		t.Errorf("loss\n got  %+v\n want %+v", got, want)
	}
}

func TestTrackStatsAllocates(t *testing.T) {
	base := time.Now()
	tr := &trackStats{kind: kindVideo}
	var pkts [][]byte
	for i := range 64 {
		pkts = append(pkts, packet(t, uint16(i), uint32(i/4)*3000, base, i%16 == 15))
	}
	i := 0
	n := testing.AllocsPerRun(10000, func() {
		now := time.Now()
		tr.packet(pkts[i%len(pkts)], now, now.Sub(base).Nanoseconds(), phaseMeasuring)
		i++
	})
	if n != 0 {
		t.Errorf("packet allocates %v times", n)
	}
}

func BenchmarkTrackStatsPacket(b *testing.B) {
	base := time.Now()
	tr := &trackStats{kind: kindVideo}
	pkts := make([][]byte, 1024)
	for i := range pkts {
		pkts[i] = packet(b, uint16(i), uint32(i/4)*3000, base, false)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		p := pkts[i%len(pkts)]
		binary.BigEndian.PutUint16(p[2:], uint16(i))
		now := time.Now()
		tr.packet(p, now, now.Sub(base).Nanoseconds(), phaseMeasuring)
		i++
	}
}

func TestParseRTP(t *testing.T) {
	base := time.Now()
	for _, tc := range []struct {
		name string
		b    []byte
	}{
		{"media", packet(t, 513, 90000, base, false)},
		{"padding", packet(t, 7, 1, base, true)},
		{"csrc", func() []byte {
			p := rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: 9, CSRC: []uint32{1, 2}}, Payload: []byte{1, 2, 3}}
			b, _ := p.Marshal()
			return b
		}()},
	} {
		var got rtpPacket
		if !parseRTP(tc.b, &got) {
			t.Errorf("%s: not parsed", tc.name)
			continue
		}
		var want rtp.Packet
		if err := want.Unmarshal(tc.b); err != nil {
			t.Fatal(err)
		}
		if got.seq != want.SequenceNumber || got.timestamp != want.Timestamp || got.ssrc != want.SSRC || !bytes.Equal(got.payload, want.Payload) {
			t.Errorf("%s: got %d %d %x %d bytes, want %d %d %x %d bytes", tc.name, got.seq, got.timestamp, got.ssrc, len(got.payload),
				want.SequenceNumber, want.Timestamp, want.SSRC, len(want.Payload))
		}
	}
	for _, bad := range [][]byte{nil, make([]byte, 11), {0x40, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, {0x90, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xbe, 0xde, 0, 1},
		{0xa0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0}, {0xa0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 3}} {
		var p rtpPacket
		if parseRTP(bad, &p) {
			t.Errorf("% x parsed", bad)
		}
	}
}

// parseRTP agrees with pion's parser on everything pion accepts, and never
// panics.
func FuzzParseRTP(f *testing.F) {
	base := time.Now()
	f.Add(packet(f, 1, 2, base, false))
	f.Add(packet(f, 1, 2, base, true))
	f.Add([]byte{0x80, 96, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		var got rtpPacket
		ok := parseRTP(b, &got)
		var want rtp.Packet
		if want.Unmarshal(b) != nil || !ok {
			return
		}
		if got.seq != want.SequenceNumber || got.timestamp != want.Timestamp || got.ssrc != want.SSRC || !bytes.Equal(got.payload, want.Payload) {
			t.Errorf("disagrees with pion on % x", b)
		}
	})
}
