package media

// PacketInfo is what Selector needs to know about one video packet. For
// VP8, StartOfFrame is the S bit with partition ID 0, Keyframe is
// IsVP8Keyframe, and HasTID, TID and LayerSync come from the descriptor.
type PacketInfo struct {
	Layer        int  // simulcast layer the packet belongs to (0 = lowest)
	Keyframe     bool // the packet starts a keyframe
	StartOfFrame bool // first packet of a frame
	HasTID       bool // the packet carries a temporal layer id
	TID          uint8
	LayerSync    bool // the frame depends only on the base temporal layer
	Marker       bool // last packet of a frame (RTP marker bit)
}

// Decision is Selector's verdict on one packet.
type Decision struct {
	// Forward is set when the packet goes to the receiver.
	Forward bool
	// Switched is set on the first packet of a new segment: the caller
	// resyncs its Rewriter and VP8Munger before writing this packet.
	Switched bool
	// NeedKeyframe is set while the selector waits for a keyframe on the
	// target layer; the caller asks the publisher for one, throttled.
	NeedKeyframe bool
}

// Selector decides, packet by packet, which packets of a simulcast source
// one receiver gets, so that what it gets always decodes:
//
//   - A spatial switch (up or down) happens only at a keyframe of the
//     target layer; until then the current layer keeps flowing, or nothing
//     if there is none, and NeedKeyframe asks for one.
//   - Packets of a temporal layer above the target are dropped. Lowering the
//     temporal target takes effect at the next frame; raising it waits for
//     a frame that is safe to start from: one of the base layer (TID 0),
//     which allows the full target, or a layer sync frame (Y bit), which
//     allows its own layer since it depends only on the base layer.
//   - A frame is kept whole: when the start of a frame was dropped, its
//     other packets are dropped too. A frame whose start never arrived
//     (lost upstream) is judged by its TID alone, so that the receiver can
//     recover the start by NACK.
//
// The caller feeds every packet of every layer of the source, in arrival
// order. For a packet not forwarded whose Layer is the spatial layer
// Current reports after Select, it calls Rewriter.Drop, so that the
// receiver sees no gap; packets of other layers have their own sequence
// numbers and must not reach the Rewriter at all.
//
// A Selector is not safe for concurrent use. Its zero value forwards
// nothing until SetTarget.
type Selector struct {
	target, cur   int // spatial layer + 1; 0 = none
	targetT, curT uint8
	// dropFrame is set when the start of the current frame of the current
	// layer was dropped: the rest of it goes too. It clears at the frame's
	// end (marker), so that a frame whose start is lost is judged by its
	// TID alone.
	dropFrame bool
}

// MaxTemporalLayer is the highest temporal layer id (VP8's TID has 2 bits).
const MaxTemporalLayer = 3

// SetTarget sets the layers the receiver should get: spatial is the
// simulcast layer (0..2, or -1 to forward nothing, which stops at once),
// temporal the highest temporal layer id to forward (0..3). Out-of-range
// values are clamped.
func (s *Selector) SetTarget(spatial, temporal int) {
	s.target = max(spatial, -1) + 1
	s.targetT = uint8(min(max(temporal, 0), MaxTemporalLayer))
	if s.target == 0 {
		s.cur = 0
	}
}

// Current returns the layers being forwarded: the spatial layer (-1 when
// nothing is) and the highest temporal layer id.
func (s *Selector) Current() (spatial, temporal int) {
	return s.cur - 1, int(s.curT)
}

// Select decides on one packet.
func (s *Selector) Select(p PacketInfo) Decision {
	var d Decision
	if s.target == 0 {
		return d
	}
	layer := p.Layer + 1
	if s.cur != s.target {
		if layer == s.target && p.StartOfFrame && p.Keyframe {
			s.cur = s.target
			s.curT = s.targetT
			s.dropFrame = false
			return Decision{Forward: true, Switched: true}
		}
		d.NeedKeyframe = true
	}
	if s.cur == 0 || layer != s.cur {
		return d
	}
	tidOK := !p.HasTID || p.TID <= s.curT
	switch {
	case p.StartOfFrame:
		s.raiseOrLower(p)
		tidOK = !p.HasTID || p.TID <= s.curT
		s.dropFrame = !tidOK
	case s.dropFrame:
		tidOK = false
	}
	if p.Marker {
		s.dropFrame = false
	}
	d.Forward = tidOK
	return d
}

// raiseOrLower moves the temporal layer towards the target at the start of
// a frame.
func (s *Selector) raiseOrLower(p PacketInfo) {
	switch {
	case s.targetT < s.curT:
		s.curT = s.targetT
	case s.targetT > s.curT:
		if !p.HasTID || p.TID == 0 {
			s.curT = s.targetT
		} else if p.LayerSync && p.TID > s.curT && p.TID <= s.targetT {
			s.curT = p.TID
		}
	}
}
