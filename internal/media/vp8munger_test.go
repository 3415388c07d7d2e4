package media

import (
	"bytes"
	"errors"
	"testing"
)

// vp8Packet builds a VP8 payload with a picture ID (7 or 15 bits), a
// TL0PICIDX and a TID byte, followed by two payload bytes.
func vp8Packet(pic uint16, wide bool, tl0 uint8) []byte {
	p := []byte{vp8X | vp8S, vp8I | vp8L | vp8T}
	if wide {
		p = append(p, vp8M|byte(pic>>8&0x7f), byte(pic))
	} else {
		p = append(p, byte(pic&0x7f))
	}
	return append(p, tl0, 0x40, 0xaa, 0xbb)
}

// mungerStep rewrites one packet (or resyncs) and states the expected
// output picture ID and TL0PICIDX, or the expected error.
type mungerStep struct {
	resync  bool
	pic     uint16
	tl0     uint8
	outPic  uint16
	outTL0  uint8
	wantErr error
}

func TestVP8Munger(t *testing.T) {
	tests := []struct {
		name  string
		wide  bool
		steps []mungerStep
	}{
		{
			name: "first segment passes unchanged",
			wide: true,
			steps: []mungerStep{
				{pic: 1000, tl0: 7, outPic: 1000, outTL0: 7},
				{pic: 1000, tl0: 7, outPic: 1000, outTL0: 7}, // same picture
				{pic: 1001, tl0: 7, outPic: 1001, outTL0: 7},
			},
		},
		{
			name: "resync continues picture ID and TL0PICIDX",
			wide: true,
			steps: []mungerStep{
				{pic: 1000, tl0: 7, outPic: 1000, outTL0: 7},
				{pic: 1001, tl0: 8, outPic: 1001, outTL0: 8},
				{resync: true},
				{pic: 20000, tl0: 200, outPic: 1002, outTL0: 9},
				{pic: 20000, tl0: 200, outPic: 1002, outTL0: 9}, // rest of the keyframe
				{pic: 20001, tl0: 200, outPic: 1003, outTL0: 9},
				{pic: 20002, tl0: 201, outPic: 1004, outTL0: 10},
			},
		},
		{
			name: "reordered packets of older pictures keep their numbers",
			wide: true,
			steps: []mungerStep{
				{pic: 10, tl0: 1, outPic: 10, outTL0: 1},
				{resync: true},
				{pic: 500, tl0: 50, outPic: 11, outTL0: 2},
				{pic: 503, tl0: 51, outPic: 14, outTL0: 3},
				{pic: 501, tl0: 50, outPic: 12, outTL0: 2},
				{pic: 502, tl0: 50, outPic: 13, outTL0: 2},
				{pic: 504, tl0: 51, outPic: 15, outTL0: 3},
			},
		},
		{
			name: "resync follows the newest output, not the latest",
			wide: true,
			steps: []mungerStep{
				{pic: 10, tl0: 1, outPic: 10, outTL0: 1},
				{pic: 12, tl0: 3, outPic: 12, outTL0: 3},
				{pic: 11, tl0: 2, outPic: 11, outTL0: 2},
				{resync: true},
				{pic: 7, tl0: 9, outPic: 13, outTL0: 4},
			},
		},
		{
			name: "pictures before the segment are refused",
			wide: true,
			steps: []mungerStep{
				{pic: 10, tl0: 1, outPic: 10, outTL0: 1},
				{resync: true},
				{pic: 500, tl0: 50, outPic: 11, outTL0: 2},
				{pic: 499, tl0: 49, wantErr: ErrStalePicture},
				{pic: 501, tl0: 50, outPic: 12, outTL0: 2}, // the refusal changed nothing
			},
		},
		{
			name: "15-bit picture ID wraps at 32768",
			wide: true,
			steps: []mungerStep{
				{pic: 32766, tl0: 254, outPic: 32766, outTL0: 254},
				{pic: 32767, tl0: 255, outPic: 32767, outTL0: 255},
				{resync: true},
				{pic: 5, tl0: 9, outPic: 0, outTL0: 0},
				{pic: 6, tl0: 10, outPic: 1, outTL0: 1},
			},
		},
		{
			name: "15-bit source wraps inside a segment",
			wide: true,
			steps: []mungerStep{
				{pic: 100, tl0: 0, outPic: 100, outTL0: 0},
				{resync: true},
				{pic: 32767, tl0: 0, outPic: 101, outTL0: 1},
				{pic: 0, tl0: 1, outPic: 102, outTL0: 2},
				{pic: 32767, tl0: 0, outPic: 101, outTL0: 1}, // late
			},
		},
		{
			name: "7-bit picture ID wraps at 128",
			steps: []mungerStep{
				{pic: 126, tl0: 3, outPic: 126, outTL0: 3},
				{pic: 127, tl0: 3, outPic: 127, outTL0: 3},
				{pic: 0, tl0: 4, outPic: 0, outTL0: 4},
				{resync: true},
				{pic: 90, tl0: 40, outPic: 1, outTL0: 5},
				{resync: true},
				{pic: 3, tl0: 40, outPic: 2, outTL0: 6},
			},
		},
		{
			name: "7-bit late packet within the window",
			steps: []mungerStep{
				{pic: 120, tl0: 0, outPic: 120, outTL0: 0},
				{resync: true},
				{pic: 60, tl0: 0, outPic: 121, outTL0: 1},
				{pic: 100, tl0: 0, outPic: 33, outTL0: 1}, // 40 pictures on: 121+40 mod 128
				{pic: 70, tl0: 0, outPic: 3, outTL0: 1},   // 30 behind the newest: in window
				{pic: 67, tl0: 0, wantErr: ErrStalePicture},
			},
		},
		{
			name: "two resyncs in a row",
			wide: true,
			steps: []mungerStep{
				{pic: 1, tl0: 1, outPic: 1, outTL0: 1},
				{resync: true},
				{resync: true},
				{pic: 900, tl0: 90, outPic: 2, outTL0: 2},
			},
		},
		{
			name: "resync before the first packet",
			wide: true,
			steps: []mungerStep{
				{resync: true},
				{pic: 900, tl0: 90, outPic: 900, outTL0: 90},
				{pic: 901, tl0: 90, outPic: 901, outTL0: 90},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var m VP8Munger
			dst := make([]byte, 32)
			for i, s := range tc.steps {
				if s.resync {
					m.Resync()
					continue
				}
				in := vp8Packet(s.pic, tc.wide, s.tl0)
				var d VP8Descriptor
				if err := ParseVP8(in, &d); err != nil {
					t.Fatal(err)
				}
				n, err := m.Rewrite(&d, in, dst)
				if s.wantErr != nil {
					if !errors.Is(err, s.wantErr) {
						t.Fatalf("step %d: error %v, want %v", i, err, s.wantErr)
					}
					continue
				}
				if err != nil || n != len(in) {
					t.Fatalf("step %d: Rewrite = %d, %v; want %d, nil", i, n, err, len(in))
				}
				var out VP8Descriptor
				if err := ParseVP8(dst[:n], &out); err != nil {
					t.Fatalf("step %d: output does not parse: %v", i, err)
				}
				if out.PictureID != s.outPic || out.TL0PICIDX != s.outTL0 {
					t.Fatalf("step %d: in (%d, %d) → (%d, %d); want (%d, %d)", i, s.pic, s.tl0, out.PictureID, out.TL0PICIDX, s.outPic, s.outTL0)
				}
				// Only the rewritten fields change, and the width stays.
				want := vp8Packet(s.outPic, tc.wide, s.outTL0)
				if !bytes.Equal(dst[:n], want) {
					t.Fatalf("step %d: output % x, want % x", i, dst[:n], want)
				}
			}
		})
	}
}

func TestVP8MungerIdentity(t *testing.T) {
	var m VP8Munger
	if !m.Identity() {
		t.Fatal("zero munger is not the identity")
	}
	m.Resync()
	if !m.Identity() {
		t.Fatal("resync before any packet: the first segment passes unchanged")
	}
	d := VP8Descriptor{HasPictureID: true, PictureIDWide: true, PictureID: 50, HasTL0PICIDX: true, TL0PICIDX: 5}
	if _, _, err := m.Map(&d); err != nil {
		t.Fatal(err)
	}
	if !m.Identity() {
		t.Fatal("first segment is not the identity")
	}
	m.Resync()
	if m.Identity() {
		t.Fatal("pending resync reported as identity")
	}
	d.PictureID, d.TL0PICIDX = 51, 6 // happens to continue exactly
	if pic, tl0, err := m.Map(&d); err != nil || pic != 51 || tl0 != 6 {
		t.Fatalf("Map = %d, %d, %v", pic, tl0, err)
	}
	if !m.Identity() {
		t.Fatal("segment with zero offsets is not the identity")
	}
	m.Resync()
	d.PictureID = 900
	if _, _, err := m.Map(&d); err != nil {
		t.Fatal(err)
	}
	if m.Identity() {
		t.Fatal("shifted segment reported as identity")
	}
}

// Map and Rewrite keep the same state: a caller that skips the copy while
// Identity holds still continues correctly after a switch.
func TestVP8MungerMapThenRewrite(t *testing.T) {
	var m VP8Munger
	for pic := uint16(10); pic < 20; pic++ {
		d := VP8Descriptor{HasPictureID: true, PictureIDWide: true, PictureID: pic}
		if !m.Identity() {
			t.Fatal("not identity in first segment")
		}
		if _, _, err := m.Map(&d); err != nil {
			t.Fatal(err)
		}
	}
	m.Resync()
	in := vp8Packet(7000, true, 3)
	var d VP8Descriptor
	if err := ParseVP8(in, &d); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Rewrite(&d, in, in); err != nil { // in place
		t.Fatal(err)
	}
	if err := ParseVP8(in, &d); err != nil || d.PictureID != 20 {
		t.Fatalf("in-place rewrite gave picture %d, %v; want 20", d.PictureID, err)
	}
}

func TestVP8MungerErrors(t *testing.T) {
	good := vp8Packet(300, true, 4)
	var d VP8Descriptor
	if err := ParseVP8(good, &d); err != nil {
		t.Fatal(err)
	}
	narrow := d
	narrow.PictureIDWide = false // the byte says 15 bits
	badOffset := d
	badOffset.PictureIDOffset = d.Size - 1
	badTL0 := d
	badTL0.TL0PICIDXOffset = 99
	tests := []struct {
		name    string
		d       VP8Descriptor
		payload []byte
		dst     int
		want    error
	}{
		{"short destination", d, good, len(good) - 1, ErrShortBuffer},
		{"payload shorter than descriptor", d, good[:3], 32, ErrShortPacket},
		{"width disagrees with the M bit", narrow, good, 32, ErrDescriptorMismatch},
		{"picture ID past the descriptor", badOffset, good, 32, ErrDescriptorMismatch},
		{"TL0PICIDX past the descriptor", badTL0, good, 32, ErrDescriptorMismatch},
	}
	for _, tc := range tests {
		var m VP8Munger
		dst := make([]byte, tc.dst)
		if _, err := m.Rewrite(&tc.d, tc.payload, dst); !errors.Is(err, tc.want) {
			t.Errorf("%s: error %v, want %v", tc.name, err, tc.want)
		}
		if m.pic.seen || m.tl0.seen {
			t.Errorf("%s: a refused packet changed the munger", tc.name)
		}
	}
}

// FuzzVP8Munger checks that rewriting any parsable payload never panics,
// changes nothing but the two fields, and keeps every descriptor field.
func FuzzVP8Munger(f *testing.F) {
	for _, tc := range vp8Cases {
		f.Add(tc.in, tc.in, true)
	}
	f.Add(vp8Packet(5, false, 1), vp8Packet(120, false, 200), true)
	f.Add(vp8Packet(32767, true, 255), vp8Packet(3, true, 0), false)
	f.Fuzz(func(t *testing.T, a, b []byte, resync bool) {
		var m VP8Munger
		for i, p := range [][]byte{a, b, a} {
			var d VP8Descriptor
			if ParseVP8(p, &d) != nil {
				continue
			}
			if i == 1 && resync {
				m.Resync()
			}
			dst := make([]byte, len(p))
			n, err := m.Rewrite(&d, p, dst)
			if err != nil {
				if errors.Is(err, ErrStalePicture) {
					continue
				}
				t.Fatalf("Rewrite(% x): %v", p, err)
			}
			var out VP8Descriptor
			if err := ParseVP8(dst[:n], &out); err != nil {
				t.Fatalf("output % x does not parse: %v", dst[:n], err)
			}
			want := d
			want.PictureID, want.TL0PICIDX = out.PictureID, out.TL0PICIDX
			if out != want {
				t.Fatalf("descriptor changed beyond the two fields:\n %+v\n %+v", d, out)
			}
			for j := range p {
				inPic := d.HasPictureID && j >= d.PictureIDOffset && j < d.PictureIDOffset+1+boolInt(d.PictureIDWide)
				inTL0 := d.HasTL0PICIDX && j == d.TL0PICIDXOffset
				if !inPic && !inTL0 && dst[j] != p[j] {
					t.Fatalf("byte %d changed: % x → % x", j, p, dst[:n])
				}
			}
		}
	})
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func BenchmarkVP8MungerRewrite(b *testing.B) {
	b.ReportAllocs()
	in := make([]byte, 1200)
	copy(in, fullDescriptor)
	dst := make([]byte, len(in))
	var d VP8Descriptor
	if err := ParseVP8(in, &d); err != nil {
		b.Fatal(err)
	}
	var m VP8Munger
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		if d.PictureID&63 == 0 {
			m.Resync()
		}
		if _, err := m.Rewrite(&d, in, dst); err != nil {
			b.Fatal(err)
		}
		d.PictureID = (d.PictureID + 1) & 0x7fff
		in[d.PictureIDOffset] = 0x80 | byte(d.PictureID>>8)
		in[d.PictureIDOffset+1] = byte(d.PictureID)
	}
}
