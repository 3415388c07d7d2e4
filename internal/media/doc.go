// Package media holds the packet-level parts of the bridge: VP8 payload
// descriptor parsing and rewriting, keyframe detection, simulcast and
// temporal layer selection, the per-track packet cache, sequence/timestamp
// rewriting with drops, bandwidth estimation from transport-wide congestion
// control feedback, the allocation of layers to a receiver's budget, and
// dominant speaker detection. It keeps no session state, starts no
// goroutines and logs nothing; the per-packet operations allocate nothing,
// so each part is easy to test and benchmark alone.
//
// For one receiver of one simulcast video source, the bridge's forwarding
// loop reads:
//
//	d := selector.Select(info)     // which packets, and where segments start
//	if !d.Forward {
//		rewriter.Drop(seq)         // if it is of the layer being forwarded
//		return
//	}
//	if d.Switched {
//		rewriter.Resync()
//		munger.Resync()
//	}
//	pic, tl0, err := munger.Map(&desc) // first: a stale picture takes no number
//	out, ts, ok := rewriter.Rewrite(seq, ts, frameGap)
//	PutVP8IDs(&desc, buf, pic, tl0) // into a copy of the payload, if they changed
//	seqMap.Put(out, seq, layer)    // to answer NACKs across switches
//
// with Allocate choosing each receiver's layers from the Estimator's
// estimate and the SpeakerDetector's Speakers.
package media
