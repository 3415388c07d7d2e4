package media

import (
	"fmt"
	"slices"
	"testing"
)

// camera is a three-layer simulcast source: 180p at 150k, 360p at 500k,
// 720p at 1.7M.
func camera(id, owner string) Source {
	return Source{ID: id, Owner: owner, Layers: []Layer{
		{Height: 180, Bitrate: 150_000, Active: true},
		{Height: 360, Bitrate: 500_000, Active: true},
		{Height: 720, Bitrate: 1_700_000, Active: true},
	}}
}

func screen(id, owner string) Source {
	s := camera(id, owner)
	s.Screen = true
	return s
}

func TestAllocate(t *testing.T) {
	free := Unconstrained()
	tests := []struct {
		name      string
		in        AllocInput
		layers    map[string]int
		order     []string
		suspended []string
		used      int
	}{
		{
			name: "600k: the stage gets 360p, the others do not fit",
			in: AllocInput{
				Sources:     []Source{camera("a", "A"), camera("b", "B"), camera("c", "C")},
				Constraints: Constraints{LastN: -1, DefaultMaxHeight: -1, OnStage: []string{"b"}},
				Budget:      600_000,
			},
			layers:    map[string]int{"a": -1, "b": 1, "c": -1},
			order:     []string{"b", "a", "c"},
			suspended: []string{"a", "c"},
			used:      500_000,
		},
		{
			name: "800k: the stage gets 360p, then thumbnails at 180p",
			in: AllocInput{
				Sources:     []Source{camera("a", "A"), camera("b", "B"), camera("c", "C")},
				Constraints: Constraints{LastN: -1, DefaultMaxHeight: -1, OnStage: []string{"b"}},
				Budget:      800_000,
			},
			layers:    map[string]int{"a": 0, "b": 1, "c": 0},
			order:     []string{"b", "a", "c"},
			suspended: nil,
			used:      800_000,
		},
		{
			name: "ample budget: everyone at the top",
			in: AllocInput{
				Sources:     []Source{camera("a", "A"), camera("b", "B")},
				Constraints: free,
				Budget:      10_000_000,
			},
			layers: map[string]int{"a": 2, "b": 2},
			order:  []string{"a", "b"},
			used:   3_400_000,
		},
		{
			name: "round robin: both climb before either reaches the top",
			in: AllocInput{
				Sources:     []Source{camera("a", "A"), camera("b", "B")},
				Constraints: free,
				Budget:      2_300_000,
			},
			// 150+150, then 500+500 (1000), then a to 1700 (2200); b cannot.
			layers: map[string]int{"a": 2, "b": 1},
			order:  []string{"a", "b"},
			used:   2_200_000,
		},
		{
			name: "last-N 2 forwards exactly two",
			in: AllocInput{
				Sources:     []Source{camera("a", "A"), camera("b", "B"), camera("c", "C"), camera("d", "D")},
				Speakers:    []string{"D", "C"},
				Constraints: Constraints{LastN: 2, DefaultMaxHeight: -1},
				Budget:      10_000_000,
			},
			layers: map[string]int{"d": 2, "c": 2, "a": -1, "b": -1},
			order:  []string{"d", "c", "a", "b"},
			used:   3_400_000,
		},
		{
			name: "last-N 0 forwards nothing, even on stage",
			in: AllocInput{
				Sources:     []Source{camera("a", "A")},
				Constraints: Constraints{LastN: 0, DefaultMaxHeight: -1, OnStage: []string{"a"}},
				Budget:      10_000_000,
			},
			layers: map[string]int{"a": -1},
			order:  []string{"a"},
		},
		{
			name: "max height 180 gives layer 0",
			in: AllocInput{
				Sources:     []Source{camera("a", "A"), camera("b", "B")},
				Constraints: Constraints{LastN: -1, DefaultMaxHeight: 180},
				Budget:      10_000_000,
			},
			layers: map[string]int{"a": 0, "b": 0},
			order:  []string{"a", "b"},
			used:   300_000,
		},
		{
			name: "per-source max height; below the lowest layer still gets it; 0 gets nothing",
			in: AllocInput{
				Sources:     []Source{camera("a", "A"), camera("b", "B"), camera("c", "C"), camera("d", "D")},
				Constraints: Constraints{LastN: -1, DefaultMaxHeight: 720, MaxHeight: map[string]int{"a": 400, "b": 90, "c": 0}},
				Budget:      10_000_000,
			},
			layers: map[string]int{"a": 1, "b": 0, "c": -1, "d": 2},
			order:  []string{"a", "b", "c", "d"},
			used:   500_000 + 150_000 + 1_700_000,
		},
		{
			name: "default max height 0: no video",
			in: AllocInput{
				Sources:     []Source{camera("a", "A")},
				Constraints: Constraints{LastN: -1, OnStage: []string{"a"}},
				Budget:      10_000_000,
			},
			layers: map[string]int{"a": -1},
			order:  []string{"a"},
		},
		{
			name: "inactive layers are skipped",
			in: AllocInput{
				Sources: []Source{
					{ID: "a", Owner: "A", Layers: []Layer{
						{Height: 180, Bitrate: 150_000},
						{Height: 360, Bitrate: 500_000, Active: true},
						{Height: 720, Bitrate: 1_700_000},
					}},
					{ID: "b", Owner: "B", Layers: []Layer{
						{Height: 180, Bitrate: 150_000, Active: true},
						{Height: 360, Bitrate: 500_000},
						{Height: 720, Bitrate: 1_700_000, Active: true},
					}},
					{ID: "c", Owner: "C", Layers: []Layer{{Height: 180, Bitrate: 150_000}}},
				},
				Constraints: free,
				Budget:      10_000_000,
			},
			layers: map[string]int{"a": 1, "b": 2, "c": -1},
			order:  []string{"a", "b", "c"},
			used:   2_200_000,
		},
		{
			name: "inactive below the cap: the highest active layer under it",
			in: AllocInput{
				Sources: []Source{{ID: "a", Layers: []Layer{
					{Height: 180, Bitrate: 150_000, Active: true},
					{Height: 360, Bitrate: 500_000},
					{Height: 720, Bitrate: 1_700_000, Active: true},
				}}},
				Constraints: Constraints{LastN: -1, DefaultMaxHeight: 400},
				Budget:      10_000_000,
			},
			layers: map[string]int{"a": 0},
			order:  []string{"a"},
			used:   150_000,
		},
		{
			name: "screen share before speakers and the rest",
			in: AllocInput{
				Sources:     []Source{camera("a", "A"), camera("b", "B"), screen("s", "C"), camera("c", "C")},
				Speakers:    []string{"B"},
				Constraints: free,
				Budget:      1_900_000,
			},
			// Lowest for all (600k), then round-robin: s 500k (950k), b (1300k),
			// a (1650k), c does not fit (2000k); s 1700k does not fit.
			layers: map[string]int{"s": 1, "b": 1, "a": 1, "c": 0},
			order:  []string{"s", "b", "a", "c"},
			used:   1_650_000,
		},
		{
			name: "speakers ordering, stage first",
			in: AllocInput{
				Sources:     []Source{camera("a", "A"), camera("b", "B"), camera("c", "C"), camera("d", "D")},
				Speakers:    []string{"C", "A", "X"},
				Constraints: Constraints{LastN: 3, DefaultMaxHeight: -1, OnStage: []string{"d", "nope", "d"}},
				Budget:      10_000_000,
			},
			layers: map[string]int{"d": 2, "c": 2, "a": 2, "b": -1},
			order:  []string{"d", "c", "a", "b"},
			used:   5_100_000,
		},
		{
			name: "zero budget: only the first on-stage source",
			in: AllocInput{
				Sources:     []Source{camera("a", "A"), camera("b", "B"), camera("c", "C")},
				Constraints: Constraints{LastN: -1, DefaultMaxHeight: -1, OnStage: []string{"c", "a"}},
				Budget:      0,
			},
			layers:    map[string]int{"c": 0, "a": -1, "b": -1},
			order:     []string{"c", "a", "b"},
			suspended: []string{"a", "b"},
			used:      150_000,
		},
		{
			// Nothing fits: the first source still gets its lowest layer
			// (the bridge thins its frame rate), never no video at all.
			name: "zero budget, nobody on stage",
			in: AllocInput{
				Sources:     []Source{camera("a", "A"), camera("b", "B")},
				Constraints: free,
			},
			layers:    map[string]int{"a": 0, "b": -1},
			order:     []string{"a", "b"},
			suspended: []string{"b"},
			used:      150_000,
		},
		{
			// A single 360p layer over budget: forwarded anyway.
			name: "a single layer over budget",
			in: AllocInput{
				Sources:     []Source{{ID: "a", Owner: "A", Layers: []Layer{{Height: 360, Bitrate: 600_000, Active: true}}}},
				Constraints: free,
				Budget:      500_000,
			},
			layers: map[string]int{"a": 0},
			order:  []string{"a"},
			used:   600_000,
		},
		{
			name: "a skipped source does not block a cheaper one",
			in: AllocInput{
				Sources: []Source{
					{ID: "big", Layers: []Layer{{Height: 720, Bitrate: 1_000_000, Active: true}}},
					{ID: "small", Layers: []Layer{{Height: 180, Bitrate: 100_000, Active: true}}},
				},
				Constraints: free,
				Budget:      300_000,
			},
			layers:    map[string]int{"big": -1, "small": 0},
			order:     []string{"big", "small"},
			suspended: []string{"big"},
			used:      100_000,
		},
		{
			name:   "no sources",
			in:     AllocInput{Constraints: free, Budget: 1_000_000},
			layers: map[string]int{},
			order:  []string{},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Allocate(tc.in)
			if fmt.Sprint(got.Layers) != fmt.Sprint(tc.layers) {
				t.Errorf("layers %v, want %v", got.Layers, tc.layers)
			}
			if !slices.Equal(got.Order, tc.order) {
				t.Errorf("order %v, want %v", got.Order, tc.order)
			}
			if !slices.Equal(got.Suspended, tc.suspended) {
				t.Errorf("suspended %v, want %v", got.Suspended, tc.suspended)
			}
			if got.Used != tc.used {
				t.Errorf("used %d, want %d", got.Used, tc.used)
			}
			checkAllocation(t, tc.in, got)
		})
	}
}

// checkAllocation checks what holds for every allocation: Forwarded is
// exactly the sources with a layer, in Order's order; Used adds up; the
// budget is kept unless only the first on-stage source exceeds it; every
// layer given is active and within the source's cap.
func checkAllocation(t *testing.T, in AllocInput, a Allocation) {
	t.Helper()
	byID := map[string]Source{}
	for _, s := range in.Sources {
		byID[s.ID] = s
	}
	var fwd []string
	used := 0
	for _, id := range a.Order {
		l := a.Layers[id]
		if l < 0 {
			continue
		}
		fwd = append(fwd, id)
		layer := byID[id].Layers[l]
		used += layer.Bitrate
		if !layer.Active {
			t.Errorf("%s: inactive layer %d forwarded", id, l)
		}
		if l != topLayer(&[]Source{byID[id]}[0], 1<<30) && l > topLayer(&[]Source{byID[id]}[0], in.Constraints.maxHeight(id)) {
			t.Errorf("%s: layer %d above its cap", id, l)
		}
	}
	if !slices.Equal(fwd, a.Forwarded) {
		t.Errorf("forwarded %v, want %v", a.Forwarded, fwd)
	}
	if used != a.Used {
		t.Errorf("used %d, layers add up to %d", a.Used, used)
	}
	if a.Used > in.Budget && len(a.Forwarded) > 1 {
		t.Errorf("used %d over budget %d with %d sources", a.Used, in.Budget, len(a.Forwarded))
	}
}

func BenchmarkAllocate(b *testing.B) {
	b.ReportAllocs()
	in := AllocInput{Constraints: Constraints{LastN: 25, DefaultMaxHeight: 360, OnStage: []string{"s17"}}, Budget: 6_000_000}
	for i := range 100 {
		s := camera(fmt.Sprintf("s%d", i), fmt.Sprintf("p%d", i))
		s.Screen = i == 42
		in.Sources = append(in.Sources, s)
	}
	for i := range 10 {
		in.Speakers = append(in.Speakers, fmt.Sprintf("p%d", 90-i))
	}
	for b.Loop() {
		Allocate(in)
	}
}
