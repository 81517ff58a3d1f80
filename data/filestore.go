package data

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

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
	existing, err := ReadFile(s.path())
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	type key struct {
		layer string
		id    int64
	}
	seen := make(map[key]bool, len(existing)+len(add))
	for _, f := range existing {
		seen[key{f.Layer, f.ID}] = true
	}
	for i, f := range add {
		if seen[key{f.Layer, f.ID}] {
			return nil, fmt.Errorf("feature %d: id %d already exists in layer %s", i, f.ID, f.Layer)
		}
		seen[key{f.Layer, f.ID}] = true
	}
	all := append(existing, add...)
	if err := atomicfile.Write(s.path(), func(w io.Writer) error { return WriteGeoJSON(w, all) }); err != nil {
		return nil, fmt.Errorf("write %s: %w", s.path(), err)
	}
	return countLayers(add), nil
}
