package control

import (
	"context"
	"errors"
	"time"

	"github.com/parley/parley/internal/bus"
	"github.com/parley/parley/internal/busmsg"
	"github.com/parley/parley/protocol"
)

// pickBridge places a participant from region: where the conference is,
// else by the selector. At start-up, when no bridge is known yet, it waits
// a little for a heartbeat.
func (r *room) pickBridge(region string) (string, error) {
	deadline := time.Now().Add(3 * time.Second)
	for {
		live := r.c.bridges.live()
		id, err := r.c.cfg.Selector.Select(r.placement(region), live)
		if err == nil {
			r.log.Debug("bridge picked", "region", region, "bridge", id, "candidates", live)
			return id, nil
		}
		if time.Now().After(deadline) {
			return "", &protocol.DecodeError{Code: protocol.CodeUnavailable, Message: "no media bridge is available; try again shortly"}
		}
		r.c.bridges.wait(time.Until(deadline))
	}
}

// placement describes the conference for the selector: how many
// participants each usable bridge carries.
func (r *room) placement(region string) Placement {
	p := Placement{Region: region, Conference: map[string]int{}}
	for _, part := range r.participants {
		if r.c.bridges.usable(part.bridge) {
			p.Conference[part.bridge]++
		}
	}
	return p
}

// checkBridges moves the participants whose bridge died or drains to a
// usable one, all to the same bridge, and tells their clients to
// renegotiate their media there.
func (r *room) checkBridges(ctx context.Context) {
	var moving []*participant
	for _, id := range r.order {
		if p := r.participants[id]; !r.c.bridges.usable(p.bridge) {
			moving = append(moving, p)
		}
	}
	if len(moving) == 0 {
		return
	}
	target, err := r.c.cfg.Selector.Select(r.placement(moving[0].region), r.c.bridges.live())
	if err != nil {
		r.log.Warn("no bridge to move participants to", "participants", len(moving), "err", err)
		return
	}
	for _, p := range moving {
		old := p.bridge
		moved := *p
		moved.bridge = target
		if _, err := r.bridgeRequest(ctx, &moved, busmsg.EndpointRequest{Op: busmsg.OpAllocate}); err != nil {
			r.log.Warn("move participant", "participant", p.id, "to", target, "err", err)
			continue
		}
		r.c.bridges.placed(target)
		if r.c.bridges.alive(old) {
			// Draining: free the old endpoint now that the new one exists.
			if _, err := r.bridgeRequest(ctx, p, busmsg.EndpointRequest{Op: busmsg.OpExpire}); err != nil {
				r.log.Debug("expire moved endpoint", "participant", p.id, "err", err)
			}
		}
		p.bridge = target
		r.sendEvent(p.id, protocol.Restart{Type: protocol.TypeRestart, Reason: "media moved to another bridge"}, busmsg.SessionEvent{Bridge: target})
		r.log.Info("participant moved", "participant", p.id, "from", old, "to", target)
	}
}

func (r *room) relayOffer(ctx context.Context, p *participant, sdp string, tracks []protocol.TrackInfo) error {
	reply, err := r.bridgeRequest(ctx, p, busmsg.EndpointRequest{Op: busmsg.OpOffer, SDP: sdp, Tracks: tracks})
	if err != nil {
		return err
	}
	if reply.SDP != "" {
		r.send(p.id, protocol.SessionDescription{Type: protocol.TypeAnswer, SDP: reply.SDP}, false)
	}
	return nil
}

func (r *room) handleBridgeEvent(ctx context.Context, e *busmsg.EndpointEvent) {
	p := r.participants[e.Endpoint]
	if p == nil || p.bridge != e.Bridge {
		return
	}
	switch e.Kind {
	case busmsg.EventOffer:
		r.send(p.id, protocol.SessionDescription{Type: protocol.TypeOffer, SDP: e.SDP}, false)
	case busmsg.EventCandidate:
		if e.Candidate != nil {
			r.send(p.id, protocol.Trickle{Type: protocol.TypeCandidate, Candidate: *e.Candidate}, false)
		}
	case busmsg.EventState:
		r.log.Debug("endpoint state", "participant", p.id, "state", e.State)
	case busmsg.EventStalled:
		r.reconnectMedia(ctx, p, "your connection stopped taking media; reconnecting")
	}
}

// reconnectMedia gives a participant a fresh endpoint on its bridge and
// tells its client why it must connect its media again: the bridge cut off
// a connection that took nothing.
func (r *room) reconnectMedia(ctx context.Context, p *participant, reason string) {
	if _, err := r.bridgeRequest(ctx, p, busmsg.EndpointRequest{Op: busmsg.OpExpire}); err != nil {
		r.log.Debug("expire stalled endpoint", "participant", p.id, "err", err)
	}
	if _, err := r.bridgeRequest(ctx, p, busmsg.EndpointRequest{Op: busmsg.OpAllocate}); err != nil {
		r.log.Warn("reconnect stalled participant", "participant", p.id, "err", err)
		return
	}
	r.sendEvent(p.id, protocol.Restart{Type: protocol.TypeRestart, Reason: reason}, busmsg.SessionEvent{Bridge: p.bridge})
	r.log.Info("participant's media cut off and reconnected", "participant", p.id, "bridge", p.bridge)
}

func (r *room) bridgeRequest(ctx context.Context, p *participant, req busmsg.EndpointRequest) (busmsg.EndpointReply, error) {
	req.Conference = r.name
	req.Endpoint = p.id
	ctx, cancel := context.WithTimeout(ctx, bridgeTimeout)
	defer cancel()
	return bus.Request[busmsg.EndpointReply](ctx, r.c.cfg.Bus, bus.BridgeEndpoint(p.bridge), req)
}

// negotiationError tells the client which of its SDP or candidates the
// bridge refused, and why.
func negotiationError(err error) error {
	var remote *bus.RemoteError
	if !errors.As(err, &remote) {
		return err
	}
	return &protocol.DecodeError{Code: protocol.CodeNegotiation, Message: "the bridge could not use it: " + remote.Msg}
}
