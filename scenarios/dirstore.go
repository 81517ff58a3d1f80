package scenarios

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/citytwin/citytwin/internal/atomicfile"
)

// DirStore keeps scenarios in a directory, for the memory mode: one file per scenario
// (scenarios/<id>.json) and one file per run (runs/<scenario id>/<run id>.json).
//
// A scenario's file is a log of JSON lines. Its first line is a snapshot, the scenario's
// metadata and changes ({"scenario": …, "changes": […]}); each later write appends its
// records — changes added ({"add": […]}) or one removed ({"remove": "c3"}) — and then the
// scenario's new metadata ({"scenario": …}), which commits it, and syncs the file before it
// returns. A write costs what it adds, whatever the scenario holds already. A write a crash
// cut short has no metadata line after its records: reading ignores it, and the next write
// cuts it off. Once the appended lines outgrow the snapshot, the next write compacts the
// log: a new snapshot goes to a temporary file that is fsynced, renamed over the log and
// followed by an fsync of the directory (as every run file is written), so the compaction
// costs in proportion to what was appended since the last one.
//
// Scenarios read or written lately (up to maxCachedScenarios) are kept decoded in memory;
// a read of one of them decodes nothing. Writes are serialized within the process: run one
// server per directory.
type DirStore struct {
	dir    string
	mu     sync.Mutex
	cached map[string]*scenarioLog
}

// maxCachedScenarios bounds the scenarios a DirStore keeps decoded in memory.
const maxCachedScenarios = 64

// scenarioFile is the snapshot line of scenarios/<id>.json (and the whole file as written
// before the log).
type scenarioFile struct {
	Scenario Scenario `json:"scenario"`
	Changes  []Change `json:"changes"`
}

// logLine is any line of a scenario's log: the snapshot (Scenario and Changes), changes
// added, a change removed, or the metadata that commits the records before it.
type logLine struct {
	Scenario *Scenario `json:"scenario,omitempty"`
	Changes  []Change  `json:"changes,omitempty"`
	Add      []Change  `json:"add,omitempty"`
	Remove   string    `json:"remove,omitempty"`
}

// scenarioLog is a scenario as its log holds it: the state after the last committed write,
// the length of the log up to it, and how much of that is the snapshot.
type scenarioLog struct {
	f        scenarioFile
	size     int64 // bytes of the log up to the last metadata line
	snapshot int64 // bytes of the snapshot line
	// unended: the snapshot has no newline (a file written before the log): the next write
	// writes a new snapshot rather than append to it.
	unended bool
}

// OpenDir opens (creating it when missing) a scenario directory. Temporary files left by a
// write a crash interrupted are removed.
func OpenDir(dir string) (*DirStore, error) {
	s := &DirStore{dir: dir, cached: map[string]*scenarioLog{}}
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

// load returns a scenario's log, from memory or read and replayed from its file. The caller
// holds s.mu and must not change what it returns but through append and compact.
func (s *DirStore) load(id string) (*scenarioLog, error) {
	if l, ok := s.cached[id]; ok {
		return l, nil
	}
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
	l, err := replay(b)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", p, err)
	}
	s.keep(id, l)
	return l, nil
}

// keep caches a scenario's log, dropping another when the cache is full.
func (s *DirStore) keep(id string, l *scenarioLog) {
	if _, ok := s.cached[id]; !ok && len(s.cached) >= maxCachedScenarios {
		for other := range s.cached {
			delete(s.cached, other)
			break
		}
	}
	s.cached[id] = l
}

// replay reads a scenario's log: its snapshot, then every write committed by a metadata
// line. Records after the last metadata line, or a last line without its newline, are a
// write a crash cut short: they are left out (size ends before them).
func replay(b []byte) (*scenarioLog, error) {
	first, rest, terminated := bytes.Cut(b, []byte{'\n'})
	var snap scenarioFile
	if err := json.Unmarshal(first, &snap); err != nil {
		return nil, fmt.Errorf("the snapshot: %w", err)
	}
	l := &scenarioLog{f: snap, size: int64(len(b)), snapshot: int64(len(b)), unended: !terminated}
	if terminated {
		l.size, l.snapshot = int64(len(first)+1), int64(len(first)+1)
	}
	var pending []logLine
	for off := l.size; terminated && len(rest) > 0; {
		var line []byte
		if line, rest, terminated = bytes.Cut(rest, []byte{'\n'}); !terminated {
			break // the last line, cut short
		}
		off += int64(len(line) + 1)
		var rec logLine
		if err := json.Unmarshal(line, &rec); err != nil {
			if len(rest) == 0 {
				break // the last line, cut short at a newline of its own text
			}
			return nil, fmt.Errorf("the line at byte %d: %w", off-int64(len(line)+1), err)
		}
		if rec.Scenario == nil {
			pending = append(pending, rec)
			continue
		}
		for _, r := range pending {
			l.f.Changes = applyRecord(l.f.Changes, r)
		}
		pending = pending[:0]
		l.f.Scenario, l.size = *rec.Scenario, off
	}
	if l.f.Changes == nil {
		l.f.Changes = []Change{}
	}
	l.f.Scenario.Visibility = l.f.Scenario.Visibility.OrDefault() // written before visibilities
	l.f.Scenario.Changes = len(l.f.Changes)
	return l, nil
}

// applyRecord applies changes added or removed to a scenario's changes.
func applyRecord(changes []Change, r logLine) []Change {
	if r.Remove != "" {
		for i, c := range changes {
			if c.ID == r.Remove {
				return append(changes[:i:i], changes[i+1:]...)
			}
		}
		return changes
	}
	return append(changes, r.Add...)
}

// readMeta reads only a scenario's metadata: from memory, else the log's last line when it
// is the metadata that commits a write, else the snapshot's first member ("scenario",
// written first), and the whole log when neither is at hand.
func (s *DirStore) readMeta(id string) (Scenario, error) {
	s.mu.Lock()
	if l, ok := s.cached[id]; ok {
		sc := l.f.Scenario
		s.mu.Unlock()
		return sc, nil
	}
	s.mu.Unlock()
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
	switch sc, tail := lastMetadata(fh); tail {
	case tailMetadata:
		return sc, nil
	case tailOther:
		return s.readWhole(id)
	}
	if _, err := fh.Seek(0, io.SeekStart); err != nil {
		return Scenario{}, err
	}
	dec := json.NewDecoder(bufio.NewReaderSize(fh, 4096))
	var sc Scenario
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return Scenario{}, fmt.Errorf("read %s: not a scenario file (%v)", p, err)
	}
	if tok, err := dec.Token(); err != nil || tok != "scenario" {
		return s.readWhole(id)
	}
	if err := dec.Decode(&sc); err != nil {
		return Scenario{}, fmt.Errorf("read %s: %w", p, err)
	}
	sc.Visibility = sc.Visibility.OrDefault()
	return sc, nil
}

// readWhole reads a scenario's metadata through its whole log.
func (s *DirStore) readWhole(id string) (Scenario, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, err := s.load(id)
	if err != nil {
		return Scenario{}, err
	}
	return l.f.Scenario, nil
}

// metaTail is how much of a log's end lastMetadata reads.
const metaTail = 64 << 10

// What a log's last line is.
const (
	tailMetadata = iota // the metadata that commits a write
	tailSnapshot        // the snapshot, alone in the log
	tailOther           // a write cut short, or a line longer than metaTail
)

// lastMetadata returns the metadata of a log's last line when that line commits a write, and
// says what the line is.
func lastMetadata(fh *os.File) (Scenario, int) {
	info, err := fh.Stat()
	if err != nil {
		return Scenario{}, tailOther
	}
	n := min(info.Size(), metaTail)
	b := make([]byte, n)
	if _, err := fh.ReadAt(b, info.Size()-n); err != nil {
		return Scenario{}, tailOther
	}
	end := bytes.LastIndexByte(b, '\n')
	if end >= 0 && end != len(b)-1 {
		return Scenario{}, tailOther // a last line without its newline
	}
	if end < 0 {
		end = len(b)
	}
	start := bytes.LastIndexByte(b[:end], '\n')
	if start < 0 {
		if n == info.Size() {
			return Scenario{}, tailSnapshot
		}
		return Scenario{}, tailOther
	}
	var rec logLine
	if json.Unmarshal(b[start+1:end], &rec) != nil || rec.Scenario == nil || rec.Changes != nil {
		return Scenario{}, tailOther
	}
	rec.Scenario.Visibility = rec.Scenario.Visibility.OrDefault()
	return *rec.Scenario, tailMetadata
}

// writeSnapshot writes a scenario's log anew as its snapshot alone, atomically, and returns
// it.
func (s *DirStore) writeSnapshot(f scenarioFile) (*scenarioLog, error) {
	p, err := s.scenarioPath(f.Scenario.ID)
	if err != nil {
		return nil, err
	}
	f.Scenario.Changes = len(f.Changes)
	b, err := json.Marshal(f)
	if err != nil {
		return nil, err
	}
	b = append(b, '\n')
	if err := atomicfile.WriteBytes(p, b); err != nil {
		return nil, err
	}
	return &scenarioLog{f: f, size: int64(len(b)), snapshot: int64(len(b))}, nil
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
	l, err := s.writeSnapshot(scenarioFile{Scenario: sc, Changes: slices.Clone(changes)})
	if err != nil {
		return err
	}
	s.keep(sc.ID, l)
	return nil
}

// Scenario implements Store. The changes share their geometries and properties with the
// store's memory: callers read them, never change them.
func (s *DirStore) Scenario(_ context.Context, id string) (Scenario, []Change, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, err := s.load(id)
	if err != nil {
		return Scenario{}, nil, err
	}
	return l.f.Scenario, slices.Clone(l.f.Changes), nil
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

// compactAfter is the least a log may have appended to its snapshot before it is compacted:
// a scenario's every write then costs what it adds up to that size, and from there on what
// it adds plus, once in a while, a snapshot in proportion to the lines appended since the
// last one.
var compactAfter int64 = 4 << 20

// modify appends a write to a scenario's log when its stored version is expected: the
// records (none for metadata alone) and the new metadata sc, synced before it returns; or,
// once the appended lines outgrow the snapshot, a new snapshot with them applied.
func (s *DirStore) modify(sc Scenario, expected int64, records ...logLine) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, err := s.load(sc.ID)
	if err != nil {
		return err
	}
	if l.f.Scenario.Version != expected {
		return fmt.Errorf("scenario %s is at version %d, not %d: %w", sc.ID, l.f.Scenario.Version, expected, ErrConflict)
	}
	changes := slices.Clip(l.f.Changes) // appending copies: the cached state stays as it is until the write is durable
	for _, r := range records {
		changes = applyRecord(changes, r)
	}
	sc.Changes = len(changes)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf) // one line per value
	for _, r := range records {
		if err := enc.Encode(r); err != nil {
			return fmt.Errorf("encode a write to scenario %s: %w", sc.ID, err)
		}
	}
	if err := enc.Encode(logLine{Scenario: &sc}); err != nil {
		return fmt.Errorf("encode a write to scenario %s: %w", sc.ID, err)
	}
	if appended := l.size - l.snapshot + int64(buf.Len()); l.unended || appended > max(l.snapshot, compactAfter) {
		next, err := s.writeSnapshot(scenarioFile{Scenario: sc, Changes: changes})
		if err != nil {
			return fmt.Errorf("compact the log of scenario %s: %w", sc.ID, err)
		}
		s.keep(sc.ID, next)
		return nil
	}
	if err := s.appendLog(sc.ID, l.size, buf.Bytes()); err != nil {
		delete(s.cached, sc.ID) // the file may hold part of the write: read it again
		return err
	}
	l.f, l.size = scenarioFile{Scenario: sc, Changes: changes}, l.size+int64(buf.Len())
	return nil
}

// appendLog writes b at offset size of a scenario's log, cutting off what a write cut short
// left beyond it, and syncs the file.
func (s *DirStore) appendLog(id string, size int64, b []byte) error {
	p, err := s.scenarioPath(id)
	if err != nil {
		return err
	}
	fh, err := os.OpenFile(p, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("open the log of scenario %s: %w", id, err)
	}
	if err := fh.Truncate(size); err != nil {
		fh.Close()
		return fmt.Errorf("cut the log of scenario %s at %d bytes: %w", id, size, err)
	}
	_, err = fh.WriteAt(b, size)
	if err == nil {
		err = fh.Sync()
	}
	if err != nil {
		_ = fh.Truncate(size) // the write is not acknowledged: take back what reached the file
		fh.Close()
		return fmt.Errorf("append to the log of scenario %s: %w", id, err)
	}
	return fh.Close()
}

// UpdateScenario implements Store.
func (s *DirStore) UpdateScenario(_ context.Context, sc Scenario, expected int64) error {
	return s.modify(sc, expected)
}

// AddChanges implements Store.
func (s *DirStore) AddChanges(_ context.Context, sc Scenario, expected int64, changes []Change) error {
	return s.modify(sc, expected, logLine{Add: changes})
}

// RemoveChange implements Store.
func (s *DirStore) RemoveChange(ctx context.Context, sc Scenario, expected int64, changeID string) error {
	s.mu.Lock()
	l, err := s.load(sc.ID)
	found := false
	if err == nil {
		for _, c := range l.f.Changes {
			found = found || c.ID == changeID
		}
	}
	s.mu.Unlock()
	if err != nil {
		return err
	}
	if !found {
		return fmt.Errorf("change %s: %w", changeID, ErrNotFound)
	}
	return s.modify(sc, expected, logLine{Remove: changeID})
}

// DeleteScenario implements Store. The scenario file goes first (durably), so a crash
// half-way leaves at worst orphaned run files, never a scenario without its runs' parent.
func (s *DirStore) DeleteScenario(_ context.Context, id string, expected int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, err := s.load(id)
	if err != nil {
		return err
	}
	if l.f.Scenario.Version != expected {
		return fmt.Errorf("scenario %s is at version %d, not %d: %w", id, l.f.Scenario.Version, expected, ErrConflict)
	}
	delete(s.cached, id)
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
	if _, err := s.load(r.ScenarioID); err != nil {
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
