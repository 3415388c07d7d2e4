package edge

import "errors"

var (
	// ErrNoTLS means Listen was given no TLS configuration.
	ErrNoTLS = errors.New("edge: no TLS configuration")
	// ErrCertificate wraps every failure to load or make a certificate.
	ErrCertificate = errors.New("edge: certificate")

	// errNotAccepted means nobody took a classified connection in time.
	errNotAccepted = errors.New("edge: connection not accepted in time")
	// errTooManyPending means MaxPending connections are undecided already.
	errTooManyPending = errors.New("edge: too many undecided connections")
)
