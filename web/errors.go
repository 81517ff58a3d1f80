package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"

	"github.com/citytwin/citytwin/access"
	"github.com/citytwin/citytwin/citymodel"
	"github.com/citytwin/citytwin/layers"
	"github.com/citytwin/citytwin/scenarios"
	"github.com/citytwin/citytwin/tiles"
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

// loadingRetryAfter is the Retry-After, in seconds, of an answer while the model loads.
const loadingRetryAfter = "2"

// writeErr answers err: the one mapping from the errors handlers meet (their own request's,
// and those of the packages below) to an HTTP status and an error code. An error it does not
// know is a bug: 500 "internal", logged with the request's path.
func (s *Server) writeErr(w http.ResponseWriter, r *http.Request, err error) {
	var (
		mbe  *http.MaxBytesError
		ce   *tiles.CoordError
		fe   *layers.FieldError
		ve   *validationError
		pe   *badParamError
		body *bodyError
	)
	switch {
	// The request's body: too large, or not the JSON expected (an unexpected EOF there is the
	// client's, not the database's).
	case errors.As(err, &mbe):
		tooLarge(w, mbe.Limit)
	case errors.As(err, &body):
		body.write(w)

	// The server's state: retry later.
	case errors.Is(err, citymodel.ErrNotReady):
		w.Header().Set("Retry-After", loadingRetryAfter)
		writeError(w, http.StatusServiceUnavailable, "loading", "the city model is still loading; retry shortly")
	case unavailable(err):
		writeUnavailable(w)
	case errors.Is(err, context.Canceled):
		// The client left (nobody reads this), or the server is stopping.
		writeError(w, http.StatusServiceUnavailable, "cancelled", "the request was cancelled")

	// The request: its size, its path and query.
	case errors.Is(err, scenarios.ErrTooLarge):
		writeFieldError(w, http.StatusRequestEntityTooLarge, "too_large", err.Error(), "changes")
	case errors.As(err, &ce):
		writeFieldError(w, http.StatusBadRequest, "bad_tile", ce.Error(), ce.Field)
	case errors.Is(err, layers.ErrUnknownLayer):
		writeFieldError(w, http.StatusNotFound, "unknown_layer", err.Error(), fieldOf(err))
	case errors.As(err, &pe):
		writeFieldError(w, http.StatusBadRequest, pe.code, pe.err.Error(), pe.field)

	// What the request asks for.
	case errors.Is(err, scenarios.ErrNotFound):
		writeError(w, http.StatusNotFound, "not_found", err.Error())
	case errors.Is(err, access.ErrNotFound):
		writeError(w, http.StatusNotFound, "not_found", "no active token has this id or name")
	case errors.Is(err, scenarios.ErrPrecondition):
		writeError(w, http.StatusPreconditionFailed, "precondition_failed", err.Error())
	case errors.Is(err, scenarios.ErrConflict):
		writeError(w, http.StatusConflict, "conflict", err.Error()+"; read the scenario again and retry")
	case errors.Is(err, access.ErrExists):
		writeFieldError(w, http.StatusConflict, "conflict", "an active token already has this name", "name")
	case errors.Is(err, scenarios.ErrInUse):
		writeError(w, http.StatusConflict, "change_in_use", err.Error())

	// Validation: of what the request sends (422), else of what it names (400).
	case errors.As(err, &fe) && errors.As(err, &ve):
		writeFieldError(w, http.StatusUnprocessableEntity, ve.code, fe.Message, fe.Field)
	case errors.As(err, &fe):
		writeFieldError(w, http.StatusBadRequest, "invalid", fe.Message, fe.Field)
	case errors.Is(err, layers.ErrInvalid), errors.Is(err, access.ErrInvalid):
		writeError(w, http.StatusBadRequest, "invalid", err.Error())

	default:
		s.log.Error("internal error", "path", r.URL.Path, "err", err)
		writeError(w, http.StatusInternalServerError, "internal", "internal error")
	}
}

// validationError marks the validation errors (*layers.FieldError) of what a request sends —
// a scenario, a change — answered 422 with code rather than 400.
type validationError struct {
	err  error
	code string
}

func (e *validationError) Error() string { return e.err.Error() }
func (e *validationError) Unwrap() error { return e.err }

// invalidAs marks err's validation errors as those of the request's content, answered 422
// with code ("invalid" for a scenario's own fields, "invalid_change" for its changes).
func invalidAs(code string, err error) error { return &validationError{err: err, code: code} }

// badParamError is a path or query parameter the server cannot read: 400 with code, naming it.
type badParamError struct {
	field, code string
	err         error
}

func (e *badParamError) Error() string { return e.field + ": " + e.err.Error() }
func (e *badParamError) Unwrap() error { return e.err }

// badParam says which path or query parameter err is about; code is the answer's code
// unless err is one writeErr knows better (an unknown layer: 404 "unknown_layer").
func badParam(field, code string, err error) error {
	return &badParamError{field: field, code: code, err: err}
}

// fieldOf is the parameter a badParam error names, "" for another error.
func fieldOf(err error) string {
	var pe *badParamError
	if errors.As(err, &pe) {
		return pe.field
	}
	return ""
}

// bodyError is a request body that is not the JSON expected (decodeBody).
type bodyError struct{ err error }

func (e *bodyError) Error() string { return "body: " + e.err.Error() }
func (e *bodyError) Unwrap() error { return e.err }

// write answers 400 "bad_json", naming the field whose value has the wrong type.
func (e *bodyError) write(w http.ResponseWriter) {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch err := e.err; {
	case errors.As(err, &te) && te.Field != "":
		writeFieldError(w, http.StatusBadRequest, "bad_json", fmt.Sprintf("want %s, got a JSON %s", te.Type, te.Value), jsonField(te.Field))
	case errors.As(err, &se):
		writeError(w, http.StatusBadRequest, "bad_json", fmt.Sprintf("the body is not valid JSON (at byte %d): %v", se.Offset, err))
	case errors.Is(err, io.EOF):
		writeError(w, http.StatusBadRequest, "bad_json", "the body is empty; send a JSON object")
	default:
		writeError(w, http.StatusBadRequest, "bad_json", "the body is not the JSON expected: "+err.Error())
	}
}

// unavailableRetryAfter is the Retry-After, in seconds, of an answer for an unreachable or
// slow database: about the time a database restart or failover takes.
const unavailableRetryAfter = "5"

// writeUnavailable answers 503 with Retry-After: the database could not be reached or did not
// answer in time (see unavailable). Every handler whose work reaches the database ends here
// for such errors, through writeErr.
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
