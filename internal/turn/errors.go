package turn

import "errors"

var (
	// ErrNoSecret means the configuration names no shared secret, so no
	// credential could ever be checked.
	ErrNoSecret = errors.New("turn: no shared secret configured (set the TURN secret)")
	// ErrConfig is wrapped by every other configuration error.
	ErrConfig = errors.New("turn: invalid configuration")
	// ErrBadPrefix means an allowed-peer entry is neither a CIDR nor an IP
	// address.
	ErrBadPrefix = errors.New("turn: malformed allowed-peer entry")
	// ErrNoPublicIP means no relay address was configured and none could be
	// found on the host.
	ErrNoPublicIP = errors.New("turn: cannot find the relay address (set the public IP)")
	// ErrClosed is returned by ServeConn and ServeListener once the server
	// is closed.
	ErrClosed = errors.New("turn: server closed")
	// ErrQuota means a user already holds as many allocations as allowed.
	ErrQuota = errors.New("turn: allocation quota reached")
	// ErrTCPRelay means a client asked for a TCP relay (RFC 6062), which
	// WebRTC never uses and this server does not offer.
	ErrTCPRelay = errors.New("turn: TCP relay allocations are not offered")
)
