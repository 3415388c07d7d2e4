package edge

import "bytes"

// Kind is what a connection's first bytes say it carries.
type Kind int

// Kinds of connection on the shared port.
const (
	// KindUndecided: more bytes are needed to tell.
	KindUndecided Kind = iota
	// KindTLS is a TLS ClientHello: HTTPS, WebSocket or TURN over TLS inside.
	KindTLS
	// KindICETCP is ICE over TCP (RFC 6544): STUN framed by a two-byte
	// length (RFC 4571), for the bridge.
	KindICETCP
	// KindSTUN is STUN or TURN on a stream without framing (RFC 8656 over
	// TCP), for the TURN server.
	KindSTUN
	// KindHTTP is an HTTP request.
	KindHTTP
	// KindGarbage is none of these.
	KindGarbage
)

func (k Kind) String() string {
	switch k {
	case KindUndecided:
		return "undecided"
	case KindTLS:
		return "tls"
	case KindICETCP:
		return "ice-tcp"
	case KindSTUN:
		return "stun"
	case KindHTTP:
		return "http"
	}
	return "garbage"
}

// PeekSize is the most bytes Classify needs: a framed STUN header's magic
// cookie ends at byte 10.
const PeekSize = 10

// stunCookie is the magic cookie of every STUN message (RFC 5389), at bytes
// 4..8 of a STUN header.
var stunCookie = []byte{0x21, 0x12, 0xA4, 0x42}

// stunHeader is the size of a STUN message header.
const stunHeader = 20

// httpMethods are the first four bytes of every request an HTTP/1.x client
// (or an HTTP/2 client without TLS, "PRI ") may send.
var httpMethods = [][]byte{
	[]byte("GET "), []byte("HEAD"), []byte("POST"), []byte("PUT "), []byte("DELE"),
	[]byte("OPTI"), []byte("PATC"), []byte("CONN"), []byte("TRAC"), []byte("PRI "),
}

// Classify says what a connection on the shared port carries from its
// first bytes b, or KindUndecided when it needs more of them (never once
// len(b) >= PeekSize). A decision never changes as more bytes arrive.
//
//   - TLS: a handshake record (0x16) of TLS 1.x (0x03).
//   - ICE-TCP: a length of at least a STUN header, then a STUN header
//     whose own length matches it, cookie at bytes 6..10.
//   - STUN: a STUN header (first two bits zero, length a multiple of 4),
//     cookie at bytes 4..8.
//   - HTTP: a known request method.
func Classify(b []byte) Kind {
	if len(b) == 0 {
		return KindUndecided
	}
	if b[0] == 0x16 {
		if len(b) < 2 {
			return KindUndecided
		}
		if b[1] == 0x03 {
			return KindTLS
		}
		// STUN methods in use keep the first byte at 0x00 or 0x01, and
		// a first ICE-TCP message is far shorter than 0x1600 bytes.
		return KindGarbage
	}
	if b[0] >= 'A' && b[0] <= 'Z' {
		return classifyHTTP(b)
	}
	if len(b) < 8 {
		return KindUndecided
	}
	if isSTUNHeader(b) {
		return KindSTUN
	}
	if len(b) < PeekSize {
		return KindUndecided
	}
	framed := int(b[0])<<8 | int(b[1])
	if framed >= stunHeader && isSTUNHeader(b[2:]) && stunLength(b[2:])+stunHeader == framed {
		return KindICETCP
	}
	return KindGarbage
}

// ClassifyInner says what a TLS connection carries from the first bytes
// the client sent inside it: STUN/TURN, or else HTTP (which the HTTP server
// judges). A STUN-looking start without the cookie is garbage.
func ClassifyInner(b []byte) Kind {
	if len(b) == 0 {
		return KindUndecided
	}
	if b[0] >= 0x40 {
		return KindHTTP
	}
	if len(b) < 8 {
		return KindUndecided
	}
	if isSTUNHeader(b) {
		return KindSTUN
	}
	return KindGarbage
}

func classifyHTTP(b []byte) Kind {
	n := min(len(b), 4)
	for _, m := range httpMethods {
		if bytes.Equal(b[:n], m[:n]) {
			if n < 4 {
				return KindUndecided
			}
			return KindHTTP
		}
	}
	return KindGarbage
}

// isSTUNHeader checks the first 8 bytes of a STUN header: message type with
// its two top bits zero, a length that is a multiple of 4, the cookie.
func isSTUNHeader(b []byte) bool {
	return b[0]&0xC0 == 0 && stunLength(b)%4 == 0 && bytes.Equal(b[4:8], stunCookie)
}

func stunLength(b []byte) int { return int(b[2])<<8 | int(b[3]) }
