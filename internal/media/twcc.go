package media

import "github.com/pion/rtcp"

// twccPacket is one packet reported by transport-wide congestion control
// feedback (draft-holmer-rmcat-transport-wide-cc-extensions-01).
type twccPacket struct {
	seq      uint16
	received bool
	timed    bool  // received, with an arrival time
	arrival  int64 // µs, on the receiver's clock, from the feedback's base
}

// twccReader walks the packets of a pion TransportLayerCC in sequence
// order without allocating. It trusts nothing in the struct: a chunk of an
// unknown type is skipped, and a received packet without its delta has no
// arrival time, so a malformed report loses information but cannot panic.
type twccReader struct {
	fb      *rtcp.TransportLayerCC
	chunk   int   // current chunk
	inChunk int   // symbols of it consumed
	done    int   // packets reported so far
	delta   int   // next receive delta
	arrival int64 // µs, arrival time of the last timed packet
}

// TWCC reference times count 64 ms units in 24 bits.
const (
	twccRefUnit = 64000 // µs
	twccRefBits = 24
)

func newTWCCReader(fb *rtcp.TransportLayerCC, base int64) twccReader {
	return twccReader{fb: fb, arrival: base}
}

// next fills p with the next reported packet; false when there is none.
func (r *twccReader) next(p *twccPacket) bool {
	for r.done < int(r.fb.PacketStatusCount) && r.chunk < len(r.fb.PacketChunks) {
		sym, ok := chunkSymbol(r.fb.PacketChunks[r.chunk], r.inChunk)
		if !ok {
			r.chunk++
			r.inChunk = 0
			continue
		}
		r.inChunk++
		*p = twccPacket{seq: r.fb.BaseSequenceNumber + uint16(r.done)}
		r.done++
		switch sym {
		case rtcp.TypeTCCPacketNotReceived:
		case rtcp.TypeTCCPacketReceivedSmallDelta, rtcp.TypeTCCPacketReceivedLargeDelta:
			p.received = true
			if r.delta < len(r.fb.RecvDeltas) {
				if d := r.fb.RecvDeltas[r.delta]; d != nil {
					r.arrival += d.Delta
					p.timed = true
					p.arrival = r.arrival
				}
				r.delta++
			}
		default: // received, without a delta
			p.received = true
		}
		return true
	}
	return false
}

// chunkSymbol returns the status symbol at index i of a packet status
// chunk, or false past its end. The symbols of a one-bit status vector are
// 0 (not received) and 1 (received, small delta), as for two-bit ones.
func chunkSymbol(c rtcp.PacketStatusChunk, i int) (uint16, bool) {
	switch c := c.(type) {
	case *rtcp.RunLengthChunk:
		if c != nil && i < int(c.RunLength) {
			return c.PacketStatusSymbol, true
		}
	case *rtcp.StatusVectorChunk:
		if c != nil && i < len(c.SymbolList) {
			return c.SymbolList[i], true
		}
	}
	return 0, false
}
