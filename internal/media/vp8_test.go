package media

import (
	"errors"
	"testing"
)

// Bits of the VP8 payload descriptor (RFC 7741 section 4.2).
const (
	vp8X = 0x80 // extended control bits present
	vp8N = 0x20 // non-reference frame
	vp8S = 0x10 // start of partition

	vp8I = 0x80 // picture ID present
	vp8L = 0x40 // TL0PICIDX present
	vp8T = 0x20 // TID present
	vp8K = 0x10 // KEYIDX present

	vp8M = 0x80 // 15-bit picture ID
)

// fullDescriptor has every optional field: a 15-bit picture ID 0x1234,
// TL0PICIDX 7, TID 3 with Y set and KEYIDX 3, then the payload.
var fullDescriptor = []byte{vp8X | vp8S, vp8I | vp8L | vp8T | vp8K, vp8M | 0x12, 0x34, 0x07, 0xe3, 0x10, 0x02, 0x00}

var vp8Cases = []struct {
	name string
	in   []byte
	want VP8Descriptor
	err  error
}{
	{name: "empty", in: nil, err: ErrShortPacket},
	{name: "empty non-nil", in: []byte{}, err: ErrShortPacket},
	{
		name: "no extension, start of partition 0",
		in:   []byte{vp8S, 0x10, 0x02},
		want: VP8Descriptor{Size: 1, Start: true},
	},
	{
		name: "no extension, descriptor only",
		in:   []byte{vp8S},
		want: VP8Descriptor{Size: 1, Start: true},
	},
	{
		name: "no extension, non-reference partition 5",
		in:   []byte{vp8N | 0x05, 0xff},
		want: VP8Descriptor{Size: 1, NonReference: true, PartitionID: 5},
	},
	{
		name: "reserved bits are ignored",
		in:   []byte{0x40 | 0x08 | vp8S | 0x07},
		want: VP8Descriptor{Size: 1, Start: true, PartitionID: 7},
	},
	{name: "extension bit without extension byte", in: []byte{vp8X | vp8S}, err: ErrShortPacket},
	{
		name: "extension byte with nothing present",
		in:   []byte{vp8X | vp8S, 0x00, 0x10},
		want: VP8Descriptor{Size: 2, Start: true},
	},
	{
		name: "extension reserved bits are ignored",
		in:   []byte{vp8X, 0x0f},
		want: VP8Descriptor{Size: 2},
	},
	{
		name: "7-bit picture ID",
		in:   []byte{vp8X | vp8S, vp8I, 0x55, 0x10},
		want: VP8Descriptor{Size: 3, Start: true, HasPictureID: true, PictureID: 0x55, PictureIDOffset: 2},
	},
	{
		name: "7-bit picture ID 127",
		in:   []byte{vp8X, vp8I, 0x7f},
		want: VP8Descriptor{Size: 3, HasPictureID: true, PictureID: 127, PictureIDOffset: 2},
	},
	{name: "picture ID missing", in: []byte{vp8X, vp8I}, err: ErrShortPacket},
	{
		name: "15-bit picture ID",
		in:   []byte{vp8X | vp8S, vp8I, vp8M | 0x01, 0x23, 0x10},
		want: VP8Descriptor{Size: 4, Start: true, HasPictureID: true, PictureIDWide: true, PictureID: 0x0123, PictureIDOffset: 2},
	},
	{
		name: "15-bit picture ID maximum",
		in:   []byte{vp8X, vp8I, 0xff, 0xff},
		want: VP8Descriptor{Size: 4, HasPictureID: true, PictureIDWide: true, PictureID: 0x7fff, PictureIDOffset: 2},
	},
	{
		name: "15-bit picture ID zero",
		in:   []byte{vp8X, vp8I, vp8M, 0x00},
		want: VP8Descriptor{Size: 4, HasPictureID: true, PictureIDWide: true, PictureID: 0, PictureIDOffset: 2},
	},
	{name: "15-bit picture ID missing its second byte", in: []byte{vp8X, vp8I, vp8M | 0x01}, err: ErrShortPacket},
	{
		name: "TL0PICIDX alone",
		in:   []byte{vp8X, vp8L, 0xc8},
		want: VP8Descriptor{Size: 3, HasTL0PICIDX: true, TL0PICIDX: 200, TL0PICIDXOffset: 2},
	},
	{name: "TL0PICIDX missing", in: []byte{vp8X, vp8L}, err: ErrShortPacket},
	{
		name: "7-bit picture ID and TL0PICIDX",
		in:   []byte{vp8X, vp8I | vp8L, 0x09, 0x0a},
		want: VP8Descriptor{Size: 4, HasPictureID: true, PictureID: 9, PictureIDOffset: 2, HasTL0PICIDX: true, TL0PICIDX: 10, TL0PICIDXOffset: 3},
	},
	{
		name: "15-bit picture ID and TL0PICIDX",
		in:   []byte{vp8X, vp8I | vp8L, vp8M | 0x05, 0x55, 0x0a},
		want: VP8Descriptor{Size: 5, HasPictureID: true, PictureIDWide: true, PictureID: 0x0555, PictureIDOffset: 2, HasTL0PICIDX: true, TL0PICIDX: 10, TL0PICIDXOffset: 4},
	},
	{name: "TL0PICIDX missing after 15-bit picture ID", in: []byte{vp8X, vp8I | vp8L, vp8M | 0x05, 0x55}, err: ErrShortPacket},
	{
		// KEYIDX bits are set but K is not: they must be ignored.
		name: "TID and Y without KEYIDX",
		in:   []byte{vp8X, vp8T, 0x80 | 0x20 | 0x1f},
		want: VP8Descriptor{Size: 3, HasTID: true, TID: 2, LayerSync: true},
	},
	{
		name: "TID 3 without Y",
		in:   []byte{vp8X, vp8T, 0xc0},
		want: VP8Descriptor{Size: 3, HasTID: true, TID: 3},
	},
	{
		// TID and Y bits are set but T is not: they must be ignored.
		name: "KEYIDX without TID",
		in:   []byte{vp8X, vp8K, 0xff},
		want: VP8Descriptor{Size: 3, HasKeyIdx: true, KeyIdx: 0x1f},
	},
	{
		name: "TID and KEYIDX share one byte",
		in:   []byte{vp8X, vp8T | vp8K, 0x5a},
		want: VP8Descriptor{Size: 3, HasTID: true, TID: 1, HasKeyIdx: true, KeyIdx: 0x1a},
	},
	{name: "TID byte missing", in: []byte{vp8X, vp8T}, err: ErrShortPacket},
	{name: "KEYIDX byte missing", in: []byte{vp8X, vp8K}, err: ErrShortPacket},
	{name: "TID byte missing after TL0PICIDX", in: []byte{vp8X, vp8L | vp8T, 0x01}, err: ErrShortPacket},
	{
		name: "every field",
		in:   fullDescriptor,
		want: VP8Descriptor{
			Size: 6, Start: true,
			HasPictureID: true, PictureIDWide: true, PictureID: 0x1234, PictureIDOffset: 2,
			HasTL0PICIDX: true, TL0PICIDX: 7, TL0PICIDXOffset: 4,
			HasTID: true, TID: 3, LayerSync: true,
			HasKeyIdx: true, KeyIdx: 3,
		},
	},
}

func TestParseVP8(t *testing.T) {
	for _, tc := range vp8Cases {
		t.Run(tc.name, func(t *testing.T) {
			// Start from a dirty descriptor: ParseVP8 must reset every field.
			d := VP8Descriptor{Size: 99, Start: true, HasPictureID: true, PictureID: 1, HasTID: true, TID: 2, HasKeyIdx: true, KeyIdx: 9, HasTL0PICIDX: true, TL0PICIDXOffset: 5}
			err := ParseVP8(tc.in, &d)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("ParseVP8(% x) error = %v, want %v", tc.in, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseVP8(% x): %v", tc.in, err)
			}
			if d != tc.want {
				t.Errorf("ParseVP8(% x) =\n %+v\nwant\n %+v", tc.in, d, tc.want)
			}
		})
	}
}

// Every prefix of a descriptor shorter than the descriptor is refused, and
// every longer one parses to the same descriptor.
func TestParseVP8Truncated(t *testing.T) {
	var full VP8Descriptor
	if err := ParseVP8(fullDescriptor, &full); err != nil {
		t.Fatal(err)
	}
	for n := range len(fullDescriptor) + 1 {
		var d VP8Descriptor
		err := ParseVP8(fullDescriptor[:n], &d)
		switch {
		case n < full.Size && !errors.Is(err, ErrShortPacket):
			t.Errorf("%d of %d descriptor bytes: error = %v, want ErrShortPacket", n, full.Size, err)
		case n >= full.Size && (err != nil || d != full):
			t.Errorf("%d bytes: got %+v, %v; want %+v", n, d, err, full)
		}
	}
}

func TestIsVP8Keyframe(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want bool
	}{
		{"keyframe, short descriptor", []byte{vp8S, 0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a}, true},
		{"keyframe, full descriptor", fullDescriptor, true},
		{"keyframe, 7-bit picture ID", []byte{vp8X | vp8S, vp8I, 0x01, 0x50}, true},
		{"interframe", []byte{vp8S, 0x11, 0x02, 0x00}, false},
		{"interframe, full descriptor", append(append([]byte{}, fullDescriptor[:6]...), 0x31), false},
		{"not the start of a partition", []byte{0x00, 0x10}, false},
		{"not partition 0", []byte{vp8S | 0x01, 0x10}, false},
		{"start of partition 7", []byte{vp8S | 0x07, 0x10}, false},
		{"descriptor without payload", []byte{vp8S}, false},
		{"full descriptor without payload", fullDescriptor[:6], false},
		{"truncated descriptor", fullDescriptor[:3], false},
		{"empty", nil, false},
		// The key frame flag is the payload's first bit, not the
		// descriptor's: a descriptor byte with bit 0 clear must not decide.
		{"extension byte is not the payload", []byte{vp8X | vp8S, 0x00, 0x01}, false},
	}
	for _, tc := range tests {
		if got := IsVP8Keyframe(tc.in); got != tc.want {
			t.Errorf("%s: IsVP8Keyframe(% x) = %v, want %v", tc.name, tc.in, got, tc.want)
		}
	}
}

// FuzzParseVP8 checks that ParseVP8 never panics and never reports a field
// outside the payload.
func FuzzParseVP8(f *testing.F) {
	for _, tc := range vp8Cases {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		var d VP8Descriptor
		err := ParseVP8(p, &d)
		key := IsVP8Keyframe(p)
		if err != nil {
			if !errors.Is(err, ErrShortPacket) {
				t.Fatalf("error %v is not ErrShortPacket", err)
			}
			if d.Size != 0 {
				t.Fatalf("Size %d on error", d.Size)
			}
			if key {
				t.Fatal("IsVP8Keyframe true for a payload ParseVP8 refuses")
			}
			return
		}
		if d.Size < 1 || d.Size > len(p) {
			t.Fatalf("Size %d outside 1..%d", d.Size, len(p))
		}
		if d.HasPictureID {
			n := 1
			if d.PictureIDWide {
				n = 2
			}
			if d.PictureIDOffset < 2 || d.PictureIDOffset+n > d.Size {
				t.Fatalf("picture ID at %d+%d outside descriptor of %d", d.PictureIDOffset, n, d.Size)
			}
			if d.PictureID > 0x7fff || (!d.PictureIDWide && d.PictureID > 0x7f) {
				t.Fatalf("picture ID %#x too large (wide %v)", d.PictureID, d.PictureIDWide)
			}
			if got := uint16(p[d.PictureIDOffset] & 0x7f); n == 1 && got != d.PictureID {
				t.Fatalf("picture ID %d, byte at offset says %d", d.PictureID, got)
			}
		} else if d.PictureIDOffset != 0 || d.PictureIDWide || d.PictureID != 0 {
			t.Fatalf("picture ID fields set without a picture ID: %+v", d)
		}
		if d.HasTL0PICIDX {
			if d.TL0PICIDXOffset < 2 || d.TL0PICIDXOffset >= d.Size {
				t.Fatalf("TL0PICIDX at %d outside descriptor of %d", d.TL0PICIDXOffset, d.Size)
			}
			if p[d.TL0PICIDXOffset] != d.TL0PICIDX {
				t.Fatalf("TL0PICIDX %d, byte at offset says %d", d.TL0PICIDX, p[d.TL0PICIDXOffset])
			}
		} else if d.TL0PICIDXOffset != 0 || d.TL0PICIDX != 0 {
			t.Fatalf("TL0PICIDX fields set without TL0PICIDX: %+v", d)
		}
		if d.TID > 3 || d.KeyIdx > 0x1f || d.PartitionID > 7 {
			t.Fatalf("field out of range: %+v", d)
		}
		// The descriptor alone parses the same.
		var again VP8Descriptor
		if err := ParseVP8(p[:d.Size], &again); err != nil || again != d {
			t.Fatalf("descriptor bytes alone give %+v, %v; want %+v", again, err, d)
		}
		wantKey := d.Start && d.PartitionID == 0 && len(p) > d.Size && p[d.Size]&1 == 0
		if key != wantKey {
			t.Fatalf("IsVP8Keyframe = %v, want %v for %+v", key, wantKey, d)
		}
	})
}

func BenchmarkParseVP8(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(fullDescriptor)))
	var d VP8Descriptor
	for b.Loop() {
		if err := ParseVP8(fullDescriptor, &d); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkIsVP8Keyframe(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if !IsVP8Keyframe(fullDescriptor) {
			b.Fatal("not a keyframe")
		}
	}
}

func TestPutVP8IDs(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []byte
		pic  uint16
		tl0  uint8
	}{
		{"15-bit with TL0PICIDX", []byte{0x90, 0xc0, 0x81, 0x02, 0x07, 0xaa}, 0x1234, 9},
		{"7-bit", []byte{0x90, 0x80, 0x05, 0xaa}, 0x7e, 0},
		{"no extension", []byte{0x10, 0xaa}, 5, 5},
	} {
		var d VP8Descriptor
		if err := ParseVP8(tc.in, &d); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		p := append([]byte(nil), tc.in...)
		PutVP8IDs(&d, p, tc.pic, tc.tl0)
		var got VP8Descriptor
		if err := ParseVP8(p, &got); err != nil {
			t.Fatalf("%s: reparse: %v", tc.name, err)
		}
		if d.HasPictureID && got.PictureID != tc.pic&(map[bool]uint16{true: 0x7fff, false: 0x7f}[d.PictureIDWide]) {
			t.Errorf("%s: picture id %#x, want %#x", tc.name, got.PictureID, tc.pic)
		}
		if d.HasTL0PICIDX && got.TL0PICIDX != tc.tl0 {
			t.Errorf("%s: TL0PICIDX %d, want %d", tc.name, got.TL0PICIDX, tc.tl0)
		}
		if got.Size != d.Size || p[len(p)-1] != 0xaa {
			t.Errorf("%s: descriptor size or payload changed", tc.name)
		}
	}
}
