package media

// VP8Descriptor is the parsed VP8 payload descriptor of RFC 7741 section 4.2.
type VP8Descriptor struct {
	// Size is the descriptor's length in bytes; the VP8 payload follows it.
	Size int
	// Start is set on the first packet of a partition (S bit).
	Start bool
	// PartitionID is the partition index (PID).
	PartitionID uint8
	// NonReference is set when the frame is not a reference (N bit).
	NonReference bool

	HasPictureID bool
	// PictureIDWide is set when the picture ID is 15 bits (M bit).
	PictureIDWide bool
	PictureID     uint16
	// PictureIDOffset is where the picture ID starts, for in-place rewriting.
	PictureIDOffset int

	HasTL0PICIDX    bool
	TL0PICIDX       uint8
	TL0PICIDXOffset int

	HasTID    bool
	TID       uint8
	LayerSync bool // Y bit

	HasKeyIdx bool
	KeyIdx    uint8
}

// ParseVP8 parses the payload descriptor at the start of an RTP payload.
func ParseVP8(p []byte, d *VP8Descriptor) error {
	*d = VP8Descriptor{}
	if len(p) < 1 {
		return ErrShortPacket
	}
	b := p[0]
	x := b&0x80 != 0
	d.NonReference = b&0x20 != 0
	d.Start = b&0x10 != 0
	d.PartitionID = b & 0x07
	i := 1
	if !x {
		d.Size = i
		return nil
	}
	if len(p) <= i {
		return ErrShortPacket
	}
	ext := p[i]
	i++
	if ext&0x80 != 0 { // I: picture ID present
		if len(p) <= i {
			return ErrShortPacket
		}
		d.HasPictureID = true
		d.PictureIDOffset = i
		if p[i]&0x80 != 0 {
			if len(p) <= i+1 {
				return ErrShortPacket
			}
			d.PictureIDWide = true
			d.PictureID = uint16(p[i]&0x7f)<<8 | uint16(p[i+1])
			i += 2
		} else {
			d.PictureID = uint16(p[i] & 0x7f)
			i++
		}
	}
	if ext&0x40 != 0 { // L: TL0PICIDX present
		if len(p) <= i {
			return ErrShortPacket
		}
		d.HasTL0PICIDX = true
		d.TL0PICIDXOffset = i
		d.TL0PICIDX = p[i]
		i++
	}
	if ext&0x30 != 0 { // T or K: one byte with TID, Y and KEYIDX
		if len(p) <= i {
			return ErrShortPacket
		}
		if ext&0x20 != 0 {
			d.HasTID = true
			d.TID = p[i] >> 6
			d.LayerSync = p[i]&0x20 != 0
		}
		if ext&0x10 != 0 {
			d.HasKeyIdx = true
			d.KeyIdx = p[i] & 0x1f
		}
		i++
	}
	d.Size = i
	return nil
}

// IsVP8Keyframe reports whether an RTP payload starts a VP8 keyframe: the
// first packet of partition 0 whose frame header has the inverse key frame
// flag clear (RFC 6386 section 9.1).
func IsVP8Keyframe(p []byte) bool {
	var d VP8Descriptor
	if err := ParseVP8(p, &d); err != nil {
		return false
	}
	if !d.Start || d.PartitionID != 0 || len(p) <= d.Size {
		return false
	}
	return p[d.Size]&0x01 == 0
}

// PutVP8IDs writes a picture ID and TL0PICIDX into a payload at the offsets
// its descriptor d gives, keeping the picture ID's width; fields the
// descriptor lacks are left alone.
func PutVP8IDs(d *VP8Descriptor, payload []byte, pictureID uint16, tl0PicIdx uint8) {
	if d.HasPictureID {
		if d.PictureIDWide {
			payload[d.PictureIDOffset] = 0x80 | byte(pictureID>>8&0x7f)
			payload[d.PictureIDOffset+1] = byte(pictureID)
		} else {
			payload[d.PictureIDOffset] = byte(pictureID & 0x7f)
		}
	}
	if d.HasTL0PICIDX {
		payload[d.TL0PICIDXOffset] = tl0PicIdx
	}
}
