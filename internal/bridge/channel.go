package bridge

import (
	"encoding/json"

	"github.com/pion/webrtc/v4"

	"github.com/parley/parley/protocol"
)

// onDataChannel takes the client's bridge channel.
func (e *endpoint) onDataChannel(dc *webrtc.DataChannel) {
	if dc.Label() != protocol.ChannelLabel {
		e.log.Debug("ignoring data channel", "label", dc.Label())
		return
	}
	e.dc.Store(dc)
	dc.OnOpen(func() {
		if id, speakers := e.conf.dominant(); id != "" {
			e.send(protocol.DominantSpeaker{Type: protocol.ChannelDominantSpeaker, ID: id, Speakers: speakers})
		}
		e.alloc.mu.Lock()
		e.alloc.lastForwarded = nil // resend what is forwarded
		e.alloc.mu.Unlock()
		go e.allocate()
	})
	dc.OnMessage(func(m webrtc.DataChannelMessage) {
		msg, err := protocol.DecodeChannel(m.Data)
		if err != nil {
			e.send(protocol.Error{Type: protocol.ChannelError, Code: protocol.CodeBadField, Message: err.Error()})
			return
		}
		switch msg := msg.(type) {
		case *protocol.Constraints:
			e.setConstraints(*msg)
		default:
			e.send(protocol.Error{Type: protocol.ChannelError, Code: protocol.CodeWrongDirection, Message: "the bridge only takes constraints"})
		}
	})
}

// send writes a message on the bridge channel if it is open.
func (e *endpoint) send(msg any) {
	dc := e.dc.Load()
	if dc == nil || dc.ReadyState() != webrtc.DataChannelStateOpen {
		return
	}
	data, err := json.Marshal(msg)
	if err != nil {
		e.log.Error("encode bridge message", "err", err)
		return
	}
	if err := dc.SendText(string(data)); err != nil {
		e.log.Debug("bridge channel send", "err", err)
	}
}
