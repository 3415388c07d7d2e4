package signal

import (
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"
)

// bucket is a token bucket: rate tokens per second, up to burst.
type bucket struct {
	tokens float64
	last   time.Time
}

func (b *bucket) take(now time.Time, rate, burst float64) bool {
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

// joinLimiter limits join attempts per client address: perMinute, in bursts
// of up to a quarter of that (at least 10), so that a branch office behind
// one address can start a meeting all at once.
type joinLimiter struct {
	rate, burst float64
	mu          sync.Mutex
	byAddr      map[netip.Addr]*bucket
	swept       time.Time
}

func newJoinLimiter(perMinute int) *joinLimiter {
	return &joinLimiter{rate: float64(perMinute) / 60, burst: max(float64(perMinute)/4, 10), byAddr: map[netip.Addr]*bucket{}}
}

func (l *joinLimiter) allow(addr netip.Addr, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.swept) > time.Minute { // forget addresses that went quiet
		for a, b := range l.byAddr {
			if now.Sub(b.last) > time.Minute {
				delete(l.byAddr, a)
			}
		}
		l.swept = now
	}
	b := l.byAddr[addr]
	if b == nil {
		b = &bucket{}
		l.byAddr[addr] = b
	}
	return b.take(now, l.rate, l.burst)
}

// clientAddr is the client's address: the peer's, or, behind a trusted
// proxy, the one it reports.
func (s *Server) clientAddr(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return s.forwardedFor(ip.Unmap(), r)
}
