package synth

import (
	"testing"
	"time"

	"github.com/pion/rtp"
)

// nopWriter stands in for pion's sender.
type nopWriter struct{}

func (nopWriter) WriteRTP(_ *rtp.Header, payload []byte) (int, error) { return len(payload), nil }
func (nopWriter) Write(b []byte) (int, error)                         { return len(b), nil }

// bound returns a 720p layer and a microphone bound as the Go client binds
// them: MID, RID and audio level extensions negotiated.
func bound() (*Video, *Audio) {
	cfg := DefaultSimulcast()[2]
	cfg.RID = "f"
	v, _ := NewVideo("cam", "p", cfg)
	v.writer, v.midExt, v.ridExt = nopWriter{}, 1, 2
	v.SetMID("0")
	a, _ := NewAudio("mic", "p", 0)
	a.writer, a.midExt, a.levelExt = nopWriter{}, 1, 3
	a.SetMID("1")
	a.SetLevel(40)
	return v, a
}

// Packets carry the MID, the RID and the audio level.
func TestSendExtensions(t *testing.T) {
	v, a := bound()
	now := time.Now()
	v.sendFrame(now)
	if mid, rid := v.hdr.GetExtension(1), v.hdr.GetExtension(2); string(mid) != "0" || string(rid) != "f" {
		t.Errorf("video mid %q rid %q; want 0 and f", mid, rid)
	}
	a.send(now)
	if mid, level := a.hdr.GetExtension(1), a.hdr.GetExtension(3); string(mid) != "1" || len(level) != 1 || level[0] != 0x80|40 {
		t.Errorf("audio mid %q level %x; want 1 and voice at 40", mid, level)
	}
	v.SetMID("2")
	v.sendFrame(now)
	if mid := v.hdr.GetExtension(1); string(mid) != "2" {
		t.Errorf("mid %q after renegotiation; want 2", mid)
	}
}

// Sending allocates nothing per packet: a load test runs many publishers.
func TestSendAllocatesNothing(t *testing.T) {
	v, a := bound()
	now := time.Now()
	if n := testing.AllocsPerRun(100, func() { v.sendFrame(now) }); n != 0 {
		t.Errorf("a video frame allocates %v times", n)
	}
	if n := testing.AllocsPerRun(100, func() { a.send(now) }); n != 0 {
		t.Errorf("an audio packet allocates %v times", n)
	}
}

func BenchmarkVideoFrame(b *testing.B) {
	v, _ := bound()
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		v.sendFrame(now)
	}
}

func BenchmarkAudioPacket(b *testing.B) {
	_, a := bound()
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		a.send(now)
	}
}
