package control

import (
	"errors"
	"sort"
)

// ErrNoBridgeFits means no live bridge can take the participant.
var ErrNoBridgeFits = errors.New("control: no bridge can take the participant")

// BridgeInfo is what a Selector knows of one live bridge.
type BridgeInfo struct {
	ID       string
	Region   string
	Stress   float64 // 0..1, from the bridge's heartbeat
	Draining bool
	// Endpoints on the bridge, counting those placed since its last
	// heartbeat (which it has not reported yet).
	Endpoints int
}

// Placement asks where one participant's media should go.
type Placement struct {
	// Region of the participant (from the site map), "" if unknown.
	Region string
	// Conference lists the bridges the conference already uses and how many
	// of its participants each carries.
	Conference map[string]int
	// Cascading says whether a conference may span bridges (relays between
	// bridges); without it the conference stays on one bridge.
	Cascading bool
}

// Selector picks a bridge for a participant. Control uses SelectDefault;
// tests and deployments may plug in their own.
type Selector interface {
	Select(p Placement, bridges []BridgeInfo) (string, error)
}

// DefaultSelector places participants: a conference stays on the bridge it
// uses (while that bridge is live, not draining, and under the cap where
// conferences may cascade); otherwise a bridge in the participant's region
// before others, skipping bridges above the stress threshold unless all
// are, then the least stressed, then the fewest endpoints.
type DefaultSelector struct {
	// StressThreshold (0..1): bridges above it get no new conference while
	// another bridge is below it.
	StressThreshold float64
	// ConferenceCap is the most participants of one conference on one
	// bridge when conferences cascade (0: no cap).
	ConferenceCap int
}

// Select implements Selector.
func (s DefaultSelector) Select(p Placement, bridges []BridgeInfo) (string, error) {
	live := make([]BridgeInfo, 0, len(bridges))
	for _, b := range bridges {
		if !b.Draining {
			live = append(live, b)
		}
	}
	if len(live) == 0 {
		return "", ErrNoBridgeFits
	}
	// Keep the conference together: the bridge carrying most of it.
	best, bestN := "", -1
	for _, b := range live {
		n, ok := p.Conference[b.ID]
		if !ok {
			continue
		}
		if p.Cascading && s.ConferenceCap > 0 && n >= s.ConferenceCap {
			continue
		}
		if n > bestN || (n == bestN && b.ID < best) {
			best, bestN = b.ID, n
		}
	}
	if best != "" {
		return best, nil
	}
	calm := live[:0:0]
	for _, b := range live {
		if s.StressThreshold <= 0 || b.Stress <= s.StressThreshold {
			calm = append(calm, b)
		}
	}
	if len(calm) == 0 {
		calm = live // all are stressed: the least stressed will do
	}
	sort.Slice(calm, func(i, j int) bool {
		a, b := calm[i], calm[j]
		if ra, rb := a.Region == p.Region, b.Region == p.Region; ra != rb {
			return ra
		}
		if a.Stress != b.Stress {
			return a.Stress < b.Stress
		}
		if a.Endpoints != b.Endpoints {
			return a.Endpoints < b.Endpoints
		}
		return a.ID < b.ID
	})
	return calm[0].ID, nil
}
