package media

import "time"

// Probing: the delay-based rate climbs slowly by design, and never far
// above what the receiver acknowledges, so after the path gets faster (or
// at the start of a call) it would take many seconds to find out. A probe
// cluster is a short burst sent at a target rate above the estimate; if
// the receiver got it at that rate without the delay detector seeing
// overuse, the path carries at least that much, and the estimate jumps.

// probeCluster accumulates what was sent and received of one cluster.
type probeCluster struct {
	id, target    int
	active        bool
	start         int64 // µs
	sent          int
	sentBytes     int
	lastSentSize  int
	firstSend     int64
	lastSend      int64
	reported      int
	recv          int
	recvBytes     int
	firstRecvSize int
	firstArr      int64
	lastArr       int64
}

// StartProbe opens a probe cluster with a target rate in bits per second
// and returns its id, for OnSent. The caller then sends at least five
// packets (padding or retransmissions) at the target rate as one burst,
// tagged with the id. Once feedback has covered every packet of the
// cluster, if the receiver got them at 90 % of the target or more and the
// delay detector saw no overuse meanwhile, the estimate rises to 95 % of
// the delivered rate. A good target is twice the estimate; a probe the path
// cannot carry does no harm beyond a brief queue.
func (e *Estimator) StartProbe(target int, now time.Time) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.nextProbe++
	if e.nextProbe <= 0 {
		e.nextProbe = 1
	}
	id := e.nextProbe
	e.probes[id%maxProbeClusters] = probeCluster{id: id, target: target, active: true, start: e.micros(now)}
	return id
}

// cluster returns the active cluster with this id, or nil. The caller
// holds e.mu.
func (e *Estimator) cluster(id int) *probeCluster {
	if id <= 0 {
		return nil
	}
	c := &e.probes[id%maxProbeClusters]
	if !c.active || c.id != id {
		return nil
	}
	return c
}

func (c *probeCluster) onSent(at int64, size int) {
	if c.sent == 0 || at < c.firstSend {
		c.firstSend = at
	}
	if c.sent == 0 || at >= c.lastSend {
		c.lastSend = at
		c.lastSentSize = size
	}
	c.sent++
	c.sentBytes += size
}

// onReported counts a packet of the cluster reported, received or not. A
// nil cluster (the packet was no probe, or its cluster is closed) ignores
// it.
func (c *probeCluster) onReported() {
	if c != nil {
		c.reported++
	}
}

func (c *probeCluster) onReceived(at int64, size int) {
	if c == nil {
		return
	}
	if c.recv == 0 || at < c.firstArr {
		c.firstArr = at
		c.firstRecvSize = size
	}
	if c.recv == 0 || at > c.lastArr {
		c.lastArr = at
	}
	c.recv++
	c.recvBytes += size
}

// delivered is the rate at which the cluster got through: its bytes after
// the first arrival over the arrival span, but no more than it was sent
// at (packets bunched up on the way would overstate it). 0 when it cannot
// tell.
func (c *probeCluster) delivered() float64 {
	if c.recv < minProbePackets || c.lastArr <= c.firstArr {
		return 0
	}
	rate := float64(c.recvBytes-c.firstRecvSize) * 8e6 / float64(c.lastArr-c.firstArr)
	if c.lastSend > c.firstSend {
		rate = min(rate, float64(c.sentBytes-c.lastSentSize)*8e6/float64(c.lastSend-c.firstSend))
	}
	return rate
}

// finishProbes closes the clusters that feedback has fully covered, and
// those that have waited too long. The caller holds e.mu.
func (e *Estimator) finishProbes(now int64) {
	for i := range e.probes {
		c := &e.probes[i]
		if !c.active {
			continue
		}
		if now-c.start > probeTimeout {
			c.active = false
			continue
		}
		if c.sent < minProbePackets || c.reported < c.sent {
			continue
		}
		c.active = false
		rate := c.delivered()
		overuse := e.overuseSet && e.overuseAt >= c.start
		if overuse || rate < probeMinShare*float64(c.target) {
			continue
		}
		e.probeRate = rate
		e.applyProbe(probeBackoff * rate)
	}
}

// applyProbe raises the estimate to a rate the path has proven. The caller
// holds e.mu.
func (e *Estimator) applyProbe(rate float64) {
	rate = min(rate, float64(e.cfg.Max))
	if rate <= e.rc.rate {
		return
	}
	if e.rc.link.ok && rate > e.rc.link.upper() {
		e.rc.link = linkCapacity{}
	}
	e.rc.rate = rate
	if e.loss.cap > 0 && e.loss.cap < rate {
		e.loss.cap = rate
	}
}
