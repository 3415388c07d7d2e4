// Package control runs rooms. Each room has one owner among the control
// nodes, fixed by a lease in a JetStream key-value bucket; the owner keeps
// the room's participants and the bridge each one uses, relays signaling
// between clients (through signal nodes) and bridges, and tells everyone who
// comes and goes. Control nodes claim rooms that have no owner when a signal
// node asks.
package control

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/parley/parley/internal/bus"
	"github.com/parley/parley/internal/busmsg"
	"github.com/parley/parley/internal/shutdown"
	"github.com/parley/parley/protocol"
)

// Errors of the control plane.
var (
	ErrNoBridge    = errors.New("control: no bridge available")
	ErrRoomClosing = errors.New("control: room is closing; claim it again")
	ErrNotReady    = errors.New("control: not ready (the bus's key-value store is not available yet)")
)

// Config configures a control node.
type Config struct {
	NodeID string
	Region string
	Bus    *bus.Bus
	Log    *slog.Logger
	// LeaseTTL is how long a room stays owned by a node that stopped
	// refreshing its lease.
	LeaseTTL time.Duration
	// EmptyRoomGrace is how long an empty room is kept before it is closed.
	EmptyRoomGrace time.Duration
	// ICEServers returns the STUN/TURN servers (with credentials) handed to
	// a participant at join; host is the host name the client asked for.
	ICEServers func(participant, host string) []protocol.ICEServer
	// ICERefresh is how often a participant is handed fresh ICE servers
	// (with fresh TURN credentials) while in the room: about half the
	// credentials' lifetime. 0: never.
	ICERefresh time.Duration
	// LeaseReplicas is how many copies of the lease bucket the bus keeps,
	// when control creates it.
	LeaseReplicas int
	// Selector places participants on bridges; nil uses DefaultSelector
	// with StressThreshold and ConferenceCap.
	Selector        Selector
	StressThreshold float64
	ConferenceCap   int
	// Room policy.
	FirstModerator  bool // the first in (without a token moderator) moderates
	MaxParticipants int
	ChatMaxLength   int // characters
	RoomJoinRate    int // join attempts per room per minute (0: twice MaxParticipants, at least 120)
}

// Control is one control node.
type Control struct {
	cfg     Config
	log     *slog.Logger
	leases  *bus.Leases // set once, when ready
	state   *bus.Store  // rooms' saved state; set with leases
	ready   atomic.Bool
	bridges *registry

	mu    sync.Mutex
	rooms map[string]*room

	subs   []*nats.Subscription
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New makes a control node; Start connects it.
func New(cfg Config) *Control {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.LeaseTTL == 0 {
		cfg.LeaseTTL = 3 * time.Second
	}
	if cfg.MaxParticipants == 0 {
		cfg.MaxParticipants = 100
	}
	if cfg.ChatMaxLength == 0 {
		cfg.ChatMaxLength = 2000
	}
	if cfg.RoomJoinRate == 0 {
		cfg.RoomJoinRate = max(120, 2*cfg.MaxParticipants)
	}
	if cfg.Selector == nil {
		cfg.Selector = DefaultSelector{StressThreshold: cfg.StressThreshold, ConferenceCap: cfg.ConferenceCap}
	}
	if cfg.EmptyRoomGrace == 0 {
		cfg.EmptyRoomGrace = 10 * time.Second
	}
	return &Control{
		cfg:     cfg,
		log:     cfg.Log.With("control", cfg.NodeID),
		bridges: newRegistry(3 * time.Second),
		rooms:   map[string]*room{},
	}
}

// Start opens the lease bucket and subscribes to claims and bridge
// heartbeats.
func (c *Control) Start(ctx context.Context) error {
	c.ctx, c.cancel = context.WithCancel(context.Background())
	status, err := c.cfg.Bus.Subscribe(bus.BridgeStatus, func(m *nats.Msg) {
		var st busmsg.BridgeStatus
		if bus.Decode(m, &st) == nil {
			c.bridges.update(st)
		}
	})
	if err != nil {
		return fmt.Errorf("control: subscribe: %w", err)
	}
	claim, err := c.cfg.Bus.QueueSubscribe(bus.ControlClaim, bus.ControlQueue, c.handleClaim)
	if err != nil {
		return fmt.Errorf("control: subscribe: %w", err)
	}
	rooms, err := c.cfg.Bus.Subscribe(bus.ControlRooms, c.handleRooms)
	if err != nil {
		return fmt.Errorf("control: subscribe: %w", err)
	}
	c.subs = []*nats.Subscription{status, claim, rooms}
	// Hear from every bridge now rather than at its next beat.
	if err := c.cfg.Bus.Publish(bus.BridgeStatusRequest, struct{}{}); err != nil {
		c.log.Warn("ask bridges for status", "err", err)
	}
	c.wg.Add(2)
	go c.openLeases()
	go c.watchBridges()
	return nil
}

// watchBridges asks a bridge whose heartbeat is late whether it is still
// there. A bridge process that died (kill -9, a crash) has lost its bus
// connection, and the bus answers "no responders" at once: it is dead
// now, not after 3 s of silence, and its rooms move. A bridge that is only
// slow answers, or times out, and keeps its 3 s.
func (c *Control) watchBridges() {
	defer c.wg.Done()
	t := time.NewTicker(healthEvery)
	defer t.Stop()
	probing := map[string]bool{}
	done := make(chan string)
	for {
		select {
		case <-c.ctx.Done():
			return
		case id := <-done:
			delete(probing, id)
		case <-t.C:
			for _, id := range c.bridges.late(suspectAfter) {
				if probing[id] {
					continue
				}
				probing[id] = true
				go func() {
					c.probeBridge(id)
					select {
					case done <- id:
					case <-c.ctx.Done():
					}
				}()
			}
		}
	}
}

// suspectAfter is how long after a bridge's last heartbeat (one every
// bridge.HeartbeatEvery) control asks whether it is still there.
const suspectAfter = time.Second

func (c *Control) probeBridge(id string) {
	ctx, cancel := context.WithTimeout(c.ctx, time.Second)
	defer cancel()
	_, err := bus.Request[busmsg.EndpointReply](ctx, c.cfg.Bus, bus.BridgeEndpoint(id), busmsg.EndpointRequest{Op: busmsg.OpPing})
	if errors.Is(err, bus.ErrNoResponders) {
		c.bridges.markDead(id)
		c.log.Warn("bridge gone from the bus; moving its rooms", "bridge", id)
	}
}

// openLeases opens the room lease bucket and the rooms' state store,
// retrying while the bus's key-value store is not up yet (a clustered bus
// forms after its peers start). Until then the node claims no rooms.
func (c *Control) openLeases() {
	defer c.wg.Done()
	for attempt := 0; ; attempt++ {
		ctx, cancel := context.WithTimeout(c.ctx, 5*time.Second)
		leases, err := c.cfg.Bus.OpenLeases(ctx, bus.RoomLeaseBucket, c.cfg.LeaseTTL, c.cfg.LeaseReplicas)
		var state *bus.Store
		if err == nil {
			state, err = c.cfg.Bus.OpenStore(ctx, bus.RoomStateBucket, stateTTL(leases.TTL()), c.cfg.LeaseReplicas)
		}
		cancel()
		if err == nil {
			c.mu.Lock()
			c.leases, c.state = leases, state
			c.mu.Unlock()
			c.ready.Store(true)
			c.log.Info("control ready", "lease_ttl", leases.TTL())
			return
		}
		if attempt%10 == 0 {
			c.log.Warn("waiting for the bus's key-value store", "err", err)
		}
		select {
		case <-c.ctx.Done():
			return
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// Ready reports whether the node can own rooms.
func (c *Control) Ready() bool { return c.ready.Load() }

// Close leaves every room this node owns (participants' bridges stay as
// they are) and stops.
func (c *Control) Close() {
	for _, s := range c.subs {
		_ = s.Unsubscribe()
	}
	if c.cancel != nil {
		c.cancel()
	}
	shutdown.WaitGroup(c.log, "rooms", shutdown.Timeout, &c.wg)
}

// Rooms returns the names of the rooms this node owns.
func (c *Control) Rooms() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]string, 0, len(c.rooms))
	for name := range c.rooms {
		out = append(out, name)
	}
	return out
}

// handleRooms answers the admin API's census with the rooms this node owns,
// asking them all at once.
func (c *Control) handleRooms(m *nats.Msg) {
	names := c.Rooms()
	infos := make([]*busmsg.RoomInfo, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(c.ctx, 2*time.Second)
			defer cancel()
			info, err := bus.Request[busmsg.RoomInfo](ctx, c.cfg.Bus, bus.RoomControl(name), busmsg.ClientMessage{Type: busmsg.TypeAdminInfo})
			if err == nil {
				infos[i] = &info
			}
		}()
	}
	wg.Wait()
	reply := busmsg.RoomsReply{Node: c.cfg.NodeID, Rooms: []busmsg.RoomInfo{}}
	for _, in := range infos {
		if in != nil {
			reply.Rooms = append(reply.Rooms, *in)
		}
	}
	bus.Respond(m, reply, nil)
}

func (c *Control) handleClaim(m *nats.Msg) {
	var req busmsg.ClaimRequest
	if err := bus.Decode(m, &req); err != nil {
		bus.Respond(m, nil, err)
		return
	}
	name, derr := protocol.NormalizeRoom(req.Room)
	if derr != nil {
		bus.Respond(m, nil, derr)
		return
	}
	owner, err := c.claim(name)
	bus.Respond(m, busmsg.ClaimReply{Owner: owner}, err)
}

// claim takes ownership of a room if nobody holds it and returns the owner.
func (c *Control) claim(name string) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.rooms[name]; ok {
		return c.cfg.NodeID, nil
	}
	if c.leases == nil {
		return "", ErrNotReady
	}
	ctx, cancel := context.WithTimeout(c.ctx, 5*time.Second)
	defer cancel()
	lease, err := c.leases.Acquire(ctx, name, c.cfg.NodeID)
	if errors.Is(err, bus.ErrLeaseHeld) {
		owner, oerr := c.leases.Owner(ctx, name)
		return owner, oerr
	}
	if err != nil {
		return "", err
	}
	r, err := newRoom(c, name, lease)
	if err != nil {
		_ = c.leases.Release(ctx, lease)
		return "", err
	}
	r.store = c.state
	r.restore(ctx)
	c.rooms[name] = r
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		r.run(c.ctx)
		c.mu.Lock()
		if c.rooms[name] == r {
			delete(c.rooms, name)
		}
		c.mu.Unlock()
	}()
	c.log.Info("room claimed", "room", name)
	return c.cfg.NodeID, nil
}
