package media

import "errors"

var (
	// ErrShortPacket means a payload ends before its descriptor does.
	ErrShortPacket = errors.New("media: payload too short")
	// ErrShortBuffer means the destination cannot hold the rewritten packet.
	ErrShortBuffer = errors.New("media: destination buffer too short")
	// ErrDescriptorMismatch means a VP8Descriptor does not describe the
	// payload it was passed with (offsets or widths disagree with the bytes),
	// so rewriting in place would corrupt it.
	ErrDescriptorMismatch = errors.New("media: VP8 descriptor does not match payload")
	// ErrStalePicture means a packet belongs to a picture before the current
	// segment (a late packet of the layer forwarded before a switch, or one
	// too far behind the newest picture): it must not be forwarded.
	ErrStalePicture = errors.New("media: picture before the current segment")
)
