package admin

import (
	"errors"
	"fmt"
	"net/http"
)

// Refusals the API answers with. Each is written as {"error": "..."} with
// the status statusOf gives it; the text says what to do.
var (
	ErrOff      = errors.New("the admin API is off; set --admin-key")
	ErrNoKey    = errors.New("send the admin key as 'Authorization: Bearer <key>' (or 'X-API-Key: <key>')")
	ErrScheme   = errors.New("the Authorization header must use the Bearer scheme: 'Authorization: Bearer <key>'")
	ErrKeyInURL = errors.New("the admin key belongs in the Authorization header, never in the URL (URLs end up in logs)")
	ErrWrongKey = errors.New("the admin key is wrong")
	ErrNoTokens = errors.New("this server issues no join tokens; configure --jwt-secret to issue tokens")
	// ErrNoControl means no control node answered a census.
	ErrNoControl = errors.New("no control node answered; check that a node runs the control role and is connected to the bus")
	// ErrBus means the node has lost the bus.
	ErrBus = errors.New("the bus is unavailable; try again shortly")
)

// apiError is a refusal with its HTTP status.
type apiError struct {
	status int
	msg    string
}

func (e *apiError) Error() string { return e.msg }

// failf returns a refusal with status and a formatted message.
func failf(status int, format string, args ...any) error {
	return &apiError{status: status, msg: fmt.Sprintf(format, args...)}
}

// badField is a 400 naming the request field (or path parameter) at fault.
func badField(field, format string, args ...any) error {
	return failf(http.StatusBadRequest, "%s: %s", field, fmt.Sprintf(format, args...))
}

// statusOf is the HTTP status that answers err.
func statusOf(err error) int {
	var ae *apiError
	switch {
	case errors.As(err, &ae):
		return ae.status
	case errors.Is(err, ErrOff):
		return http.StatusNotFound
	case errors.Is(err, ErrNoKey), errors.Is(err, ErrScheme), errors.Is(err, ErrKeyInURL), errors.Is(err, ErrWrongKey):
		return http.StatusUnauthorized
	case errors.Is(err, ErrNoTokens):
		return http.StatusNotImplemented
	case errors.Is(err, ErrNoControl), errors.Is(err, ErrBus):
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}
