package protocol

import (
	"encoding/json"
	"errors"
	"fmt"
)

// ChannelLabel is the label of the data channel every client opens in its
// first offer. After the PeerConnection is up, client and bridge exchange
// the Channel* messages below over it, as JSON text.
const ChannelLabel = "parley"

// Bridge channel message types.
const (
	ChannelConstraints      = "constraints"       // client → bridge
	ChannelDominantSpeaker  = "dominant-speaker"  // bridge → client
	ChannelForwardedSources = "forwarded-sources" // bridge → client
	ChannelBandwidth        = "bandwidth"         // bridge → client
	ChannelLayers           = "layers"            // bridge → publishing client
	ChannelError            = "error"             // bridge → client
)

// Source kinds, named in an offer's Tracks and in source ids: a source id is
// "<participant id>-<kind>", the id of the track the bridge forwards.
const (
	SourceAudio  = "audio"
	SourceVideo  = "video" // camera
	SourceScreen = "screen"
)

// SourceID names a participant's source of the given kind.
func SourceID(participant, kind string) string { return participant + "-" + kind }

// TrackInfo tells the bridge what a sending transceiver of the client's
// offer carries.
type TrackInfo struct {
	Mid    string `json:"mid"`
	Source string `json:"source"` // audio, video or screen
}

// Constraints is what a receiver wants: how many video sources at most,
// which ones on stage, and how tall each may be (from the sizes of its
// tiles). The bridge then chooses what to forward within its bandwidth
// estimate.
type Constraints struct {
	Type string `json:"type"`
	// LastN is the most video sources to receive; -1 means no limit.
	LastN int `json:"lastN"`
	// OnStage lists source ids the receiver shows large, in priority order.
	OnStage []string `json:"onStage,omitempty"`
	// MaxHeight gives a per-source height limit in pixels; 0 means none of
	// that source's video.
	MaxHeight map[string]int `json:"maxHeight,omitempty"`
	// DefaultMaxHeight applies to sources not in MaxHeight; -1 means no limit.
	DefaultMaxHeight int `json:"defaultMaxHeight"`
}

// DominantSpeaker names the participant speaking now and those who spoke
// recently, most recent first.
type DominantSpeaker struct {
	Type     string   `json:"type"`
	ID       string   `json:"id"`
	Speakers []string `json:"speakers"`
}

// ForwardedSources says which video sources the bridge forwards to this
// receiver and at what height; sources within last-N that do not fit the
// bandwidth estimate are listed as suspended.
type ForwardedSources struct {
	Type      string         `json:"type"`
	Sources   map[string]int `json:"sources"` // source id → height in pixels
	Suspended []string       `json:"suspended,omitempty"`
}

// Bandwidth reports the bridge's estimate of the receiver's downlink and
// how much of it the forwarded media use, in bits per second.
type Bandwidth struct {
	Type     string `json:"type"`
	Estimate int    `json:"estimate"`
	Used     int    `json:"used"`
}

// Layers tells a publisher which simulcast layers of one of its sources
// somebody receives (index 0 is the lowest); it may stop encoding the others
// until told again.
type Layers struct {
	Type   string `json:"type"`
	Source string `json:"source"`
	Active []bool `json:"active"`
}

// ErrBadChannelMessage is returned by DecodeChannel.
var ErrBadChannelMessage = errors.New("bad bridge channel message")

// DecodeChannel parses a bridge channel message into a pointer to its type.
func DecodeChannel(data []byte) (any, error) {
	if len(data) > MaxMessageBytes {
		return nil, fmt.Errorf("%w: %d bytes is over the limit", ErrBadChannelMessage, len(data))
	}
	var head struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadChannelMessage, err)
	}
	var msg any
	switch head.Type {
	case ChannelConstraints:
		msg = &Constraints{LastN: -1, DefaultMaxHeight: -1}
	case ChannelDominantSpeaker:
		msg = &DominantSpeaker{}
	case ChannelForwardedSources:
		msg = &ForwardedSources{}
	case ChannelBandwidth:
		msg = &Bandwidth{}
	case ChannelLayers:
		msg = &Layers{}
	case ChannelError:
		msg = &Error{}
	default:
		return nil, fmt.Errorf("%w: unknown type %q", ErrBadChannelMessage, clip(head.Type, 40))
	}
	if err := json.Unmarshal(data, msg); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrBadChannelMessage, head.Type, err)
	}
	if c, ok := msg.(*Constraints); ok {
		if c.LastN < -1 || c.DefaultMaxHeight < -1 {
			return nil, fmt.Errorf("%w: lastN and defaultMaxHeight must be -1 or more", ErrBadChannelMessage)
		}
		for id, h := range c.MaxHeight {
			if h < 0 {
				return nil, fmt.Errorf("%w: maxHeight of %q must not be negative", ErrBadChannelMessage, clip(id, 40))
			}
		}
	}
	return msg, nil
}
