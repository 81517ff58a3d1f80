package processtest

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestDurableWritesReachTheDiskBeforeTheAnswer runs citytwin under strace and reads, from the
// system calls it made, that each write to the data directory is durable before the write is
// acknowledged: the new content goes to a temporary file that is fsynced, renamed over the
// file, and the directory holding it is fsynced (and so is the parent of every directory made
// on the way), all before the server writes its HTTP answer or the command prints its result.
//
// A killed process keeps its writes in the page cache, so the crash test cannot tell an
// fsync from none; a power cut would, and this test does too.
func TestDurableWritesReachTheDiskBeforeTheAnswer(t *testing.T) {
	t.Run("a scenario created then changed, by the server in memory mode", func(t *testing.T) {
		root := realTempDir(t)
		dataDir := filepath.Join(root, "data") // made by the server
		tracePath := filepath.Join(root, "strace.out")
		srv := startServerUnder(t, straceCommand(t, tracePath), "--data-dir", dataDir)
		stop := stopTracedServer(t, srv)
		t.Cleanup(stop)
		srv.waitReady(60 * time.Second)
		lon, lat := cityCenter(t, srv)

		created := srv.do("POST", "/api/scenarios", map[string]any{"name": "durable"}, nil)
		var scen struct{ ID string }
		mustJSON(t, "create scenario", created, &scen)
		changed := srv.do("POST", "/api/scenarios/"+scen.ID+"/changes", facilityChange(lon, lat, "durable school"),
			map[string]string{"If-Match": "1"})
		if changed.status != http.StatusCreated {
			t.Fatalf("add a change: status %d, err %v, body %s", changed.status, changed.err, changed.body)
		}
		stop() // strace has written every line once the server is gone

		events := mustReadTrace(t, tracePath)
		// The memory mode keeps scenarios in <data dir>/scenarios, one file each in its
		// scenarios/ directory (scenarios.DirStore).
		target := filepath.Join(dataDir, "scenarios", "scenarios", scen.ID+".json")
		createdAck := httpAnswerWrite(t, events, "201 Created", created)
		checkDurableWrite(t, events, target, 0, createdAck, "the 201 answer to the scenario's creation")
		changedAck := httpAnswerWrite(t, events, "201 Created", changed)
		// A change is appended to the scenario's log (scenarios.DirStore), not renamed over it.
		checkDurableAppend(t, events, target, createdAck.end, changedAck, "the 201 answer to the change")
	})

	t.Run("a token made by token create --data-dir", func(t *testing.T) {
		root := realTempDir(t)
		dataDir := filepath.Join(root, "data") // made by the command
		tracePath := filepath.Join(root, "strace.out")
		out := runTraced(t, tracePath, "token", "create", "--role", "planner", "--name", "durable", "--data-dir", dataDir)
		secret := strings.TrimSpace(out)
		if secret == "" || strings.Contains(secret, "\n") {
			t.Fatalf("token create printed %q; want the token alone", out)
		}
		events := mustReadTrace(t, tracePath)
		printed := firstStdoutWrite(t, events, secret)
		checkDurableWrite(t, events, filepath.Join(dataDir, "tokens.json"), 0, printed, "the token printed on stdout")
	})

	t.Run("layers written by import --data-dir", func(t *testing.T) {
		root := realTempDir(t)
		dataDir := filepath.Join(root, "data") // made by the command
		tracePath := filepath.Join(root, "strace.out")
		input := filepath.Join(root, "school.geojson")
		school := `{"type":"Feature","id":1,"geometry":{"type":"Point","coordinates":[7.42,43.73]},` +
			`"properties":{"layer":"facilities","kind":"school","name":"Durable","capacity":100}}`
		if err := os.WriteFile(input, []byte(school), 0o644); err != nil {
			t.Fatal(err)
		}
		out := runTraced(t, tracePath, "import", "--data-dir", dataDir, input)
		if !strings.HasPrefix(out, input+": 1 features") {
			t.Fatalf("import printed %q; want the count of the one feature of %s", out, input)
		}
		events := mustReadTrace(t, tracePath)
		printed := firstStdoutWrite(t, events, input+": ")
		checkDurableWrite(t, events, filepath.Join(dataDir, "layers.ndjson"), 0, printed, "the import's report on stdout")
	})
}

// checkDurableAppend checks that between trace lines after and ack the process wrote to
// target itself (an append to a file that exists) and fsynced it after its last write there,
// before ack.
func checkDurableAppend(t *testing.T, events []*syscallEvent, target string, after int, ack *syscallEvent, what string) {
	t.Helper()
	var last *syscallEvent
	for _, e := range events {
		if e.isSend() && e.ok() && e.fdPath(0) == target && e.start > after && e.end < ack.start {
			last = e
		}
	}
	if last == nil {
		t.Errorf("no write to %s between trace lines %d and %d (%s)", target, after, ack.start, what)
		return
	}
	for _, e := range events {
		if e.isSync() && e.ok() && e.fdPath(0) == target && e.start > last.end && e.end < ack.start {
			t.Logf("%s: appended at line %d, file fsync at line %d, before %s at line %d", target, last.end, e.end, what, ack.start)
			return
		}
	}
	t.Errorf("%s was written (trace line %d) without an fsync before %s (line %d): after a power cut the "+
		"write can be lost, though it was acknowledged", target, last.end, what, ack.start)
}

// realTempDir is a new temporary directory by the path strace -yy shows for it (no symlinks).
func realTempDir(t *testing.T) string {
	t.Helper()
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// stopTracedServer returns a function that kills the server strace runs, then waits for
// strace to end (which it does once its program has gone, its output written). Killing
// strace alone would leave the server running, detached.
func stopTracedServer(t *testing.T, srv *server) func() {
	return func() {
		if srv.exited() {
			return
		}
		pid, err := childPID(srv.cmd.Process.Pid)
		if err != nil || pid == 0 {
			t.Errorf("find the server strace runs (pid %d, err %v): killing strace instead", pid, err)
			srv.kill()
			return
		}
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Errorf("kill the server: %v", err)
		}
		srv.waitExit(30 * time.Second)
	}
}

// runTraced runs a citytwin command under strace, writing the trace to tracePath, and returns
// what it printed on stdout; the test fails unless it exits 0. The command uses the data
// directory: no database from the environment.
func runTraced(t *testing.T, tracePath string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	all := append(append(straceCommand(t, tracePath), binary), args...)
	cmd := exec.CommandContext(ctx, all[0], all[1:]...)
	cmd.Env = withoutEnv(withoutEnv(os.Environ(), "DATABASE_URL"), "CITYTWIN_DATABASE")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("citytwin %s: %v\n%s", strings.Join(args, " "), err, stderr.Bytes())
	}
	return string(out)
}

func mustReadTrace(t *testing.T, path string) []*syscallEvent {
	t.Helper()
	events, err := readTrace(path)
	if err != nil {
		t.Fatal(err)
	}
	return events
}

// httpAnswerWrite is the write that began the HTTP answer a: the first bytes sent on a socket
// that start with its status line and carry its X-Request-Id.
func httpAnswerWrite(t *testing.T, events []*syscallEvent, status string, a answer) *syscallEvent {
	t.Helper()
	id := a.header.Get("X-Request-Id")
	if id == "" {
		t.Fatalf("the answer has no X-Request-Id to find it by in the trace: %v", a.header)
	}
	for _, e := range events {
		fd := e.fdPath(0)
		if !e.isSend() || !strings.HasPrefix(fd, "TCP") && !strings.HasPrefix(fd, "socket:") {
			continue
		}
		data := e.firstString()
		if strings.HasPrefix(data, "HTTP/1.1 "+status+"\r\n") && strings.Contains(data, "\r\nX-Request-Id: "+id+"\r\n") {
			return e
		}
	}
	t.Fatalf("no write of the HTTP answer %q with X-Request-Id %s to a socket in the trace", status, id)
	return nil
}

// firstStdoutWrite is the command's first write to its stdout, which must start with want.
func firstStdoutWrite(t *testing.T, events []*syscallEvent, want string) *syscallEvent {
	t.Helper()
	for _, e := range events {
		if e.isSend() && e.fd(0) == 1 {
			if data := e.firstString(); !strings.HasPrefix(data, want) {
				t.Fatalf("the first write to stdout (trace line %d) is %q; want it to start with %q", e.start, data, want)
			}
			return e
		}
	}
	t.Fatalf("no write to stdout in the trace")
	return nil
}

// checkDurableWrite fails the test unless the trace shows target replaced durably after
// trace line after and before ack began: the last rename onto target in that span moved a
// temporary file of its directory that had been fsynced after its last write; the directory
// was fsynced after the rename; and every directory on the way to target that the process
// made has its entry made durable by an fsync of its parent.
func checkDurableWrite(t *testing.T, events []*syscallEvent, target string, after int, ack *syscallEvent, what string) {
	t.Helper()
	dir := filepath.Dir(target)
	var rename *syscallEvent
	var tmp string
	for _, e := range events {
		if from, to, ok := e.renamed(); ok && e.ok() && to == target && e.start > after && e.end < ack.start {
			rename, tmp = e, from
		}
	}
	if rename == nil {
		t.Errorf("no rename onto %s between trace lines %d and %d (%s)", target, after, ack.start, what)
		return
	}
	if filepath.Dir(tmp) != dir || !strings.HasPrefix(filepath.Base(tmp), ".tmp-"+filepath.Base(target)) {
		t.Errorf("trace line %d renames %s onto %s; want a temporary file beside it", rename.end, tmp, target)
	}
	steps := []string{fmt.Sprintf("rename at line %d", rename.end)}

	var fileSync *syscallEvent
	for _, e := range events {
		if e.isSync() && e.ok() && e.fdPath(0) == tmp && e.start > after && e.end < rename.start {
			fileSync = e
		}
	}
	if fileSync == nil {
		t.Errorf("%s was renamed onto %s (trace line %d) without an fsync before: after a power cut the file "+
			"can be empty or hold old blocks, though %s was sent", tmp, target, rename.end, what)
	} else {
		for _, e := range events {
			if e.isSend() && e.fdPath(0) == tmp && e.end > fileSync.start {
				t.Errorf("%s was written (trace line %d) after its fsync (line %d)", tmp, e.end, fileSync.start)
			}
		}
		steps = append([]string{fmt.Sprintf("file fsync at line %d", fileSync.end)}, steps...)
	}

	var dirSync *syscallEvent
	for _, e := range events {
		if e.isSync() && e.ok() && e.fdPath(0) == dir && e.start > rename.end && e.end < ack.start {
			dirSync = e
			break
		}
	}
	if dirSync == nil {
		t.Errorf("the directory %s was not fsynced between the rename onto %s (trace line %d) and %s (line %d): "+
			"after a power cut the file can be the old one, or missing", dir, target, rename.end, what, ack.start)
	} else {
		steps = append(steps, fmt.Sprintf("directory fsync at line %d", dirSync.end))
	}

	top := "" // the first directory made on the way: the others are named from its parent
	for _, mk := range events {
		made, ok := mk.madeDir()
		if !ok || !mk.ok() || made != dir && !strings.HasPrefix(dir, made+string(filepath.Separator)) {
			continue
		}
		if top == "" {
			top = made
		}
		parent := filepath.Dir(made)
		var parentSync *syscallEvent
		for _, e := range events {
			if e.isSync() && e.ok() && e.fdPath(0) == parent && e.start > mk.end && e.end < ack.start {
				parentSync = e
				break
			}
		}
		if parentSync == nil {
			t.Errorf("the process made the directory %s (trace line %d) but did not fsync %s before %s (line %d): "+
				"after a power cut the directory, and %s in it, can be missing", made, mk.end, parent, what, ack.start, target)
		} else {
			rel, _ := filepath.Rel(filepath.Dir(top), made)
			steps = append(steps, fmt.Sprintf("new directory %s synced in its parent at line %d", rel, parentSync.end))
		}
	}
	t.Logf("%s: %s, before %s at line %d", target, strings.Join(steps, ", "), what, ack.start)
}
