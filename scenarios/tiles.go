package scenarios

import (
	"context"
	"fmt"
	"strconv"

	"github.com/paulmach/orb/maptile"

	"github.com/citytwin/citytwin/layers"
	"github.com/citytwin/citytwin/spatial"
	"github.com/citytwin/citytwin/tiles"
)

// A variant is a tile source: its tiles are the base layers as the scenario changes them,
// with a "change" field (added, modified, demolished) on changed features; demolished
// features stay in the tile so a map can show what goes.

var (
	_ layers.Source = (*Variant)(nil)
	_ layers.Source = (*VariantTiles)(nil)
)

// changeFields are the extra tile fields of each change state, shared by every feature.
var changeFields = map[string]map[string]any{
	StatusAdded:      {"change": StatusAdded},
	StatusModified:   {"change": StatusModified},
	StatusDemolished: {"change": StatusDemolished},
}

// Tile implements layers.Source with the tiles package's encoder: per layer, the variant's
// features meeting the tile's buffered bound, and the demolished baseline features there.
// Layers outside the catalog (a city's extra layers) are an error wrapping
// layers.ErrUnknownLayer.
func (v *Variant) Tile(ctx context.Context, t maptile.Tile, ls []*layers.Layer) ([]byte, error) {
	q := v.City.Proj.Bound(tiles.QueryBound(t))
	sel := make([]tiles.LayerFeatures, 0, len(ls))
	for _, l := range ls {
		if !tiles.InZoom(l, t.Z) {
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		lv := v.Layer(l.Name)
		if lv == nil {
			return nil, fmt.Errorf("%w %q", layers.ErrUnknownLayer, l.Name)
		}
		var fs []*layers.Feature
		lv.Search(q, func(it *spatial.Item) bool {
			fs = append(fs, it.Feature)
			return true
		})
		for id, st := range lv.Status {
			if st == StatusDemolished {
				if it, ok := lv.Base.Get(id); ok && it.Bound.Intersects(q) {
					fs = append(fs, it.Feature)
				}
			}
		}
		sel = append(sel, tiles.LayerFeatures{Layer: l, Features: fs})
	}
	return tiles.Encode(t, sel, func(f *layers.Feature) map[string]any {
		if st, ok := v.Changed(f.Layer)[f.ID]; ok {
			return changeFields[st]
		}
		return nil
	})
}

// VariantTiles is the tile source of one scenario at one version: its variant over the live
// model, built the first time a tile needs it (once, however many tiles ask at the same
// time) and kept.
type VariantTiles struct {
	svc     *Service
	sc      Scenario
	changes []Change
}

// VariantTiles returns the tile source of a scenario at its current version.
func (s *Service) VariantTiles(ctx context.Context, id string) (*VariantTiles, error) {
	if _, err := s.city(); err != nil {
		return nil, err
	}
	sc, changes, err := s.scenario(ctx, id)
	if err != nil {
		return nil, err
	}
	return &VariantTiles{svc: s, sc: sc, changes: changes}, nil
}

// Name names the source in tile cache keys: the scenario and its version. The model's data
// version completes the key.
func (vt *VariantTiles) Name() string {
	return "scenario:" + vt.sc.ID + "@" + strconv.FormatInt(vt.sc.Version, 10)
}

// Scenario is the scenario whose tiles these are, at the version they show.
func (vt *VariantTiles) Scenario() Scenario { return vt.sc }

// Tile implements layers.Source over the variant of the model current when the tile is made.
func (vt *VariantTiles) Tile(ctx context.Context, t maptile.Tile, ls []*layers.Layer) ([]byte, error) {
	city, err := vt.svc.city()
	if err != nil {
		return nil, err
	}
	v, err := vt.svc.variant(ctx, city, vt.sc, vt.changes)
	if err != nil {
		return nil, err
	}
	return v.Tile(ctx, t, ls)
}
