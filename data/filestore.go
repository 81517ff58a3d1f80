package data

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/citytwin/citytwin/internal/atomicfile"
	"github.com/citytwin/citytwin/layers"
)

// FileStore keeps the base layers of the memory mode as newline-delimited GeoJSON in a
// directory. With no layers file there, it serves the embedded demo city.
type FileStore struct {
	Dir string
}

// NewFileStore returns the store of a data directory (created on first write).
func NewFileStore(dir string) *FileStore { return &FileStore{Dir: dir} }

func (s *FileStore) path() string { return filepath.Join(s.Dir, "layers.ndjson") }

// Load implements layers.Store.
func (s *FileStore) Load(ctx context.Context, fn func(layers.Feature) error) error {
	fs, err := s.features()
	if err != nil {
		return err
	}
	for _, f := range fs {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(f); err != nil {
			return err
		}
	}
	return nil
}

func (s *FileStore) features() ([]layers.Feature, error) {
	fs, err := ReadFile(s.path())
	if errors.Is(err, os.ErrNotExist) {
		return Demo()
	}
	return fs, err
}

// Counts implements layers.Store.
func (s *FileStore) Counts(ctx context.Context) (layers.Counts, error) {
	fs, err := s.features()
	if err != nil {
		return nil, err
	}
	return countLayers(fs), nil
}

func countLayers(fs []layers.Feature) layers.Counts {
	c := layers.Counts{}
	for _, f := range fs {
		c[f.Layer]++
	}
	return c
}

// Import implements layers.Store: the features are added to those already imported (not to
// the demo city), all or nothing. A duplicate id in a layer is an error. The new file is
// written beside the old one, synced and renamed over it, so a crash leaves one or the other.
func (s *FileStore) Import(ctx context.Context, add []layers.Feature) (layers.Counts, error) {
	err := s.rewrite(func([]layers.Feature) ([]layers.Feature, error) { return add, nil }, nil)
	if err != nil {
		return nil, err
	}
	return countLayers(add), nil
}

// Replace swaps every feature of the named layers for add (which may fill those layers
// only), all or nothing, by the same atomic rewrite as Import: a reader (a server's reload)
// reads the old layers or the new ones, never a part of either.
func (s *FileStore) Replace(ctx context.Context, names []string, add []layers.Feature) (layers.Counts, error) {
	drop := map[string]bool{}
	for _, n := range names {
		if _, err := layers.Lookup(n); err != nil {
			return nil, err
		}
		drop[n] = true
	}
	for _, f := range add {
		if !drop[f.Layer] {
			return nil, fmt.Errorf("replace %v: feature %d is of layer %s", names, f.ID, f.Layer)
		}
	}
	err := s.rewrite(func([]layers.Feature) ([]layers.Feature, error) { return add, nil },
		func(f *layers.Feature) bool { return drop[f.Layer] })
	if err != nil {
		return nil, err
	}
	return countLayers(add), nil
}

// Upsert writes add matched by the key field (layers.PlanUpsert): a feature whose key is
// stored replaces that feature, keeping its id; the others are added. One atomic rewrite.
func (s *FileStore) Upsert(ctx context.Context, key string, add []layers.Feature) (layers.Upsert, error) {
	var plan layers.Upsert
	replaced := map[string]map[int64]bool{}
	err := s.rewrite(func(existing []layers.Feature) ([]layers.Feature, error) {
		stored := map[string]map[string][]int64{}
		for i := range existing {
			f := &existing[i]
			l, err := layers.Lookup(f.Layer)
			if err != nil || layers.CheckUpsertKey(l, key) != nil {
				continue // a layer the import does not touch, or refused by PlanUpsert
			}
			k, ok, err := layers.UpsertKeyText(l, key, f)
			if err != nil || !ok {
				continue
			}
			if stored[f.Layer] == nil {
				stored[f.Layer] = map[string][]int64{}
			}
			stored[f.Layer][k] = append(stored[f.Layer][k], f.ID)
		}
		var err error
		if plan, err = layers.PlanUpsert(key, stored, add); err != nil {
			return nil, err
		}
		for l, ids := range plan.Replaced {
			replaced[l] = map[int64]bool{}
			for _, id := range ids {
				replaced[l][id] = true
			}
		}
		return add, nil
	}, func(f *layers.Feature) bool { return replaced[f.Layer][f.ID] })
	return plan, err
}

// rewrite replaces the layers file, under the data directory's lock, with its features
// that drop (nil: none) leaves and those plan returns (given the stored features). An id
// repeated in a layer is an error and nothing is written.
func (s *FileStore) rewrite(plan func(existing []layers.Feature) ([]layers.Feature, error), drop func(*layers.Feature) bool) error {
	unlock, err := s.lock()
	if err != nil {
		return err
	}
	defer unlock()
	existing, err := ReadFile(s.path())
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	add, err := plan(existing)
	if err != nil {
		return err
	}
	type key struct {
		layer string
		id    int64
	}
	all := make([]layers.Feature, 0, len(existing)+len(add))
	seen := make(map[key]bool, len(existing)+len(add))
	for _, f := range existing {
		if drop != nil && drop(&f) {
			continue
		}
		seen[key{f.Layer, f.ID}] = true
		all = append(all, f)
	}
	for i, f := range add {
		if seen[key{f.Layer, f.ID}] {
			return fmt.Errorf("feature %d: id %d already exists in layer %s", i, f.ID, f.Layer)
		}
		seen[key{f.Layer, f.ID}] = true
	}
	all = append(all, add...)
	if err := atomicfile.Write(s.path(), func(w io.Writer) error { return WriteGeoJSON(w, all) }); err != nil {
		return fmt.Errorf("write %s: %w", s.path(), err)
	}
	return nil
}

// lock takes the data directory's write lock (an flock on DIR/.layers.lock), so that two
// imports (a command and a server's upload) do not each rewrite the file from the same old
// one and lose the other's features.
func (s *FileStore) lock() (func(), error) {
	if err := atomicfile.MkdirAll(s.Dir); err != nil {
		return nil, fmt.Errorf("lock %s: %w", s.Dir, err)
	}
	f, err := os.OpenFile(filepath.Join(s.Dir, ".layers.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", s.Dir, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", s.Dir, err)
	}
	return func() { f.Close() }, nil // closing releases the lock
}

// Follow calls changed whenever the layers file is replaced (an import by this process or
// another), looking every interval, until ctx ends. A rewrite renames a new file over the
// old one, so a new inode, size or modification time tells it.
func (s *FileStore) Follow(ctx context.Context, interval time.Duration, changed func()) {
	last, _ := os.Stat(s.path())
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		cur, err := os.Stat(s.path())
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			continue
		}
		if sameFile(last, cur) {
			continue
		}
		last = cur
		changed()
	}
}

func sameFile(a, b os.FileInfo) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return os.SameFile(a, b) && a.Size() == b.Size() && a.ModTime().Equal(b.ModTime())
}
