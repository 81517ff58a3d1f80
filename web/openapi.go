package web

import (
	_ "embed"
	"net/http"
)

// openapiDoc is the OpenAPI 3.1 description of every route in routes.go;
// TestOpenAPICoversEveryRoute keeps the two in step.
//
//go:embed openapi.json
var openapiDoc []byte

// openapi: GET /openapi.json.
func (s *Server) openapi(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=300")
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(openapiDoc)
}
