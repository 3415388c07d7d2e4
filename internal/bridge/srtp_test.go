package bridge

import (
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/pion/dtls/v3"
	"github.com/pion/ice/v4"
	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
	"github.com/pion/webrtc/v4"

	"github.com/parley/parley/internal/rtc"
)

// TestSRTPProfile checks what the bridge's settings negotiate, the bridge
// answering as it does: AES-128-GCM with a client that offers everything
// (pion's default, AES-256-GCM first, as the Go client), AES-CM with one
// that has no GCM.
func TestSRTPProfile(t *testing.T) {
	if testing.Short() {
		t.Skip("connects peer connections")
	}
	for _, tc := range []struct {
		name   string
		client []dtls.SRTPProtectionProfile // nil: pion's default
		want   string
	}{
		{"default client", nil, "SRTP_AEAD_AES_128_GCM"},
		{"no GCM", []dtls.SRTPProtectionProfile{dtls.SRTP_AES128_CM_HMAC_SHA1_80}, "SRTP_AES128_CM_HMAC_SHA1_80"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mux, err := ice.NewMultiUDPMuxFromPort(0, ice.UDPMuxFromPortWithLoopback(),
				ice.UDPMuxFromPortWithNetworks(ice.NetworkTypeUDP4),
				ice.UDPMuxFromPortWithIPFilter(func(ip net.IP) bool { return ip.IsLoopback() }))
			if err != nil {
				t.Fatal(err)
			}
			defer mux.Close()
			b := &Bridge{cfg: Config{Log: slog.New(slog.DiscardHandler)}, mux: mux}
			api, err := b.newAPI()
			if err != nil {
				t.Fatal(err)
			}
			bpc, err := api.NewPeerConnection(webrtc.Configuration{})
			if err != nil {
				t.Fatal(err)
			}
			capi := rigAPI(t, rtc.Client, nil, tc.client)
			cpc, err := capi.NewPeerConnection(webrtc.Configuration{})
			if err != nil {
				bpc.Close()
				t.Fatal(err)
			}
			// The bridge's end first, on this goroutine: closed the other
			// way round, the client's DTLS close_notify makes pion close
			// bpc on a goroutine of its own, which races (in pion) with
			// the GetStats calls below.
			defer func() {
				bpc.Close()
				cpc.Close()
			}()
			if _, err := cpc.AddTransceiverFromKind(webrtc.RTPCodecTypeVideo, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
				t.Fatal(err)
			}
			connect(t, cpc, bpc)
			// SRTP starts just after the connection state changes.
			deadline := time.Now().Add(5 * time.Second)
			for got := ""; got != tc.want; {
				for _, s := range bpc.GetStats() {
					if ts, ok := s.(webrtc.TransportStats); ok {
						got = ts.SRTPCipher
					}
				}
				if time.Now().After(deadline) {
					t.Fatalf("negotiated %q, want %q", got, tc.want)
				}
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
}

// BenchmarkSRTPEncrypt is the SRTP cost of one forwarded 1200-byte video
// packet for each profile a browser may negotiate; the bridge prefers
// AES-128-GCM (see srtpProfiles).
func BenchmarkSRTPEncrypt(b *testing.B) {
	for _, p := range []struct {
		name    string
		profile srtp.ProtectionProfile
	}{
		{"AES128GCM", srtp.ProtectionProfileAeadAes128Gcm},
		{"AES256GCM", srtp.ProtectionProfileAeadAes256Gcm},
		{"AES128CM_SHA1_80", srtp.ProtectionProfileAes128CmHmacSha1_80},
	} {
		b.Run(p.name, func(b *testing.B) {
			keyLen, err := p.profile.KeyLen()
			if err != nil {
				b.Fatal(err)
			}
			saltLen, err := p.profile.SaltLen()
			if err != nil {
				b.Fatal(err)
			}
			ctx, err := srtp.CreateContext(make([]byte, keyLen), make([]byte, saltLen), p.profile)
			if err != nil {
				b.Fatal(err)
			}
			hdr := rtp.Header{Version: 2, PayloadType: 96, SSRC: 1234, Timestamp: 90000}
			payload := make([]byte, 1200-12)
			plain := make([]byte, 1200)
			dst := make([]byte, 1500)
			b.SetBytes(1200)
			b.ReportAllocs()
			for b.Loop() {
				hdr.SequenceNumber++
				if _, err := rtp.MarshalPacketTo(plain, &hdr, payload); err != nil { // nolint:staticcheck
					b.Fatal(err)
				}
				if _, err := ctx.EncryptRTP(dst, plain, &hdr); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
