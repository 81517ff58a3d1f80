package web

import (
	"errors"
	"net/http"
	"sync"

	"github.com/gorilla/mux"

	"github.com/citytwin/citytwin/glyphs"
	"github.com/citytwin/citytwin/tiles"
)

// fontsCacheControl: a range of a font never changes while the binary is the same, so clients
// keep it a day and revalidate by ETag after.
const fontsCacheControl = "public, max-age=86400"

// fontSet is the embedded fonts, parsed on the first glyph request rather than at start-up.
var fontSet = sync.OnceValues(glyphs.NewSet)

// glyphsPath is the style's "glyphs" template, relative to the server's base URL.
const glyphsPath = "/fonts/{fontstack}/{range}.pbf"

// fontGlyphs serves GET|HEAD /fonts/{fontstack}/{range}.pbf: the signed-distance-field
// glyphs MapLibre draws labels with, 256 code points a request.
func (s *Server) fontGlyphs(w http.ResponseWriter, r *http.Request) {
	vars := mux.Vars(r)
	start, err := glyphs.ParseRange(vars["range"])
	if err != nil {
		writeFieldError(w, http.StatusBadRequest, "bad_range", err.Error(), "range")
		return
	}
	set, err := fontSet()
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	body, err := set.Range(vars["fontstack"], start)
	switch {
	case errors.Is(err, glyphs.ErrUnknownFont):
		writeFieldError(w, http.StatusNotFound, "unknown_font", err.Error(), "fontstack")
		return
	case err != nil:
		s.writeErr(w, r, err)
		return
	}
	t := tiles.NewTile(body)
	writeRepresentation(w, r, representation{
		contentType: "application/x-protobuf", cacheControl: fontsCacheControl,
		body: body, etag: t.ETag, gzip: t.Gzip,
	})
}
