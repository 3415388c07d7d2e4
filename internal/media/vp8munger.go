package media

// VP8Munger rewrites the picture ID and TL0PICIDX of the VP8 packets
// forwarded to one receiver. Each simulcast layer numbers its pictures and
// its base-layer pictures independently, so when the bridge switches a
// receiver from one layer to another the numbers jump; decoders take such a
// jump for lost pictures and ask for a keyframe. The munger hides the jump.
//
// Like Rewriter it works in segments: a segment starts at the first packet
// after Resync (or the first packet ever), and within a segment the offsets
// are constant, so every packet of a picture gets the same output picture
// ID and late packets of an older picture keep their place. The first
// segment passes unchanged.
//
// A VP8Munger is not safe for concurrent use; its zero value is ready.
type VP8Munger struct {
	pic picMap
	tl0 tl0Map
}

// picMap keeps the picture ID offset of the current segment.
type picMap struct {
	seen    bool   // some picture ID has been written
	pending bool   // the next picture ID starts a segment
	off     uint16 // added to input IDs, modulo the packet's width
	first   uint16 // oldest input ID still accepted in this segment
	newest  uint16 // newest input ID of this segment
	last    uint16 // newest output ID
}

// tl0Map keeps the TL0PICIDX offset of the current segment.
type tl0Map struct {
	seen    bool
	pending bool
	off     uint8
	last    uint8 // newest output TL0PICIDX
}

// Resync makes the next packet start a new segment that continues the
// output: its picture ID becomes the last written one plus one, its
// TL0PICIDX the last written one plus one. Call it when Selector reports
// Switched, before rewriting that packet (the first packet of a keyframe,
// which is a base-layer picture, so TL0PICIDX must advance).
func (m *VP8Munger) Resync() {
	m.pic.pending = true
	m.tl0.pending = true
}

// Identity reports whether the next packet would leave Rewrite unchanged
// (both offsets are zero and no new segment is pending), so that the caller
// may forward a shared buffer without copying it. The munger must still see
// the packet: call Map instead of Rewrite, or the next segment would not
// continue from it.
func (m *VP8Munger) Identity() bool {
	return m.pic.off == 0 && m.tl0.off == 0 &&
		!(m.pic.pending && m.pic.seen) && !(m.tl0.pending && m.tl0.seen)
}

// Map records a forwarded packet and returns its output picture ID and
// TL0PICIDX (zero where the descriptor has none). It fails with
// ErrStalePicture, leaving the munger unchanged, for a picture before the
// current segment.
func (m *VP8Munger) Map(d *VP8Descriptor) (pictureID uint16, tl0PicIdx uint8, err error) {
	if d.HasPictureID {
		if pictureID, err = m.pic.mapID(d.PictureID, d.PictureIDWide); err != nil {
			return 0, 0, err
		}
	}
	if d.HasTL0PICIDX {
		tl0PicIdx = m.tl0.mapIdx(d.TL0PICIDX)
	}
	return pictureID, tl0PicIdx, nil
}

// Rewrite copies payload into dst with the picture ID and TL0PICIDX
// rewritten at the descriptor's offsets, and returns the number of bytes
// written. The picture ID keeps its wire width: a 7-bit ID stays 7 bits and
// wraps at 128, a 15-bit one wraps at 32768. dst may be payload itself to
// rewrite in place. d must come from ParseVP8 on this payload.
func (m *VP8Munger) Rewrite(d *VP8Descriptor, payload []byte, dst []byte) (n int, err error) {
	if err := checkDescriptor(d, payload); err != nil {
		return 0, err
	}
	if len(dst) < len(payload) {
		return 0, ErrShortBuffer
	}
	pic, tl0, err := m.Map(d)
	if err != nil {
		return 0, err
	}
	n = copy(dst, payload)
	PutVP8IDs(d, dst, pic, tl0)
	return n, nil
}

// checkDescriptor makes sure that writing at d's offsets stays inside the
// payload and hits the fields d says are there.
func checkDescriptor(d *VP8Descriptor, p []byte) error {
	if d.Size > len(p) {
		return ErrShortPacket
	}
	if d.HasPictureID {
		w := 1
		if d.PictureIDWide {
			w = 2
		}
		o := d.PictureIDOffset
		if o < 2 || o+w > d.Size || (p[o]&0x80 != 0) != d.PictureIDWide {
			return ErrDescriptorMismatch
		}
	}
	if d.HasTL0PICIDX && (d.TL0PICIDXOffset < 2 || d.TL0PICIDXOffset >= d.Size) {
		return ErrDescriptorMismatch
	}
	return nil
}

// picDiff is a-b as a signed number in the picture ID space of the given
// width, so that comparisons survive wrapping.
func picDiff(a, b uint16, wide bool) int {
	if wide {
		return int(int16((a-b)<<1) >> 1)
	}
	return int(int8(uint8(a-b)<<1) >> 1)
}

func picMask(wide bool) uint16 {
	if wide {
		return 0x7fff
	}
	return 0x7f
}

// picWindow is how far behind the newest picture of a segment a late
// packet may be: a quarter of the ID space, so that signed comparisons stay
// unambiguous (32 pictures, about a second, for 7-bit IDs).
func picWindow(wide bool) int {
	if wide {
		return 1 << 13
	}
	return 1 << 5
}

func (p *picMap) mapID(in uint16, wide bool) (uint16, error) {
	mask := picMask(wide)
	in &= mask
	switch {
	case !p.seen || p.pending:
		if p.seen {
			p.off = p.last + 1 - in
		} else {
			p.off = 0
		}
		p.pending = false
		p.first, p.newest = in, in
	case picDiff(in, p.first, wide) < 0:
		return 0, ErrStalePicture
	case picDiff(in, p.newest, wide) > 0:
		p.newest = in
		if picDiff(in, p.first, wide) > picWindow(wide) {
			p.first = (in - uint16(picWindow(wide))) & mask
		}
	}
	out := (in + p.off) & mask
	if !p.seen || picDiff(out, p.last, wide) > 0 {
		p.last = out
	}
	p.seen = true
	return out, nil
}

func (t *tl0Map) mapIdx(in uint8) uint8 {
	if !t.seen || t.pending {
		if t.seen {
			t.off = t.last + 1 - in
		} else {
			t.off = 0
		}
		t.pending = false
	}
	out := in + t.off
	if !t.seen || int8(out-t.last) > 0 {
		t.last = out
	}
	t.seen = true
	return out
}
