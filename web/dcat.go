package web

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/paulmach/orb"

	"github.com/citytwin/citytwin/layers"
)

// The DCAT-AP catalogue of the open data: GET /catalog.dcat.jsonld, JSON-LD in the DCAT
// vocabulary (DCAT-AP 2 and 3): a dcat:Catalog with one dcat:Dataset per public base layer,
// each with its distributions — the downloads of downloads.go, the vector tiles (TileJSON)
// and the OGC API Features collection. Every URL is absolute, at the address the client
// reached the server at (requestBaseURL).

const ldType = "application/ld+json"

// dcatContext maps the prefixes the catalogue uses to their vocabularies.
var dcatContext = map[string]string{
	"dcat": "http://www.w3.org/ns/dcat#",
	"dct":  "http://purl.org/dc/terms/",
	"foaf": "http://xmlns.com/foaf/0.1/",
	"locn": "http://www.w3.org/ns/locn#",
	"xsd":  "http://www.w3.org/2001/XMLSchema#",
	"gsp":  "http://www.opengis.net/ont/geosparql#",
	"rdfs": "http://www.w3.org/2000/01/rdf-schema#",
}

// ianaMediaType is the IANA registration URI of a media type, which DCAT-AP takes as
// dcat:mediaType and dct:format.
func ianaMediaType(t string) map[string]string {
	return ref("http://www.iana.org/assignments/media-types/" + t)
}

// ref is a JSON-LD reference to a resource.
func ref(uri string) map[string]string { return map[string]string{"@id": uri} }

// typed is a JSON-LD literal of a datatype.
func typed(v, datatype string) map[string]string {
	return map[string]string{"@value": v, "@type": datatype}
}

// Media types of the tile and OGC API distributions.
const (
	mvtMediaType    = "application/vnd.mapbox-vector-tile"
	ogcFeaturesSpec = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core"
	tileJSONSpec    = "https://github.com/mapbox/tilejson-spec/tree/master/3.0.0"
	geopackageSpec  = "http://www.opengis.net/doc/IS/geopackage/1.3"
	dcatDateTime    = "2006-01-02T15:04:05Z"
)

// dataSeen is when the server first served a data version: the dct:modified of the
// catalogue. The first model a server serves counts from the server's start (it loads
// right after); a later one (a PostGIS reload) from the first request that saw it.
type dataSeen struct {
	mu   sync.Mutex
	meta *catalogMeta
	at   time.Time
}

// modified is the time the server's current data was first served, in UTC.
func (s *Server) modified(m *catalogMeta) time.Time {
	if m.city == nil {
		return s.started.UTC().Truncate(time.Second) // no data yet
	}
	d := &s.dataSeen
	d.mu.Lock()
	defer d.mu.Unlock()
	switch {
	case d.meta == nil:
		d.meta, d.at = m, s.started
	case d.meta != m && (d.meta.city != m.city || d.meta.version != m.version):
		d.meta, d.at = m, time.Now()
	}
	return d.at.UTC().Truncate(time.Second)
}

// dcatCatalog: GET /catalog.dcat.jsonld.
func (s *Server) dcatCatalog(w http.ResponseWriter, r *http.Request) {
	base := requestBaseURL(r)
	m := s.catalogMeta()
	modified := typed(s.modified(m).Format(dcatDateTime), "xsd:dateTime")
	publisher := map[string]any{"@id": base + "/", "@type": "foaf:Agent", "foaf:name": "CityTwin"}
	license := ref(dataLicense)
	var datasets []map[string]any
	for _, l := range s.opts.Published.Base() {
		datasets = append(datasets, s.dcatDataset(base, l, m, modified, publisher))
	}
	s.writeOGC(w, r, ldType, map[string]any{
		"@context":        dcatContext,
		"@id":             base + "/catalog.dcat.jsonld",
		"@type":           "dcat:Catalog",
		"dct:title":       "CityTwin open data",
		"dct:description": "The city's public layers as open data: files to download (GeoJSON, CSV, GeoPackage), vector tiles and an OGC API Features service. " + layers.Attribution + ".",
		"dct:publisher":   publisher,
		"dct:license":     license,
		"dct:modified":    modified,
		"foaf:homepage":   ref(base + "/docs"),
		"dcat:service": map[string]any{
			"@id": base + "/ogc", "@type": "dcat:DataService",
			"dct:title":                "CityTwin OGC API",
			"dcat:endpointURL":         ref(base + "/ogc"),
			"dcat:endpointDescription": ref(base + "/openapi.json"),
			"dct:conformsTo":           ref(ogcFeaturesSpec),
			"dct:license":              license,
		},
		"dcat:dataset": datasets,
	})
}

// dcatDataset is a layer as a dcat:Dataset with its distributions.
func (s *Server) dcatDataset(base string, l *layers.Layer, m *catalogMeta, modified map[string]string, publisher map[string]any) map[string]any {
	license := ref(dataLicense)
	var dists []map[string]any
	for _, f := range downloadFormats {
		u := fmt.Sprintf("%s/downloads/%s.%s", base, l.Name, f.ext)
		d := map[string]any{
			"@id": u, "@type": "dcat:Distribution",
			"dct:title":        l.Title + " — " + f.title,
			"dcat:accessURL":   ref(u),
			"dcat:downloadURL": ref(u),
			"dcat:mediaType":   ianaMediaType(f.mediaType),
			"dct:format":       ianaMediaType(f.mediaType),
			"dct:license":      license,
		}
		if f.ext == "gpkg" {
			d["dct:conformsTo"] = ref(geopackageSpec)
		}
		dists = append(dists, d)
	}
	tj := base + "/tiles/" + l.Name + ".json"
	dists = append(dists, map[string]any{
		"@id": tj, "@type": "dcat:Distribution",
		"dct:title":       l.Title + " — vector tiles (MVT)",
		"dct:description": "Mapbox Vector Tiles at " + tileURLTemplate(base, l.Name) + ", described by the TileJSON at the access URL.",
		"dcat:accessURL":  ref(tj),
		"dcat:mediaType":  ianaMediaType(mvtMediaType),
		"dct:format":      ianaMediaType(mvtMediaType),
		"dct:conformsTo":  ref(tileJSONSpec),
		"dct:license":     license,
	})
	coll := base + "/ogc/collections/" + l.Name
	dists = append(dists, map[string]any{
		"@id": coll, "@type": "dcat:Distribution",
		"dct:title":          l.Title + " — OGC API Features",
		"dct:description":    "The features as GeoJSON pages at " + coll + "/items, with CQL2 filters.",
		"dcat:accessURL":     ref(coll),
		"dcat:accessService": ref(base + "/ogc"),
		"dcat:mediaType":     ianaMediaType(geojsonType),
		"dct:format":         ianaMediaType(geojsonType),
		"dct:conformsTo":     ref(ogcFeaturesSpec),
		"dct:license":        license,
	})

	b, ok := m.bounds[l.Name]
	if !ok {
		b = s.cityBound()
	}
	keywords := []string{l.Name, strings.ToLower(l.Title), strings.ToLower(string(l.Geometry)), "OpenStreetMap", "open data"}
	ds := map[string]any{
		"@id":               coll,
		"@type":             "dcat:Dataset",
		"dct:identifier":    l.Name,
		"dct:title":         l.Title,
		"dct:description":   l.Description + " " + derivedNote,
		"dct:modified":      modified,
		"dct:license":       license,
		"dct:publisher":     publisher,
		"dct:rights":        map[string]any{"@type": "dct:RightsStatement", "rdfs:label": layers.Attribution},
		"dcat:keyword":      keywords,
		"dcat:landingPage":  ref(base + "/docs#open-data"),
		"dcat:distribution": dists,
	}
	if !b.IsZero() {
		ds["dct:spatial"] = map[string]any{
			"@type":     "dct:Location",
			"dcat:bbox": typed(wktBox(b), "gsp:wktLiteral"),
		}
	}
	return ds
}

// wktBox is a WGS84 box as a WKT polygon, longitude first, rounded as the catalog rounds.
func wktBox(b orb.Bound) string {
	r := roundBound(b)
	w, s, e, n := r[0], r[1], r[2], r[3]
	return fmt.Sprintf("POLYGON((%v %v, %v %v, %v %v, %v %v, %v %v))", w, s, e, s, e, n, w, n, w, s)
}
