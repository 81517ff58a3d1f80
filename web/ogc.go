package web

import (
	"fmt"
	"net/http"

	"github.com/gorilla/mux"
	"github.com/paulmach/orb"

	"github.com/citytwin/citytwin/cql2"
	"github.com/citytwin/citytwin/layers"
)

// OGC API at /ogc: Features (Part 1 Core, Part 3 Filtering with CQL2) and Tiles over the
// public base layers and the extra layers (web/extralayers.go), one collection per layer. The landing page, conformance, collections
// and queryables are here; items in ogcfeatures.go, tiles and tile matrix sets in
// ogctiles.go. Every answer holds public fields only.

// Media types of the OGC API answers.
const (
	geojsonType = "application/geo+json"
	jsonType    = "application/json"
	schemaType  = "application/schema+json"
	openapiType = "application/vnd.oai.openapi+json;version=3.1"
)

// ogcConformance are the conformance classes the OGC API implements. OpenAPI 3.0 (oas30)
// is not among them: /openapi.json is OpenAPI 3.1.
var ogcConformance = []string{
	"http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/core",
	"http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/landing-page",
	"http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/json",
	"http://www.opengis.net/spec/ogcapi-common-2/1.0/conf/collections",
	"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
	"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
	"http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
	"http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
	"http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
	"http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
	"http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
	"http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
	"http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
	"http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
	"http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
	"http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions-plus",
	"http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/core",
	"http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tileset",
	"http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tilesets-list",
	"http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/geodata-tilesets",
	"http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/dataset-tilesets",
	"http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/mvt",
	"http://www.opengis.net/spec/tms/2.0/conf/tilematrixset",
	"http://www.opengis.net/spec/tms/2.0/conf/json-tilematrixset",
}

// crs84 is the CRS of every geometry the OGC API reads and writes: WGS84 longitude, latitude.
const crs84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"

// Link relations of OGC APIs beyond the IANA ones.
const (
	relConformance    = "conformance"
	relData           = "data"
	relQueryables     = "http://www.opengis.net/def/rel/ogc/1.0/queryables"
	relTilesetsVector = "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector"
	relTilingScheme   = "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme"
	relTilingSchemes  = "http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes"
	relGeodata        = "http://www.opengis.net/def/rel/ogc/1.0/geodata"
)

// ogcLink is one link of an OGC API document.
type ogcLink struct {
	Href      string `json:"href"`
	Rel       string `json:"rel"`
	Type      string `json:"type,omitempty"`
	Title     string `json:"title,omitempty"`
	Templated bool   `json:"templated,omitempty"`
}

// ogcBase is the address of the OGC API as the client reached it (requestBaseURL).
func ogcBase(r *http.Request) string { return requestBaseURL(r) + "/ogc" }

// writeOGC writes an OGC API document as JSON of the given media type, with an ETag and
// gzip; its links follow the forwarded headers.
func (s *Server) writeOGC(w http.ResponseWriter, r *http.Request, contentType string, v any) {
	body, err := marshalJSON(v)
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	rep := jsonRepresentation(body, metaCacheControl, forwardedHeaders...)
	rep.contentType = contentType
	writeRepresentation(w, r, rep)
}

// ogcLanding: GET /ogc — the landing page.
func (s *Server) ogcLanding(w http.ResponseWriter, r *http.Request) {
	base := ogcBase(r)
	s.writeOGC(w, r, jsonType, map[string]any{
		"title":       "CityTwin",
		"description": "The city's public layers as OGC API Features (with CQL2 filters) and OGC API Tiles (Mapbox Vector Tiles).",
		"attribution": layers.Attribution,
		"links": []ogcLink{
			{Href: base, Rel: "self", Type: jsonType, Title: "this document"},
			{Href: requestBaseURL(r) + "/openapi.json", Rel: "service-desc", Type: openapiType, Title: "the API definition"},
			{Href: base + "/conformance", Rel: relConformance, Type: jsonType, Title: "conformance classes"},
			{Href: base + "/collections", Rel: relData, Type: jsonType, Title: "the layers"},
			{Href: base + "/tiles", Rel: relTilesetsVector, Type: jsonType, Title: "vector tiles of every layer together"},
			{Href: base + "/tileMatrixSets", Rel: relTilingSchemes, Type: jsonType, Title: "tile matrix sets"},
		},
	})
}

// ogcConformanceDoc: GET /ogc/conformance.
func (s *Server) ogcConformanceDoc(w http.ResponseWriter, r *http.Request) {
	s.writeOGC(w, r, jsonType, map[string]any{"conformsTo": ogcConformance})
}

// ogcCollectionDoc is one collection: a base layer.
type ogcCollectionDoc struct {
	ID          string         `json:"id"`
	Title       string         `json:"title"`
	Description string         `json:"description"`
	Attribution string         `json:"attribution"`
	ItemType    string         `json:"itemType"`
	DataType    string         `json:"dataType"`
	CRS         []string       `json:"crs"`
	StorageCRS  string         `json:"storageCrs"`
	Extent      map[string]any `json:"extent"`
	Links       []ogcLink      `json:"links"`
}

// ogcCollection describes a published layer, its extent that of its features in the model
// (the city's while it has none; the world's while the model loads), or an extra layer's as
// measured at start. An extra layer without an id column has no items: tiles only.
func (s *Server) ogcCollection(base string, l *layers.Layer, m *catalogMeta) ogcCollectionDoc {
	b, ok := m.bounds[l.Name]
	e := s.opts.Published.Extra(l.Name)
	switch {
	case e != nil:
		b = e.Bounds
	case !ok:
		b = s.cityBound()
	}
	if b.IsZero() {
		b = orb.Bound{Min: orb.Point{-180, -90}, Max: orb.Point{180, 90}}
	}
	c := base + "/collections/" + l.Name
	links := []ogcLink{{Href: c, Rel: "self", Type: jsonType, Title: l.Title}}
	if s.hasItems(l) {
		links = append(links,
			ogcLink{Href: c + "/items", Rel: "items", Type: geojsonType, Title: "the features"},
			ogcLink{Href: c + "/queryables", Rel: relQueryables, Type: schemaType, Title: "the properties filters may name"})
	}
	links = append(links,
		ogcLink{Href: c + "/schema", Rel: "describedBy", Type: schemaType, Title: "the features' schema"},
		ogcLink{Href: c + "/tiles", Rel: relTilesetsVector, Type: jsonType, Title: "vector tiles"})
	return ogcCollectionDoc{
		ID: l.Name, Title: l.Title, Description: l.Description, Attribution: s.attribution([]*layers.Layer{l}),
		ItemType: "feature", DataType: "vector",
		CRS: []string{crs84}, StorageCRS: crs84,
		Extent: map[string]any{"spatial": map[string]any{"bbox": []*[4]float64{roundBound(b)}, "crs": crs84}},
		Links:  links,
	}
}

// hasItems tells whether a collection's features are served as items: every base layer's,
// and an extra layer's when it has an id column to name and page them by.
func (s *Server) hasItems(l *layers.Layer) bool {
	e := s.opts.Published.Extra(l.Name)
	return e == nil || e.IDColumn != ""
}

// ogcCollections: GET /ogc/collections — every published base layer, then the extra layers.
func (s *Server) ogcCollections(w http.ResponseWriter, r *http.Request) {
	base := ogcBase(r)
	m := s.catalogMeta()
	all := s.opts.Published.Base()
	for _, e := range s.opts.Published.Extras() {
		all = append(all, &e.Layer)
	}
	cs := make([]ogcCollectionDoc, 0, len(all))
	for _, l := range all {
		cs = append(cs, s.ogcCollection(base, l, m))
	}
	s.writeOGC(w, r, jsonType, map[string]any{
		"links": []ogcLink{
			{Href: base + "/collections", Rel: "self", Type: jsonType, Title: "the layers"},
			{Href: base, Rel: "parent", Type: jsonType, Title: "the landing page"},
		},
		"collections": cs,
	})
}

// ogcLayer reads the {collectionId} of a path among the published base and extra layers: 404
// for another name.
func (s *Server) ogcLayer(w http.ResponseWriter, r *http.Request) (*layers.Layer, bool) {
	id := mux.Vars(r)["collectionId"]
	ls, err := s.opts.Published.ParseList(id)
	if err == nil && len(ls) != 1 {
		err = fmt.Errorf("%w %q: a collection is one layer", layers.ErrUnknownLayer, id)
	}
	if err != nil {
		s.writeErr(w, r, badParam("collectionId", "invalid", err))
		return nil, false
	}
	return ls[0], true
}

// ogcItemsLayer is ogcLayer for the items and queryables routes: 404 for an extra layer
// without an id column, whose features are served as tiles only.
func (s *Server) ogcItemsLayer(w http.ResponseWriter, r *http.Request) (*layers.Layer, bool) {
	l, ok := s.ogcLayer(w, r)
	if ok && !s.hasItems(l) {
		writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("collection %s has no items: the layer has no id column, and is served as tiles only", l.Name))
		return nil, false
	}
	return l, ok
}

// ogcCollectionOne: GET /ogc/collections/{collectionId}.
func (s *Server) ogcCollectionOne(w http.ResponseWriter, r *http.Request) {
	l, ok := s.ogcLayer(w, r)
	if !ok {
		return
	}
	s.writeOGC(w, r, jsonType, s.ogcCollection(ogcBase(r), l, s.catalogMeta()))
}

// ogcQueryables: GET /ogc/collections/{collectionId}/queryables — a JSON Schema of the
// properties filters may name (cql2.QueryablesOf: the public fields and the geometry).
func (s *Server) ogcQueryables(w http.ResponseWriter, r *http.Request) {
	l, ok := s.ogcItemsLayer(w, r)
	if !ok {
		return
	}
	c := ogcBase(r) + "/collections/" + l.Name
	props := map[string]any{}
	for name, t := range cql2.QueryablesOf(l) {
		if t == cql2.TypeGeometry {
			props[name] = geometrySchema(l)
			continue
		}
		f, _ := l.Field(name)
		props[name] = fieldSchema(f)
	}
	s.writeOGC(w, r, schemaType, map[string]any{
		"$schema":              "https://json-schema.org/draft/2020-12/schema",
		"$id":                  c + "/queryables",
		"type":                 "object",
		"title":                l.Title,
		"properties":           props,
		"additionalProperties": false,
	})
}

// ogcSchema: GET /ogc/collections/{collectionId}/schema — a JSON Schema of the layer's
// GeoJSON features, public fields only, for clients that type their fields from it.
func (s *Server) ogcSchema(w http.ResponseWriter, r *http.Request) {
	l, ok := s.ogcLayer(w, r)
	if !ok {
		return
	}
	props := map[string]any{}
	for _, f := range l.PublicFields() {
		props[f.Name] = fieldSchema(f)
	}
	s.writeOGC(w, r, schemaType, map[string]any{
		"$schema":  "https://json-schema.org/draft/2020-12/schema",
		"$id":      ogcBase(r) + "/collections/" + l.Name + "/schema",
		"title":    l.Title,
		"type":     "object",
		"required": []string{"type", "geometry", "properties"},
		"properties": map[string]any{
			"type":       map[string]any{"type": "string", "enum": []string{"Feature"}},
			"id":         map[string]any{"type": "integer"},
			"geometry":   geometrySchema(l),
			"properties": map[string]any{"type": "object", "properties": props},
		},
	})
}

// fieldSchema is the JSON Schema of a catalog field's values.
func fieldSchema(f layers.Field) map[string]any {
	m := map[string]any{"title": f.Name, "description": f.Description}
	switch f.Type {
	case layers.String:
		m["type"] = "string"
	case layers.Number:
		m["type"] = "number"
	case layers.Integer:
		m["type"] = "integer"
	case layers.Boolean:
		m["type"] = "boolean"
	case layers.List:
		m["type"] = "array"
		items := map[string]any{"type": "string"}
		if len(f.Enum) > 0 {
			items["enum"] = f.Enum
		}
		m["items"] = items
	}
	if len(f.Enum) > 0 && f.Type == layers.String {
		m["enum"] = f.Enum
	}
	if f.Max > f.Min {
		m["minimum"], m["maximum"] = f.Min, f.Max
	}
	return m
}

// geometrySchema is the JSON Schema of a layer's geometry: GeoJSON points, lines (an extra
// layer's lines or multilines), any geometry (an extra layer of several types), or polygons
// and multipolygons.
func geometrySchema(l *layers.Layer) map[string]any {
	switch l.Geometry {
	case layers.Point:
		return map[string]any{"title": cql2.GeometryProperty, "format": "geometry-point", "$ref": "https://geojson.org/schema/Point.json"}
	case layers.LineString:
		return map[string]any{"title": cql2.GeometryProperty, "format": "geometry-linestring-or-multilinestring", "oneOf": []map[string]any{
			{"$ref": "https://geojson.org/schema/LineString.json"},
			{"$ref": "https://geojson.org/schema/MultiLineString.json"},
		}}
	case layers.AnyGeometry:
		return map[string]any{"title": cql2.GeometryProperty, "format": "geometry-any", "$ref": "https://geojson.org/schema/Geometry.json"}
	}
	return map[string]any{"title": cql2.GeometryProperty, "format": "geometry-polygon-or-multipolygon", "oneOf": []map[string]any{
		{"$ref": "https://geojson.org/schema/Polygon.json"},
		{"$ref": "https://geojson.org/schema/MultiPolygon.json"},
	}}
}
