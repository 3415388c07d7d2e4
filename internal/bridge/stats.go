package bridge

import "sync/atomic"

// Stats are the bridge's totals since start, for metrics.
type Stats struct {
	PacketsIn, BytesIn   uint64 // received from publishers
	PacketsOut, BytesOut uint64 // sent to receivers, retransmissions and probes included
	Endpoints            int
	Conferences          int
	// Batched sends on the UDP sockets (all datagrams written while a send
	// batch was open): the system calls, the messages they carried (a
	// segmented run of datagrams to one receiver is one) and the datagrams.
	SendCalls, SendMessages, SendDatagrams uint64
	// ICE-TCP: packets dropped because a receiver's connection queue was
	// full, and connections cut off because they took nothing for
	// streamconn.DefaultStallAfter; and the bytes queued for them now.
	TCPDropped, TCPStalled uint64
	TCPQueued              int64
}

// totals keeps the counts of tracks that are gone, so that the totals
// never go down.
type totals struct {
	packetsIn, bytesIn, packetsOut, bytesOut atomic.Uint64
}

func (b *Bridge) retireIn(u *upTrack) {
	b.totals.packetsIn.Add(u.packets.Swap(0))
	b.totals.bytesIn.Add(u.bytes.Swap(0))
}

func (b *Bridge) retireOut(d *downTrack) {
	d.mu.Lock()
	p, n := d.packets, d.bytes
	d.packets, d.bytes = 0, 0
	d.mu.Unlock()
	b.totals.packetsOut.Add(p)
	b.totals.bytesOut.Add(n)
}

// Stats adds up every track's counters. Each track counts on its own (no
// shared counter on the forwarding path); this walk runs at scrape time.
func (b *Bridge) Stats() Stats {
	st := Stats{
		PacketsIn: b.totals.packetsIn.Load(), BytesIn: b.totals.bytesIn.Load(),
		PacketsOut: b.totals.packetsOut.Load(), BytesOut: b.totals.bytesOut.Load(),
	}
	bs := b.batch.Stats()
	st.SendCalls, st.SendMessages, st.SendDatagrams = bs.Batches, bs.Messages, bs.Datagrams
	if b.tcp != nil {
		ts := b.tcp.Stats()
		st.TCPDropped, st.TCPStalled, st.TCPQueued = ts.Dropped, ts.Stalled, ts.Queued
	}
	b.mu.Lock()
	confs := make([]*conference, 0, len(b.conferences))
	for _, c := range b.conferences {
		confs = append(confs, c)
	}
	b.mu.Unlock()
	st.Conferences = len(confs)
	for _, c := range confs {
		for _, ep := range c.members() {
			st.Endpoints++
			for _, src := range ep.publishedSources() {
				for i := range maxLayers {
					if u := src.layer(i); u != nil {
						st.PacketsIn += u.packets.Load()
						st.BytesIn += u.bytes.Load()
					}
				}
			}
			for _, d := range ep.downTracks() {
				p, n := d.counts()
				st.PacketsOut += p
				st.BytesOut += n
			}
		}
	}
	return st
}
