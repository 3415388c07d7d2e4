package loadtest

import (
	"testing"
	"time"
)

func TestFreezeDetector(t *testing.T) {
	type frame struct {
		at         int64 // ms
		forwarding uint32
	}
	every := func(from, to, step int64, forwarding uint32) []frame {
		var out []frame
		for at := from; at <= to; at += step {
			out = append(out, frame{at, forwarding})
		}
		return out
	}
	tests := []struct {
		name      string
		frames    []frame
		end       int64 // ms; 0: no Finish
		endFwd    uint32
		wantCount uint64
		wantTotal time.Duration
	}{
		{"steady 30 fps", every(1, 3000, 33, 1), 0, 0, 0, 0},
		{"gap of 500 ms is no freeze", []frame{{100, 1}, {600, 1}}, 0, 0, 0, 0},
		{"gap of 700 ms", append(every(10, 1000, 33, 1), every(1700, 2000, 33, 1)...), 0, 0, 1, 700 * time.Millisecond},
		{"two freezes", []frame{{100, 1}, {700, 1}, {750, 1}, {2750, 1}}, 0, 0, 2, 2600 * time.Millisecond},
		{"not forwarded in between", []frame{{100, 1}, {2000, 2}, {2030, 2}}, 0, 0, 0, 0},
		{"not forwarded now", []frame{{100, 1}, {2000, 0}, {4000, 0}}, 0, 0, 0, 0},
		{"frozen at the end", []frame{{100, 1}, {130, 1}}, 1130, 1, 1, time.Second},
		{"stopped being forwarded before the end", []frame{{100, 1}, {130, 1}}, 1130, 0, 0, 0},
		{"forwarded again before the end", []frame{{100, 1}, {130, 1}}, 1130, 2, 0, 0},
		{"short tail at the end", []frame{{100, 1}, {130, 1}}, 400, 1, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var f FreezeDetector
			for _, fr := range tt.frames {
				f.Frame(fr.at*int64(time.Millisecond), fr.forwarding)
			}
			if tt.end != 0 {
				f.Finish(tt.end*int64(time.Millisecond), tt.endFwd)
			}
			if f.Count != tt.wantCount || f.Total != tt.wantTotal {
				t.Errorf("%d freezes, %v; want %d, %v", f.Count, f.Total, tt.wantCount, tt.wantTotal)
			}
		})
	}
}
