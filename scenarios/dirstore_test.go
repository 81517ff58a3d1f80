package scenarios

import (
	"bufio"
	"context"
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
