// Package rtc configures pion for Parley: the codecs, RTP header extensions
// and interceptors that the bridge and the Go client both negotiate. Keeping
// them in one place keeps payload types and extension ids predictable.
package rtc

import (
	"fmt"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/nack"
	"github.com/pion/interceptor/pkg/report"
	"github.com/pion/interceptor/pkg/twcc"
	"github.com/pion/logging"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// Payload types Parley registers.
const (
	PayloadTypeOpus = 111
	PayloadTypeVP8  = 96
	PayloadTypeRTX  = 97 // retransmissions of VP8 (RFC 4588)
)

// Track ids and MediaStream ids: the bridge names every forwarded track
// "<participant>-<kind>" inside a stream whose id is the participant's id.
const (
	KindAudio = "audio"
	KindVideo = "video"
)

var videoFeedback = []webrtc.RTCPFeedback{
	{Type: webrtc.TypeRTCPFBNACK},
	{Type: webrtc.TypeRTCPFBNACK, Parameter: "pli"},
	{Type: webrtc.TypeRTCPFBCCM, Parameter: "fir"},
	{Type: webrtc.TypeRTCPFBTransportCC},
}

// MediaEngine returns a media engine with Opus and VP8 and the header
// extensions Parley uses.
func MediaEngine() (*webrtc.MediaEngine, error) {
	m := &webrtc.MediaEngine{}
	codecs := []struct {
		p    webrtc.RTPCodecParameters
		kind webrtc.RTPCodecType
	}{
		{webrtc.RTPCodecParameters{
			RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2,
				SDPFmtpLine: "minptime=10;useinbandfec=1;usedtx=1", RTCPFeedback: []webrtc.RTCPFeedback{{Type: webrtc.TypeRTCPFBTransportCC}}},
			PayloadType: PayloadTypeOpus,
		}, webrtc.RTPCodecTypeAudio},
		{webrtc.RTPCodecParameters{
			RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000, RTCPFeedback: videoFeedback},
			PayloadType:        PayloadTypeVP8,
		}, webrtc.RTPCodecTypeVideo},
		{webrtc.RTPCodecParameters{
			RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeRTX, ClockRate: 90000,
				SDPFmtpLine: fmt.Sprintf("apt=%d", PayloadTypeVP8)},
			PayloadType: PayloadTypeRTX,
		}, webrtc.RTPCodecTypeVideo},
	}
	for _, c := range codecs {
		if err := m.RegisterCodec(c.p, c.kind); err != nil {
			return nil, fmt.Errorf("rtc: register %s: %w", c.p.MimeType, err)
		}
	}
	exts := []struct {
		uri   string
		kinds []webrtc.RTPCodecType
	}{
		{sdp.SDESMidURI, []webrtc.RTPCodecType{webrtc.RTPCodecTypeAudio, webrtc.RTPCodecTypeVideo}},
		{sdp.TransportCCURI, []webrtc.RTPCodecType{webrtc.RTPCodecTypeAudio, webrtc.RTPCodecTypeVideo}},
		{sdp.AudioLevelURI, []webrtc.RTPCodecType{webrtc.RTPCodecTypeAudio}},
		// Simulcast: each layer carries its RID, retransmissions the RID they repair.
		{sdp.SDESRTPStreamIDURI, []webrtc.RTPCodecType{webrtc.RTPCodecTypeVideo}},
		{sdp.SDESRepairRTPStreamIDURI, []webrtc.RTPCodecType{webrtc.RTPCodecTypeVideo}},
	}
	for _, e := range exts {
		for _, k := range e.kinds {
			if err := m.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: e.uri}, k); err != nil {
				return nil, fmt.Errorf("rtc: register extension %s: %w", e.uri, err)
			}
		}
	}
	return m, nil
}

// Role says which end builds the interceptors.
type Role int

// The two ends.
const (
	// Client: answers NACKs through pion and numbers its packets for
	// transport-wide congestion control through pion.
	Client Role = iota
	// Bridge: answers NACKs from its own packet cache, numbers forwarded
	// packets itself, feeding its own bandwidth estimator, and writes its
	// own sender reports.
	Bridge
)

// Interceptors returns the RTCP machinery: receiver reports, NACK
// generation and transport-wide congestion control feedback for what an end
// receives; for a client also sender reports, NACK answers and
// transport-wide sequence numbers for what it sends (the bridge does those
// itself). The interceptors log through lf.
func Interceptors(m *webrtc.MediaEngine, role Role, lf logging.LoggerFactory) (*interceptor.Registry, error) {
	r := &interceptor.Registry{}
	if role == Client {
		err := webrtc.ConfigureRTCPReportsWithOptions(r,
			[]report.ReceiverOption{report.WithReceiverLoggerFactory(lf)}, report.WithSenderLoggerFactory(lf))
		if err != nil {
			return nil, err
		}
	} else {
		// The bridge writes its sender reports itself, off the per-packet
		// path; pion's interceptor would take a lock and read the clock for
		// every forwarded packet.
		recv, err := report.NewReceiverInterceptor(report.WithReceiverLoggerFactory(lf))
		if err != nil {
			return nil, err
		}
		r.Add(recv)
	}
	// NACK a missing packet every 50 ms, at most 5 times: enough to recover
	// from loss, not enough to flood a congested link with requests.
	gen, err := nack.NewGeneratorInterceptor(nack.GeneratorInterval(50*time.Millisecond), nack.GeneratorMaxNacksPerPacket(5),
		nack.WithGeneratorLoggerFactory(lf))
	if err != nil {
		return nil, err
	}
	r.Add(gen)
	if role == Client {
		resp, err := nack.NewResponderInterceptor(nack.WithResponderLoggerFactory(lf))
		if err != nil {
			return nil, err
		}
		r.Add(resp)
		if err := webrtc.ConfigureTWCCHeaderExtensionSender(m, r); err != nil {
			return nil, err
		}
	}
	if err := webrtc.ConfigureTWCCSenderWithOptions(m, r, twcc.WithLoggerFactory(lf)); err != nil {
		return nil, err
	}
	return r, nil
}
