package postgis

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"github.com/citytwin/citytwin/cql2"
	"github.com/citytwin/citytwin/layers"
)

// Features returns a page of the features of a layer that a checked CQL2 filter selects
// (every feature when filter is nil), in ascending id order from the first id above after,
// at most limit of them, with the number of features the filter selects in the whole layer.
// Both are read from one snapshot, so the count and the page agree.
//
// Features carry their public fields only: restricted fields live in another table the
// statement never names, and a checked filter names public fields only (cql2.QueryablesOf).
// An extra layer's features are read from its table through extraSource: its published
// columns only, its id column as the id, its geometry in WGS84; one without an id column
// has no features to page through (ErrNoFeatureIDs).
// The filter's values reach the statement as parameters (cql2.Filter.SQL); property names
// are the catalog's, quoted.
func (s *Store) Features(ctx context.Context, layer string, filter *cql2.Filter, after int64, limit int) ([]layers.Feature, int64, error) {
	t, err := s.featureTable(layer)
	if err != nil {
		return nil, 0, err
	}
	if limit < 0 {
		return nil, 0, fmt.Errorf("features of %s: limit %d is negative", layer, limit)
	}
	// The count and the page number the filter's parameters from $1 and from $3 ($1 and
	// $2 of the page are the cursor and the limit).
	countWhere, countArgs, err := tableFilterSQL(t, filter, 1)
	if err != nil {
		return nil, 0, fmt.Errorf("features of %s: %w", layer, err)
	}
	pageWhere, pageArgs, err := tableFilterSQL(t, filter, 3)
	if err != nil {
		return nil, 0, fmt.Errorf("features of %s: %w", layer, err)
	}
	var (
		out     []layers.Feature
		matched int64
	)
	err = pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly},
		func(tx pgx.Tx) error {
			count := "SELECT count(*) FROM " + t.source() + " AS t WHERE " + countWhere
			if err := tx.QueryRow(ctx, count, countArgs...).Scan(&matched); err != nil {
				return fmt.Errorf("count: %w", err)
			}
			page := featuresSQL(t, t.idColumn()+" > $1 AND "+pageWhere) + "\nORDER BY " + t.idColumn() + "\nLIMIT $2"
			fs, err := scanPublic(ctx, tx, t, page, append([]any{after, limit}, pageArgs...)...)
			out = fs
			return err
		})
	if err != nil {
		return nil, 0, fmt.Errorf("features of %s: %w", layer, err)
	}
	return out, matched, nil
}

// EachPage reads every feature of a layer, public fields only, in ascending id order,
// pageSize at a time, and calls fn with each page (the last one shorter, possibly empty)
// until fn fails. Every page is read in one REPEATABLE READ READ ONLY transaction: one
// snapshot of the layer, so an import that commits while a download is being read changes
// none of its pages, and the download holds one version of the layer only. The transaction
// lasts until the last page is handed over; the pool's statement_timeout bounds each page's
// statement, not the whole read.
func (s *Store) EachPage(ctx context.Context, layer string, pageSize int, fn func([]layers.Feature) error) error {
	t, err := s.featureTable(layer)
	if err != nil {
		return err
	}
	if pageSize < 1 {
		return fmt.Errorf("pages of %s: page size %d, want at least 1", layer, pageSize)
	}
	page := featuresSQL(t, t.idColumn()+" > $1") + "\nORDER BY " + t.idColumn() + "\nLIMIT $2"
	err = pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly},
		func(tx pgx.Tx) error {
			after := int64(math.MinInt64)
			for {
				fs, err := scanPublic(ctx, tx, t, page, after, pageSize)
				if err != nil {
					return fmt.Errorf("features after %d: %w", after, err)
				}
				if err := fn(fs); err != nil {
					return err
				}
				if len(fs) < pageSize {
					return nil
				}
				after = fs[len(fs)-1].ID
			}
		})
	if err != nil {
		return fmt.Errorf("pages of %s: %w", layer, err)
	}
	return nil
}

// filterSQL is the filter's condition on a base layer's rows with its parameters numbered
// from first; TRUE for no filter.
func filterSQL(f *cql2.Filter, first int) (string, []any, error) {
	return whereSQL(f, first, cql2.SQLOptions{GeometryColumn: "geom", SRID: srid})
}

// tableFilterSQL is filterSQL on t's rows as featuresSQL reads them: an extra layer's
// geometry is extraSource's mvt_geom, in the layer's SRID.
func tableFilterSQL(t *table, f *cql2.Filter, first int) (string, []any, error) {
	if t.extra == nil {
		return filterSQL(f, first)
	}
	return whereSQL(f, first, cql2.SQLOptions{GeometryColumn: layers.ExtraGeometryAlias, SRID: t.extra.def.SRID})
}

func whereSQL(f *cql2.Filter, first int, o cql2.SQLOptions) (string, []any, error) {
	if f == nil {
		return "TRUE", nil, nil
	}
	w, args, err := f.SQL(first, o)
	if err != nil {
		return "", nil, err
	}
	return "(" + w + ")", args, nil
}

// Feature returns the feature of a layer with the given id, public fields only; ok is false
// when there is none.
func (s *Store) Feature(ctx context.Context, layer string, id int64) (f layers.Feature, ok bool, err error) {
	t, err := s.featureTable(layer)
	if err != nil {
		return layers.Feature{}, false, err
	}
	fs, err := scanPublic(ctx, s.pool, t, featuresSQL(t, t.idColumn()+" = $1"), id)
	if err != nil {
		return layers.Feature{}, false, fmt.Errorf("feature %d of %s: %w", id, layer, err)
	}
	if len(fs) == 0 {
		return layers.Feature{}, false, nil
	}
	return fs[0], true, nil
}

// featureTable is the table of a base layer, or of an extra layer with an id column.
func (s *Store) featureTable(layer string) (*table, error) {
	t, err := s.lookupTable(layer)
	if err != nil {
		return nil, err
	}
	if t.extra != nil && t.extra.def.IDColumn == "" {
		return nil, fmt.Errorf("%w: extra layer %s has no id column", ErrNoFeatureIDs, layer)
	}
	return t, nil
}

// ErrNoFeatureIDs is the error of a feature query on an extra layer configured without an
// id column: its features have no ids to page by or to name, and are published as tiles only.
var ErrNoFeatureIDs = errors.New("no feature ids")

// source is what featuresSQL reads t's rows from: the base layer's table, or an extra layer's
// extraSource.
func (t *table) source() string {
	if t.extra != nil {
		return t.extra.source
	}
	return ident(t.layer.Name)
}

// idColumn is t's feature id in featuresSQL's statements.
func (t *table) idColumn() string {
	if t.extra != nil {
		return "t." + ident(layers.ExtraIDAlias)
	}
	return "t.id"
}

// decodeGeometry reads the geometry featuresSQL selects: EWKB for a base layer, GeoJSON for
// an extra one.
func (t *table) decodeGeometry(b []byte) (orb.Geometry, error) {
	if t.extra == nil {
		return decodeEWKB(b)
	}
	g, err := geojson.UnmarshalGeometry(b)
	if err != nil {
		return nil, err
	}
	return g.Geometry(), nil
}

// featuresSQL selects a layer's rows where a condition holds: id, geometry as EWKB (as
// GeoJSON in WGS84 for an extra layer, whose tables may hold any geometry type in any SRID),
// then the public columns, as Load reads them but without the restricted ones.
func featuresSQL(t *table, where string) string {
	var b strings.Builder
	if t.extra != nil {
		g := "t." + ident(layers.ExtraGeometryAlias)
		b.WriteString("SELECT " + t.idColumn() + ", ST_AsGeoJSON(ST_Transform(ST_Force2D(" + g + "), 4326))")
	} else {
		b.WriteString("SELECT t.id, ST_AsEWKB(t.geom)")
	}
	for _, f := range t.public {
		b.WriteString(", t." + ident(f.Name))
	}
	b.WriteString("\nFROM " + t.source() + " AS t")
	b.WriteString("\nWHERE " + where)
	return b.String()
}

// querier is a pool or a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// scanPublic runs a featuresSQL statement and reads its rows into features, typed as Load
// types them.
func scanPublic(ctx context.Context, q querier, t *table, sql string, args ...any) ([]layers.Feature, error) {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var (
		id     int64
		geom   []byte
		public = make([]scanner, len(t.public))
		dest   = []any{&id, &geom}
		out    []layers.Feature
	)
	for i, f := range t.public {
		public[i] = newScanner(f)
		dest = append(dest, public[i].target())
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		g, err := t.decodeGeometry(geom)
		if err != nil {
			return nil, fmt.Errorf("feature %d: geometry: %w", id, err)
		}
		f := layers.Feature{Layer: t.layer.Name, ID: id, Geometry: g, Props: make(map[string]any, len(public))}
		for i, sc := range public {
			sc.put(f.Props, t.public[i].Name)
		}
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, nil
}
