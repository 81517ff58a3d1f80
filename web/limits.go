package web

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
)

// Limits on what one request may cost: the size of its body, the nesting of its JSON, how
// long it may run and (ratelimit.go) how often a client may call. Each refusal is a JSON
// error and changes nothing.

// MaxJSONDepth bounds the nesting of a JSON body. The deepest body the API takes is a batch
// of MultiPolygon changes: {"changes": [{"geometry": {"coordinates": [[[[x, y]]]]}}]}, eight
// levels; properties add one or two.
const MaxJSONDepth = 32

// DefaultRequestTimeout is how long a request may run when Options.RequestTimeout is zero.
const DefaultRequestTimeout = 60 * time.Second

// withLimits wraps the router with the per-request limits, outermost first: body size, rate
// (ratelimit.go), then the deadline, so that a request refused early costs nothing.
func (s *Server) withLimits(h http.Handler) http.Handler {
	return s.limitBody(s.rateLimit(s.timeout(h)))
}

// bodyLimit is the configured body limit.
func (s *Server) bodyLimit() int64 {
	if s.opts.MaxBodyBytes > 0 {
		return s.opts.MaxBodyBytes
	}
	return MaxBodyBytes
}

// limitBody refuses a body announced larger than the limit at once (413, before reading
// it) and caps what a handler can read of any other body, so that a chunked upload without
// Content-Length is stopped at the limit too (decodeBody answers 413 then).
func (s *Server) limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		limit := s.bodyLimit()
		if r.URL.Path == AdminImportPath {
			limit = s.uploadLimit() // adminimport.go
		}
		if r.ContentLength > limit {
			tooLarge(w, limit)
			return
		}
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = http.MaxBytesReader(w, r.Body, limit)
		}
		next.ServeHTTP(w, r)
	})
}

// tooLarge answers 413 for a body beyond limit bytes. The connection is closed afterwards:
// the rest of the body is not worth reading.
func tooLarge(w http.ResponseWriter, limit int64) {
	w.Header().Set("Connection", "close")
	writeError(w, http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("the body is larger than %d bytes", limit))
}

// jsonDepth returns the deepest nesting of arrays and objects in b, scanning no further
// than one level past max. b need not be valid JSON: the decoder reports syntax errors.
func jsonDepth(b []byte, max int) int {
	depth, deepest, inString, escaped := 0, 0, false, false
	for _, c := range b {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '[' || c == '{':
			depth++
			if depth > deepest {
				deepest = depth
				if deepest > max {
					return deepest
				}
			}
		case c == ']' || c == '}':
			depth--
		}
	}
	return deepest
}

// jsonField is the JSON name of a field the decoder names: without the Go names of embedded
// structs ("ChangeInput.properties" is "properties"), which mean nothing to a client.
func jsonField(f string) string {
	for {
		head, rest, ok := strings.Cut(f, ".")
		if !ok || head == "" || !unicode.IsUpper(rune(head[0])) {
			return f
		}
		f = rest
	}
}

// timeout gives every request a deadline (its context is cancelled then, which stops the
// scenario engine and database queries) and answers 503 JSON when the handler has not begun
// its answer by then. The handler writes straight through to the client (nothing is
// buffered), so large tiles and any streamed answer keep working; an answer already begun
// when the deadline passes is left to finish, its handler seeing the cancelled context.
func (s *Server) timeout(next http.Handler) http.Handler {
	d := s.opts.RequestTimeout
	if d < 0 {
		return next
	}
	if d == 0 {
		d = DefaultRequestTimeout
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), d)
		defer cancel()
		tw := &timeoutWriter{w: w, h: make(http.Header)}
		done := make(chan struct{})
		panicked := make(chan any, 1)
		go func() {
			defer close(done)
			defer func() {
				if p := recover(); p != nil {
					panicked <- p
				}
			}()
			next.ServeHTTP(tw, r.WithContext(ctx))
		}()
		select {
		case <-done:
		case <-ctx.Done():
			if tw.expire() {
				w.Header().Set("Retry-After", "1")
				writeError(w, http.StatusServiceUnavailable, "timeout",
					fmt.Sprintf("the request took longer than %s", d))
				return
			}
			<-done // the answer has begun: let it finish
		}
		select {
		case p := <-panicked:
			panic(p) // to recoverPanics, in the serving goroutine
		default:
		}
	})
}

// timeoutWriter passes a handler's answer through to w until the deadline. The handler gets
// a header map of its own, copied to w when the answer begins, so that an expired handler
// writing headers late does not race with the 503 written in its place.
type timeoutWriter struct {
	w http.ResponseWriter
	h http.Header

	mu      sync.Mutex
	started bool // the answer has begun: the deadline no longer replaces it
	expired bool // the 503 was written: later writes are dropped
}

func (tw *timeoutWriter) Header() http.Header { return tw.h }

// expire reports whether the 503 may replace the answer (nothing written yet), and if so
// drops everything the handler writes from now on.
func (tw *timeoutWriter) expire() bool {
	tw.mu.Lock()
	defer tw.mu.Unlock()
	if tw.started {
		return false
	}
	tw.expired = true
	return true
}

// begin copies the handler's headers to the client's answer once; false after expiry.
func (tw *timeoutWriter) begin() bool {
	if tw.expired {
		return false
	}
	if !tw.started {
		tw.started = true
		dst := tw.w.Header()
		for k, v := range tw.h {
			dst[k] = v
		}
	}
	return true
}

func (tw *timeoutWriter) WriteHeader(code int) {
	tw.mu.Lock()
	defer tw.mu.Unlock()
	if tw.started || !tw.begin() {
		return
	}
	tw.w.WriteHeader(code)
}

func (tw *timeoutWriter) Write(b []byte) (int, error) {
	tw.mu.Lock()
	defer tw.mu.Unlock()
	if !tw.begin() {
		return 0, http.ErrHandlerTimeout
	}
	return tw.w.Write(b)
}

// Flush passes a flush through, so that streamed answers stay streamed.
func (tw *timeoutWriter) Flush() {
	tw.mu.Lock()
	defer tw.mu.Unlock()
	if !tw.begin() {
		return
	}
	if f, ok := tw.w.(http.Flusher); ok {
		f.Flush()
	}
}

// retryAfter formats a wait as whole seconds for Retry-After, at least 1.
func retryAfter(d time.Duration) string {
	secs := int64((d + time.Second - 1) / time.Second)
	return strconv.FormatInt(max(secs, 1), 10)
}
