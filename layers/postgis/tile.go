package postgis

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/paulmach/orb/maptile"

	"github.com/citytwin/citytwin/cql2"
	"github.com/citytwin/citytwin/layers"
	"github.com/citytwin/citytwin/spatial"
)

// Tile geometry: the usual MVT extent and a buffer of 64 units on each side, so that lines
// and polygon edges continue past the tile edge and neighbouring tiles join without seams.
const (
	TileExtent = 4096
	TileBuffer = 64
)

// ThinBelowZoom is the zoom below which polygon layers are thinned and simplified (see
// Tile); from this zoom up no feature is left out for its size. The rule is the catalog's,
// shared with the memory source so that both agree feature for feature.
const ThinBelowZoom = layers.ThinBelowZoom

// PixelSize is the side of one tile pixel at zoom z, in metres of Web Mercator: the equator
// (2·spatial.MercatorHalf = 40075016.69 m) divided into TileExtent·2^z pixels, as the memory
// source's tiles.PixelSize. At zoom 13 it is 1.19 m.
func PixelSize(z int) float64 {
	return 2 * spatial.MercatorHalf / (TileExtent * math.Exp2(float64(z)))
}

// Tile implements layers.Source: the uncompressed MVT of the given layers in tile t, one MVT
// layer per requested layer that has a feature in the tile, made by PostGIS in one SQL
// statement. A layer is left out at a zoom outside its MinZoom..MaxZoom as given in ls.
// The MVT layers come in the canonical order (layerRank: base layers in catalog order, then
// extra layers in configuration order) whatever the order of ls, so that every ordering of
// one set of layers shares one statement and gives the same bytes; the order of an MVT's
// layers means nothing to its readers.
// Features carry their id as the MVT feature id and the layer's public fields as properties
// (List fields comma-joined); restricted fields are in another table the statement never
// names.
//
// Thinning, below zoom ThinBelowZoom, on polygon layers only, with tol = PixelSize(z)
// (= 40075016.69 / (4096·2^z) metres of Web Mercator):
//   - a polygon whose Web Mercator envelope is narrower than layers.ThinPixels·tol AND lower
//     than that (smaller than ThinPixels tile pixels in both dimensions) is dropped;
//   - every other polygon is simplified with ST_SimplifyPreserveTopology(geom, tol) before
//     ST_AsMVTGeom clips it and snaps it to the tile grid.
//
// Point layers are never thinned. A memory source must apply the same rule to serve the same
// features.
//
// At every zoom, a feature whose bounding box meets the tile grown by its buffer (64/4096 of
// the tile on each side) is in the tile, unless ST_AsMVTGeom has nothing left of it: its
// geometry, clipped to the buffered tile, is empty (only its bounding box met the tile), or a
// polygon snapped to the 4096-unit tile grid has no area left.
func (s *Store) Tile(ctx context.Context, t maptile.Tile, ls []*layers.Layer) ([]byte, error) {
	return s.tile(ctx, t, ls, nil)
}

// FilteredTile is Tile of the base layer l keeping only the features a CQL2 filter selects
// (f checked against l's queryables, cql2.QueryablesOf; nil: every feature): the filter's
// condition (cql2.Filter.SQL) joins the WHERE of the layer's CTE, its values as parameters
// numbered after the tile's own ($4 on, or $6 on when the statement thins), so no text of
// the request reaches the SQL. It implements tiles.FilteredSource.
//
// A filtered statement is not kept among the tileStatement ones: its text differs with the
// filter's shape (the literals are parameters, but the operators, properties and number of
// values are in the text), which a client chooses freely, so keeping them would let
// filters push the unfiltered statements out. Building it is a few microseconds of string
// building; the same shape gives the same text, so pgx's per-connection cache of prepared
// statements (an LRU of its own) still prepares it once per connection.
func (s *Store) FilteredTile(ctx context.Context, t maptile.Tile, l *layers.Layer, f *cql2.Filter) ([]byte, error) {
	return s.tile(ctx, t, []*layers.Layer{l}, f)
}

func (s *Store) tile(ctx context.Context, t maptile.Tile, ls []*layers.Layer, f *cql2.Filter) ([]byte, error) {
	if !t.Valid() || t.Z > 30 {
		return nil, fmt.Errorf("tile %d/%d/%d does not exist", t.Z, t.X, t.Y)
	}
	z := int(t.Z)
	var active []*table
	seen := map[*table]bool{}
	for _, l := range ls {
		tb, err := s.lookupTable(l.Name)
		if err != nil {
			return nil, err
		}
		if f != nil && tb.extra != nil {
			return nil, fmt.Errorf("tile %d/%d/%d of %s: filters apply to base layers only", t.Z, t.X, t.Y, l.Name)
		}
		// The zoom range is the caller's: the catalog's, or the one a city's configuration
		// gives the layer (layers.Published), as the memory source reads it.
		if z < l.MinZoom || z > l.MaxZoom || seen[tb] {
			continue
		}
		seen[tb] = true
		active = append(active, tb)
	}
	if len(active) == 0 {
		return nil, nil
	}
	slices.SortFunc(active, func(a, b *table) int { return cmp.Compare(layerRank(a), layerRank(b)) })
	thin := false
	if z < ThinBelowZoom {
		for _, tb := range active {
			thin = thin || (tb.extra == nil && tb.layer.Geometry == layers.Polygon)
		}
	}
	args := []any{int32(t.Z), int32(t.X), int32(t.Y)}
	if thin {
		args = append(args, PixelSize(z), layers.ThinPixels*PixelSize(z))
	}
	var sql string
	if f == nil {
		sql = s.tileStatement(active, thin)
	} else {
		where, fargs, err := filterSQL(f, len(args)+1)
		if err != nil {
			return nil, fmt.Errorf("tile %d/%d/%d: %w", t.Z, t.X, t.Y, err)
		}
		sql = tileSQL(active, thin, where)
		args = append(args, fargs...)
	}
	var mvt []byte
	if err := s.pool.QueryRow(ctx, sql, args...).Scan(&mvt); err != nil {
		return nil, fmt.Errorf("tile %d/%d/%d: %w", t.Z, t.X, t.Y, err)
	}
	return mvt, nil
}

// baseRank is the position of each base layer's table in the catalog.
var baseRank = func() map[*table]int {
	m := make(map[*table]int, len(tables))
	for i, t := range tables {
		m[t] = i
	}
	return m
}()

// layerRank orders the layers of a tile: base layers in catalog order, then extra layers in
// the order ResolveExtras was given them.
func layerRank(t *table) int {
	if t.extra != nil {
		return len(tables) + t.extra.order
	}
	return baseRank[t]
}

// maxTileStatements bounds the statements kept by tileStatement. Keys are sets of layers in
// canonical order (Tile sorts them), so the base layers give at most 2·(2^10 - 1) of them, but
// extra layers double that each; a set past the bound replaces an arbitrary kept one (making
// a statement is a few microseconds of string building, pgx's own per-connection cache of
// prepared statements is an LRU of its own).
const maxTileStatements = 256

// tileStatement returns the statement for a list of layers, built once per list while the
// list is among the maxTileStatements kept. pgx prepares it on each connection the first time
// it runs there and keeps it in the connection's statement cache, so a tile costs one round
// trip and no parsing. Tile hands it the layers in canonical order.
func (s *Store) tileStatement(ts []*table, thin bool) string {
	names := make([]string, len(ts))
	for i, t := range ts {
		names[i] = t.layer.Name
	}
	key := strings.Join(names, ",")
	if thin {
		key += "/thin"
	}
	s.tileMu.RLock()
	sql, ok := s.tileSQL[key]
	s.tileMu.RUnlock()
	if ok {
		return sql
	}
	sql = tileSQL(ts, thin, "")
	s.tileMu.Lock()
	if _, ok := s.tileSQL[key]; !ok && len(s.tileSQL) >= maxTileStatements {
		for k := range s.tileSQL { // an arbitrary one: map order is random
			delete(s.tileSQL, k)
			break
		}
	}
	s.tileSQL[key] = sql
	s.tileMu.Unlock()
	return sql
}

// tileSQL writes the statement of one tile: $1, $2, $3 are z, x, y and, when thin, $4 is
// the tolerance (PixelSize(z)) and $5 the smallest envelope side kept; where, unless empty,
// is a further condition on the rows of every base layer's CTE (a filter's, whose parameters
// follow those). For each layer a CTE
// selects the features whose stored Web
// Mercator geometry meets the tile with its buffer (through the GiST index on geom_3857),
// with the id, the public columns and the geometry in tile coordinates; then ST_AsMVT makes
// one MVT layer of each and the layers are concatenated, which is how MVT composes. An
// empty layer is zero bytes. Example
// for buildings at zoom 15:
//
//	WITH
//	"mvt_buildings" AS (
//	  SELECT "id", "cad_number", "use", "floors", "height_m", "dwellings", "year_built", "gfa_m2", "derived",
//	         ST_AsMVTGeom(geom_3857, ST_TileEnvelope($1, $2, $3), 4096, 64, true) AS geom
//	  FROM "buildings"
//	  WHERE geom_3857 && ST_TileEnvelope($1, $2, $3, margin => 64.0 / 4096)
//	)
//	SELECT
//	     (SELECT ST_AsMVT(q, 'buildings', 4096, 'geom', 'id') FROM "mvt_buildings" AS q)
//
// ST_AsMVTGeom returns NULL for a feature that does not survive clipping and snapping (it
// only met the tile's buffer by its bounding box, or collapsed); ST_AsMVT skips such rows.
// Filtering them out in SQL instead ("WHERE geom IS NOT NULL") makes PostgreSQL compute
// ST_AsMVTGeom twice per feature, since the CTE is inlined: 30 % slower.
func tileSQL(ts []*table, thin bool, where string) string {
	var b strings.Builder
	b.WriteString("WITH\n")
	for i, t := range ts {
		if i > 0 {
			b.WriteString(",\n")
		}
		if t.extra != nil {
			b.WriteString(t.extra.cte)
			continue
		}
		simplify := thin && t.layer.Geometry == layers.Polygon
		cols := []string{ident("id")}
		for _, f := range t.public {
			if f.Type == layers.List {
				cols = append(cols, fmt.Sprintf("array_to_string(%s, ',') AS %[1]s", ident(f.Name)))
			} else {
				cols = append(cols, ident(f.Name))
			}
		}
		geom := "geom_3857"
		if simplify {
			geom = "ST_SimplifyPreserveTopology(geom_3857, $4)"
		}
		fmt.Fprintf(&b, "%s AS (\n", ident("mvt_"+t.layer.Name))
		fmt.Fprintf(&b, "  SELECT %s,\n", strings.Join(cols, ", "))
		fmt.Fprintf(&b, "         ST_AsMVTGeom(%s, ST_TileEnvelope($1, $2, $3), %d, %d, true) AS geom\n", geom, TileExtent, TileBuffer)
		fmt.Fprintf(&b, "  FROM %s\n", ident(t.layer.Name))
		fmt.Fprintf(&b, "  WHERE geom_3857 && ST_TileEnvelope($1, $2, $3, margin => %d.0 / %d)\n", TileBuffer, TileExtent)
		if simplify {
			b.WriteString("    AND (ST_XMax(geom_3857) - ST_XMin(geom_3857) >= $5 OR ST_YMax(geom_3857) - ST_YMin(geom_3857) >= $5)\n")
		}
		if where != "" {
			fmt.Fprintf(&b, "    AND %s\n", where)
		}
		b.WriteString(")")
	}
	b.WriteString("\nSELECT\n")
	for i, t := range ts {
		op := "     "
		if i > 0 {
			op = "  || "
		}
		fmt.Fprintf(&b, "%s(SELECT %s FROM %s AS q)\n", op, t.mvtCall(), ident("mvt_"+t.layer.Name))
	}
	return b.String()
}
