package web

import (
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/citytwin/citytwin/search"
)

// Search limits: the longest query in characters and the most hits one request may ask for.
const (
	MaxSearchQuery = 200
	MaxSearchLimit = 50
)

// search answers GET /api/search?q=[&limit=]: the addresses, streets, squares, districts,
// facilities, named green spaces and parcels (by cadastral number) of the live city whose
// names match q, best first (package search), each with a label, a kind, a point and a bbox
// to fly to. The index is built on the first search of each model.
func (s *Server) search(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	text := strings.TrimSpace(q.Get("q"))
	if text == "" {
		s.paramError(w, r, "q", "missing; give the words to search for, such as a street, an address or a facility")
		return
	}
	if n := utf8.RuneCountInString(text); n > MaxSearchQuery {
		s.paramError(w, r, "q", fmt.Sprintf("%d characters is too long; give at most %d", n, MaxSearchQuery))
		return
	}
	limit, msg := intParam(q, "limit", search.DefaultLimit, 1, MaxSearchLimit)
	if msg != "" {
		s.paramError(w, r, "limit", msg)
		return
	}
	city, err := s.model.Current()
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	hits := search.For(city).Search(text, limit)
	if hits == nil {
		hits = []search.Hit{}
	}
	w.Header().Set("Cache-Control", "public, max-age=60")
	writeJSON(w, http.StatusOK, map[string]any{"query": text, "hits": hits})
}
