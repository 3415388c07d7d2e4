package admin

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"
)

// maxBody bounds a request body.
const maxBody = 64 << 10

// errorBody is every error's JSON.
type errorBody struct {
	Error string `json:"error"`
}

// writeJSON answers v with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false) // names and links as sent, not \u003c-escaped
	_ = enc.Encode(v)
}

// writeError answers err as {"error": "..."}.
func writeError(w http.ResponseWriter, err error) {
	writeJSON(w, statusOf(err), errorBody{Error: err.Error()})
}

// decodeBody reads one JSON object of at most maxBody bytes into v,
// refusing fields v does not have.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			return failf(http.StatusUnsupportedMediaType, "send the body as application/json, not %q", ct)
		}
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return bodyError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return bodyError(err)
		}
		return failf(http.StatusBadRequest, "the body holds more than one JSON value; send one object")
	}
	return nil
}

// bodyError explains why a body did not decode.
func bodyError(err error) error {
	var (
		tooBig    *http.MaxBytesError
		syntax    *json.SyntaxError
		wrongType *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &tooBig):
		return failf(http.StatusRequestEntityTooLarge, "the body is larger than %d KiB", maxBody>>10)
	case errors.Is(err, io.EOF):
		return failf(http.StatusBadRequest, "the body is empty; send a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return failf(http.StatusBadRequest, "the body is not valid JSON: it ends too soon")
	case errors.As(err, &syntax):
		return failf(http.StatusBadRequest, "the body is not valid JSON (at byte %d): %v", syntax.Offset, err)
	case errors.As(err, &wrongType):
		if wrongType.Field == "" {
			return failf(http.StatusBadRequest, "the body must be a JSON object, not %s", wrongType.Value)
		}
		return badField(wrongType.Field, "must be %s, not %s", jsonKind(wrongType.Type.Kind().String()), wrongType.Value)
	}
	if field, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return failf(http.StatusBadRequest, "unknown field %s", field)
	}
	return failf(http.StatusBadRequest, "the body is not valid: %v", err)
}

// jsonKind names a Go kind as JSON does.
func jsonKind(kind string) string {
	switch kind {
	case "bool":
		return "a boolean"
	case "string":
		return "a string"
	case "slice", "array":
		return "a list"
	case "struct", "map":
		return "an object"
	}
	return "a number"
}
