package scenarios

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/citytwin/citytwin/internal/atomicfile"
)

// DirStore keeps scenarios in a directory, for the memory mode: one JSON file per scenario
// holding its metadata and changes (scenarios/<id>.json), and one file per run
// (runs/<scenario id>/<run id>.json). Every write goes to a temporary file that is fsynced,
// renamed over the old one and followed by an fsync of the directory, so after a crash a
// file is either its old or its new version, and an acknowledged write is on disk. Writes
// are serialized within the process; run one server per directory.
type DirStore struct {
	dir string
	mu  sync.Mutex
}

// scenarioFile is the content of scenarios/<id>.json.
type scenarioFile struct {
	Scenario Scenario `json:"scenario"`
	Changes  []Change `json:"changes"`
}

// OpenDir opens (creating it when missing) a scenario directory. Temporary files left by a
// write a crash interrupted are removed.
func OpenDir(dir string) (*DirStore, error) {
	s := &DirStore{dir: dir}
	for _, d := range []string{s.scenarioDir(), filepath.Join(dir, "runs")} {
		if err := atomicfile.MkdirAll(d); err != nil {
			return nil, fmt.Errorf("open scenario store: %w", err)
		}
	}
	if err := removeTemps(s.scenarioDir()); err != nil {
		return nil, err
	}
	return s, nil
}

func removeTemps(dir string) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".tmp-") {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *DirStore) scenarioDir() string { return filepath.Join(s.dir, "scenarios") }

func (s *DirStore) scenarioPath(id string) (string, error) {
	if !ValidID(id) {
		return "", fmt.Errorf("scenario %q: %w", id, ErrNotFound)
	}
	return filepath.Join(s.scenarioDir(), id+".json"), nil
}

func (s *DirStore) runPath(sid, rid string) (string, error) {
	if !ValidID(sid) || !ValidID(rid) {
		return "", fmt.Errorf("run %q: %w", rid, ErrNotFound)
	}
	return filepath.Join(s.dir, "runs", sid, rid+".json"), nil
}

func (s *DirStore) read(id string) (*scenarioFile, error) {
	p, err := s.scenarioPath(id)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("scenario %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	var f scenarioFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("read %s: %w", p, err)
	}
	if f.Changes == nil {
		f.Changes = []Change{}
	}
	f.Scenario.Visibility = f.Scenario.Visibility.OrDefault() // written before visibilities
	return &f, nil
}

// readMeta reads only a scenario's metadata: the file's first member ("scenario", written
// first by write), not its changes.
func (s *DirStore) readMeta(id string) (Scenario, error) {
	p, err := s.scenarioPath(id)
	if err != nil {
		return Scenario{}, err
	}
	fh, err := os.Open(p)
	if errors.Is(err, os.ErrNotExist) {
		return Scenario{}, fmt.Errorf("scenario %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return Scenario{}, err
	}
	defer fh.Close()
	dec := json.NewDecoder(bufio.NewReaderSize(fh, 4096))
	var sc Scenario
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return Scenario{}, fmt.Errorf("read %s: not a scenario file (%v)", p, err)
	}
	if tok, err := dec.Token(); err != nil || tok != "scenario" {
		f, err := s.read(id) // not in the order write makes: read it all
		if err != nil {
			return Scenario{}, err
		}
		return f.Scenario, nil
	}
	if err := dec.Decode(&sc); err != nil {
		return Scenario{}, fmt.Errorf("read %s: %w", p, err)
	}
	sc.Visibility = sc.Visibility.OrDefault()
	return sc, nil
}

func (s *DirStore) write(f *scenarioFile) error {
	p, err := s.scenarioPath(f.Scenario.ID)
	if err != nil {
		return err
	}
	f.Scenario.Changes = len(f.Changes)
	b, err := json.Marshal(f)
	if err != nil {
		return err
	}
	return atomicfile.WriteBytes(p, b)
}

// CreateScenario implements Store.
func (s *DirStore) CreateScenario(_ context.Context, sc Scenario, changes []Change) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, err := s.scenarioPath(sc.ID)
	if err != nil {
		return err
	}
	if _, err := os.Stat(p); err == nil {
		return fmt.Errorf("scenario %s exists: %w", sc.ID, ErrConflict)
	}
	if changes == nil {
		changes = []Change{}
	}
	return s.write(&scenarioFile{Scenario: sc, Changes: changes})
}

// Scenario implements Store.
func (s *DirStore) Scenario(_ context.Context, id string) (Scenario, []Change, error) {
	f, err := s.read(id)
	if err != nil {
		return Scenario{}, nil, err
	}
	return f.Scenario, f.Changes, nil
}

// Scenarios implements Store.
func (s *DirStore) Scenarios(_ context.Context) ([]Scenario, error) {
	ents, err := os.ReadDir(s.scenarioDir())
	if err != nil {
		return nil, err
	}
	out := []Scenario{}
	for _, e := range ents {
		id, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || !ValidID(id) {
			continue
		}
		sc, err := s.readMeta(id)
		if errors.Is(err, ErrNotFound) {
			continue // deleted meanwhile
		}
		if err != nil {
			return nil, err
		}
		out = append(out, sc)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.After(out[j].CreatedAt)
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

// modify reads a scenario under the write lock, checks its version and writes fn's result.
func (s *DirStore) modify(id string, expected int64, fn func(f *scenarioFile) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, err := s.read(id)
	if err != nil {
		return err
	}
	if f.Scenario.Version != expected {
		return fmt.Errorf("scenario %s is at version %d, not %d: %w", id, f.Scenario.Version, expected, ErrConflict)
	}
	if err := fn(f); err != nil {
		return err
	}
	return s.write(f)
}

// UpdateScenario implements Store.
func (s *DirStore) UpdateScenario(_ context.Context, sc Scenario, expected int64) error {
	return s.modify(sc.ID, expected, func(f *scenarioFile) error {
		f.Scenario.Name, f.Scenario.Description = sc.Name, sc.Description
		f.Scenario.Version, f.Scenario.UpdatedAt, f.Scenario.Visibility = sc.Version, sc.UpdatedAt, sc.Visibility
		return nil
	})
}

// AddChanges implements Store.
func (s *DirStore) AddChanges(_ context.Context, sc Scenario, expected int64, changes []Change) error {
	return s.modify(sc.ID, expected, func(f *scenarioFile) error {
		f.Scenario = sc
		f.Changes = append(f.Changes, changes...)
		return nil
	})
}

// RemoveChange implements Store.
func (s *DirStore) RemoveChange(_ context.Context, sc Scenario, expected int64, changeID string) error {
	return s.modify(sc.ID, expected, func(f *scenarioFile) error {
		for i, c := range f.Changes {
			if c.ID == changeID {
				f.Changes = append(f.Changes[:i:i], f.Changes[i+1:]...)
				f.Scenario = sc
				return nil
			}
		}
		return fmt.Errorf("change %s: %w", changeID, ErrNotFound)
	})
}

// DeleteScenario implements Store. The scenario file goes first (durably), so a crash
// half-way leaves at worst orphaned run files, never a scenario without its runs' parent.
func (s *DirStore) DeleteScenario(_ context.Context, id string, expected int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, err := s.read(id)
	if err != nil {
		return err
	}
	if f.Scenario.Version != expected {
		return fmt.Errorf("scenario %s is at version %d, not %d: %w", id, f.Scenario.Version, expected, ErrConflict)
	}
	p, _ := s.scenarioPath(id)
	if err := os.Remove(p); err != nil {
		return err
	}
	if err := atomicfile.SyncDir(s.scenarioDir()); err != nil {
		return err
	}
	return os.RemoveAll(filepath.Join(s.dir, "runs", id))
}

// SaveRun implements Store.
func (s *DirStore) SaveRun(_ context.Context, r *Run) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.read(r.ScenarioID); err != nil {
		return err
	}
	p, err := s.runPath(r.ScenarioID, r.ID)
	if err != nil {
		return err
	}
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if err := atomicfile.WriteBytes(p, b); err != nil {
		return err
	}
	// The run directory may be new: make its entry in runs/ durable too.
	return atomicfile.SyncDir(filepath.Dir(filepath.Dir(p)))
}

// Run implements Store.
func (s *DirStore) Run(_ context.Context, scenarioID, runID string) (*Run, error) {
	p, err := s.runPath(scenarioID, runID)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("run %s of scenario %s: %w", runID, scenarioID, ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	var r Run
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("read %s: %w", p, err)
	}
	return &r, nil
}

// Runs implements Store.
func (s *DirStore) Runs(_ context.Context, scenarioID string) ([]RunSummary, error) {
	if !ValidID(scenarioID) {
		return nil, fmt.Errorf("scenario %q: %w", scenarioID, ErrNotFound)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	dir := filepath.Join(s.dir, "runs", scenarioID)
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return []RunSummary{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list the runs of scenario %s: %w", scenarioID, err)
	}
	out := []RunSummary{}
	for _, e := range ents {
		if id, ok := strings.CutSuffix(e.Name(), ".json"); !ok || !ValidID(id) {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("list the runs of scenario %s: %w", scenarioID, err)
		}
		var r RunSummary
		if err := json.Unmarshal(b, &r); err != nil {
			return nil, fmt.Errorf("read run %s of scenario %s: %w", e.Name(), scenarioID, err)
		}
		out = append(out, r)
	}
	SortRuns(out)
	return out, nil
}

// PruneRuns implements Store: a run file's modification time is when it was saved.
func (s *DirStore) PruneRuns(_ context.Context, scenarioID string, keep int) error {
	if !ValidID(scenarioID) {
		return fmt.Errorf("scenario %q: %w", scenarioID, ErrNotFound)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	dir := filepath.Join(s.dir, "runs", scenarioID)
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("list the runs of scenario %s: %w", scenarioID, err)
	}
	type runFile struct {
		name string
		at   time.Time
	}
	var runs []runFile
	for _, e := range ents {
		if id, ok := strings.CutSuffix(e.Name(), ".json"); !ok || !ValidID(id) {
			continue
		}
		info, err := e.Info()
		if err != nil {
			return fmt.Errorf("list the runs of scenario %s: %w", scenarioID, err)
		}
		runs = append(runs, runFile{e.Name(), info.ModTime()})
	}
	if len(runs) <= keep {
		return nil
	}
	sort.Slice(runs, func(i, j int) bool {
		if !runs[i].at.Equal(runs[j].at) {
			return runs[i].at.After(runs[j].at)
		}
		return runs[i].name > runs[j].name
	})
	for _, r := range runs[keep:] {
		if err := os.Remove(filepath.Join(dir, r.name)); err != nil {
			return fmt.Errorf("remove run %s of scenario %s: %w", r.name, scenarioID, err)
		}
	}
	return atomicfile.SyncDir(dir)
}
