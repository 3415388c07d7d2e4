package loadtest

import "errors"

// Errors of the load test.
var (
	// ErrBadFlag: an option is out of range; the message names the flag.
	ErrBadFlag = errors.New("loadtest: bad option")
	// ErrRemote: the target is not on this machine and --allow-remote was
	// not given.
	ErrRemote = errors.New("loadtest: remote target refused")
	// ErrUnreachable: nothing answers at the server's URL.
	ErrUnreachable = errors.New("loadtest: server not reachable")
	// ErrMetrics: /metrics could not be read or lacks a figure.
	ErrMetrics = errors.New("loadtest: metrics")
)
