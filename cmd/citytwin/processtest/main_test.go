// Package processtest runs the citytwin binary as a real process and checks how it behaves
// when things go wrong around it: the database goes away and comes back, the process is
// told to stop (SIGTERM) with a request in flight, the process is killed (SIGKILL) while a
// client writes scenario changes; and, read from its system calls under strace, that what it
// acknowledges is on disk (fsynced) first. The binary is built once per run; the PostGIS
// tests start a cluster of their own (cluster_test.go), so that stopping it disturbs no other
// package's tests.
package processtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// binary is the citytwin binary the tests run, built by TestMain.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "citytwin-processtest-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "citytwin")
	code := 1
	if err := build(binary); err != nil {
		fmt.Fprintln(os.Stderr, err)
	} else {
		code = m.Run()
	}
	if err := closeCluster(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

// build compiles the citytwin command to out.
func build(out string) error {
	gobin, err := exec.LookPath("go")
	if err != nil {
		gobin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	cmd := exec.Command(gobin, "build", "-o", out, "github.com/citytwin/citytwin/cmd/citytwin")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build: %v\n%s", err, b)
	}
	return nil
}

// runCommand runs a citytwin subcommand to completion (import, generate...).
func runCommand(t *testing.T, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	b, err := exec.CommandContext(ctx, binary, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("citytwin %s: %v\n%s", strings.Join(args, " "), err, b)
	}
}

// freePort returns a loopback port nobody listens on at the moment.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// logBuffer collects a process's output for the test to read while it runs.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// server is a running `citytwin serve`.
type server struct {
	t    *testing.T
	cmd  *exec.Cmd
	addr string
	log  *logBuffer
	done chan struct{} // closed when the process has exited
	err  error         // its exit, once done
}

// plannerToken is the planner's bearer token of every server the tests start.
const plannerToken = "process-test-planner-token"

// startServer starts `citytwin serve` on a free loopback port with args, and stops it (kill)
// when the test ends if it still runs. Its log is printed when the test failed.
func startServer(t *testing.T, args ...string) *server {
	t.Helper()
	return startServerUnder(t, nil, args...)
}

// startServerUnder is startServer with the server run by the command prefix (a tracer and
// its options) rather than directly; with an empty prefix it is startServer.
func startServerUnder(t *testing.T, prefix []string, args ...string) *server {
	t.Helper()
	s := &server{t: t, addr: fmt.Sprintf("127.0.0.1:%d", freePort(t)), log: &logBuffer{}, done: make(chan struct{})}
	all := append(append(slices.Clone(prefix), binary, "serve", "--addr", s.addr, "--log-format", "json",
		"--planner-token", plannerToken), args...)
	s.cmd = exec.Command(all[0], all[1:]...)
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	// The server reads DATABASE_URL when --database is absent: memory-mode servers must not.
	s.cmd.Env = withoutEnv(os.Environ(), "DATABASE_URL")
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start server: %v", err)
	}
	go func() {
		s.err = s.cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(func() {
		s.kill()
		if t.Failed() {
			t.Logf("server %s log:\n%s", s.addr, s.log.String())
		}
	})
	return s
}

func withoutEnv(env []string, name string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, name+"=") {
			out = append(out, kv)
		}
	}
	return out
}

func (s *server) url(path string) string { return "http://" + s.addr + path }

// kill stops the process at once (SIGKILL) and waits for it.
func (s *server) kill() {
	select {
	case <-s.done:
		return
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.done
}

// exited reports whether the process has ended.
func (s *server) exited() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// waitExit waits for the process to end and returns its exit code.
func (s *server) waitExit(timeout time.Duration) int {
	s.t.Helper()
	select {
	case <-s.done:
	case <-time.After(timeout):
		s.t.Fatalf("the server did not exit within %s", timeout)
	}
	var ee *exec.ExitError
	if errors.As(s.err, &ee) {
		return ee.ExitCode()
	}
	if s.err != nil {
		s.t.Fatalf("wait for the server: %v", s.err)
	}
	return 0
}

// waitReady polls /readyz until it answers 200.
func (s *server) waitReady(timeout time.Duration) {
	s.t.Helper()
	if _, ok := pollUntil(timeout, func() bool {
		if s.exited() {
			s.t.Fatalf("the server exited before it was ready: %v", s.err)
		}
		return s.get("/readyz").status == http.StatusOK
	}); !ok {
		s.t.Fatalf("the server was not ready within %s", timeout)
	}
}

// waitLog waits until the server's log holds a line with every one of parts.
func (s *server) waitLog(timeout time.Duration, parts ...string) {
	s.t.Helper()
	if _, ok := pollUntil(timeout, func() bool { return s.logHas(parts...) }); !ok {
		s.t.Fatalf("no log line with %q within %s", parts, timeout)
	}
}

func (s *server) logHas(parts ...string) bool {
	for _, line := range strings.Split(s.log.String(), "\n") {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(line, p)
		}
		if all {
			return true
		}
	}
	return false
}

// answer is an HTTP answer read whole; status 0 when the request failed (err says why).
type answer struct {
	status int
	header http.Header
	body   []byte
	err    error
}

// errorCode is the code of a JSON error answer, "" when the body is not one.
func (a answer) errorCode() string {
	var e struct {
		Error struct{ Code string } `json:"error"`
	}
	if json.Unmarshal(a.body, &e) != nil {
		return ""
	}
	return e.Error.Code
}

// client has no keep-alive: every request is a new connection, as after a restart.
var client = &http.Client{
	Timeout:   30 * time.Second,
	Transport: &http.Transport{DisableKeepAlives: true, DisableCompression: true},
}

func (s *server) get(path string) answer { return s.do(http.MethodGet, path, nil, nil) }

// do sends a request (as the planner when the path is under /api/scenarios) with body
// marshalled to JSON when not nil.
func (s *server) do(method, path string, body any, header map[string]string) answer {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return answer{err: err}
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, s.url(path), rd)
	if err != nil {
		return answer{err: err}
	}
	if strings.HasPrefix(path, "/api/scenarios") {
		req.Header.Set("Authorization", "Bearer "+plannerToken)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		return answer{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return answer{status: resp.StatusCode, header: resp.Header, body: b, err: err}
}

// mustJSON decodes a 2xx answer's body into v, failing the test on any other answer.
func mustJSON(t *testing.T, what string, a answer, v any) {
	t.Helper()
	if a.err != nil || a.status/100 != 2 {
		t.Fatalf("%s: status %d, err %v, body %s", what, a.status, a.err, a.body)
	}
	if err := json.Unmarshal(a.body, v); err != nil {
		t.Fatalf("%s: %v in %s", what, err, a.body)
	}
}

// pollUntil calls ok every 50 ms until it returns true or timeout passes; it returns how
// long that took.
func pollUntil(timeout time.Duration, ok func() bool) (time.Duration, bool) {
	start := time.Now()
	for {
		if ok() {
			return time.Since(start), true
		}
		if time.Since(start) > timeout {
			return time.Since(start), false
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// cityCenter is the middle of the city the server serves, from its TileJSON.
func cityCenter(t *testing.T, s *server) (lon, lat float64) {
	t.Helper()
	var tj struct {
		Bounds [4]float64 `json:"bounds"`
	}
	mustJSON(t, "TileJSON", s.get("/tiles/facilities.json"), &tj)
	b := tj.Bounds
	if b[0] >= b[2] || b[1] >= b[3] {
		t.Fatalf("the city has no extent: bounds %v", b)
	}
	return (b[0] + b[2]) / 2, (b[1] + b[3]) / 2
}
