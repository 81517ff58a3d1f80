package spatial

import (
	"context"
	"fmt"

	"github.com/paulmach/orb"

	"github.com/citytwin/citytwin/layers"
)

// City is the whole city model: one index per catalog layer, all in one local projection.
type City struct {
	Proj   Projection
	Bound  orb.Bound // WGS84 extent of every feature
	layers map[string]*Index

	// Streets are the ways a pedestrian may use (LineString or MultiLineString features in
	// WGS84), the engine's walking network: the streets layer's features open to pedestrians
	// (layers.WalkingNetwork), unless the store keeps streets of its own (StreetSource). nil:
	// the city has no network, and the engine measures straight lines.
	Streets []layers.Feature
}

// StreetSource is a layers.Store that also keeps the city's walkable ways beside its layers;
// Load reads them into City.Streets when it returns any.
type StreetSource interface {
	Streets(ctx context.Context) ([]layers.Feature, error)
}

// NewCity indexes features, centring the metric projection on their extent, and takes its
// walking network from the streets among them. Features of layers outside the catalog are an
// error.
func NewCity(features []layers.Feature) (*City, error) {
	var b orb.Bound
	for i := range features {
		if i == 0 {
			b = features[i].Geometry.Bound()
		} else {
			b = b.Union(features[i].Geometry.Bound())
		}
	}
	c := newEmptyCity(b)
	for i := range features {
		if err := c.add(&features[i]); err != nil {
			return nil, err
		}
	}
	c.Streets = layers.WalkingNetwork(features)
	return c, nil
}

func newEmptyCity(b orb.Bound) *City {
	c := &City{Proj: NewProjection(b.Center()), Bound: b, layers: map[string]*Index{}}
	for _, name := range layers.Names() {
		c.layers[name] = NewIndex(name, c.Proj)
	}
	return c
}

func (c *City) add(f *layers.Feature) error {
	ix, ok := c.layers[f.Layer]
	if !ok {
		return fmt.Errorf("feature %d: %w %q", f.ID, layers.ErrUnknownLayer, f.Layer)
	}
	ix.Insert(f)
	return nil
}

// Load builds the city from a store, streaming its features.
func Load(ctx context.Context, s layers.Store) (*City, error) {
	var fs []layers.Feature
	if err := s.Load(ctx, func(f layers.Feature) error {
		fs = append(fs, f)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("load city: %w", err)
	}
	c, err := NewCity(fs)
	if err != nil {
		return nil, err
	}
	if ss, ok := s.(StreetSource); ok {
		streets, err := ss.Streets(ctx)
		if err != nil {
			return nil, fmt.Errorf("load city streets: %w", err)
		}
		if len(streets) > 0 {
			c.Streets = streets
		}
	}
	return c, nil
}

// Layer returns the index of a catalog layer (empty when the city has none of it), or nil
// for a name outside the catalog.
func (c *City) Layer(name string) *Index { return c.layers[name] }

// Counts reports the number of features per layer.
func (c *City) Counts() layers.Counts {
	out := layers.Counts{}
	for name, ix := range c.layers {
		out[name] = ix.Len()
	}
	return out
}
