package web

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"

	"github.com/citytwin/citytwin/layers"
)

// apiError is the one shape of every error answer:
// {"error": {"code": "...", "message": "...", "field": "..."}}.
type apiError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

// writeJSON writes v as JSON with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// writeError writes the JSON error answer.
func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeFieldError(w, status, code, msg, "")
}

// writeFieldError writes the JSON error answer naming the request field that was wrong.
func writeFieldError(w http.ResponseWriter, status int, code, msg, field string) {
	w.Header().Del("Content-Encoding")
	w.Header().Del("ETag")
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, status, map[string]apiError{"error": {Code: code, Message: msg, Field: field}})
}

// writeErr maps an error from a lower package to its HTTP status, in one place.
func writeErr(w http.ResponseWriter, err error) {
	var fe *layers.FieldError
	switch {
	case unavailable(err):
		writeUnavailable(w)
	case errors.Is(err, layers.ErrUnknownLayer):
		writeError(w, http.StatusNotFound, "unknown_layer", err.Error())
	case errors.As(err, &fe):
		writeFieldError(w, http.StatusBadRequest, "invalid", fe.Message, fe.Field)
	case errors.Is(err, layers.ErrInvalid):
		writeError(w, http.StatusBadRequest, "invalid", err.Error())
	default:
		writeError(w, http.StatusInternalServerError, "internal", "internal error")
	}
}

// unavailableRetryAfter is the Retry-After, in seconds, of an answer for an unreachable or
// slow database: about the time a database restart or failover takes.
const unavailableRetryAfter = "5"

// writeUnavailable answers 503 with Retry-After: the database could not be reached or did not
// answer in time (see unavailable). Every handler whose work reaches the database ends here
// for such errors, through writeErr or its own error mapping.
func writeUnavailable(w http.ResponseWriter) {
	w.Header().Set("Retry-After", unavailableRetryAfter)
	writeError(w, http.StatusServiceUnavailable, "unavailable",
		"the database is unreachable or too slow at the moment; retry shortly")
}

// unavailable reports whether err means the database could not be reached or did not answer
// in time: a passing state that a client should retry, not a fault of its request nor a bug.
// It reads errors through the standard library and the SQLSTATE that database errors carry
// (an SQLState method), so this package needs no database driver:
//   - the request's deadline passed while it waited for a connection or an answer;
//   - a network error: connection refused or reset, a dial or read timeout;
//   - the connection closed in the middle of an answer;
//   - SQLSTATE class 08 (connection exception), 57P01–57P03 (the server is shutting down,
//     crashed or is starting up), 53300 (too many connections) and 57014 (the statement was
//     cancelled, by statement_timeout).
func unavailable(err error) bool {
	var ne net.Error
	var se interface{ SQLState() string }
	switch {
	case err == nil:
		return false
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne), errors.Is(err, io.ErrUnexpectedEOF):
		return true
	case errors.As(err, &se):
		code := se.SQLState()
		return strings.HasPrefix(code, "08") || code == "57P01" || code == "57P02" || code == "57P03" ||
			code == "53300" || code == "57014"
	}
	return false
}
