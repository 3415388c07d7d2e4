package media

import "testing"

func TestSeqMap(t *testing.T) {
	type put struct {
		out, src uint16
		tag      uint8
	}
	type get struct {
		out uint16
		src uint16
		tag uint8
		ok  bool
	}
	tests := []struct {
		name string
		puts []put
		gets []get
	}{
		{
			name: "empty",
			gets: []get{{out: 0}, {out: 5}},
		},
		{
			name: "maps back with tag",
			puts: []put{{100, 5000, 0}, {101, 5001, 0}, {102, 90, 2}},
			gets: []get{{100, 5000, 0, true}, {101, 5001, 0, true}, {102, 90, 2, true}, {out: 103}, {out: 99}},
		},
		{
			name: "skipped numbers are unknown",
			puts: []put{{10, 1, 0}, {14, 5, 0}},
			gets: []get{{10, 1, 0, true}, {out: 11}, {out: 12}, {out: 13}, {14, 5, 0, true}},
		},
		{
			name: "late puts fill their slot",
			puts: []put{{10, 1, 0}, {12, 3, 0}, {11, 2, 1}},
			gets: []get{{11, 2, 1, true}, {12, 3, 0, true}},
		},
		{
			name: "wraps",
			puts: []put{{65534, 7, 0}, {65535, 8, 0}, {0, 9, 1}, {1, 10, 1}},
			gets: []get{{65534, 7, 0, true}, {0, 9, 1, true}, {1, 10, 1, true}},
		},
		{
			name: "old numbers fall out of the ring",
			puts: []put{{0, 1, 0}, {1, 2, 0}, {SeqMapSize, 3, 0}},
			gets: []get{{out: 0}, {1, 2, 0, true}, {SeqMapSize, 3, 0, true}},
		},
		{
			name: "big jump forgets everything",
			puts: []put{{5, 55, 0}, {6, 56, 0}, {5000, 1, 0}},
			gets: []get{{out: 5}, {out: 6}, {5000, 1, 0, true}, {out: 5000 - SeqMapSize}},
		},
		{
			name: "put far behind is ignored",
			puts: []put{{5000, 1, 0}, {5000 - SeqMapSize, 9, 0}},
			gets: []get{{5000, 1, 0, true}, {out: 5000 - SeqMapSize}},
		},
		{
			name: "overwrite",
			puts: []put{{7, 1, 0}, {7, 2, 3}},
			gets: []get{{7, 2, 3, true}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var m SeqMap
			for _, p := range tc.puts {
				m.Put(p.out, p.src, p.tag)
			}
			for _, g := range tc.gets {
				src, tag, ok := m.Get(g.out)
				if ok != g.ok || src != g.src || tag != g.tag {
					t.Errorf("Get(%d) = %d, %d, %v; want %d, %d, %v", g.out, src, tag, ok, g.src, g.tag, g.ok)
				}
			}
		})
	}
}

// A number skipped in every round of the ring must not answer, a full
// turn of the sequence space later, from the slot written a turn before.
func TestSeqMapSkipAcrossWrap(t *testing.T) {
	var m SeqMap
	m.Put(5, 55, 1)
	for out := uint16(6); out != 5; out++ {
		if out%SeqMapSize != 5 {
			m.Put(out, out, 0)
		}
	}
	m.Put(6, 6, 0)
	if src, tag, ok := m.Get(5); ok {
		t.Errorf("Get(5) after a skipped turn = %d, %d, true; want false", src, tag)
	}
}

// SeqMap and Rewriter together: every forwarded packet maps back through
// the map, across switches, and dropped ones never appear.
func TestSeqMapWithRewriter(t *testing.T) {
	var r Rewriter
	var m SeqMap
	src := uint16(40000)
	type sent struct {
		src uint16
		tag uint8
	}
	want := map[uint16]sent{}
	var newest uint16
	for i := range 3000 {
		layer := uint8(i / 500 % 3)
		if i%500 == 0 {
			r.Resync()
			src += 7919 // another layer's numbers
		}
		if i%4 == 3 {
			r.Drop(src)
		} else {
			out, _, ok := r.Rewrite(src, 0, 0)
			if !ok {
				t.Fatalf("packet %d refused", i)
			}
			m.Put(out, src, layer)
			want[out] = sent{src, layer}
			newest = out
		}
		src++
	}
	for out, w := range want {
		s, tag, ok := m.Get(out)
		if newest-out >= SeqMapSize {
			if ok {
				t.Errorf("Get(%d) answered beyond the ring", out)
			}
			continue
		}
		if !ok || s != w.src || tag != w.tag {
			t.Errorf("Get(%d) = %d, %d, %v; want %d, %d", out, s, tag, ok, w.src, w.tag)
		}
	}
}

func BenchmarkSeqMap(b *testing.B) {
	b.ReportAllocs()
	var m SeqMap
	var out uint16
	for b.Loop() {
		m.Put(out, out+100, 1)
		if _, _, ok := m.Get(out - 10); !ok && out > 10 {
			b.Fatal("miss")
		}
		out++
	}
}
