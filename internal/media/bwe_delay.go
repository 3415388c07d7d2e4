package media

// The delay-based half of the estimator, after Google Congestion Control
// (draft-ietf-rmcat-gcc-02 and libwebrtc's trendline estimator): packets
// are grouped by send time, and the change of one-way delay between groups
// is tracked. A queue building at the bottleneck makes each group arrive a
// little later than it was sent relative to the previous one; the slope of
// the accumulated delay says whether the queue is growing (overuse),
// draining (underuse) or steady.

// DelayState is the delay-based detector's view of the path.
type DelayState int

const (
	// DelayNormal means the queue at the bottleneck is steady.
	DelayNormal DelayState = iota
	// DelayOverusing means the queue is growing: sending faster than the
	// path carries.
	DelayOverusing
	// DelayUnderusing means the queue is draining.
	DelayUnderusing
)

// String names the state, for logs.
func (s DelayState) String() string {
	switch s {
	case DelayOverusing:
		return "overusing"
	case DelayUnderusing:
		return "underusing"
	}
	return "normal"
}

const (
	groupSpan          = 5000    // µs: packets sent this close together form one group
	burstSpan          = 5000    // µs: or arrive this close together, sooner than sent
	maxBurstDuration   = 100000  // µs
	arrivalJumpLimit   = 3000000 // µs: a larger jump in arrival offset means a clock reset
	reorderedResets    = 3       // consecutive groups arriving backwards before a reset
	trendWindow        = 20      // groups in the least-squares fit
	trendSmoothing     = 0.9
	trendGain          = 4.0
	thresholdInitial   = 12.5
	thresholdMin       = 6.0
	thresholdMax       = 600.0
	thresholdKUp       = 0.0087
	thresholdKDown     = 0.039
	thresholdMaxOffset = 15.0
	overuseTimeMs      = 10.0
)

// packetGroup is a set of packets sent within groupSpan of its first one.
type packetGroup struct {
	firstSend, lastSend int64 // µs, sender clock
	firstArr, lastArr   int64 // µs, receiver clock
}

// interArrival turns packets, in send order, into the send and arrival time
// differences between consecutive complete groups.
type interArrival struct {
	cur, prev          packetGroup
	haveCur, havePrev  bool
	reorderedGroupRuns int
}

// restart forgets everything and starts a new group with this packet.
func (ia *interArrival) restart(send, arr int64) {
	*ia = interArrival{cur: packetGroup{send, send, arr, arr}, haveCur: true}
}

// add takes one received packet. When it closes a group, ok is set and the
// deltas between that group and the one before are returned; arrival is
// the closed group's arrival time.
func (ia *interArrival) add(send, arr int64) (sendDelta, arrDelta, arrival int64, ok bool) {
	if !ia.haveCur {
		ia.restart(send, arr)
		return 0, 0, 0, false
	}
	if send < ia.cur.firstSend {
		return 0, 0, 0, false // older than the group being built: too late to use
	}
	if ia.belongs(send, arr) {
		ia.cur.lastSend = max(ia.cur.lastSend, send)
		ia.cur.lastArr = max(ia.cur.lastArr, arr)
		return 0, 0, 0, false
	}
	if ia.havePrev {
		sendDelta = ia.cur.lastSend - ia.prev.lastSend
		arrDelta = ia.cur.lastArr - ia.prev.lastArr
		arrival = ia.cur.lastArr
		switch {
		case arrDelta-sendDelta >= arrivalJumpLimit || arrDelta-sendDelta <= -arrivalJumpLimit:
			ia.restart(send, arr)
			return 0, 0, 0, false
		case arrDelta < 0:
			ia.reorderedGroupRuns++
			if ia.reorderedGroupRuns >= reorderedResets {
				ia.restart(send, arr)
				return 0, 0, 0, false
			}
		default:
			ia.reorderedGroupRuns = 0
			ok = true
		}
	}
	ia.prev = ia.cur
	ia.havePrev = true
	ia.cur = packetGroup{send, send, arr, arr}
	return sendDelta, arrDelta, arrival, ok
}

// belongs reports whether a packet joins the group being built: sent within
// groupSpan of its start, or part of a burst that arrived together after
// being delayed together (cross traffic releasing a queue).
func (ia *interArrival) belongs(send, arr int64) bool {
	if send-ia.cur.firstSend <= groupSpan {
		return true
	}
	arrDelta := arr - ia.cur.lastArr
	propDelta := arrDelta - (send - ia.cur.lastSend)
	return propDelta < 0 && arrDelta <= burstSpan && arr-ia.cur.firstArr < maxBurstDuration
}

// trendline fits a line through the smoothed accumulated delay of the last
// trendWindow groups and compares its slope, scaled, with a threshold that
// adapts to the path's jitter, so that noisy paths do not read as overuse
// and steady ones react early.
type trendline struct {
	deltas        int // delay samples so far, capped
	firstArr      int64
	accumulated   float64 // ms
	smoothed      float64 // ms
	x, y          [trendWindow]float64
	n, head       int
	trend         float64
	prevTrend     float64
	modified      float64 // the trend as compared with the threshold
	threshold     float64
	lastThreshold int64 // µs, receiver clock
	thresholdSet  bool
	overuseTime   float64
	overuseCount  int
	state         DelayState
}

func newTrendline() trendline {
	return trendline{threshold: thresholdInitial, overuseTime: -1}
}

// update takes one group delta (µs) and the group's arrival time, and
// returns the detector's state.
func (t *trendline) update(sendDelta, arrDelta, arrival int64) DelayState {
	if t.deltas == 0 {
		t.firstArr = arrival
	}
	t.deltas = min(t.deltas+1, 1000)
	t.accumulated += float64(arrDelta-sendDelta) / 1000
	t.smoothed = trendSmoothing*t.smoothed + (1-trendSmoothing)*t.accumulated
	i := (t.head + t.n) % trendWindow
	if t.n == trendWindow {
		i = t.head
		t.head = (t.head + 1) % trendWindow
	} else {
		t.n++
	}
	t.x[i] = float64(arrival-t.firstArr) / 1000
	t.y[i] = t.smoothed
	if t.n == trendWindow {
		if slope, ok := t.slope(); ok {
			t.trend = slope
		}
	}
	t.detect(float64(sendDelta)/1000, arrival)
	return t.state
}

// slope is the least-squares slope of the delay history.
func (t *trendline) slope() (float64, bool) {
	var sx, sy float64
	for i := range t.n {
		sx += t.x[i]
		sy += t.y[i]
	}
	mx, my := sx/float64(t.n), sy/float64(t.n)
	var num, den float64
	for i := range t.n {
		dx := t.x[i] - mx
		num += dx * (t.y[i] - my)
		den += dx * dx
	}
	if den == 0 {
		return 0, false
	}
	return num / den, true
}

func (t *trendline) detect(sendDeltaMs float64, now int64) {
	if t.deltas < 2 {
		t.state = DelayNormal
		return
	}
	t.modified = float64(min(t.deltas, 60)) * t.trend * trendGain
	switch {
	case t.modified > t.threshold:
		if t.overuseTime == -1 {
			t.overuseTime = sendDeltaMs / 2
		} else {
			t.overuseTime += sendDeltaMs
		}
		t.overuseCount++
		// Overuse must last, and the trend must not be easing already.
		if t.overuseTime > overuseTimeMs && t.overuseCount > 1 && t.trend >= t.prevTrend {
			t.overuseTime = 0
			t.overuseCount = 0
			t.state = DelayOverusing
		}
	case t.modified < -t.threshold:
		t.overuseTime = -1
		t.overuseCount = 0
		t.state = DelayUnderusing
	default:
		t.overuseTime = -1
		t.overuseCount = 0
		t.state = DelayNormal
	}
	t.prevTrend = t.trend
	t.adaptThreshold(now)
}

// adaptThreshold moves the threshold towards the magnitude of the trend:
// quickly down, slowly up, ignoring spikes far above it.
func (t *trendline) adaptThreshold(now int64) {
	if !t.thresholdSet {
		t.thresholdSet = true
		t.lastThreshold = now
	}
	m := t.modified
	if m < 0 {
		m = -m
	}
	if m > t.threshold+thresholdMaxOffset {
		t.lastThreshold = now
		return
	}
	k := thresholdKUp
	if m < t.threshold {
		k = thresholdKDown
	}
	dt := min(max(float64(now-t.lastThreshold)/1000, 0), 100)
	t.threshold += k * (m - t.threshold) * dt
	t.threshold = min(max(t.threshold, thresholdMin), thresholdMax)
	t.lastThreshold = now
}
