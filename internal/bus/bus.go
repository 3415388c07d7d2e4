// Package bus connects Parley's planes (signal, control, bridge) over NATS:
// an embedded server for one node, or an external cluster. It holds every
// subject name (subjects.go), typed JSON request/reply helpers and the
// key-value leases that give each room one owner. Nothing on the media hot
// path touches the bus.
package bus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Errors returned by the helpers.
var (
	// ErrNoResponders means nobody subscribes to the subject (for example, a
	// room that has no owner yet).
	ErrNoResponders = errors.New("bus: no responders")
	// ErrRemote wraps an error the responder reported.
	ErrRemote = errors.New("bus: remote error")
)

// RemoteError is an error the responder reported: errors.Is(err, ErrRemote)
// holds for it, and Msg is the responder's own text.
type RemoteError struct{ Msg string }

func (e *RemoteError) Error() string        { return ErrRemote.Error() + ": " + e.Msg }
func (e *RemoteError) Is(target error) bool { return target == ErrRemote }

// Bus is a connection to the NATS bus with JetStream.
type Bus struct {
	nc  *nats.Conn
	js  jetstream.JetStream
	log *slog.Logger
}

// Options tells Connect where the bus is.
type Options struct {
	// URL of an external NATS server or cluster; empty uses Embedded.
	URL string
	// Embedded is the in-process server to connect to when URL is empty.
	Embedded *Embedded
	// Name shows in the server's connection list.
	Name string
	Log  *slog.Logger
}

// Connect opens a connection. The caller closes it with Close.
func Connect(opts Options) (*Bus, error) {
	natsOpts := []nats.Option{
		nats.Name(opts.Name),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250 * time.Millisecond),
	}
	url := opts.URL
	if url == "" {
		if opts.Embedded == nil {
			return nil, errors.New("bus: neither a NATS URL nor an embedded server was given")
		}
		natsOpts = append(natsOpts, nats.InProcessServer(opts.Embedded.srv))
		url = opts.Embedded.srv.ClientURL()
	}
	nc, err := nats.Connect(url, natsOpts...)
	if err != nil {
		return nil, fmt.Errorf("bus: connect to %s: %w", url, err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("bus: jetstream: %w", err)
	}
	log := opts.Log
	if log == nil {
		log = slog.Default()
	}
	return &Bus{nc: nc, js: js, log: log}, nil
}

// Close drains subscriptions and closes the connection.
func (b *Bus) Close() {
	_ = b.nc.Drain()
	b.nc.Close()
}

// Connected reports whether the connection is up.
func (b *Bus) Connected() bool { return b.nc.IsConnected() }

// Conn exposes the NATS connection for subscriptions the helpers do not cover.
func (b *Bus) Conn() *nats.Conn { return b.nc }

// Publish sends v as JSON on subject.
func (b *Bus) Publish(subject string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("bus: encode %s: %w", subject, err)
	}
	return b.nc.Publish(subject, data)
}

// PublishRaw sends already encoded bytes on subject.
func (b *Bus) PublishRaw(subject string, data []byte) error {
	return b.nc.Publish(subject, data)
}

// Subscribe calls fn for every message on subject, one at a time.
func (b *Bus) Subscribe(subject string, fn func(*nats.Msg)) (*nats.Subscription, error) {
	return b.nc.Subscribe(subject, fn)
}

// QueueSubscribe is Subscribe where each message goes to one member of queue.
func (b *Bus) QueueSubscribe(subject, queue string, fn func(*nats.Msg)) (*nats.Subscription, error) {
	return b.nc.QueueSubscribe(subject, queue, fn)
}

// reply is the envelope of every response sent by Respond.
type reply struct {
	Error string          `json:"error,omitempty"`
	Data  json.RawMessage `json:"data,omitempty"`
}

// Request sends req as JSON to subject and decodes the reply into Resp. An
// error returned by the responder comes back as a *RemoteError.
func Request[Resp any](ctx context.Context, b *Bus, subject string, req any) (Resp, error) {
	var zero Resp
	data, err := json.Marshal(req)
	if err != nil {
		return zero, fmt.Errorf("bus: encode %s: %w", subject, err)
	}
	msg, err := b.nc.RequestWithContext(ctx, subject, data)
	if errors.Is(err, nats.ErrNoResponders) {
		return zero, fmt.Errorf("%w on %s", ErrNoResponders, subject)
	}
	if err != nil {
		return zero, fmt.Errorf("bus: request %s: %w", subject, err)
	}
	var out Resp
	err = DecodeReply(msg.Data, &out)
	var remote *RemoteError
	switch {
	case errors.As(err, &remote):
		return zero, err
	case err != nil:
		return zero, fmt.Errorf("bus: decode reply from %s: %w", subject, err)
	}
	return out, nil
}

// DecodeReply decodes a reply sent by Respond into v, for a caller that
// gathers replies itself (several to one request). An error the responder
// reported comes back as a *RemoteError; a reply without data leaves v as
// it is.
func DecodeReply(data []byte, v any) error {
	var r reply
	if err := json.Unmarshal(data, &r); err != nil {
		return err
	}
	if r.Error != "" {
		return &RemoteError{Msg: r.Error}
	}
	if len(r.Data) == 0 {
		return nil
	}
	return json.Unmarshal(r.Data, v)
}

// Respond answers a request with v, or with err when it is not nil.
func Respond(msg *nats.Msg, v any, err error) {
	if msg.Reply == "" {
		return
	}
	var r reply
	if err != nil {
		r.Error = err.Error()
	} else if v != nil {
		data, merr := json.Marshal(v)
		if merr != nil {
			r.Error = "encode reply: " + merr.Error()
		} else {
			r.Data = data
		}
	}
	data, _ := json.Marshal(r)
	_ = msg.Respond(data)
}

// Decode unmarshals a message body, naming the subject in the error.
func Decode(msg *nats.Msg, v any) error {
	if err := json.Unmarshal(msg.Data, v); err != nil {
		return fmt.Errorf("bus: decode %s: %w", msg.Subject, err)
	}
	return nil
}
