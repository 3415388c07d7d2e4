package signal

import (
	"net"
	"net/http"
	"net/netip"

	"github.com/parley/parley/internal/ratelimit"
)

// newJoinLimiter limits join attempts per client address: perMinute, in
// bursts of up to a quarter of that (at least 10), so that a branch office
// behind one address can start a meeting all at once.
func newJoinLimiter(perMinute int) *ratelimit.PerAddr {
	return ratelimit.NewPerAddr(perMinute, max(perMinute/4, 10))
}

// ClientAddr is the client's address: the peer's, or, behind a trusted
// proxy, the one it reports. Other handlers of the node limit by it too.
func (s *Server) ClientAddr(r *http.Request) netip.Addr { return s.clientAddr(r) }

// clientAddr is the client's address: the peer's, or, behind a trusted
// proxy, the one it reports.
func (s *Server) clientAddr(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return s.forwardedFor(ip.Unmap(), r)
}
