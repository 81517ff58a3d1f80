package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"syscall"
	"testing"

	"github.com/citytwin/citytwin/layers"
)

// sqlError is an error from the database as the driver reports it: its SQLSTATE.
type sqlError string

func (e sqlError) Error() string    { return "database error " + string(e) }
func (e sqlError) SQLState() string { return string(e) }

func TestDatabaseErrorsAreAnswered503WithRetryAfter(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	tests := []struct {
		name       string
		err        error
		wantStatus int
		wantCode   string
	}{
		{"a refused connection", fmt.Errorf("tile 15/1/2: connect: %w", refused), 503, "unavailable"},
		{"a deadline that passed waiting for the database", fmt.Errorf("acquire: %w", context.DeadlineExceeded), 503, "unavailable"},
		{"a connection closed mid-answer", fmt.Errorf("read: %w", io.ErrUnexpectedEOF), 503, "unavailable"},
		{"the server shutting down", fmt.Errorf("query: %w", sqlError("57P01")), 503, "unavailable"},
		{"the server starting up", sqlError("57P03"), 503, "unavailable"},
		{"a connection exception", sqlError("08006"), 503, "unavailable"},
		{"too many connections", sqlError("53300"), 503, "unavailable"},
		{"a statement over statement_timeout", sqlError("57014"), 503, "unavailable"},
		{"a unique violation is no outage", sqlError("23505"), 500, "internal"},
		{"a bug is no outage", errors.New("nil map"), 500, "internal"},
		{"an unknown layer", fmt.Errorf("x: %w", layers.ErrUnknownLayer), 404, "unknown_layer"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			New(Options{Logger: quietLogger}).writeErr(rec, httptest.NewRequest("GET", "/", nil), tc.err)
			var body struct {
				Error apiError `json:"error"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatalf("body %q: %v", rec.Body, err)
			}
			if rec.Code != tc.wantStatus || body.Error.Code != tc.wantCode {
				t.Errorf("status %d code %q, want %d %q", rec.Code, body.Error.Code, tc.wantStatus, tc.wantCode)
			}
			retry := rec.Header().Get("Retry-After")
			if (tc.wantStatus == http.StatusServiceUnavailable) != (retry != "") {
				t.Errorf("status %d with Retry-After %q", rec.Code, retry)
			}
		})
	}
}
