// Package bridge is Parley's SFU. It allocates one PeerConnection (an
// endpoint) per participant on a single UDP port, receives each publisher's
// tracks and forwards their RTP to every other endpoint of the conference. It
// answers NACKs from a per-track packet cache and forwards keyframe requests
// to publishers, throttled. Control drives it over the bus (endpoint
// requests); the forwarding path never touches the bus.
package bridge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/pion/ice/v4"
	"github.com/pion/transport/v5/stdnet"
	"github.com/pion/webrtc/v4"

	"github.com/parley/parley/internal/bus"
	"github.com/parley/parley/internal/busmsg"
	"github.com/parley/parley/internal/mediaaddr"
	"github.com/parley/parley/internal/rtc"
	"github.com/parley/parley/internal/shutdown"
	"github.com/parley/parley/internal/streamconn"
	"github.com/parley/parley/internal/udpbatch"
)

// Errors of the bridge's endpoint API.
var (
	ErrUnknownEndpoint = errors.New("bridge: unknown endpoint")
	ErrUnknownOp       = errors.New("bridge: unknown endpoint operation")
	ErrClosed          = errors.New("bridge: closed")
	ErrDraining        = errors.New("bridge: draining; it takes no new endpoints")
)

// Config configures a bridge.
type Config struct {
	ID      string
	Region  string
	Version string
	// UDPPort carries all media; 0 picks a free port.
	UDPPort int
	// NoUDP turns UDP media off: clients reach the bridge over ICE-TCP (or
	// through TURN) only.
	NoUDP bool
	// TCPListener, when set, takes ICE-TCP connections (RFC 4571 framing),
	// typically the ICE-TCP share of the node's one TCP port.
	TCPListener net.Listener
	// Media says which local addresses take media and what clients are
	// told for each (mediaaddr.Resolve); the zero Plan takes every address
	// of the host but link-local ones, loopback included.
	Media mediaaddr.Plan
	// KeyframeInterval is the shortest time between keyframe requests sent to
	// one publisher.
	KeyframeInterval time.Duration
	Bus              *bus.Bus
	Log              *slog.Logger
}

// Bridge is one SFU instance.
type Bridge struct {
	cfg    Config
	log    *slog.Logger
	api    *webrtc.API
	mux    *ice.MultiUDPMuxDefault // nil when UDP is off
	batch  *udpbatch.Group         // the mux's sockets; nil when UDP is off
	tcpMux ice.TCPMux              // nil without ICE-TCP
	tcp    *streamconn.Listener    // the ICE-TCP connections, whose writes never block

	mu          sync.Mutex
	conferences map[string]*conference
	closed      bool
	totals      totals
	draining    atomic.Bool
	load        loadMeter

	subs   []*nats.Subscription
	cancel context.CancelFunc
	done   chan struct{}
}

// New binds the media port and prepares the WebRTC stack. Start connects it
// to the bus.
func New(cfg Config) (*Bridge, error) {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	log := cfg.Log.With("bridge", cfg.ID)
	if cfg.NoUDP && cfg.TCPListener == nil {
		return nil, errors.New("bridge: with UDP off, ICE-TCP needs a listener")
	}
	b := &Bridge{cfg: cfg, log: log, conferences: map[string]*conference{}, done: make(chan struct{})}
	if !cfg.NoUDP {
		// One socket per local address of the plan, all on the media
		// port, so that replies leave from the address the client sent to.
		// Addresses outside the plan get no socket: their candidates would
		// reach no client, or stand in for a public address and answer
		// from the wrong one. The sockets batch what the forwarding loop
		// sends: the copies of one packet for all its subscribers leave in
		// one system call.
		n, err := stdnet.NewNet()
		if err != nil {
			return nil, fmt.Errorf("bridge: media port %d: %w", cfg.UDPPort, err)
		}
		b.batch = udpbatch.NewGroup(true)
		mux, err := ice.NewMultiUDPMuxFromPort(cfg.UDPPort,
			ice.UDPMuxFromPortWithNet(b.batch.Net(n)),
			ice.UDPMuxFromPortWithLoopback(),
			ice.UDPMuxFromPortWithIPFilter(b.mediaIP),
			ice.UDPMuxFromPortWithReadBufferSize(udpBufferSize),
			ice.UDPMuxFromPortWithWriteBufferSize(udpBufferSize),
			ice.UDPMuxFromPortWithLogger(rtc.LoggerFactory(cfg.Log).NewLogger("udpmux")),
		)
		if err != nil {
			return nil, fmt.Errorf("bridge: media port %d: %w", cfg.UDPPort, err)
		}
		b.mux = mux
	}
	if cfg.TCPListener != nil {
		// A receiver whose TCP connection stops taking data must not
		// block the forwarding loop that writes to it: its writes are
		// queued, bounded, and a connection stalled for
		// streamconn.DefaultStallAfter is cut off.
		b.tcp = streamconn.Listen(cfg.TCPListener, streamconn.Config{OnStall: b.tcpStalled})
		b.tcpMux = webrtc.NewICETCPMux(rtc.LoggerFactory(cfg.Log).NewLogger("tcpmux"), b.tcp, 64)
	}
	api, err := b.newAPI()
	if err != nil {
		b.closeMuxes()
		return nil, err
	}
	b.api = api
	return b, nil
}

func (b *Bridge) closeMuxes() {
	if b.mux != nil {
		_ = b.mux.Close()
	}
	if b.tcpMux != nil {
		_ = b.tcpMux.Close()
	}
}

func (b *Bridge) newAPI() (*webrtc.API, error) {
	cfg := b.cfg
	m, err := rtc.MediaEngine()
	if err != nil {
		return nil, err
	}
	reg, err := rtc.Interceptors(m, rtc.Bridge, rtc.LoggerFactory(cfg.Log))
	if err != nil {
		return nil, err
	}
	var s webrtc.SettingEngine
	s.LoggerFactory = rtc.LoggerFactory(cfg.Log)
	var networks []webrtc.NetworkType
	if b.mux != nil {
		s.SetICEUDPMux(b.mux)
		networks = append(networks, webrtc.NetworkTypeUDP4, webrtc.NetworkTypeUDP6)
	}
	if b.tcpMux != nil {
		s.SetICETCPMux(b.tcpMux)
		networks = append(networks, webrtc.NetworkTypeTCP4, webrtc.NetworkTypeTCP6)
	}
	s.SetNetworkTypes(networks)
	// ICE-TCP candidates are gathered from the interfaces: the plan's
	// addresses where the TCP port listens.
	s.SetIPFilter(b.iceTCPIP)
	s.SetIncludeLoopbackCandidate(len(cfg.Media.Mappings) == 0 || cfg.Media.Loopback)
	s.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	s.SetICETimeouts(5*time.Second, 15*time.Second, 2*time.Second)
	s.SetSRTPProtectionProfiles(srtpProfiles...)
	var rules []webrtc.ICEAddressRewriteRule
	for _, m := range cfg.Media.Mappings {
		if !m.NAT() {
			continue
		}
		var external []string
		for _, a := range m.Public {
			external = append(external, a.String())
		}
		rules = append(rules, webrtc.ICEAddressRewriteRule{
			External:        external,
			Local:           m.Local.String(),
			AsCandidateType: webrtc.ICECandidateTypeHost,
			Mode:            webrtc.ICEAddressRewriteReplace,
		})
	}
	if len(rules) > 0 {
		if err := s.SetICEAddressRewriteRules(rules...); err != nil {
			return nil, fmt.Errorf("bridge: public IPs: %w", err)
		}
	}
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(reg), webrtc.WithSettingEngine(s)), nil
}

// mediaIP says whether the media port is bound on a local address: one of
// the plan's, or any but link-local ones without a plan.
func (b *Bridge) mediaIP(ip net.IP) bool {
	a, ok := netip.AddrFromSlice(ip)
	if !ok || ip.IsLinkLocalUnicast() {
		return false
	}
	if len(b.cfg.Media.Mappings) == 0 {
		return true
	}
	return b.cfg.Media.HasLocal(a)
}

// iceTCPIP says whether an interface address gets an ICE-TCP candidate: a
// media address the TCP port listens on.
func (b *Bridge) iceTCPIP(ip net.IP) bool {
	if !b.mediaIP(ip) {
		return false
	}
	if b.cfg.TCPListener == nil {
		return true
	}
	ta, ok := b.cfg.TCPListener.Addr().(*net.TCPAddr)
	if !ok || ta.IP.IsUnspecified() {
		return true
	}
	return ta.IP.Equal(ip)
}

// udpBufferSize is the kernel socket buffer asked for, each way: bursts of
// video to many receivers must not overflow it.
const udpBufferSize = 4 << 20

// UDPAddrs are the bound media addresses, one per local address (none when
// UDP is off).
func (b *Bridge) UDPAddrs() []*net.UDPAddr {
	var out []*net.UDPAddr
	if b.mux == nil {
		return nil
	}
	for _, a := range b.mux.GetListenAddresses() {
		if ua, ok := a.(*net.UDPAddr); ok {
			out = append(out, ua)
		}
	}
	return out
}

// UDPPort is the media port (of the first address when the port was picked
// freely).
func (b *Bridge) UDPPort() int {
	for _, a := range b.UDPAddrs() {
		return a.Port
	}
	return 0
}

// ID is the bridge's id on the bus.
func (b *Bridge) ID() string { return b.cfg.ID }

// Start subscribes to endpoint requests and starts the heartbeat.
func (b *Bridge) Start(ctx context.Context) error {
	sub, err := b.cfg.Bus.Subscribe(bus.BridgeEndpoint(b.cfg.ID), b.handleRequest)
	if err != nil {
		return fmt.Errorf("bridge: subscribe: %w", err)
	}
	asked, err := b.cfg.Bus.Subscribe(bus.BridgeStatusRequest, func(*nats.Msg) { b.publishStatus() })
	if err != nil {
		_ = sub.Unsubscribe()
		return fmt.Errorf("bridge: subscribe: %w", err)
	}
	b.subs = []*nats.Subscription{sub, asked}
	ctx, b.cancel = context.WithCancel(ctx)
	b.publishStatus()
	go b.heartbeat(ctx)
	b.log.Info("bridge started", "udp_port", b.UDPPort(), "addresses", len(b.UDPAddrs()), "region", b.cfg.Region)
	return nil
}

// HeartbeatEvery is how often a bridge tells control it is there (with its
// load); control asks a bridge whose beat is late twice over whether it is
// still on the bus.
const HeartbeatEvery = 500 * time.Millisecond

func (b *Bridge) heartbeat(ctx context.Context) {
	defer close(b.done)
	t := time.NewTicker(HeartbeatEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			b.publishStatus()
		}
	}
}

// Status reports the bridge's load.
func (b *Bridge) Status() busmsg.BridgeStatus {
	b.mu.Lock()
	st := busmsg.BridgeStatus{
		ID: b.cfg.ID, Region: b.cfg.Region, Version: b.cfg.Version, Conferences: len(b.conferences),
		Draining: b.draining.Load(), Stress: b.load.stress(), Time: time.Now(),
	}
	for _, c := range b.conferences {
		st.Endpoints += c.size()
	}
	b.mu.Unlock()
	return st
}

func (b *Bridge) publishStatus() {
	st := b.Stats()
	b.load.sample(st.PacketsIn + st.PacketsOut)
	if err := b.cfg.Bus.Publish(bus.BridgeStatus, b.Status()); err != nil {
		b.log.Warn("publish status", "err", err)
	}
}

// Drain makes the bridge refuse new endpoints and tells control, which
// moves its conferences elsewhere.
func (b *Bridge) Drain() {
	if !b.draining.Swap(true) {
		b.log.Info("bridge draining")
		b.publishStatus()
	}
}

// Draining reports whether Drain was called.
func (b *Bridge) Draining() bool { return b.draining.Load() }

// Endpoints is how many endpoints the bridge holds.
func (b *Bridge) Endpoints() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for _, c := range b.conferences {
		n += c.size()
	}
	return n
}

// Close ends every conference and releases the media port.
func (b *Bridge) Close() {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return
	}
	b.closed = true
	confs := b.conferences
	b.conferences = map[string]*conference{}
	b.mu.Unlock()
	for _, sub := range b.subs {
		_ = sub.Unsubscribe()
	}
	if b.cancel != nil {
		b.cancel()
		shutdown.Wait(b.log, "bridge reports", shutdown.Timeout, b.done)
	}
	for _, c := range confs {
		c.close()
	}
	b.closeMuxes()
}

func (b *Bridge) handleRequest(msg *nats.Msg) {
	var req busmsg.EndpointRequest
	if err := bus.Decode(msg, &req); err != nil {
		bus.Respond(msg, nil, err)
		return
	}
	reply, err := b.do(req)
	if err != nil {
		b.log.Debug("endpoint request failed", "op", req.Op, "conference", req.Conference, "endpoint", req.Endpoint, "err", err)
	}
	bus.Respond(msg, reply, err)
}

func (b *Bridge) do(req busmsg.EndpointRequest) (*busmsg.EndpointReply, error) {
	if req.Op == busmsg.OpPing {
		return nil, nil
	}
	if req.Op == busmsg.OpAllocate {
		if b.draining.Load() {
			return nil, ErrDraining
		}
		c, err := b.conference(req.Conference, true)
		if err != nil {
			return nil, err
		}
		return nil, c.allocate(req.Endpoint)
	}
	c, err := b.conference(req.Conference, false)
	if err != nil {
		return nil, err
	}
	ep := c.endpoint(req.Endpoint)
	if ep == nil {
		return nil, fmt.Errorf("%w %s in conference %s", ErrUnknownEndpoint, req.Endpoint, req.Conference)
	}
	switch req.Op {
	case busmsg.OpOffer:
		sdp, err := ep.handleOffer(req.SDP, req.Tracks)
		return &busmsg.EndpointReply{SDP: sdp}, err
	case busmsg.OpAnswer:
		return nil, ep.handleAnswer(req.SDP)
	case busmsg.OpCandidate:
		if req.Candidate == nil {
			return nil, fmt.Errorf("bridge: candidate request without a candidate")
		}
		return nil, ep.addCandidate(*req.Candidate)
	case busmsg.OpExpire:
		c.expire(ep)
		b.dropIfEmpty(c)
		return nil, nil
	case busmsg.OpBlock:
		if req.Block == nil {
			return nil, fmt.Errorf("bridge: block request without what to block")
		}
		ep.setBlock(*req.Block)
		return nil, nil
	}
	return nil, fmt.Errorf("%w %q", ErrUnknownOp, req.Op)
}

func (b *Bridge) conference(id string, create bool) (*conference, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, ErrClosed
	}
	c := b.conferences[id]
	if c == nil && create {
		c = newConference(b, id)
		b.conferences[id] = c
	}
	if c == nil {
		return nil, fmt.Errorf("%w: no conference %s", ErrUnknownEndpoint, id)
	}
	return c, nil
}

func (b *Bridge) dropIfEmpty(c *conference) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if c.size() == 0 && b.conferences[c.id] == c {
		delete(b.conferences, c.id)
		go c.close()
	}
}

// emit sends an endpoint event to the conference's room owner.
func (b *Bridge) emit(ev busmsg.EndpointEvent) {
	ev.Bridge = b.cfg.ID
	if err := b.cfg.Bus.Publish(bus.RoomBridgeEvents(ev.Conference), ev); err != nil {
		b.log.Warn("publish endpoint event", "kind", ev.Kind, "endpoint", ev.Endpoint, "err", err)
	}
}

// tcpStalled tells the room's owner about the receiver whose ICE-TCP
// connection was cut off for taking nothing, so that its client is told
// why and reconnects.
func (b *Bridge) tcpStalled(c *streamconn.Conn) {
	remote := c.RemoteAddr().String()
	b.mu.Lock()
	confs := make([]*conference, 0, len(b.conferences))
	for _, conf := range b.conferences {
		confs = append(confs, conf)
	}
	b.mu.Unlock()
	for _, conf := range confs {
		for _, ep := range conf.members() {
			if ep.remoteAddr() == remote {
				ep.log.Warn("the receiver's ICE-TCP connection took nothing; cut off",
					"remote", remote, "after", streamconn.DefaultStallAfter)
				ep.emit(busmsg.EndpointEvent{Kind: busmsg.EventStalled})
				return
			}
		}
	}
	b.log.Warn("an ICE-TCP connection took nothing; cut off", "remote", remote, "after", streamconn.DefaultStallAfter)
}
