// Package ratelimit limits how often something may happen: a token bucket,
// and a set of them keyed by client address.
package ratelimit

import (
	"net/netip"
	"sync"
	"time"
)

// Bucket is a token bucket. Its zero value is full at the first Take.
type Bucket struct {
	tokens float64
	last   time.Time
}

// Take takes a token if one is left, refilling at rate tokens a second up
// to burst; it reports whether it took one. The caller serialises calls.
func (b *Bucket) Take(now time.Time, rate, burst float64) bool {
	if b.last.IsZero() {
		b.tokens = burst
	} else {
		b.tokens = min(burst, b.tokens+rate*now.Sub(b.last).Seconds())
	}
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// PerAddr is one bucket per client address. Addresses quiet for a minute
// are forgotten, so that the map stays the size of the active clients.
type PerAddr struct {
	rate, burst float64
	mu          sync.Mutex
	byAddr      map[netip.Addr]*Bucket
	swept       time.Time
}

// NewPerAddr allows each address perMinute events a minute, in bursts of
// up to burst.
func NewPerAddr(perMinute, burst int) *PerAddr {
	return &PerAddr{rate: float64(perMinute) / 60, burst: float64(burst), byAddr: map[netip.Addr]*Bucket{}}
}

// Allow reports whether addr may act now, and counts it if so.
func (l *PerAddr) Allow(addr netip.Addr, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.swept) > time.Minute {
		for a, b := range l.byAddr {
			if now.Sub(b.last) > time.Minute {
				delete(l.byAddr, a)
			}
		}
		l.swept = now
	}
	b := l.byAddr[addr]
	if b == nil {
		b = &Bucket{}
		l.byAddr[addr] = b
	}
	return b.Take(now, l.rate, l.burst)
}

// Len is how many addresses are remembered.
func (l *PerAddr) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.byAddr)
}
