package bridge

import (
	"time"

	"github.com/pion/rtcp"
)

// The bridge writes its receivers' RTCP sender reports itself, instead of
// pion's report interceptor: the interceptor's bookkeeping sat on every
// forwarded packet's path (a lock and a clock read each) and its ticker
// woke once a second per peer connection. The counts come from the
// downTrack's own, the time mapping from its last frame, and each
// endpoint's reports leave together in one compound RTCP packet.

// srState is the sender report's mapping of RTP time to wall-clock time.
type srState struct {
	ts      uint32 // RTP timestamp of the last frame started ...
	at      int64  // ... and when (unix ns)
	started bool
}

// frame notes the timestamp of an in-order media packet sent at now; only
// the first packet of a frame moves the mapping, so that a long frame's
// send time does not skew it. The caller holds d.mu.
func (s *srState) frame(ts uint32, now time.Time) {
	if !s.started || ts != s.ts {
		s.ts, s.at, s.started = ts, now.UnixNano(), true
	}
}

// senderReport returns the stream's sender report at now, nil before it
// sent media (RFC 3550 6.4: then there is nothing to map).
func (d *downTrack) senderReport(now time.Time) *rtcp.SenderReport {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.writer == nil || !d.sr.started {
		return nil
	}
	elapsed := float64(now.UnixNano()-d.sr.at) / 1e9
	return &rtcp.SenderReport{
		SSRC:        d.ssrc,
		NTPTime:     ntpTime(now),
		RTPTime:     d.sr.ts + uint32(int64(elapsed*float64(d.src.codec.ClockRate))),
		PacketCount: uint32(d.packets),
		OctetCount:  uint32(d.bytes - d.packets*headerBytes),
	}
}

// sendSenderReports sends the endpoint one sender report for each stream
// it receives, in one compound packet; the conference's report tick calls
// it about once a second.
func (e *endpoint) sendSenderReports(now time.Time) {
	var pkts []rtcp.Packet
	for _, d := range e.downTracks() {
		if sr := d.senderReport(now); sr != nil {
			pkts = append(pkts, sr)
		}
	}
	if len(pkts) == 0 {
		return
	}
	if err := e.pc.WriteRTCP(pkts); err != nil {
		e.log.Debug("sender reports", "err", err)
	}
}

// ntpTime is t as a 64-bit NTP timestamp (seconds since 1900, 32.32 fixed
// point).
func ntpTime(t time.Time) uint64 {
	const unixToNTP = 2208988800
	ns := uint64(t.UnixNano())
	secs := ns/1e9 + unixToNTP
	frac := (ns % 1e9) << 32 / 1e9
	return secs<<32 | frac
}
