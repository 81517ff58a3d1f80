package postgis

import (
	"context"
	"fmt"
	"math"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/citytwin/citytwin/cql2"
	"github.com/citytwin/citytwin/layers"
)

// Features returns a page of the features of a base layer that a checked CQL2 filter selects
// (every feature when filter is nil), in ascending id order from the first id above after,
// at most limit of them, with the number of features the filter selects in the whole layer.
// Both are read from one snapshot, so the count and the page agree.
//
// Features carry their public fields only: restricted fields live in another table the
// statement never names, and a checked filter names public fields only (cql2.QueryablesOf).
// The filter's values reach the statement as parameters (cql2.Filter.SQL); property names
// are the catalog's, quoted.
func (s *Store) Features(ctx context.Context, layer string, filter *cql2.Filter, after int64, limit int) ([]layers.Feature, int64, error) {
	t, err := lookupTable(layer)
	if err != nil {
		return nil, 0, err
	}
	if limit < 0 {
		return nil, 0, fmt.Errorf("features of %s: limit %d is negative", layer, limit)
	}
	// The count and the page number the filter's parameters from $1 and from $3 ($1 and
	// $2 of the page are the cursor and the limit).
	countWhere, countArgs, err := filterSQL(filter, 1)
	if err != nil {
		return nil, 0, fmt.Errorf("features of %s: %w", layer, err)
	}
	pageWhere, pageArgs, err := filterSQL(filter, 3)
	if err != nil {
		return nil, 0, fmt.Errorf("features of %s: %w", layer, err)
	}
	var (
		out     []layers.Feature
		matched int64
	)
	err = pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly},
		func(tx pgx.Tx) error {
			count := "SELECT count(*) FROM " + ident(t.layer.Name) + " AS t WHERE " + countWhere
			if err := tx.QueryRow(ctx, count, countArgs...).Scan(&matched); err != nil {
				return fmt.Errorf("count: %w", err)
			}
			page := featuresSQL(t, "t.id > $1 AND "+pageWhere) + "\nORDER BY t.id\nLIMIT $2"
			fs, err := scanPublic(ctx, tx, t, page, append([]any{after, limit}, pageArgs...)...)
			out = fs
			return err
		})
	if err != nil {
		return nil, 0, fmt.Errorf("features of %s: %w", layer, err)
	}
	return out, matched, nil
}

// EachPage reads every feature of a base layer, public fields only, in ascending id order,
// pageSize at a time, and calls fn with each page (the last one shorter, possibly empty)
// until fn fails. Every page is read in one REPEATABLE READ READ ONLY transaction: one
// snapshot of the layer, so an import that commits while a download is being read changes
// none of its pages, and the download holds one version of the layer only. The transaction
// lasts until the last page is handed over; the pool's statement_timeout bounds each page's
// statement, not the whole read.
func (s *Store) EachPage(ctx context.Context, layer string, pageSize int, fn func([]layers.Feature) error) error {
	t, err := lookupTable(layer)
	if err != nil {
		return err
	}
	if pageSize < 1 {
		return fmt.Errorf("pages of %s: page size %d, want at least 1", layer, pageSize)
	}
	page := featuresSQL(t, "t.id > $1") + "\nORDER BY t.id\nLIMIT $2"
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

// filterSQL is the filter's condition with its parameters numbered from first; TRUE for no
// filter.
func filterSQL(f *cql2.Filter, first int) (string, []any, error) {
	if f == nil {
		return "TRUE", nil, nil
	}
	w, args, err := f.SQL(first, cql2.SQLOptions{GeometryColumn: "geom", SRID: srid})
	if err != nil {
		return "", nil, err
	}
	return "(" + w + ")", args, nil
}

// Feature returns the feature of a base layer with the given id, public fields only; ok is
// false when there is none.
func (s *Store) Feature(ctx context.Context, layer string, id int64) (f layers.Feature, ok bool, err error) {
	t, err := lookupTable(layer)
	if err != nil {
		return layers.Feature{}, false, err
	}
	fs, err := scanPublic(ctx, s.pool, t, featuresSQL(t, "t.id = $1"), id)
	if err != nil {
		return layers.Feature{}, false, fmt.Errorf("feature %d of %s: %w", id, layer, err)
	}
	if len(fs) == 0 {
		return layers.Feature{}, false, nil
	}
	return fs[0], true, nil
}

// featuresSQL selects a layer's rows where a condition holds: id, geometry as EWKB, then the
// public columns, as Load reads them but without the restricted ones.
func featuresSQL(t *table, where string) string {
	var b strings.Builder
	b.WriteString("SELECT t.id, ST_AsEWKB(t.geom)")
	for _, f := range t.public {
		b.WriteString(", t." + ident(f.Name))
	}
	b.WriteString("\nFROM " + ident(t.layer.Name) + " AS t")
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
		g, err := decodeEWKB(geom)
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
