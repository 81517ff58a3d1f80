package web

import (
	"slices"
	"strings"

	"github.com/paulmach/orb"

	"github.com/citytwin/citytwin/layers"
	"github.com/citytwin/citytwin/tiles"
)

// Extra layers (layers.Extra): a city's own PostGIS tables published as tiles beside the base
// layers. They are listed in the catalog, have TileJSON and tiles like base layers (alone or
// with others in one tile), and are never in the model, the API's lookups or scenarios.

// attribution is the attribution of tiles of the given layers: the catalog's when a base
// layer is among them, and each extra layer's own.
func (s *Server) attribution(ls []*layers.Layer) string {
	var parts []string
	for _, l := range ls {
		a := layers.Attribution
		if e := s.opts.Published.Extra(l.Name); e != nil && e.Attribution != "" {
			a = e.Attribution
		}
		if !slices.Contains(parts, a) {
			parts = append(parts, a)
		}
	}
	return strings.Join(parts, "; ")
}

// layersBound is the WGS84 extent of the given layers' data: the model's for base layers,
// and each extra layer's as measured at start.
func (s *Server) layersBound(ls []*layers.Layer) orb.Bound {
	var b orb.Bound
	extend := func(x orb.Bound) {
		if x.IsZero() {
			return
		}
		if b.IsZero() {
			b = x
		} else {
			b = b.Union(x)
		}
	}
	for _, l := range ls {
		if e := s.opts.Published.Extra(l.Name); e != nil {
			extend(e.Bounds)
		} else {
			extend(s.cityBound())
		}
	}
	return b
}

// extraCatalogLayers are the catalog entries of the extra layers.
func (s *Server) extraCatalogLayers(base string) []catalogLayer {
	var out []catalogLayer
	for _, e := range s.opts.Published.Extras() {
		cl := catalogLayer{
			Name: e.Name, Title: e.Title, Description: e.Description, GeometryType: string(e.Geometry),
			MinZoom: e.MinZoom, MaxZoom: e.MaxZoom, Fields: []catalogField{}, Features: e.Features,
			Attribution: s.attribution([]*layers.Layer{&e.Layer}),
			Tiles:       tileURLTemplate(base, e.Name),
			TileJSON:    base + "/tiles/" + e.Name + ".json",
		}
		if !e.Bounds.IsZero() {
			cl.Bounds = roundBound(e.Bounds)
		}
		for _, f := range e.Fields {
			cl.Fields = append(cl.Fields, catalogField{Name: f.Name, Type: string(f.Type), TileType: tiles.TileFieldType(f.Type), Description: f.Description})
		}
		out = append(out, cl)
	}
	return out
}
