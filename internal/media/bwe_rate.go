package media

import "math"

// The rate controllers of the estimator: AIMD driven by the delay detector,
// a cap driven by loss, and the acknowledged receive rate both lean on.

const (
	decreaseFactor     = 0.85 // on overuse: this share of the acked rate
	increasePerSecond  = 1.08 // multiplicative increase, far from convergence
	minIncrease        = 1000 // bps per update, so low rates still climb
	ackedHeadroom      = 1.5  // increases stop this far above the acked rate
	ackedHeadroomExtra = 10000
	lossHigh           = 0.10
	lossLow            = 0.02
	lossMinPackets     = 20
	lossWindow         = 1000000 // µs
	lossFastPackets    = 200     // with this many packets, a shorter window will do
	lossFastWindow     = 250000  // µs
	ackedWindow        = 500000  // µs of arrivals in the acked rate
	assumedPacketBits  = 1200 * 8
)

type rcState uint8

const (
	rcHold rcState = iota
	rcIncrease
	rcDecrease
)

// aimd is the delay-based rate: it climbs while the path is steady, cuts to
// a share of what actually got through on overuse, and holds while a queue
// drains. Near a previous cut's rate (the link capacity estimate) it climbs
// additively, about a packet per response time, instead of by 8 % a second.
type aimd struct {
	rate       float64 // bps
	state      rcState
	lastChange int64 // µs
	link       linkCapacity
}

// update applies one feedback's detector state. acked is the acknowledged
// receive rate (0 if unknown), rtt the round trip, both as measured.
func (a *aimd) update(sig DelayState, acked float64, now, rtt int64) {
	switch sig {
	case DelayNormal:
		if a.state == rcHold {
			a.state = rcIncrease
			a.lastChange = now
		}
	case DelayOverusing:
		a.state = rcDecrease
	case DelayUnderusing:
		a.state = rcHold
	}
	switch a.state {
	case rcIncrease:
		if acked > 0 && a.link.ok && acked > a.link.upper() {
			a.link = linkCapacity{} // the path got faster: search again
		}
		dt := min(max(float64(now-a.lastChange)/1e6, 0), 1)
		var inc float64
		if a.link.ok {
			inc = additiveIncrease(a.rate, rtt) * dt
		} else {
			inc = max(a.rate*(math.Pow(increasePerSecond, dt)-1), minIncrease)
		}
		next := a.rate + inc
		if acked > 0 {
			next = min(next, max(ackedHeadroom*acked+ackedHeadroomExtra, a.rate))
		}
		a.rate = next
		a.lastChange = now
	case rcDecrease:
		// Cut at most once per response time, unless the rate is far above
		// what gets through: a cut shows in feedback only a round trip later.
		if acked > 0 && (now-a.lastChange >= reduceInterval(rtt) || acked < a.rate/2) {
			if a.link.ok && acked < a.link.lower() {
				a.link = linkCapacity{}
			}
			next := decreaseFactor * acked
			if next > a.rate && a.link.ok {
				next = decreaseFactor * a.link.estimate()
			}
			a.link.update(acked)
			a.rate = min(next, a.rate)
			a.lastChange = now
		}
		a.state = rcHold
	}
}

// reduceInterval is the time between cuts: the round trip, within
// [10 ms, 200 ms].
func reduceInterval(rtt int64) int64 {
	return min(max(rtt, 10000), 200000)
}

// additiveIncrease is about one packet per response time, in bps per
// second.
func additiveIncrease(rate float64, rtt int64) float64 {
	frameBits := rate / 30
	packets := math.Max(math.Ceil(frameBits/assumedPacketBits), 1)
	response := float64(rtt)/1e6 + 0.1
	return math.Max(4000, frameBits/packets/response)
}

// linkCapacity averages the acked rates at which overuse was seen: where
// the bottleneck probably is. Rates are in kbps for the deviation formula.
type linkCapacity struct {
	ok       bool
	est, dev float64
}

func (l *linkCapacity) update(bps float64) {
	const alpha = 0.05
	s := bps / 1000
	if !l.ok {
		l.ok = true
		l.est = s
		l.dev = 0.4
	} else {
		l.est = (1-alpha)*l.est + alpha*s
	}
	norm := math.Max(l.est, 1)
	e := l.est - s
	l.dev = (1-alpha)*l.dev + alpha*e*e/norm
	l.dev = min(max(l.dev, 0.4), 2.5)
}

func (l *linkCapacity) estimate() float64 { return l.est * 1000 }
func (l *linkCapacity) spread() float64   { return 3 * math.Sqrt(l.dev*l.est) * 1000 }
func (l *linkCapacity) upper() float64    { return l.estimate() + l.spread() }
func (l *linkCapacity) lower() float64    { return l.estimate() - l.spread() }

// lossControl caps the estimate by loss, as GCC's sender side does: over
// 10 % loss it cuts by half the loss fraction, under 2 % it lets the
// estimate grow (by 8 % a second over the cap, which lifts once it passes
// the delay-based rate), in between it holds.
type lossControl struct {
	total, lost int
	since       int64 // µs, start of the current window
	started     bool
	fraction    float64 // of the last complete window
	cap         float64 // bps; 0 = no cap
}

func (l *lossControl) add(lost bool) {
	l.total++
	if lost {
		l.lost++
	}
}

// unlost corrects a packet first reported lost and then received.
func (l *lossControl) unlost() {
	if l.lost > 0 {
		l.lost--
	}
}

// update closes the window if it is complete; estimate is the current
// estimate and delay the delay-based rate.
func (l *lossControl) update(now int64, estimate, delay float64) {
	if !l.started {
		l.started = true
		l.since = now
	}
	elapsed := now - l.since
	if l.total < lossMinPackets || (elapsed < lossWindow && (l.total < lossFastPackets || elapsed < lossFastWindow)) {
		return
	}
	l.fraction = float64(l.lost) / float64(l.total)
	switch {
	case l.fraction > lossHigh:
		l.cap = estimate * (1 - l.fraction/2)
	case l.fraction < lossLow:
		if l.cap > 0 {
			l.cap = math.Max(l.cap, estimate) * math.Pow(increasePerSecond, float64(elapsed)/1e6)
			if l.cap >= delay {
				l.cap = 0
			}
		}
	default:
		l.cap = estimate
	}
	l.total, l.lost = 0, 0
	l.since = now
}

// rateWindow measures the rate at which acknowledged packets arrived over
// the last ackedWindow of arrival time.
type rateWindow struct {
	at     [1024]int64 // µs, receiver clock
	size   [1024]int32
	head   int
	n      int
	bytes  int64
	newest int64
}

func (w *rateWindow) add(at int64, size int) {
	if w.n == len(w.at) {
		w.pop()
	}
	i := (w.head + w.n) % len(w.at)
	w.at[i], w.size[i] = at, int32(size)
	w.n++
	w.bytes += int64(size)
	if w.n == 1 || at > w.newest {
		w.newest = at
	}
	for w.n > 1 && w.at[w.head] < w.newest-ackedWindow {
		w.pop()
	}
}

func (w *rateWindow) pop() {
	w.bytes -= int64(w.size[w.head])
	w.head = (w.head + 1) % len(w.at)
	w.n--
}

// rate is the receive rate in bps, or 0 if there is too little to tell:
// the bytes after the oldest packet over the time since it arrived.
func (w *rateWindow) rate() float64 {
	if w.n < 2 {
		return 0
	}
	span := w.newest - w.at[w.head]
	if span < 20000 {
		return 0
	}
	return float64(w.bytes-int64(w.size[w.head])) * 8e6 / float64(span)
}
