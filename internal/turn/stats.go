package turn

import "sync/atomic"

// Stats are the server's figures since start, for metrics and tests.
type Stats struct {
	AllocationsActive int    // relay sockets open now
	AllocationsTotal  uint64 // allocations ever made
	RefusedAuth       AuthRefusals
	RefusedQuota      uint64 // allocations refused by the per-user cap
	RefusedPeers      uint64 // permissions and channel binds refused by peer filtering

	// Relayed traffic, payload bytes: to peers is what clients sent through
	// their relays, from peers what reached a relay under a permission.
	PacketsToPeers, BytesToPeers     uint64
	PacketsFromPeers, BytesFromPeers uint64
	// DroppedOverRate counts packets dropped by the per-allocation bitrate cap.
	DroppedOverRate uint64
	// DroppedToSelf counts packets dropped because they went to (or came
	// from) a port of the node's own that is not a media port.
	DroppedToSelf uint64
}

// AuthRefusals counts refused credentials by reason.
type AuthRefusals struct {
	Expired    uint64 // the username's expiry has passed
	Malformed  uint64 // the username is not "<unix expiry>:<user>"
	Forged     uint64 // the message integrity does not match the shared secret
	WrongRealm uint64 // the client used another realm than the server's
}

// Total is every refusal, whatever the reason.
func (a AuthRefusals) Total() uint64 { return a.Expired + a.Malformed + a.Forged + a.WrongRealm }

// totals holds the server's counters and the traffic of allocations that
// are gone, so that the totals never go down.
type totals struct {
	allocations                       atomic.Uint64
	expired, malformed, forged, realm atomic.Uint64
	refusedQuota, refusedPeers        atomic.Uint64
	packetsIn, bytesIn, packetsOut    atomic.Uint64
	bytesOut, dropped, droppedSelf    atomic.Uint64
}

// Stats adds the open allocations' counters to the totals. Each allocation
// counts on its own; this walk runs when metrics are read.
func (s *Server) Stats() Stats {
	t := &s.totals
	st := Stats{
		AllocationsTotal: t.allocations.Load(),
		RefusedAuth: AuthRefusals{
			Expired: t.expired.Load(), Malformed: t.malformed.Load(),
			Forged: t.forged.Load(), WrongRealm: t.realm.Load(),
		},
		RefusedQuota:     t.refusedQuota.Load(),
		RefusedPeers:     t.refusedPeers.Load(),
		PacketsToPeers:   t.packetsOut.Load(),
		BytesToPeers:     t.bytesOut.Load(),
		PacketsFromPeers: t.packetsIn.Load(),
		BytesFromPeers:   t.bytesIn.Load(),
		DroppedOverRate:  t.dropped.Load(),
		DroppedToSelf:    t.droppedSelf.Load(),
	}
	for _, c := range s.relays.active() {
		st.AllocationsActive++
		st.PacketsToPeers += c.packetsOut.Load()
		st.BytesToPeers += c.bytesOut.Load()
		st.PacketsFromPeers += c.packetsIn.Load()
		st.BytesFromPeers += c.bytesIn.Load()
		st.DroppedOverRate += c.dropped.Load()
		st.DroppedToSelf += c.droppedSelf.Load()
	}
	return st
}
