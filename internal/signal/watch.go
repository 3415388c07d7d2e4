package signal

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/parley/parley/internal/bus"
	"github.com/parley/parley/internal/busmsg"
	"github.com/parley/parley/internal/shutdown"
)

// probeEvery is how often a signal node asks each room it has sessions in
// who owns it.
const probeEvery = 500 * time.Millisecond

// roomWatch follows one room this node has sessions in. It probes the
// room's owner; when the owner is gone it has a control node claim the room
// again, and when the room has a new owner (a new epoch) it re-attaches
// every session here, so clients stay in their meeting without noticing.
type roomWatch struct {
	s      *Server
	room   string
	cancel context.CancelFunc
	done   chan struct{}

	mu       sync.Mutex
	sessions map[string]*session
	epoch    string // the owner's epoch the sessions are attached to
}

// watch attaches a session that joined room under epoch.
func (s *Server) watch(room, epoch string, ss *session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	w := s.watches[room]
	if w == nil {
		ctx, cancel := context.WithCancel(context.Background())
		w = &roomWatch{s: s, room: room, cancel: cancel, done: make(chan struct{}), sessions: map[string]*session{}, epoch: epoch}
		s.watches[room] = w
		go w.run(ctx)
	}
	w.mu.Lock()
	w.sessions[ss.id] = ss
	if w.epoch == "" {
		w.epoch = epoch
	}
	w.mu.Unlock()
}

// unwatch detaches a session; the last one stops the watch.
func (s *Server) unwatch(room string, ss *session) {
	s.mu.Lock()
	w := s.watches[room]
	if w == nil {
		s.mu.Unlock()
		return
	}
	w.mu.Lock()
	delete(w.sessions, ss.id)
	empty := len(w.sessions) == 0
	w.mu.Unlock()
	if empty {
		delete(s.watches, room)
	}
	s.mu.Unlock()
	if empty {
		w.stop()
	}
}

func (w *roomWatch) stop() {
	w.cancel()
	shutdown.Wait(w.s.log, "room watch", shutdown.Timeout, w.done)
}

func (w *roomWatch) run(ctx context.Context) {
	defer close(w.done)
	t := time.NewTicker(probeEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			w.check(ctx)
		}
	}
}

func (w *roomWatch) check(ctx context.Context) {
	pctx, cancel := context.WithTimeout(ctx, time.Second)
	reply, err := bus.Request[busmsg.ProbeReply](pctx, w.s.cfg.Bus, bus.RoomControl(w.room), busmsg.ClientMessage{Type: busmsg.TypeProbe})
	cancel()
	if err != nil {
		if ctx.Err() != nil {
			return
		}
		// The owner is gone (or giving the room up): have a control node
		// claim it. While the lost owner's lease lasts the claim names the
		// old owner; the next probe tries again.
		w.s.log.Debug("room owner unreachable", "room", w.room, "err", err)
		cctx, cancel := context.WithTimeout(ctx, time.Second)
		_, _ = bus.Request[busmsg.ClaimReply](cctx, w.s.cfg.Bus, bus.ControlClaim, busmsg.ClaimRequest{Room: w.room})
		cancel()
		return
	}
	w.mu.Lock()
	same := reply.Epoch == w.epoch
	sessions := make([]*session, 0, len(w.sessions))
	for _, ss := range w.sessions {
		sessions = append(sessions, ss)
	}
	w.mu.Unlock()
	if same {
		return
	}
	w.s.log.Info("room has a new owner; re-attaching sessions", "room", w.room, "owner", reply.Owner, "sessions", len(sessions))
	for _, ss := range sessions {
		rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		jr, err := bus.Request[busmsg.JoinReply](rctx, w.s.cfg.Bus, bus.RoomControl(w.room),
			busmsg.ClientMessage{Session: ss.id, Type: busmsg.TypeRejoin, Rejoin: ss.rejoinInfo()})
		cancel()
		if err != nil || jr.Error != nil {
			if err == nil {
				err = errors.New(jr.Error.Message)
			}
			w.s.log.Warn("re-attach session", "room", w.room, "session", ss.id, "err", err)
			return // try again at the next probe
		}
	}
	w.mu.Lock()
	w.epoch = reply.Epoch
	w.mu.Unlock()
}
