package bridge

import (
	"sync"
	"time"
)

// resendInterval is the shortest time between two retransmissions of one
// packet to one receiver: about a round trip on the links we serve.
const resendInterval = 100 * time.Millisecond

// rtxShare is the part of a receiver's downlink estimate retransmissions
// may take.
const rtxShare = 0.2

// rtxBudget is a token bucket of retransmitted packets per receiver,
// refilled at rtxShare of its downlink estimate, so that answering NACKs on
// a congested link cannot make the congestion worse.
type rtxBudget struct {
	mu     sync.Mutex
	tokens float64
	last   int64 // unix ns
	rate   float64
}

// setRate sets the refill rate from a downlink estimate in bits per second,
// counting packets of typical video size.
func (b *rtxBudget) setRate(estimate int) {
	b.mu.Lock()
	b.rate = float64(estimate) * rtxShare / 8 / 1200 // packets per second
	b.mu.Unlock()
}

// take spends one packet's worth if the budget has it.
func (b *rtxBudget) take(now int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.last != 0 {
		b.tokens += b.rate * float64(now-b.last) / 1e9
	}
	b.last = now
	// Allow a burst of a tenth of a second's worth, at least a few packets.
	b.tokens = min(b.tokens, max(b.rate/10, 4))
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
