package turn

import (
	"sync"
	"time"
)

// bucket is a token bucket in bytes: a packet passes when the bucket holds
// its size, else it is dropped (not delayed: late media is useless, and a
// relay must not queue for an abusive sender).
type bucket struct {
	mu     sync.Mutex
	rate   float64 // bytes per second
	burst  float64 // bytes
	tokens float64
	last   time.Time
}

// burstWindow is how much traffic above the rate a bucket lets through at
// once: enough for a keyframe's burst of packets at the capped rate.
const burstWindow = 250 * time.Millisecond

// minBurst lets a couple of full-size packets through even at tiny rates.
const minBurst = 3000

// newBucket caps traffic at bitrate bits per second; 0 means no cap (nil).
func newBucket(bitrate int64, now time.Time) *bucket {
	if bitrate <= 0 {
		return nil
	}
	rate := float64(bitrate) / 8
	burst := max(rate*burstWindow.Seconds(), minBurst)
	return &bucket{rate: rate, burst: burst, tokens: burst, last: now}
}

// allow takes n bytes from the bucket if it holds them. A nil bucket
// allows everything.
func (b *bucket) allow(n int, now time.Time) bool {
	if b == nil {
		return true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if dt := now.Sub(b.last); dt > 0 {
		b.tokens = min(b.burst, b.tokens+dt.Seconds()*b.rate)
		b.last = now
	}
	if b.tokens < float64(n) {
		return false
	}
	b.tokens -= float64(n)
	return true
}
