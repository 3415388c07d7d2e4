package signal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/nats-io/nats.go"

	"github.com/parley/parley/internal/bus"
	"github.com/parley/parley/internal/busmsg"
	"github.com/parley/parley/internal/ratelimit"
	"github.com/parley/parley/protocol"
)

// session is one client's WebSocket. One goroutine reads, one writes; bus
// deliveries reach the writer through a bounded outbox, and a client that
// cannot keep up is disconnected rather than slowing anyone else.
type session struct {
	s      *Server
	id     string
	conn   *websocket.Conn
	log    *slog.Logger
	outbox chan outgoing

	room   string // set once joined (or waiting in the lobby)
	addr   netip.Addr
	rate   ratelimit.Bucket // messages
	region string           // from the site map
	host   string           // the host the client asked for, without port
	sub    *nats.Subscription
	cancel context.CancelFunc

	// What a new room owner needs to take the participant over.
	stateMu  sync.Mutex
	identity *busmsg.Identity
	name     string
	audio    bool // muted
	video    bool // muted
	bridge   string

	closeOnce sync.Once
}

type outgoing struct {
	data  []byte
	close bool // close the socket after writing data
}

func newSession(s *Server, conn *websocket.Conn, id, remote string) *session {
	return &session{s: s, id: id, conn: conn, log: s.log.With("session", id, "remote", remote), outbox: make(chan outgoing, outboxSize)}
}

func (ss *session) run(parent context.Context) {
	ctx, cancel := context.WithCancel(parent)
	ss.cancel = cancel
	defer cancel()
	sub, err := ss.s.cfg.Bus.Subscribe(bus.Session(ss.id), ss.fromBus)
	if err != nil {
		ss.log.Error("subscribe session", "err", err)
		ss.close(websocket.StatusInternalError, "server error")
		return
	}
	ss.sub = sub
	defer func() { _ = sub.Unsubscribe() }()

	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		ss.writeLoop(ctx)
	}()
	ss.readLoop(ctx)
	if ss.room != "" {
		ss.s.unwatch(ss.room, ss)
		msg := busmsg.ClientMessage{Session: ss.id, Type: protocol.TypeLeave, Disconnected: true}
		if err := ss.s.cfg.Bus.Publish(bus.RoomControl(ss.room), msg); err != nil {
			ss.log.Warn("relay disconnect", "err", err)
		}
	}
	cancel()
	<-writerDone
	ss.close(websocket.StatusNormalClosure, "")
}

func (ss *session) close(code websocket.StatusCode, reason string) {
	ss.closeOnce.Do(func() {
		if ss.cancel != nil {
			ss.cancel()
		}
		_ = ss.conn.Close(code, reason)
	})
}

// fromBus takes what the room's owner sends to this session.
func (ss *session) fromBus(m *nats.Msg) {
	var ev busmsg.SessionEvent
	if err := bus.Decode(m, &ev); err != nil {
		ss.log.Warn("bad session event", "err", err)
		return
	}
	if ev.Bridge != "" {
		ss.stateMu.Lock()
		ss.bridge = ev.Bridge
		ss.stateMu.Unlock()
	}
	select {
	case ss.outbox <- outgoing{data: ev.Message, close: ev.Close}:
	default:
		ss.log.Warn("client too slow; closing")
		go ss.close(websocket.StatusPolicyViolation, "too slow to read")
	}
}

func (ss *session) queue(v any) {
	data, err := json.Marshal(v)
	if err != nil {
		ss.log.Error("encode", "err", err)
		return
	}
	select {
	case ss.outbox <- outgoing{data: data}:
	default:
		go ss.close(websocket.StatusPolicyViolation, "too slow to read")
	}
}

func (ss *session) writeLoop(ctx context.Context) {
	ping := time.NewTicker(pingInterval)
	defer ping.Stop()
	for {
		select {
		case <-ctx.Done():
			// Flush what is queued (a final error or closed message).
			for {
				select {
				case out := <-ss.outbox:
					if ss.write(out) != nil {
						return
					}
				default:
					return
				}
			}
		case out := <-ss.outbox:
			if err := ss.write(out); err != nil {
				ss.close(websocket.StatusGoingAway, "write failed")
				return
			}
			if out.close {
				ss.close(websocket.StatusNormalClosure, "closed by the server")
				return
			}
		case <-ping.C:
			pctx, cancel := context.WithTimeout(ctx, pingTimeout)
			err := ss.conn.Ping(pctx)
			cancel()
			if err != nil && ctx.Err() == nil {
				ss.log.Info("client stopped answering pings", "err", err)
				ss.close(websocket.StatusGoingAway, "ping timeout")
				return
			}
		}
	}
}

func (ss *session) write(out outgoing) error {
	if len(out.data) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
	defer cancel()
	return ss.conn.Write(ctx, websocket.MessageText, out.data)
}

// readLoop reads client messages until the socket closes. Its buffer
// starts small and grows to the largest message read (SDP offers are a few
// kilobytes), never past the limit.
func (ss *session) readLoop(ctx context.Context) {
	buf := make([]byte, 4<<10)
	for {
		typ, r, err := ss.conn.Reader(ctx)
		if err != nil {
			if s := websocket.CloseStatus(err); s == -1 && ctx.Err() == nil && !errors.Is(err, io.EOF) {
				ss.log.Debug("read", "err", err)
			}
			return
		}
		var n int
		n, buf, err = readMessage(r, buf, protocol.MaxMessageBytes+1)
		switch {
		case err == nil: // read the limit and more: the message is over it
			total, derr := io.Copy(io.Discard, r)
			if derr != nil {
				return
			}
			ss.reject(&protocol.DecodeError{Code: protocol.CodeTooLarge,
				Message: fmt.Sprintf("message of %d bytes is over the limit of %d", int64(n)+total, protocol.MaxMessageBytes)})
			continue
		case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		default:
			return
		}
		if typ != websocket.MessageText {
			ss.reject(&protocol.DecodeError{Code: protocol.CodeBadJSON, Message: "binary frames are not part of the protocol; send JSON text"})
			continue
		}
		ss.handle(ctx, buf[:n])
	}
}

// readMessage reads r into buf, doubling buf up to limit bytes while it
// fills. It returns what it read, the buffer it read into, and nil only if
// it filled limit bytes before the message ended; at the message's end the
// error is io.EOF or io.ErrUnexpectedEOF.
func readMessage(r io.Reader, buf []byte, limit int) (int, []byte, error) {
	n := 0
	for {
		m, err := io.ReadFull(r, buf[n:])
		n += m
		if err != nil || len(buf) >= limit {
			return n, buf, err
		}
		grown := make([]byte, min(2*len(buf), limit))
		copy(grown, buf[:n])
		buf = grown
	}
}

func (ss *session) reject(e *protocol.DecodeError) {
	ss.queue(e.Reply())
}

func (ss *session) handle(ctx context.Context, data []byte) {
	msg, err := protocol.Decode(data)
	if err != nil {
		ss.reject(protocol.AsDecodeError(err))
		return
	}
	typ := protocol.TypeOf(msg)
	if !protocol.FromClient(typ) {
		ss.reject(&protocol.DecodeError{Code: protocol.CodeWrongDirection, Ref: typ, Message: fmt.Sprintf("%q is sent by the server, not by clients", typ)})
		return
	}
	rate := float64(ss.s.cfg.MessageRate)
	if !ss.rate.Take(time.Now(), rate, 2*rate) {
		ss.reject(&protocol.DecodeError{Code: protocol.CodeRateLimited, Ref: typ, Message: fmt.Sprintf("more than %d messages a second; this one was dropped", ss.s.cfg.MessageRate)})
		return
	}
	switch m := msg.(type) {
	case *protocol.Ping:
		ss.queue(protocol.Pong{Type: protocol.TypePong, Seq: m.Seq})
		return
	case *protocol.Join:
		ss.join(ctx, m)
		return
	}
	if ss.room == "" {
		ss.reject(&protocol.DecodeError{Code: protocol.CodeNotJoined, Ref: typ, Message: "send join first"})
		return
	}
	cm := busmsg.ClientMessage{Session: ss.id, Type: typ, Data: append(json.RawMessage(nil), data...)}
	switch m := msg.(type) {
	case *protocol.Mute:
		ss.stateMu.Lock()
		ss.audio, ss.video = m.Audio, m.Video
		ss.stateMu.Unlock()
	case *protocol.RefreshToken:
		id, derr := ss.s.identify(m.Token, ss.room)
		if derr != nil {
			derr.Ref = typ
			ss.reject(derr)
			return
		}
		ss.stateMu.Lock()
		ss.identity = id
		ss.stateMu.Unlock()
		cm.Identity, cm.Data = id, nil
	}
	if err := ss.s.cfg.Bus.Publish(bus.RoomControl(ss.room), cm); err != nil {
		ss.log.Warn("relay", "type", typ, "err", err)
		ss.reject(&protocol.DecodeError{Code: protocol.CodeUnavailable, Ref: typ, Message: "the room could not be reached; try again"})
	}
}

func (ss *session) join(ctx context.Context, j *protocol.Join) {
	if ss.room != "" {
		ss.reject(&protocol.DecodeError{Code: protocol.CodeAlreadyJoined, Ref: j.Type, Message: "this connection has already joined " + ss.room})
		return
	}
	if !ss.s.joins.Allow(ss.addr, time.Now()) {
		ss.reject(&protocol.DecodeError{Code: protocol.CodeRateLimited, Ref: j.Type, Message: "too many join attempts from your address; wait a minute and try again"})
		return
	}
	id, derr := ss.s.identify(j.Token, j.Room)
	if derr != nil {
		derr.Ref = j.Type
		ss.reject(derr)
		return
	}
	j.Token = ""               // verified here; control gets the claims
	data, _ := json.Marshal(j) // normalised room and name
	reply, err := ss.s.relayJoin(ctx, j.Room, busmsg.ClientMessage{
		Session: ss.id, Type: protocol.TypeJoin, Data: data, Region: ss.region, Host: ss.host,
		Identity: id, Address: ss.addr.String(),
	})
	if err != nil {
		ss.log.Warn("join failed", "room", j.Room, "err", err)
		ss.reject(&protocol.DecodeError{Code: protocol.CodeUnavailable, Ref: j.Type, Message: "the room could not be reached; try again"})
		return
	}
	if reply.Error != nil {
		ss.queue(reply.Error)
		return
	}
	ss.room = j.Room
	ss.log = ss.log.With("room", j.Room)
	ss.stateMu.Lock()
	ss.name, ss.bridge, ss.identity = j.Name, reply.Bridge, id
	if id != nil && id.Name != "" {
		ss.name = id.Name
	}
	ss.stateMu.Unlock()
	ss.s.watch(j.Room, reply.Epoch, ss)
}

// rejoinInfo is what the session tells a new room owner.
func (ss *session) rejoinInfo() *busmsg.Rejoin {
	ss.stateMu.Lock()
	defer ss.stateMu.Unlock()
	return &busmsg.Rejoin{Name: ss.name, AudioMuted: ss.audio, VideoMuted: ss.video, Bridge: ss.bridge, Region: ss.region, Identity: ss.identity}
}
