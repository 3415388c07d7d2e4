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
	"time"

	"github.com/nats-io/nats.go"

	"github.com/parley/parley/internal/bus"
	"github.com/parley/parley/internal/busmsg"
	"github.com/parley/parley/protocol"
)

// Errors of the control plane.
var (
	ErrNoBridge    = errors.New("control: no bridge available")
	ErrRoomClosing = errors.New("control: room is closing; claim it again")
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
	// ICEServers are handed to every participant at join.
	ICEServers []protocol.ICEServer
}

// Control is one control node.
type Control struct {
	cfg     Config
	log     *slog.Logger
	leases  *bus.Leases
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
		cfg.LeaseTTL = 6 * time.Second
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
	leases, err := c.cfg.Bus.OpenLeases(ctx, bus.RoomLeaseBucket, c.cfg.LeaseTTL)
	if err != nil {
		return err
	}
	c.leases = leases
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
	c.subs = []*nats.Subscription{status, claim}
	return nil
}

// Close leaves every room this node owns (participants' bridges stay as
// they are) and stops.
func (c *Control) Close() {
	for _, s := range c.subs {
		_ = s.Unsubscribe()
	}
	if c.cancel != nil {
		c.cancel()
	}
	c.wg.Wait()
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
