package loadtest

import (
	"reflect"
	"testing"

	"github.com/parley/parley/internal/synth"
	"github.com/parley/parley/protocol"
)

func TestConstraints(t *testing.T) {
	tests := []struct {
		layout Layout
		stage  string
		height int
		want   protocol.Constraints
	}{
		{Speaker, "p1-video", 720, protocol.Constraints{LastN: -1, OnStage: []string{"p1-video"}, MaxHeight: map[string]int{"p1-video": 720}, DefaultMaxHeight: 180}},
		{Speaker, "p1-video", 360, protocol.Constraints{LastN: -1, OnStage: []string{"p1-video"}, MaxHeight: map[string]int{"p1-video": 360}, DefaultMaxHeight: 180}},
		{Speaker, "", 720, protocol.Constraints{LastN: -1, DefaultMaxHeight: 180}},
		{Grid, "p1-video", 720, protocol.Constraints{LastN: -1, DefaultMaxHeight: 180}},
	}
	for _, tt := range tests {
		if got := constraints(tt.layout, tt.stage, tt.height); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s %q %d: %+v, want %+v", tt.layout, tt.stage, tt.height, got, tt.want)
		}
	}
}

func TestCameraLayers(t *testing.T) {
	tests := []struct {
		height    int
		simulcast bool
		heights   []int
		kbps      []int
	}{
		{720, true, []int{180, 360, 720}, []int{150, 500, 1700}},
		{360, true, []int{180, 360}, []int{150, 500}},
		{180, true, []int{180}, []int{150}},
		{720, false, []int{720}, []int{1700}},
		{360, false, []int{360}, []int{500}},
		{180, false, []int{180}, []int{150}},
	}
	for _, tt := range tests {
		var heights, kbps []int
		for _, l := range cameraLayers(tt.height, tt.simulcast) {
			heights = append(heights, l.Height)
			kbps = append(kbps, l.Bitrate/1000)
		}
		if !reflect.DeepEqual(heights, tt.heights) || !reflect.DeepEqual(kbps, tt.kbps) {
			t.Errorf("%dp simulcast %v: heights %v at %v kbit/s; want %v at %v", tt.height, tt.simulcast, heights, kbps, tt.heights, tt.kbps)
		}
		cam, err := synth.NewSimulcast("cam", "p", cameraLayers(tt.height, tt.simulcast)...)
		if err != nil {
			t.Fatal(err)
		}
		if len(cam.Layers) != len(tt.heights) || (len(cam.Layers) == 1) != (cam.Layers[0].RID() == "") {
			t.Errorf("%dp simulcast %v: %d layers, first RID %q", tt.height, tt.simulcast, len(cam.Layers), cam.Layers[0].RID())
		}
	}
}

func TestErrorLog(t *testing.T) {
	var l errorLog
	l.add(errJoin, "a")
	l.add(errJoin, "a")
	l.add(errSession, "a")
	for i := range maxErrorMessages + 5 {
		l.add(errJoin, string(rune('b'+i)))
	}
	if l.total != 3+maxErrorMessages+5 || len(l.entries) != maxErrorMessages || l.entries[0].Count != 2 || l.other != 7 {
		t.Errorf("total %d, %d entries, first %+v, other %d", l.total, len(l.entries), l.entries[0], l.other)
	}
}
