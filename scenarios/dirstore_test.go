package scenarios

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestDirStoreRoundTrip(t *testing.T) {
	ctx := context.Background()
	st, err := OpenDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	sc := Scenario{ID: NewID(), Name: "a", Version: 1, CreatedAt: t0, UpdatedAt: t0}
	if err := st.CreateScenario(ctx, sc, nil); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateScenario(ctx, sc, nil); !errors.Is(err, ErrConflict) {
		t.Fatalf("creating twice: %v", err)
	}
	next := sc
	next.Version, next.ChangeSeq = 2, 1
	ch := Change{ID: "c1", Seq: 1, Kind: DemolishBuilding, Target: "4", CreatedAt: t0}
	if err := st.AddChanges(ctx, next, 1, []Change{ch}); err != nil {
		t.Fatal(err)
	}
	if err := st.AddChanges(ctx, next, 1, []Change{ch}); !errors.Is(err, ErrConflict) {
		t.Fatalf("a write on a stale version: %v", err)
	}
	got, changes, err := st.Scenario(ctx, sc.ID)
	if err != nil || got.Version != 2 || got.Changes != 1 || len(changes) != 1 || changes[0].Target != "4" {
		t.Fatalf("read back %+v %+v %v", got, changes, err)
	}
	run := &Run{ID: NewID(), ScenarioID: sc.ID, ScenarioVersion: 2, Indicators: map[string]Value{"residents": {1, 2, 1}}}
	if err := st.SaveRun(ctx, run); err != nil {
		t.Fatal(err)
	}
	r, err := st.Run(ctx, sc.ID, run.ID)
	if err != nil || r.Indicators["residents"].Diff != 1 {
		t.Fatalf("run read back %+v %v", r, err)
	}
	if _, err := st.Run(ctx, sc.ID, NewID()); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing run: %v", err)
	}
	if _, err := st.Run(ctx, sc.ID, "../../etc/passwd"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a path as a run id: %v", err)
	}
	next.Version = 3
	if err := st.RemoveChange(ctx, next, 2, "c9"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("removing a missing change: %v", err)
	}
	if err := st.RemoveChange(ctx, next, 2, "c1"); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteScenario(ctx, sc.ID, 2); !errors.Is(err, ErrConflict) {
		t.Fatalf("delete on a stale version: %v", err)
	}
	if err := st.DeleteScenario(ctx, sc.ID, 3); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Run(ctx, sc.ID, run.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a deleted scenario's run: %v", err)
	}
	list, err := st.Scenarios(ctx)
	if err != nil || len(list) != 0 {
		t.Fatalf("list after delete: %v %v", list, err)
	}
}

// TestDirStoreSurvivesACrash runs a writer in a child process, kills it with SIGKILL in
// the middle of its writes (no Close, no deferred cleanup), and reopens the directory: every
// change the writer acknowledged is there, the file parses, and leftovers of the interrupted
// write are gone.
func TestDirStoreSurvivesACrash(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestDirStoreCrashWriter$")
	cmd.Env = append(os.Environ(), "CITYTWIN_CRASH_DIR="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	var id string
	acked := 0
	for sc.Scan() {
		line := sc.Text()
		if s, ok := strings.CutPrefix(line, "scenario "); ok {
			id = s
			continue
		}
		if s, ok := strings.CutPrefix(line, "acked "); ok {
			acked, _ = strconv.Atoi(s)
			if acked >= 40 {
				break
			}
		}
	}
	_ = cmd.Process.Kill() // a crash: no chance to finish, close or clean up
	_ = cmd.Wait()
	if id == "" || acked < 40 {
		t.Fatalf("the writer acknowledged %d changes of scenario %q", acked, id)
	}
	// A temporary file as an interrupted write leaves it.
	torn := filepath.Join(dir, "scenarios", ".tmp-"+id+".json-123")
	if err := os.WriteFile(torn, []byte(`{"scenario": {"id": "`), 0o644); err != nil {
		t.Fatal(err)
	}

	st, err := OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	got, changes, err := st.Scenario(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) < acked || got.Version != int64(len(changes))+1 {
		t.Fatalf("after the crash: %d changes at version %d; %d were acknowledged", len(changes), got.Version, acked)
	}
	for i, c := range changes {
		if c.ID != fmt.Sprintf("c%d", i+1) {
			t.Fatalf("change %d is %s", i, c.ID)
		}
	}
	if _, err := os.Stat(torn); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the torn temporary file is still there: %v", err)
	}
}

// TestDirStoreCrashWriter is the child of TestDirStoreSurvivesACrash: it appends changes
// one by one and prints each acknowledgement, until it is killed.
func TestDirStoreCrashWriter(t *testing.T) {
	dir := os.Getenv("CITYTWIN_CRASH_DIR")
	if dir == "" {
		t.Skip("run by TestDirStoreSurvivesACrash")
	}
	ctx := context.Background()
	st, err := OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	sc := Scenario{ID: NewID(), Name: "crash", Version: 1, CreatedAt: time.Now()}
	if err := st.CreateScenario(ctx, sc, nil); err != nil {
		t.Fatal(err)
	}
	fmt.Printf("scenario %s\n", sc.ID)
	for i := 1; ; i++ {
		next := sc
		next.Version, next.ChangeSeq = sc.Version+1, int64(i)
		c := Change{ID: fmt.Sprintf("c%d", i), Seq: int64(i), Kind: DemolishBuilding, Target: strconv.Itoa(i)}
		if err := st.AddChanges(ctx, next, sc.Version, []Change{c}); err != nil {
			t.Fatal(err)
		}
		sc = next
		fmt.Printf("acked %d\n", i)
	}
}

// dirScenario makes a scenario in a new DirStore with the given changes added one write
// each, and returns the store, the scenario at its last version and its log's path.
func dirScenario(t *testing.T, dir string, changes ...Change) (*DirStore, Scenario, string) {
	t.Helper()
	ctx := context.Background()
	st, err := OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	sc := Scenario{ID: NewID(), Name: "logged", Version: 1, CreatedAt: t0, UpdatedAt: t0}
	if err := st.CreateScenario(ctx, sc, nil); err != nil {
		t.Fatal(err)
	}
	for _, c := range changes {
		next := sc
		next.Version, next.ChangeSeq = sc.Version+1, c.Seq
		if err := st.AddChanges(ctx, next, sc.Version, []Change{c}); err != nil {
			t.Fatal(err)
		}
		sc = next
	}
	return st, sc, filepath.Join(dir, "scenarios", sc.ID+".json")
}

func demolition(i int) Change {
	return Change{ID: fmt.Sprintf("c%d", i), Seq: int64(i), Kind: DemolishBuilding, Target: strconv.Itoa(i)}
}

// changeIDs are the ids of a scenario's changes as a new store reads them from its file.
func changeIDs(t *testing.T, dir, id string) (Scenario, string) {
	t.Helper()
	st, err := OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	sc, changes, err := st.Scenario(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range changes {
		ids = append(ids, c.ID)
	}
	return sc, strings.Join(ids, ",")
}

// A write cut short by a crash (its records written, not the metadata line that commits
// them, or half a line) is left out when the log is read, listed or written again.
func TestDirStoreLeavesOutAWriteCutShort(t *testing.T) {
	for _, tc := range []struct{ name, tail string }{
		{"records without their metadata line", `{"add":[{"id":"c3","seq":3,"kind":"demolish_building","target":"3"}]}` + "\n"},
		{"half a line", `{"add":[{"id":"c3","seq":3,"ki`},
		{"a long record without its metadata line", `{"add":[` + strings.Repeat(`{"id":"c3","seq":3,"kind":"demolish_building","target":"3"},`, 40) +
			`{"id":"c3","seq":3,"kind":"demolish_building","target":"3"}]}` + "\n"},
		{"records and half their metadata line", `{"add":[{"id":"c3","seq":3,"kind":"demolish_building","target":"3"}]}` + "\n" + `{"scenario":{"id":"x","vers`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			_, sc, path := dirScenario(t, dir, demolition(1), demolition(2))
			fh, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := fh.WriteString(tc.tail); err != nil {
				t.Fatal(err)
			}
			fh.Close()
			if got, ids := changeIDs(t, dir, sc.ID); ids != "c1,c2" || got.Version != 3 {
				t.Fatalf("read after the cut: version %d, changes %s; want 3 and c1,c2", got.Version, ids)
			}
			st, err := OpenDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			if list, err := st.Scenarios(context.Background()); err != nil || len(list) != 1 || list[0].Version != 3 {
				t.Fatalf("listed after the cut: %+v, %v; want version 3", list, err)
			}
			// The next write goes where the cut write began.
			next := sc
			next.Version, next.ChangeSeq = 4, 3
			if err := st.AddChanges(context.Background(), next, 3, []Change{demolition(3)}); err != nil {
				t.Fatal(err)
			}
			if got, ids := changeIDs(t, dir, sc.ID); ids != "c1,c2,c3" || got.Version != 4 {
				t.Fatalf("read after the next write: version %d, changes %s; want 4 and c1,c2,c3", got.Version, ids)
			}
			// Nothing of the cut write is left after it: the log ends with its metadata line.
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
			var last logLine
			if err := json.Unmarshal([]byte(lines[len(lines)-1]), &last); err != nil || last.Scenario == nil || last.Scenario.Version != 4 {
				t.Fatalf("the log ends with %.200q (%v), not the metadata of version 4", lines[len(lines)-1], err)
			}
		})
	}
}

// An added change is appended to the scenario's log, not written with the rest again: the
// file stays the same file (a rewrite renames a new one over it) and grows by one record.
func TestDirStoreAppendsAnAddedChange(t *testing.T) {
	dir := t.TempDir()
	st, sc, path := dirScenario(t, dir, demolition(1))
	before, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	next := sc
	next.Version, next.ChangeSeq = sc.Version+1, 2
	if err := st.AddChanges(context.Background(), next, sc.Version, []Change{demolition(2)}); err != nil {
		t.Fatal(err)
	}
	after, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if !os.SameFile(before, after) || after.Size() <= before.Size() {
		t.Fatalf("the log was replaced or did not grow: %d then %d bytes", before.Size(), after.Size())
	}
	if got, ids := changeIDs(t, dir, sc.ID); ids != "c1,c2" || got.Version != 3 || got.Changes != 2 {
		t.Fatalf("read back: version %d, %d changes (%s)", got.Version, got.Changes, ids)
	}
}

// Once the appended lines outgrow the snapshot (and compactAfter), the next write makes the
// log a snapshot again: one line holding every change, the removed one gone.
func TestDirStoreCompactsItsLog(t *testing.T) {
	saved := compactAfter
	compactAfter = 0
	t.Cleanup(func() { compactAfter = saved })
	dir := t.TempDir()
	st, sc, path := dirScenario(t, dir, demolition(1), demolition(2), demolition(3))
	next := sc
	next.Version = sc.Version + 1
	if err := st.RemoveChange(context.Background(), next, sc.Version, "c2"); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// A snapshot of 3 changes is larger than the lines appended since it (a removal and a
	// metadata line), so the log may hold one or three lines; never more.
	if lines := strings.Count(string(b), "\n"); lines != 1 && lines != 3 {
		t.Fatalf("the log holds %d lines after compactions: %s", lines, b)
	}
	if got, ids := changeIDs(t, dir, sc.ID); ids != "c1,c3" || got.Version != 5 || got.Changes != 2 {
		t.Fatalf("read back: version %d, %d changes (%s)", got.Version, got.Changes, ids)
	}
}

// A scenario file written before the log (one JSON object, no newline) is read, and the first
// write to it makes it a log without gluing its line to the snapshot.
func TestDirStoreTakesOverAFileWrittenBeforeTheLog(t *testing.T) {
	dir := t.TempDir()
	st, err := OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	sc := Scenario{ID: NewID(), Name: "old", Version: 2, CreatedAt: t0, UpdatedAt: t0, Changes: 1, ChangeSeq: 1}
	b, err := json.Marshal(scenarioFile{Scenario: sc, Changes: []Change{demolition(1)}})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "scenarios", sc.ID+".json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	next := sc
	next.Version, next.ChangeSeq = 3, 2
	if err := st.AddChanges(context.Background(), next, 2, []Change{demolition(2)}); err != nil {
		t.Fatal(err)
	}
	if got, ids := changeIDs(t, dir, sc.ID); ids != "c1,c2" || got.Version != 3 {
		t.Fatalf("read back: version %d, changes %s; want 3 and c1,c2", got.Version, ids)
	}
}
