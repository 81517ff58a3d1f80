package tiles

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/paulmach/orb/maptile"

	"github.com/citytwin/citytwin/citymodel"
	"github.com/citytwin/citytwin/layers"
	"github.com/citytwin/citytwin/spatial"
)

// MemorySource makes tiles from the in-memory city model: for each layer, an index query by
// the tile's buffered bound, then Encode's steps. It implements layers.Source.
type MemorySource struct {
	model  *citymodel.Model
	fields atomic.Pointer[fieldCache] // of the model last served (fields.go)
}

var _ layers.Source = (*MemorySource)(nil)

// NewMemorySource returns a source over the live model: each tile reads whichever model is
// current, so the model can be swapped while serving. While none is loaded, Tile returns
// citymodel.ErrNotReady.
func NewMemorySource(model *citymodel.Model) *MemorySource {
	return &MemorySource{model: model}
}

// Tile implements layers.Source.
func (m *MemorySource) Tile(ctx context.Context, t maptile.Tile, ls []*layers.Layer) ([]byte, error) {
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
			found = append(found, it.Feature)
			return true
		})
		b.sel = found
		b.add(l, found, nil, fc.table(l))
	}
	return b.marshal()
}
