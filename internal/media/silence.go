package media

// SilenceLevel is the RFC 6464 level at and above which a packet counts as
// silence. 127 (-127 dBov) is what browsers send for a muted track or a
// digitally silent input; anything lower is some sound, however faint, and
// a line's background noise is better judged by the speaker detector than
// cut here, where a wrong call clips the start of a word.
const SilenceLevel = 127

// DefaultSilenceRun is how many consecutive silent packets SilenceGate
// still forwards: 100 ms at 20 ms packets, enough for the receiver's
// jitter buffer and comfort noise to settle.
const DefaultSilenceRun = 5

// IsSilence reports whether an RFC 6464 audio level (the 7-bit -dBov
// value; a V flag left in the top bit is ignored) means silence.
func IsSilence(level uint8) bool {
	return level&0x7f >= SilenceLevel
}

// SilenceGate stops forwarding an audio stream after a run of silent
// packets and resumes at the first packet with sound, so that muted or
// idle participants cost no bandwidth. The caller calls Rewriter.Drop for
// packets it does not forward, so the receiver sees no gap.
//
// A SilenceGate is not safe for concurrent use; its zero value is ready.
type SilenceGate struct {
	// Run is how many consecutive silent packets are still forwarded;
	// 0 means DefaultSilenceRun, and a negative value forwards none.
	Run    int
	silent int
}

// Forward takes the level of the next packet and reports whether to
// forward it.
func (g *SilenceGate) Forward(level uint8) bool {
	if !IsSilence(level) {
		g.silent = 0
		return true
	}
	if g.silent < 1<<30 {
		g.silent++
	}
	run := g.Run
	if run == 0 {
		run = DefaultSilenceRun
	}
	return g.silent <= run
}
