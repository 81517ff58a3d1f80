package web

import (
	"net/http"

	"github.com/paulmach/orb"

	"github.com/citytwin/citytwin/layers"
	"github.com/citytwin/citytwin/spatial"
	"github.com/citytwin/citytwin/tiles"
)

// derivedNote explains the derived field every layer has.
const derivedNote = `Features with "derived": true were modelled from other data, not surveyed: treat their geometry and values as estimates.`

// catalogAnswer is the body of GET /catalog.
type catalogAnswer struct {
	Attribution string         `json:"attribution"`
	Bounds      *[4]float64    `json:"bounds"` // of the whole city; null while the model loads
	TileJSON    string         `json:"tilejson"`
	Style       string         `json:"style"`
	Layers      []catalogLayer `json:"layers"`
}

type catalogLayer struct {
	Name         string         `json:"name"`
	Title        string         `json:"title"`
	Description  string         `json:"description"`
	GeometryType string         `json:"geometry_type"`
	MinZoom      int            `json:"minzoom"`
	MaxZoom      int            `json:"maxzoom"`
	Fields       []catalogField `json:"fields"`
	Features     int            `json:"features"`
	Derived      int            `json:"derived_features"`
	DerivedNote  string         `json:"derived_note"`
	Bounds       *[4]float64    `json:"bounds"` // null when the layer is empty
	Attribution  string         `json:"attribution"`
	Tiles        string         `json:"tiles"`
	TileJSON     string         `json:"tilejson"`
}

type catalogField struct {
	Name        string   `json:"name"`
	Type        string   `json:"type"`      // String, Number, Integer, Boolean or List
	TileType    string   `json:"tile_type"` // as tiles hold it: String, Number or Boolean
	Description string   `json:"description"`
	Enum        []string `json:"enum,omitempty"`
	Min         *float64 `json:"min,omitempty"`
	Max         *float64 `json:"max,omitempty"`
}

// catalogMeta is what the catalog says about the data, computed once per model and data
// version.
type catalogMeta struct {
	city    *spatial.City
	version uint64
	bounds  map[string]orb.Bound
	counts  map[string]int
	derived map[string]int
}

func (s *Server) catalogMeta() *catalogMeta {
	c, v := s.model.City(), s.model.Version()
	if m := s.tileState.meta.Load(); m != nil && m.city == c && m.version == v {
		return m
	}
	m := &catalogMeta{city: c, version: v, bounds: map[string]orb.Bound{}, counts: map[string]int{}, derived: map[string]int{}}
	if c != nil {
		for _, l := range layers.All() {
			ix := c.Layer(l.Name)
			if ix == nil {
				continue
			}
			for i, it := range ix.Items() {
				b := it.Feature.Geometry.Bound()
				if i == 0 {
					m.bounds[l.Name] = b
				} else {
					m.bounds[l.Name] = m.bounds[l.Name].Union(b)
				}
				if it.Feature.Props["derived"] == true {
					m.derived[l.Name]++
				}
			}
			m.counts[l.Name] = ix.Len()
		}
	}
	s.tileState.meta.Store(m)
	return m
}

// catalog serves GET|HEAD /catalog: every layer with its public fields, zoom range, extent and
// tile URLs. Restricted fields are not listed.
func (s *Server) catalog(w http.ResponseWriter, r *http.Request) {
	base := requestBaseURL(r)
	m := s.catalogMeta()
	all := s.opts.Published.Base()
	ans := catalogAnswer{
		Attribution: layers.Attribution,
		TileJSON:    base + "/tiles/" + layerNames(all) + ".json",
		Style:       base + "/styles/city.json",
		Layers:      make([]catalogLayer, 0, len(all)),
	}
	if b := s.cityBound(); !b.IsZero() {
		ans.Bounds = roundBound(b)
	}
	for _, l := range all {
		cl := catalogLayer{
			Name: l.Name, Title: l.Title, Description: l.Description, GeometryType: string(l.Geometry),
			MinZoom: l.MinZoom, MaxZoom: l.MaxZoom, Fields: []catalogField{},
			Features: m.counts[l.Name], Derived: m.derived[l.Name], DerivedNote: derivedNote,
			Attribution: layers.Attribution,
			Tiles:       tileURLTemplate(base, l.Name),
			TileJSON:    base + "/tiles/" + l.Name + ".json",
		}
		if b, ok := m.bounds[l.Name]; ok {
			cl.Bounds = roundBound(b)
		}
		for _, f := range l.PublicFields() {
			cf := catalogField{Name: f.Name, Type: string(f.Type), TileType: tiles.TileFieldType(f.Type), Description: f.Description, Enum: f.Enum}
			if f.Max > f.Min {
				lo, hi := f.Min, f.Max
				cf.Min, cf.Max = &lo, &hi
			}
			cl.Fields = append(cl.Fields, cf)
		}
		ans.Layers = append(ans.Layers, cl)
	}
	ans.Layers = append(ans.Layers, s.extraCatalogLayers(base)...)
	body, err := marshalJSON(ans)
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	writeRepresentation(w, r, jsonRepresentation(body, metaCacheControl, forwardedHeaders...))
}

func roundBound(b orb.Bound) *[4]float64 {
	r := tiles.RoundBound(b)
	return &r
}
