package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/gorilla/mux"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"github.com/citytwin/citytwin/citymodel"
	"github.com/citytwin/citytwin/cql2"
	"github.com/citytwin/citytwin/layers"
	"github.com/citytwin/citytwin/spatial"
)

// OGC API Features items: GET /ogc/collections/{collectionId}/items and .../items/{featureId}.

// Limits of the OGC API items.
const (
	DefaultOGCItems = 100
	MaxOGCItems     = 10000
)

// featureSource answers feature queries: the PostGIS store in PostGIS mode (with SQL made by
// cql2.Filter.SQL), the live model otherwise (memoryFeatures). Features returns, in
// ascending id order, at most limit features of a layer whose id is above after and that the
// filter selects (all when nil), and how many the filter selects in the whole layer.
type featureSource interface {
	Features(ctx context.Context, layer string, filter *cql2.Filter, after int64, limit int) ([]layers.Feature, int64, error)
	Feature(ctx context.Context, layer string, id int64) (layers.Feature, bool, error)
}

// featureSource is the server's feature source: the tile source when it answers feature queries
// (the PostGIS store), else the live model.
func (s *Server) featureSource() featureSource {
	if fs, ok := s.opts.TileSource.(featureSource); ok {
		return fs
	}
	return memoryFeatures{s.model}
}

// memoryFeatures answers feature queries from the live model's spatial index.
type memoryFeatures struct{ model *citymodel.Model }

func (m memoryFeatures) Features(_ context.Context, layer string, filter *cql2.Filter, after int64, limit int) ([]layers.Feature, int64, error) {
	c, err := m.model.Current()
	if err != nil {
		return nil, 0, err
	}
	var keep func(*layers.Feature) bool
	var bound *orb.Bound
	if filter != nil {
		keep = func(f *layers.Feature) bool { return filter.Match(*f) }
		bound = searchBound(filter.Expr())
	}
	found := layerFeatures(c, layer, bound, keep)
	i := sort.Search(len(found), func(i int) bool { return found[i].ID > after })
	page := found[i:min(len(found), i+limit)]
	out := make([]layers.Feature, len(page))
	for j, f := range page {
		out[j] = *f
	}
	return out, int64(len(found)), nil
}

func (m memoryFeatures) Feature(_ context.Context, layer string, id int64) (layers.Feature, bool, error) {
	c, err := m.model.Current()
	if err != nil {
		return layers.Feature{}, false, err
	}
	ix := c.Layer(layer)
	if ix == nil {
		return layers.Feature{}, false, nil
	}
	it, ok := ix.Get(id)
	if !ok {
		return layers.Feature{}, false, nil
	}
	return *it.Feature, true, nil
}

// layerFeatures returns the features of a layer of the city that keep accepts (all when
// nil), in ascending id order; with a WGS84 bound, only those whose envelope meets it,
// searched in the layer's R-tree. /api/features and the OGC API items share it.
func layerFeatures(c *spatial.City, layer string, bound *orb.Bound, keep func(*layers.Feature) bool) []*layers.Feature {
	ix := c.Layer(layer)
	if ix == nil {
		return nil
	}
	var found []*layers.Feature
	if bound == nil {
		for _, it := range ix.Items() {
			if keep == nil || keep(it.Feature) {
				found = append(found, it.Feature)
			}
		}
		return found
	}
	ix.SearchWGS84(*bound, func(it *spatial.Item) bool {
		if it.Feature.Geometry.Bound().Intersects(*bound) && (keep == nil || keep(it.Feature)) {
			found = append(found, it.Feature)
		}
		return true
	})
	sort.Slice(found, func(i, j int) bool { return found[i].ID < found[j].ID })
	return found
}

// searchBound returns a WGS84 box that holds every feature a filter can select, when the
// filter is S_INTERSECTS of the geometry with a literal, or an AND of which one argument is:
// the box of the literal. nil otherwise.
func searchBound(e cql2.Expr) *orb.Bound {
	switch e := e.(type) {
	case *cql2.And:
		for _, a := range e.Args {
			if b := searchBound(a); b != nil {
				return b
			}
		}
	case *cql2.Intersects:
		for _, pair := range [][2]cql2.Expr{{e.Left, e.Right}, {e.Right, e.Left}} {
			p, pok := pair[0].(*cql2.Property)
			g, gok := pair[1].(*cql2.Geometry)
			if pok && gok && p.Name == cql2.GeometryProperty && g.Geom != nil {
				b := g.Geom.Bound()
				return &b
			}
		}
	}
	return nil
}

// itemsParams are the query parameters of /items other than property names.
var itemsParams = map[string]bool{
	"bbox": true, "bbox-crs": true, "limit": true, "after": true, "crs": true, "f": true,
	"filter": true, "filter-lang": true, "filter-crs": true, "datetime": true,
}

// itemsQuery is what a request for items asks.
type itemsQuery struct {
	filter *cql2.Filter // bbox, property filters and filter together; nil for none
	limit  int
	after  int64
}

// parseItemsQuery reads the query of an /items request: bbox (WGS84), limit, after (the
// cursor of the next links), filter in filter-lang (cql2-text, the default, or cql2-json),
// and a parameter per queryable property (?use=residential: equality). All of them are
// checked as one CQL2 filter against the layer's queryables, so bbox and property filters
// select features exactly as the same filter written in CQL2 would.
func parseItemsQuery(l *layers.Layer, q url.Values) (itemsQuery, error) {
	var out itemsQuery
	var msg string
	if out.limit, msg = intParam(q, "limit", DefaultOGCItems, 1, MaxOGCItems); msg != "" {
		return out, badParam("limit", "invalid_parameter", errors.New(msg))
	}
	if a := q.Get("after"); a != "" {
		v, err := strconv.ParseInt(a, 10, 64)
		if err != nil {
			return out, badParam("after", "invalid_parameter", fmt.Errorf("%q is not a feature id", a))
		}
		out.after = v
	} else {
		out.after = -1 << 63
	}
	for _, p := range []string{"crs", "bbox-crs", "filter-crs"} {
		if v := q.Get(p); v != "" && v != crs84 {
			return out, badParam(p, "invalid_parameter", fmt.Errorf("%q is not supported; the only CRS is %s", v, crs84))
		}
	}
	if f := q.Get("f"); f != "" && f != "json" && f != "geojson" {
		return out, badParam("f", "invalid_parameter", fmt.Errorf("%q is not a format of this API; use json", f))
	}
	if q.Has("datetime") {
		return out, badParam("datetime", "invalid_parameter", errors.New("the layers have no time: datetime is not supported"))
	}

	queryables := cql2.QueryablesOf(l)
	var parts []cql2.Expr
	if q.Has("bbox") {
		b, msg := parseBBox(q.Get("bbox"))
		if msg != "" {
			return out, badParam("bbox", "invalid_parameter", errors.New(msg))
		}
		parts = append(parts, &cql2.Intersects{Left: &cql2.Property{Name: cql2.GeometryProperty}, Right: &cql2.Geometry{Geom: b}})
	}
	names := make([]string, 0, len(q))
	for name := range q {
		if !itemsParams[name] {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	for _, name := range names {
		e, err := propertyFilter(queryables, name, q.Get(name))
		if err != nil {
			return out, err
		}
		parts = append(parts, e)
	}
	if text := q.Get("filter"); text != "" {
		if len(text) > MaxItemsFilter {
			return out, badParam("filter", "invalid_filter", fmt.Errorf("the filter is %d bytes long; an items filter has at most %d", len(text), MaxItemsFilter))
		}
		e, err := parseFilter(text, q.Get("filter-lang"))
		if err != nil {
			return out, err
		}
		parts = append(parts, e)
	} else if q.Has("filter-lang") {
		return out, badParam("filter-lang", "invalid_parameter", errors.New("filter-lang without a filter"))
	}
	var e cql2.Expr
	switch len(parts) {
	case 0:
		return out, nil
	case 1:
		e = parts[0]
	default:
		e = &cql2.And{Args: parts}
	}
	f, err := cql2.Check(e, queryables)
	if err != nil {
		// Only the filter's own text can fail the check: bbox and property filters are
		// built typed.
		return out, badParam("filter", "invalid_filter", err)
	}
	out.filter = f
	return out, nil
}

// MaxItemsFilter is the longest filter an items request may carry, in bytes: room for a
// detailed polygon in S_INTERSECTS, and a bound on what one request makes the server parse
// and check (a tile's filter, which is also a cache key, has MaxTileFilter).
const MaxItemsFilter = 64 << 10

// parseFilter parses the filter parameter in its language.
func parseFilter(text, lang string) (cql2.Expr, error) {
	var (
		e   cql2.Expr
		err error
	)
	switch lang {
	case "", "cql2-text":
		e, err = cql2.Parse(text)
	case "cql2-json":
		e, err = cql2.ParseJSON([]byte(text))
	default:
		return nil, badParam("filter-lang", "invalid_parameter", fmt.Errorf("%q is not a filter language of this API; use cql2-text or cql2-json", lang))
	}
	if err != nil {
		return nil, badParam("filter", "invalid_filter", err)
	}
	return e, nil
}

// propertyFilter is the equality a query parameter named after a queryable property asks
// for, its value read by the property's type. Another name is an unknown parameter (a
// restricted field is not queryable, and gets the same answer as a name that is no field).
func propertyFilter(q cql2.Queryables, name, value string) (cql2.Expr, error) {
	prop := &cql2.Property{Name: name}
	var lit cql2.Expr
	switch q[name] {
	case cql2.TypeString:
		lit = &cql2.String{Value: value}
	case cql2.TypeNumber, cql2.TypeInteger:
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			return nil, badParam(name, "invalid_parameter", fmt.Errorf("%q is not a number", value))
		}
		lit = &cql2.Number{Value: v}
	case cql2.TypeBoolean:
		v, err := strconv.ParseBool(value)
		if err != nil {
			return nil, badParam(name, "invalid_parameter", fmt.Errorf("%q is not true or false", value))
		}
		lit = &cql2.Bool{Value: v}
	default:
		var props []string
		for _, n := range q.Names() {
			if t := q[n]; t != cql2.TypeGeometry && t != cql2.TypeList {
				props = append(props, n)
			}
		}
		return nil, badParam(name, "invalid_parameter", fmt.Errorf("unknown parameter; the parameters are bbox, limit, filter, filter-lang, and a property to equal: %s", strings.Join(props, ", ")))
	}
	return &cql2.Compare{Op: "=", Left: prop, Right: lit}, nil
}

// ogcFeature is a GeoJSON feature of the OGC API, public fields only, with its links.
type ogcFeature struct {
	Type       string            `json:"type"`
	ID         int64             `json:"id"`
	Geometry   *geojson.Geometry `json:"geometry"`
	Properties map[string]any    `json:"properties"`
	Links      []ogcLink         `json:"links,omitempty"`
}

func newOGCFeature(f *layers.Feature) ogcFeature {
	gf := publicFeature(f)
	return ogcFeature{Type: "Feature", ID: f.ID, Geometry: geojson.NewGeometry(gf.Geometry), Properties: gf.Properties}
}

// ogcItems: GET /ogc/collections/{collectionId}/items — a page of the layer's features in
// ascending id order, with a next link while there are more.
func (s *Server) ogcItems(w http.ResponseWriter, r *http.Request) {
	l, ok := s.ogcItemsLayer(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	iq, err := parseItemsQuery(l, q)
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	// One more than the page tells whether a next page exists.
	fs, matched, err := s.featureSource().Features(r.Context(), l.Name, iq.filter, iq.after, iq.limit+1)
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	more := len(fs) > iq.limit
	if more {
		fs = fs[:iq.limit]
	}
	items := ogcBase(r) + "/collections/" + l.Name + "/items"
	self := items
	if len(q) > 0 {
		self += "?" + q.Encode()
	}
	links := []ogcLink{
		{Href: self, Rel: "self", Type: geojsonType, Title: "this page"},
		{Href: ogcBase(r) + "/collections/" + l.Name, Rel: "collection", Type: jsonType, Title: l.Title},
	}
	if more {
		next := url.Values{}
		for k, v := range q {
			next[k] = v
		}
		next.Set("after", strconv.FormatInt(fs[len(fs)-1].ID, 10))
		links = append(links, ogcLink{Href: items + "?" + next.Encode(), Rel: "next", Type: geojsonType, Title: "the next page"})
	}
	features := make([]ogcFeature, len(fs))
	for i := range fs {
		features[i] = newOGCFeature(&fs[i])
	}
	s.writeOGC(w, r, geojsonType, map[string]any{
		"type":           "FeatureCollection",
		"features":       features,
		"numberMatched":  matched,
		"numberReturned": len(features),
		"links":          links,
	})
}

// ogcItem: GET /ogc/collections/{collectionId}/items/{featureId}.
func (s *Server) ogcItem(w http.ResponseWriter, r *http.Request) {
	l, ok := s.ogcItemsLayer(w, r)
	if !ok {
		return
	}
	raw := mux.Vars(r)["featureId"]
	id, err := strconv.ParseInt(raw, 10, 64)
	var f layers.Feature
	found := false
	if err == nil {
		if f, found, err = s.featureSource().Feature(r.Context(), l.Name, id); err != nil {
			s.writeErr(w, r, err)
			return
		}
	}
	if !found {
		writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("layer %s has no feature %q", l.Name, raw))
		return
	}
	c := ogcBase(r) + "/collections/" + l.Name
	of := newOGCFeature(&f)
	of.Links = []ogcLink{
		{Href: c + "/items/" + strconv.FormatInt(id, 10), Rel: "self", Type: geojsonType, Title: "this feature"},
		{Href: c, Rel: "collection", Type: jsonType, Title: l.Title},
	}
	s.writeOGC(w, r, geojsonType, of)
}
