package bridge

import (
	"sync"
	"time"

	"github.com/pion/rtp"

	"github.com/parley/parley/internal/media"
	"github.com/parley/parley/internal/udpbatch"
)

// A video layer's read loop holds the packets of the frame it is receiving
// and fans the frame out when it is complete, subscriber by subscriber: each
// subscriber's copies of the frame then sit back to back in the send batch,
// and the kernel sends them as one segmented datagram (UDP GSO), which costs
// about a third of sending them one by one. A publisher sends a frame in a
// burst, so holding it costs little; a paced one spreads it out, and holdMax
// bounds what a packet waits.
const (
	// maxHeld is the most packets held: a longer frame (a keyframe) goes
	// out in pieces of this many.
	maxHeld = 24
	// holdMax is the longest the first packet of a frame waits for the
	// rest.
	holdMax = time.Millisecond
)

// heldPacket is one received video packet, parsed.
type heldPacket struct {
	buf        [media.MaxPacketSize]byte
	hdr        rtp.Header
	start, end int // the payload in buf
	desc       media.VP8Descriptor
	info       media.PacketInfo
}

func (p *heldPacket) payload() []byte { return p.buf[p.start:p.end] }

// frameHold is the packets of one frame held by a read loop. The read loop
// owns the slot it reads into; the held packets are guarded by mu, because
// the timer that ends a frame which stopped short runs on its own
// goroutine.
type frameHold struct {
	u     *upTrack
	batch *udpbatch.Group
	slots [maxHeld + 1]heldPacket
	// wait is how long a frame's first packet waits: holdMax, or what a
	// test chooses before the first packet.
	wait time.Duration

	mu    sync.Mutex
	held  [maxHeld]*heldPacket
	n     int
	free  [maxHeld + 1]*heldPacket
	nfree int
	timer *time.Timer

	// The fan-out in progress, read by its shares.
	fan   *fanOut
	downs []*downTrack
	pkts  []*heldPacket
	now   time.Time
}

func newFrameHold(u *upTrack, batch *udpbatch.Group) *frameHold {
	f := &frameHold{u: u, batch: batch, wait: holdMax}
	for i := range f.slots {
		f.free[i] = &f.slots[i]
	}
	f.nfree = len(f.free)
	f.timer = time.AfterFunc(time.Hour, f.expire)
	f.timer.Stop()
	f.fan = newFanOut(f.forwardShare)
	return f
}

// slot returns a free slot for the read loop to read into; it stays the
// read loop's until add or release.
func (f *frameHold) slot() *heldPacket {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nfree--
	return f.free[f.nfree]
}

// release gives back a slot that held nothing worth forwarding.
func (f *frameHold) release(p *heldPacket) {
	f.mu.Lock()
	f.free[f.nfree] = p
	f.nfree++
	f.mu.Unlock()
}

// add holds a parsed packet, fanning out the frame before it if it is of
// another frame, and its own frame once complete.
func (f *frameHold) add(p *heldPacket) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.n > 0 && f.held[0].hdr.Timestamp != p.hdr.Timestamp {
		f.forwardLocked() // the frame's last packet was lost or is late
	}
	f.held[f.n] = p
	f.n++
	switch {
	case p.hdr.Marker || f.n == maxHeld:
		f.forwardLocked()
	case f.n == 1:
		f.timer.Reset(f.wait)
	}
}

// expire fans out a frame whose end did not come within holdMax.
func (f *frameHold) expire() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.n > 0 {
		f.forwardLocked()
	}
}

// stop drops what is held; the read loop has ended.
func (f *frameHold) stop() {
	f.timer.Stop()
	f.mu.Lock()
	f.n = 0
	f.fan.stop()
	f.mu.Unlock()
}

// forwardLocked fans the held packets out, subscriber by subscriber, and
// frees their slots.
func (f *frameHold) forwardLocked() {
	f.timer.Stop()
	f.downs = *f.u.src.downs.Load()
	f.pkts = f.held[:f.n]
	f.now = time.Now()
	f.fan.run(len(f.downs))
	for _, p := range f.pkts {
		f.free[f.nfree] = p
		f.nfree++
	}
	clear(f.held[:f.n])
	f.n = 0
	f.downs, f.pkts = nil, nil
}

// forwardShare sends the frame to subscribers lo to hi-1, in one send
// batch.
func (f *frameHold) forwardShare(lo, hi int) {
	f.batch.Begin()
	for _, d := range f.downs[lo:hi] {
		d.forwardFrame(f.u, f.pkts, f.now)
	}
	f.batch.End()
}
