package media

import "testing"

func TestSilenceGate(t *testing.T) {
	const s, v = SilenceLevel, 40
	tests := []struct {
		name   string
		run    int
		levels []uint8
		want   []bool
	}{
		{"default run of five", 0,
			[]uint8{v, s, s, s, s, s, s, s, v, s},
			[]bool{true, true, true, true, true, true, false, false, true, true}},
		{"sound resumes at once", 2,
			[]uint8{s, s, s, s, v, v, s, s, s},
			[]bool{true, true, false, false, true, true, true, true, false}},
		{"negative run forwards no silence", -1,
			[]uint8{s, v, s},
			[]bool{false, true, false}},
		{"V flag ignored", 1,
			[]uint8{0x80 | s, 0x80 | s, 0x80 | v},
			[]bool{true, false, true}},
		{"faint sound is not silence", 1,
			[]uint8{126, 126, 126},
			[]bool{true, true, true}},
	}
	for _, tc := range tests {
		g := SilenceGate{Run: tc.run}
		for i, l := range tc.levels {
			if got := g.Forward(l); got != tc.want[i] {
				t.Errorf("%s: packet %d (level %d) forward %v, want %v", tc.name, i, l, got, tc.want[i])
			}
		}
	}
}

func BenchmarkSilenceGate(b *testing.B) {
	b.ReportAllocs()
	var g SilenceGate
	i := 0
	for b.Loop() {
		g.Forward(uint8(120 + i%8))
		i++
	}
}
