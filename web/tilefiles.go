package web

import (
	"net/http"

	"github.com/gorilla/mux"

	"github.com/citytwin/citytwin/layers"
	"github.com/citytwin/citytwin/tiles"
)

// Tile files: tile pyramids exported to a file (PMTiles or MBTiles) served under a name of
// their own, at /tiles/{name}/{z}/{x}/{y}.mvt and /tiles/{name}.json, beside the live layers.
// The file is read, never written: the tile cache keeps its tiles under a constant version.

// TileFile is a tile pyramid read from a file.
type TileFile interface {
	// Tile returns tile t's uncompressed MVT, nil when the file has none; the layers argument
	// is not used (the file's tiles carry their own layers).
	layers.Source
	// TileJSON describes the file's tiles, without a tile URL.
	TileJSON() tiles.TileJSON
}

// tileFile answers a tile or TileJSON request whose {layers} names a tile file, and reports
// whether it did.
func (s *Server) tileFile(w http.ResponseWriter, r *http.Request) bool {
	v := mux.Vars(r)
	name := v["layers"]
	f, ok := s.opts.TileFiles[name]
	if !ok {
		return false
	}
	if _, isTile := v["z"]; !isTile {
		s.tileFileJSON(w, r, name, f)
		return true
	}
	t, err := tiles.ParseTile(v["z"], v["x"], v["y"])
	if err != nil {
		s.writeErr(w, r, err)
		return true
	}
	// A service per request costs one small allocation; the cache it reads is the server's.
	tile, err := tiles.NewService("file:"+name, f, s.opts.TileCache, nil).Tile(r.Context(), t, nil)
	if err != nil {
		s.writeErr(w, r, err)
		return true
	}
	writeRepresentation(w, r, representation{
		contentType: mvtContentType, cacheControl: s.tileState.cacheControl,
		body: tile.Data, etag: tile.ETag, gzip: tile.Gzip,
	})
	return true
}

func (s *Server) tileFileJSON(w http.ResponseWriter, r *http.Request, name string, f TileFile) {
	tj := f.TileJSON()
	tj.Tiles = []string{tileURLTemplate(requestBaseURL(r), name)}
	body, err := marshalJSON(tj)
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	writeRepresentation(w, r, jsonRepresentation(body, metaCacheControl, forwardedHeaders...))
}
