package bridge

import (
	"context"
	"log/slog"
	"net"
	"runtime"
	"runtime/pprof"
	"syscall"
	"testing"
	"time"

	"github.com/pion/dtls/v3"
	"github.com/pion/ice/v4"
	"github.com/pion/rtcp"
	"github.com/pion/transport/v5/stdnet"
	"github.com/pion/webrtc/v4"

	"github.com/parley/parley/internal/media"
	"github.com/parley/parley/internal/rtc"
	"github.com/parley/parley/internal/udpbatch"
	"github.com/parley/parley/protocol"
)

// pionRig is forwardRig with the real send path: every downTrack is bound
// to a bridge-side PeerConnection on a batching UDP mux, connected over
// loopback to a Go client PeerConnection that reads what arrives. What it
// measures is the whole per-packet cost on the bridge: selection and
// rewriting, pion's interceptors, SRTP, the mux and the kernel's send.
type pionRig struct {
	forwardRig
	batch   *udpbatch.Group
	mux     *ice.MultiUDPMuxDefault
	pcs     []*webrtc.PeerConnection
	cancel  context.CancelFunc
	arrived chan struct{}
	// receivers are the clients' receivers, for their RTCP.
	receivers chan *webrtc.RTPReceiver
}

func newPionRig(tb testing.TB, subscribers int, read bool) *pionRig {
	tb.Helper()
	n, err := stdnet.NewNet()
	if err != nil {
		tb.Fatal(err)
	}
	r := &pionRig{batch: udpbatch.NewGroup(true), arrived: make(chan struct{}, subscribers), receivers: make(chan *webrtc.RTPReceiver, subscribers)}
	r.mux, err = ice.NewMultiUDPMuxFromPort(0,
		ice.UDPMuxFromPortWithNet(r.batch.Net(n)),
		ice.UDPMuxFromPortWithLoopback(),
		ice.UDPMuxFromPortWithNetworks(ice.NetworkTypeUDP4),
		ice.UDPMuxFromPortWithIPFilter(func(ip net.IP) bool { return ip.IsLoopback() }),
		ice.UDPMuxFromPortWithReadBufferSize(udpBufferSize),
		ice.UDPMuxFromPortWithWriteBufferSize(udpBufferSize),
	)
	if err != nil {
		tb.Fatal(err)
	}
	bridgeAPI := rigAPI(tb, rtc.Bridge, r.mux, srtpProfiles)
	clientAPI := rigAPI(tb, rtc.Client, nil, nil)
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	tb.Cleanup(r.close)

	pub := &endpoint{id: "pub"}
	src := newSource(pub, protocol.SourceVideo, webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000})
	r.up = &upTrack{src: src, layer: 0, cache: media.NewPacketCache(packetCacheSize)}
	src.layers[0] = r.up
	for range subscribers {
		bpc, err := bridgeAPI.NewPeerConnection(webrtc.Configuration{})
		if err != nil {
			tb.Fatal(err)
		}
		cpc, err := clientAPI.NewPeerConnection(webrtc.Configuration{})
		if err != nil {
			tb.Fatal(err)
		}
		r.pcs = append(r.pcs, bpc, cpc)
		sub := &endpoint{id: "sub", pc: bpc, estimator: media.NewEstimator(media.EstimatorConfig{Initial: initialEstimate, Min: minEstimate, Max: maxEstimate})}
		sub.rtxBudget.setRate(initialEstimate)
		d := newDownTrack(src, sub)
		d.batch = r.batch
		tr, err := bpc.AddTransceiverFromTrack(d, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
		if err != nil {
			tb.Fatal(err)
		}
		d.sender = tr.Sender()
		sub.downs = map[*source]*downTrack{src: d}
		sub.log = slog.New(slog.DiscardHandler)
		cpc.OnTrack(func(t *webrtc.TrackRemote, recv *webrtc.RTPReceiver) {
			r.receivers <- recv
			buf := make([]byte, 1500)
			if !read {
				// Unread, the track runs none of the client's receive
				// interceptors and sends no feedback.
				r.arrived <- struct{}{}
				return
			}
			first := true
			for ctx.Err() == nil {
				if _, _, err := t.Read(buf); err != nil {
					return
				}
				if first {
					first = false
					r.arrived <- struct{}{}
				}
			}
		})
		connect(tb, bpc, cpc)
		go d.readRTCP()
		d.mu.Lock()
		d.sel.SetTarget(0, 3)
		d.tgt = 0
		bound := d.writer != nil
		d.mu.Unlock()
		if !bound {
			tb.Fatal("downTrack not bound after negotiation")
		}
		r.downs = append(r.downs, d)
		src.addDown(d)
	}
	r.initPacket()
	// Keyframes until every client has media: DTLS may finish after ICE.
	deadline := time.Now().Add(10 * time.Second)
	for got := 0; got < subscribers; {
		r.forwardPion(true)
		select {
		case <-r.arrived:
			got++
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			tb.Fatalf("%d of %d subscribers received media", got, subscribers)
		}
	}
	return r
}

func rigAPI(tb testing.TB, role rtc.Role, mux ice.UDPMux, profiles []dtls.SRTPProtectionProfile) *webrtc.API {
	tb.Helper()
	m, err := rtc.MediaEngine()
	if err != nil {
		tb.Fatal(err)
	}
	reg, err := rtc.Interceptors(m, role, rtc.LoggerFactory(slog.New(slog.DiscardHandler)))
	if err != nil {
		tb.Fatal(err)
	}
	var s webrtc.SettingEngine
	if mux != nil {
		s.SetICEUDPMux(mux)
	}
	// At the rig's rates one client's congestion control feedback can
	// outgrow the default 1460 bytes.
	s.SetReceiveMTU(8192)
	if profiles != nil {
		s.SetSRTPProtectionProfiles(profiles...)
	}
	s.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	s.SetIncludeLoopbackCandidate(true)
	s.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	s.SetInterfaceFilter(func(name string) bool { return name == "lo" })
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(reg), webrtc.WithSettingEngine(s))
}

// connect negotiates offerer with answerer, candidates in the SDP, and
// waits until both are connected.
func connect(tb testing.TB, offerer, answerer *webrtc.PeerConnection) {
	tb.Helper()
	connected := make(chan struct{}, 2)
	for _, pc := range []*webrtc.PeerConnection{offerer, answerer} {
		pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
			if s == webrtc.PeerConnectionStateConnected {
				connected <- struct{}{}
			}
		})
	}
	describe := func(pc *webrtc.PeerConnection, d webrtc.SessionDescription) webrtc.SessionDescription {
		done := webrtc.GatheringCompletePromise(pc)
		if err := pc.SetLocalDescription(d); err != nil {
			tb.Fatal(err)
		}
		<-done
		return *pc.LocalDescription()
	}
	offer, err := offerer.CreateOffer(nil)
	if err != nil {
		tb.Fatal(err)
	}
	if err := answerer.SetRemoteDescription(describe(offerer, offer)); err != nil {
		tb.Fatal(err)
	}
	answer, err := answerer.CreateAnswer(nil)
	if err != nil {
		tb.Fatal(err)
	}
	if err := offerer.SetRemoteDescription(describe(answerer, answer)); err != nil {
		tb.Fatal(err)
	}
	for range 2 {
		select {
		case <-connected:
		case <-time.After(10 * time.Second):
			tb.Fatal("peer connections did not connect")
		}
	}
}

// forwardPion forwards one packet to every subscriber in one batch, as
// upTrack.run does.
func (r *pionRig) forwardPion(keyframe bool) {
	r.batch.Begin()
	defer r.batch.End()
	r.forward(keyframe)
}

// forwardFrame sends one frame of k packets the way runVideo does: each
// packet marshalled as the publisher sent it, parsed and held, the frame
// fanned out subscriber by subscriber when its last packet is added.
func (r *pionRig) forwardFrame(f *frameHold, k int, keyframe bool) {
	r.nextFrame()
	for i := range k {
		r.hold(f, i == 0, i == k-1, keyframe)
	}
}

func (r *pionRig) close() {
	r.cancel()
	for _, pc := range r.pcs {
		_ = pc.Close()
	}
	_ = r.mux.Close()
}

func benchmarkForwardPion(b *testing.B, subscribers int) {
	r := newPionRig(b, subscribers, true)
	for range 100 {
		r.forwardPion(false)
	}
	// The CPU time of the forwarding thread alone: the clients' receive
	// work and other processes on the machine do not count.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cpu0 := threadCPU()
	b.ReportAllocs()
	b.ResetTimer()
	// Labelled for profiles: -tagfocus path=forward.
	pprof.Do(context.Background(), pprof.Labels("path", "forward"), func(context.Context) {
		for b.Loop() {
			r.forwardPion(false)
		}
	})
	b.StopTimer()
	cpu := threadCPU() - cpu0
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*subscribers), "ns/forwarded-packet")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N*subscribers), "cpu-ns/forwarded-packet")
	st := r.batch.Stats()
	if st.Batches > 0 {
		b.ReportMetric(float64(st.Datagrams)/float64(st.Batches), "datagrams/syscall")
	}
}

func benchmarkForwardPionFrame(b *testing.B, subscribers int, parallel bool) {
	const k = 6 // a 720p frame at 1.7 Mbit/s
	r := newPionRig(b, subscribers, true)
	f := newFrameHold(r.up, r.batch)
	defer f.stop()
	if !parallel {
		f.fan.procs = 0 // all on this thread, whose CPU time is measured
	}
	r.forwardFrame(f, k, true)
	for range 20 {
		r.forwardFrame(f, k, false)
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cpu0 := threadCPU()
	st0 := r.batch.Stats()
	b.ReportAllocs()
	b.ResetTimer()
	pprof.Do(context.Background(), pprof.Labels("path", "forward"), func(context.Context) {
		for b.Loop() {
			r.forwardFrame(f, k, false)
		}
	})
	b.StopTimer()
	cpu := threadCPU() - cpu0
	packets := float64(b.N * subscribers * k)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/packets, "ns/forwarded-packet")
	if !parallel {
		b.ReportMetric(float64(cpu.Nanoseconds())/packets, "cpu-ns/forwarded-packet")
	}
	st := r.batch.Stats()
	if st.Batches > st0.Batches {
		b.ReportMetric(float64(st.Datagrams-st0.Datagrams)/float64(st.Batches-st0.Batches), "datagrams/syscall")
		b.ReportMetric(float64(st.Datagrams-st0.Datagrams)/float64(st.Messages-st0.Messages), "datagrams/message")
	}
}

// BenchmarkForwardPion measures one packet fanned out to N subscribers
// through pion's real send path (interceptors, SRTP, UDP mux, sendmmsg on
// loopback). The clients' receive work runs in the same process; its
// allocations count in allocs/op.
func BenchmarkForwardPion1(b *testing.B)   { benchmarkForwardPion(b, 1) }
func BenchmarkForwardPion20(b *testing.B)  { benchmarkForwardPion(b, 20) }
func BenchmarkForwardPion100(b *testing.B) { benchmarkForwardPion(b, 100) }

// threadCPU is the CPU time, user and system, of the calling thread.
func threadCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// rusageThread is RUSAGE_THREAD (Linux).
const rusageThread = 1

// TestPionSendPathAllocatesNothing forwards through the real pion send path
// (interceptors, SRTP, mux, batched send) to clients that do not read their
// tracks, so that nearly nothing but the bridge's side runs, and counts
// allocations.
func TestPionSendPathAllocatesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("connects peer connections")
	}
	if raceEnabled {
		t.Skip("pion's sync.Pool buffers allocate under the race detector")
	}
	r := newPionRig(t, 3, false)
	for range 200 {
		r.forwardPion(false)
	}
	allocs := testing.AllocsPerRun(1000, func() { r.forwardPion(false) })
	if allocs != 0 {
		t.Errorf("forwarding one packet to 3 subscribers through pion allocates %.2f times", allocs)
	}
	for i, d := range r.downs {
		if p, _ := d.counts(); p < 1200 {
			t.Errorf("subscriber %d: %d packets sent, want every one", i, p)
		}
	}
}

// BenchmarkForwardPionFrame is BenchmarkForwardPion with 6-packet frames
// held and fanned out subscriber by subscriber, as runVideo does.
func BenchmarkForwardPionFrame20(b *testing.B)  { benchmarkForwardPionFrame(b, 20, false) }
func BenchmarkForwardPionFrame100(b *testing.B) { benchmarkForwardPionFrame(b, 100, false) }

// BenchmarkForwardPionFrameParallel100 splits the fan-out across
// GOMAXPROCS goroutines (at most maxFanWorkers); compare its ns/op, the
// time one frame takes to reach every subscriber, with
// BenchmarkForwardPionFrame100's.
func BenchmarkForwardPionFrameParallel100(b *testing.B) { benchmarkForwardPionFrame(b, 100, true) }

// TestSenderReports checks the sender reports the bridge writes itself:
// the client receives one for its stream, with the packets sent and an RTP
// time that maps the report's NTP time onto the stream's clock.
func TestSenderReports(t *testing.T) {
	if testing.Short() {
		t.Skip("connects peer connections")
	}
	r := newPionRig(t, 1, true)
	for range 10 {
		r.forwardPion(false)
	}
	d := r.downs[0]
	time.Sleep(100 * time.Millisecond) // the RTP clock runs on after the last frame
	now := time.Now()
	d.ep.sendSenderReports(now)
	d.mu.Lock()
	want, lastTS, lastAt := uint32(d.packets), d.sr.ts, d.sr.at
	d.mu.Unlock()
	recv := <-r.receivers
	_ = recv.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		pkts, _, err := recv.ReadRTCP()
		if err != nil {
			t.Fatalf("no sender report: %v", err)
		}
		for _, p := range pkts {
			sr, ok := p.(*rtcp.SenderReport)
			if !ok || sr.SSRC != d.ssrc {
				continue
			}
			if sr.PacketCount != want {
				t.Errorf("packet count %d, want %d", sr.PacketCount, want)
			}
			wantTS := lastTS + uint32(now.Sub(time.Unix(0, lastAt)).Seconds()*90000)
			if diff := int32(sr.RTPTime - wantTS); diff < -1 || diff > 1 {
				t.Errorf("RTP time %d, want %d", sr.RTPTime, wantTS)
			}
			if got := time.Unix(0, 0).Add(time.Duration(float64(sr.NTPTime>>32-2208988800)*1e9 + float64(sr.NTPTime&0xffffffff)/(1<<32)*1e9)); got.Sub(now).Abs() > time.Microsecond {
				t.Errorf("NTP time is %v, want %v", got, now)
			}
			return
		}
	}
}
