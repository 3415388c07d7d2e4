// Package media holds the packet-level parts of the bridge: VP8 payload
// descriptor parsing, keyframe detection, the per-track packet cache and
// sequence/timestamp rewriting. It keeps no session state and allocates
// nothing per packet, so each part is easy to test and benchmark alone.
package media
