package rtc

import (
	"github.com/pion/webrtc/v4"

	"github.com/parley/parley/protocol"
)

// CandidateInit turns a signaled candidate into pion's form.
func CandidateInit(c protocol.Candidate) webrtc.ICECandidateInit {
	return webrtc.ICECandidateInit{Candidate: c.Candidate, SDPMid: c.SDPMid, SDPMLineIndex: c.SDPMLineIndex, UsernameFragment: c.UsernameFragment}
}

// Candidate turns a gathered candidate into its signaled form.
func Candidate(c *webrtc.ICECandidate) protocol.Candidate {
	init := c.ToJSON()
	return protocol.Candidate{Candidate: init.Candidate, SDPMid: init.SDPMid, SDPMLineIndex: init.SDPMLineIndex, UsernameFragment: init.UsernameFragment}
}
