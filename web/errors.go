package web

import (
	"encoding/json"
	"errors"
	"net/http"

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
