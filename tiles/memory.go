package tiles

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/paulmach/orb/maptile"

	"github.com/citytwin/citytwin/citymodel"
	"github.com/citytwin/citytwin/cql2"
	"github.com/citytwin/citytwin/layers"
	"github.com/citytwin/citytwin/spatial"
)

// MemorySource makes tiles from the in-memory city model: for each layer, an index query by
// the tile's buffered bound, then Encode's steps. It implements layers.Source.
type MemorySource struct {
	model  *citymodel.Model
	fields atomic.Pointer[fieldCache] // of the model last served (fields.go)
}

var (
	_ layers.Source  = (*MemorySource)(nil)
	_ FilteredSource = (*MemorySource)(nil)
)

// NewMemorySource returns a source over the live model: each tile reads whichever model is
// current, so the model can be swapped while serving. While none is loaded, Tile returns
// citymodel.ErrNotReady.
func NewMemorySource(model *citymodel.Model) *MemorySource {
	return &MemorySource{model: model}
}

// Tile implements layers.Source.
func (m *MemorySource) Tile(ctx context.Context, t maptile.Tile, ls []*layers.Layer) ([]byte, error) {
	return m.tile(ctx, t, ls, nil)
}

// FilteredTile implements FilteredSource: the index query's candidates that the filter does
// not select are dropped before the encoder's steps (cql2.Filter.Match reads the feature's
// public fields and WGS84 geometry, with PostGIS's three-valued logic), so the encoder
// projects and clips only the features kept.
func (m *MemorySource) FilteredTile(ctx context.Context, t maptile.Tile, l *layers.Layer, f *cql2.Filter) ([]byte, error) {
	return m.tile(ctx, t, []*layers.Layer{l}, f)
}

// tile makes the tile of the layers ls, keeping only the features f selects when f is not
// nil.
func (m *MemorySource) tile(ctx context.Context, t maptile.Tile, ls []*layers.Layer, f *cql2.Filter) ([]byte, error) {
	c, err := m.model.Current()
	if err != nil {
		return nil, err
	}
	b := getBuilder(t)
	defer putBuilder(b)
	fc := m.fieldsFor(c)
	q := QueryBound(t)
	for _, l := range ls {
		if !InZoom(l, t.Z) {
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		ix := c.Layer(l.Name)
		if ix == nil {
			return nil, fmt.Errorf("%w %q", layers.ErrUnknownLayer, l.Name)
		}
		found := b.sel[:0]
		ix.SearchWGS84(q, func(it *spatial.Item) bool {
			if f == nil || f.Match(*it.Feature) {
				found = append(found, it.Feature)
			}
			return true
		})
		b.sel = found
		b.add(l, found, nil, fc.table(l))
	}
	return b.marshal()
}
