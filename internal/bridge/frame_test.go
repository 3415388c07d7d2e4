package bridge

import (
	"sync/atomic"
	"testing"
	"time"
)

// hold puts the rig's next packet of the current frame into a slot of f
// and adds it, as runVideo does: marshalled as the publisher sent it, then
// parsed. first and last mark the frame's first and last packet.
func (r *forwardRig) hold(f *frameHold, first, last, keyframe bool) {
	p := f.slot()
	r.payload[0] = 0x80 // X
	if first {
		r.payload[0] |= 0x10 // S: start of partition 0
	}
	r.payload[4] = 0x01 // an interframe
	if keyframe {
		r.payload[4] = 0x00
	}
	r.hdr.Marker = last
	n, err := r.hdr.MarshalTo(p.buf[:])
	if err != nil {
		panic(err)
	}
	n += copy(p.buf[n:], r.payload)
	r.hdr.SequenceNumber++
	if !r.up.parseVideo(p, n) {
		panic("unparsable packet")
	}
	f.add(p)
}

// nextFrame moves the rig on to the next picture.
func (r *forwardRig) nextFrame() {
	r.hdr.Timestamp += 3000
	pid := uint16(r.payload[2]&0x7f)<<8 | uint16(r.payload[3])
	pid = (pid + 1) & 0x7fff
	r.payload[2], r.payload[3] = 0x80|byte(pid>>8), byte(pid)
}

func (r *forwardRig) sent() (packets, gaps int) {
	for _, w := range r.writers {
		packets += w.packets
		gaps += w.gaps
	}
	return packets, gaps
}

func TestFrameHold(t *testing.T) {
	for _, tc := range []struct {
		name string
		// frame sends one frame's packets; it returns how many each
		// subscriber should have received afterwards, beyond the start.
		frame func(r *forwardRig, f *frameHold) int
	}{
		{"held until the last packet", func(r *forwardRig, f *frameHold) int {
			r.hold(f, true, false, false)
			r.hold(f, false, false, false)
			if p, _ := r.sent(); p != 3 { // the rig's first keyframe
				t.Errorf("%d packets went out before the frame ended", p-3)
			}
			r.hold(f, false, true, false)
			return 3
		}},
		{"a frame whose end was lost goes with the next", func(r *forwardRig, f *frameHold) int {
			r.hold(f, true, false, false)
			r.hold(f, false, false, false)
			r.nextFrame()
			r.hold(f, true, true, false)
			return 3
		}},
		{"a frame that stops short goes after its wait", func(r *forwardRig, f *frameHold) int {
			f.wait = 20 * time.Millisecond
			start := time.Now()
			r.hold(f, true, false, false)
			for deadline := start.Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
				f.mu.Lock()
				p, _ := r.sent()
				f.mu.Unlock()
				if p > 3 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("the frame that stopped short was never sent")
				}
			}
			if waited := time.Since(start); waited < f.wait {
				t.Errorf("the frame went after %v, before its wait of %v", waited, f.wait)
			}
			return 1
		}},
		{"a long frame goes in pieces", func(r *forwardRig, f *frameHold) int {
			for i := range maxHeld + 2 {
				r.hold(f, i == 0, false, false)
			}
			return maxHeld
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newForwardRig(t, 3)
			f := newFrameHold(r.up, nil)
			defer f.stop()
			// Only the case about waiting waits: on a busy machine the
			// others' packets may be further apart than holdMax.
			f.wait = time.Hour
			r.nextFrame()
			want := tc.frame(r, f)
			f.mu.Lock()
			defer f.mu.Unlock()
			for i, w := range r.writers {
				if w.packets != 1+want || w.gaps != 0 {
					t.Errorf("subscriber %d: %d packets, %d out of order; want %d in order", i, w.packets, w.gaps, 1+want)
				}
			}
			if f.nfree+f.n != len(f.slots) {
				t.Errorf("%d slots free and %d held of %d", f.nfree, f.n, len(f.slots))
			}
		})
	}
}

func TestFrameForwardingAllocatesNothing(t *testing.T) {
	r := newForwardRig(t, 3)
	f := newFrameHold(r.up, nil)
	defer f.stop()
	f.wait = time.Hour // no timer goroutine during the count
	frame := func() {
		r.nextFrame()
		for i := range 4 {
			r.hold(f, i == 0, i == 3, false)
		}
	}
	for range 10 {
		frame()
	}
	if allocs := testing.AllocsPerRun(500, frame); allocs != 0 {
		t.Errorf("forwarding a 4-packet frame to 3 subscribers allocates %.1f times", allocs)
	}
	if p, gaps := r.sent(); gaps != 0 || p < 3*4*500 {
		t.Errorf("%d packets sent, %d out of order", p, gaps)
	}
}

func TestFanOutShares(t *testing.T) {
	for _, n := range []int{0, 1, parallelMin - 1, parallelMin, 100, 1000} {
		var hits [1000]atomic.Int32
		f := newFanOut(func(lo, hi int) {
			for i := lo; i < hi; i++ {
				hits[i].Add(1)
			}
		})
		f.procs = maxFanWorkers - 1
		for range 3 {
			f.run(n)
		}
		f.stop()
		for i := range n {
			if h := hits[i].Load(); h != 3 {
				t.Fatalf("n=%d: subscriber %d served %d times in 3 fan-outs", n, i, h)
			}
		}
	}
}
