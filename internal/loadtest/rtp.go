package loadtest

import "encoding/binary"

// rtpPacket is what the receive loop needs of an RTP packet.
type rtpPacket struct {
	seq       uint16
	timestamp uint32
	ssrc      uint32
	payload   []byte // without padding; empty for a padding-only packet
}

// parseRTP reads an RTP packet's fixed header and finds its payload,
// without allocating (pion's parser keeps the header extensions). It
// reports false for anything that is not a well-formed RTP packet.
func parseRTP(b []byte, p *rtpPacket) bool {
	if len(b) < 12 || b[0]>>6 != 2 {
		return false
	}
	off := 12 + 4*int(b[0]&0x0f)
	if b[0]&0x10 != 0 { // header extension
		if len(b) < off+4 {
			return false
		}
		off += 4 + 4*int(binary.BigEndian.Uint16(b[off+2:]))
	}
	end := len(b)
	if off > end {
		return false
	}
	if b[0]&0x20 != 0 { // padding: its size is the last byte
		if end == off {
			return false
		}
		pad := int(b[end-1])
		if pad == 0 || pad > end-off {
			return false
		}
		end -= pad
	}
	p.seq = binary.BigEndian.Uint16(b[2:])
	p.timestamp = binary.BigEndian.Uint32(b[4:])
	p.ssrc = binary.BigEndian.Uint32(b[8:])
	p.payload = b[off:end]
	return true
}
