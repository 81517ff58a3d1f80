package web

import (
	"net/http"

	"github.com/gorilla/mux"
)

// routes declares every route in one place, so the whole API reads at a glance.
func (s *Server) routes() *mux.Router {
	r := mux.NewRouter()
	r.Use(nameRoute) // hands the matched route's template to the metrics (metrics.go)
	r.HandleFunc("/healthz", s.healthz).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/readyz", s.readyz).Methods(http.MethodGet, http.MethodHead)

	// Vector tiles of the base layers, their TileJSON, the catalog and map styles (tiles.go,
	// catalog.go, styles.go). {layers} is one layer or a comma-separated list.
	r.HandleFunc("/catalog", s.catalog).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/tiles/{layers}/{z}/{x}/{y}.{format:mvt|pbf}", s.tile).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/tiles/{layers}.json", s.tileJSON).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/tiles/{rest:.+}", s.badTilePath).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/styles/{name}.json", s.style).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc(glyphsPath, s.fontGlyphs).Methods(http.MethodGet, http.MethodHead) // fonts.go: the glyphs of labels

	// The browser UI (pages.go): public map, planner's workspace, embedding docs, their files.
	r.HandleFunc("/", s.page).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/planner", s.page).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/docs", s.page).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/favicon.ico", s.favicon).Methods(http.MethodGet, http.MethodHead)
	r.PathPrefix("/static/").HandlerFunc(s.staticFile).Methods(http.MethodGet, http.MethodHead)

	// The OpenAPI document of this API (openapi.go).
	r.HandleFunc("/openapi.json", s.openapi).Methods(http.MethodGet, http.MethodHead)

	// Prometheus metrics (metrics.go).
	r.Handle("/metrics", s.metricsHandler()).Methods(http.MethodGet, http.MethodHead)

	// Public lookups on the baseline city (api.go).
	r.HandleFunc("/api/nearest", s.requireCity(s.nearest)).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/api/features/{layer}", s.requireCity(s.features)).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/api/quality", s.quality).Methods(http.MethodGet, http.MethodHead)                    // quality.go
	r.HandleFunc("/api/isochrone", s.requireCity(s.isochrone)).Methods(http.MethodGet, http.MethodHead) // isochrone.go
	r.HandleFunc("/api/search", s.requireCity(s.search)).Methods(http.MethodGet, http.MethodHead)       // search.go

	// A parcel with its restricted fields, planner role (parcels.go).
	r.HandleFunc("/api/parcels/{id}", s.require(RolePlanner, s.requireCity(s.parcel))).Methods(http.MethodGet)
	r.HandleFunc("/api/admin/tokens", s.require(RoleAdmin, s.listTokens)).Methods(http.MethodGet)
	r.HandleFunc("/api/admin/tokens", s.require(RoleAdmin, s.createToken)).Methods(http.MethodPost)
	r.HandleFunc("/api/admin/tokens/{id}", s.require(RoleAdmin, s.revokeToken)).Methods(http.MethodDelete)
	r.HandleFunc("/api/admin/audit", s.require(RoleAdmin, s.listAudit)).Methods(http.MethodGet)

	// The city's own GIS files uploaded by an admin: the page and the upload (adminimport.go).
	r.HandleFunc("/admin/import", s.page).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc(AdminImportPath, s.require(RoleAdmin, s.adminImport)).Methods(http.MethodPost)

	// Planning scenarios (scenarios.go): writes need the planner role; reads are open, the
	// public seeing published scenarios only. compare before {id}.
	r.HandleFunc("/api/scenarios", s.scenarioReads(s.listScenarios)).Methods(http.MethodGet)
	r.HandleFunc("/api/scenarios", s.withScenarios(s.createScenario)).Methods(http.MethodPost)
	r.HandleFunc("/api/scenarios/compare", s.scenarioReads(s.compareScenarios)).Methods(http.MethodGet)
	r.HandleFunc("/api/scenarios/{id}", s.scenarioReads(s.getScenario)).Methods(http.MethodGet)
	r.HandleFunc("/api/scenarios/{id}", s.withScenarios(s.patchScenario)).Methods(http.MethodPatch)
	r.HandleFunc("/api/scenarios/{id}", s.withScenarios(s.deleteScenario)).Methods(http.MethodDelete)
	r.HandleFunc("/api/scenarios/{id}/clone", s.withScenarios(s.cloneScenario)).Methods(http.MethodPost)
	r.HandleFunc("/api/scenarios/{id}/changes", s.scenarioReads(s.listChanges)).Methods(http.MethodGet)
	r.HandleFunc("/api/scenarios/{id}/changes", s.withScenarios(s.addChanges)).Methods(http.MethodPost)
	r.HandleFunc("/api/scenarios/{id}/changes/{cid}", s.withScenarios(s.deleteChange)).Methods(http.MethodDelete)
	r.HandleFunc("/api/scenarios/{id}/run", s.withScenarios(s.runScenario)).Methods(http.MethodPost)
	r.HandleFunc("/api/scenarios/{id}/runs", s.scenarioReads(s.listRuns)).Methods(http.MethodGet) // runs.go
	r.HandleFunc("/api/scenarios/{id}/runs/{rid}", s.scenarioReads(s.getRun)).Methods(http.MethodGet)
	r.HandleFunc("/api/scenarios/{id}/runs/{rid}/export.csv", s.scenarioReads(s.exportRunCSV)).Methods(http.MethodGet)
	r.HandleFunc("/api/scenarios/{id}/runs/{rid}/export.geojson", s.scenarioReads(s.exportRunGeoJSON)).Methods(http.MethodGet)
	r.HandleFunc("/api/scenarios/{id}/tiles/{layers}/{z}/{x}/{y}.mvt", s.scenarioReads(s.variantTile)).Methods(http.MethodGet)
	r.HandleFunc("/api/scenarios/{id}/isochrone", s.scenarioReads(s.scenarioIsochrone)).Methods(http.MethodGet) // scenarioisochrone.go

	// OGC API Features (with CQL2 filters) and Tiles over the public base layers (ogc.go,
	// ogcfeatures.go, ogctiles.go).
	get := func(path string, h http.HandlerFunc) { r.HandleFunc(path, h).Methods(http.MethodGet, http.MethodHead) }
	get("/ogc", s.ogcLanding)
	get("/ogc/conformance", s.ogcConformanceDoc)
	get("/ogc/collections", s.ogcCollections)
	get("/ogc/collections/{collectionId}", s.ogcCollectionOne)
	get("/ogc/collections/{collectionId}/queryables", s.ogcQueryables)
	get("/ogc/collections/{collectionId}/schema", s.ogcSchema)
	get("/ogc/collections/{collectionId}/items", s.ogcItems)
	get("/ogc/collections/{collectionId}/items/{featureId}", s.ogcItem)
	get("/ogc/collections/{collectionId}/tiles", s.ogcCollectionTilesets)
	get("/ogc/collections/{collectionId}/tiles/{tileMatrixSetId}", s.ogcCollectionTileset)
	get("/ogc/collections/{collectionId}/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}", s.ogcCollectionTile)
	get("/ogc/tiles", s.ogcDatasetTilesets)
	get("/ogc/tiles/{tileMatrixSetId}", s.ogcDatasetTileset)
	get("/ogc/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}", s.ogcDatasetTile)
	get("/ogc/tileMatrixSets", s.ogcTileMatrixSets)
	get("/ogc/tileMatrixSets/{tileMatrixSetId}", s.ogcTileMatrixSet)

	// Open data: each public layer as a file, and the DCAT-AP catalogue of them (downloads.go,
	// dcat.go).
	get("/downloads/{layer}.{format:geojson|csv|gpkg}", s.download)
	get("/catalog.dcat.jsonld", s.dcatCatalog)

	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", "no such endpoint: "+r.URL.Path)
	})
	r.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", r.Method+" is not allowed on "+r.URL.Path)
	})
	return r
}
