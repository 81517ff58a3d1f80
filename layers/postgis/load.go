package postgis

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/citytwin/citytwin/layers"
)

// Load streams every feature of every layer to fn, layer by layer in catalog order and by id
// within a layer, from one consistent snapshot of the database. Values are typed as
// layers.Normalize types them (Integer int64, Number float64, Boolean bool, List []string,
// String string); NULL columns are left out of Props, and derived is always present.
// Restricted fields are filled in from parcels_private: Load feeds the server's in-memory
// model, never public output.
func (s *Store) Load(ctx context.Context, fn func(layers.Feature) error) error {
	return pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly},
		func(tx pgx.Tx) error {
			// fn may be slow (it builds the index); the rows wait for it.
			if _, err := tx.Exec(ctx, "SET LOCAL statement_timeout = 0"); err != nil {
				return err
			}
			for _, t := range tables {
				if err := loadLayer(ctx, tx, t, fn); err != nil {
					return fmt.Errorf("load %s: %w", t.layer.Name, err)
				}
			}
			return nil
		})
}

// loadSQL selects a layer's rows: id, geometry as EWKB, the public columns, then the
// restricted ones.
func loadSQL(t *table) string {
	var b strings.Builder
	b.WriteString("SELECT t.id, ST_AsEWKB(t.geom)")
	for _, f := range t.public {
		b.WriteString(", t." + ident(f.Name))
	}
	for _, f := range t.restricted {
		b.WriteString(", p." + ident(f.Name))
	}
	b.WriteString("\nFROM " + ident(t.layer.Name) + " AS t")
	if len(t.restricted) > 0 {
		b.WriteString("\nLEFT JOIN " + ident(privateTable) + " AS p ON p." + ident(privateKey) + " = t.id")
	}
	b.WriteString("\nORDER BY t.id")
	return b.String()
}

func loadLayer(ctx context.Context, tx pgx.Tx, t *table, fn func(layers.Feature) error) error {
	rows, err := tx.Query(ctx, loadSQL(t))
	if err != nil {
		return err
	}
	defer rows.Close()
	var (
		id      int64
		geom    []byte
		public  = make([]scanner, len(t.public))
		private = make([]scanner, len(t.restricted))
		dest    = []any{&id, &geom}
	)
	for i, f := range t.public {
		public[i] = newScanner(f)
		dest = append(dest, public[i].target())
	}
	for i, f := range t.restricted {
		private[i] = newScanner(f)
		dest = append(dest, private[i].target())
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		g, err := decodeEWKB(geom)
		if err != nil {
			return fmt.Errorf("feature %d: geometry: %w", id, err)
		}
		f := layers.Feature{Layer: t.layer.Name, ID: id, Geometry: g, Props: make(map[string]any, len(public))}
		for i, sc := range public {
			sc.put(f.Props, t.public[i].Name)
		}
		for i, sc := range private {
			if f.Restricted == nil {
				f.Restricted = map[string]any{}
			}
			sc.put(f.Restricted, t.restricted[i].Name)
		}
		if len(f.Restricted) == 0 {
			f.Restricted = nil
		}
		if err := fn(f); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Counts reports the number of features of every catalog layer, zero included.
func (s *Store) Counts(ctx context.Context) (layers.Counts, error) {
	parts := make([]string, len(tables))
	for i, t := range tables {
		parts[i] = fmt.Sprintf("SELECT %s, count(*) FROM %s", literal(t.layer.Name), ident(t.layer.Name))
	}
	rows, err := s.pool.Query(ctx, strings.Join(parts, "\nUNION ALL "))
	if err != nil {
		return nil, fmt.Errorf("count features: %w", err)
	}
	out := layers.Counts{}
	var (
		name string
		n    int64
	)
	if _, err := pgx.ForEachRow(rows, []any{&name, &n}, func() error {
		out[name] = int(n)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("count features: %w", err)
	}
	return out, nil
}

// DataVersion returns the data version of every catalog layer: a number that grows with
// every import into or truncation of the layer. Tile caches key on it.
func (s *Store) DataVersion(ctx context.Context) (map[string]int64, error) {
	out := make(map[string]int64, len(tables))
	for _, t := range tables {
		out[t.layer.Name] = 0
	}
	rows, err := s.pool.Query(ctx, "SELECT layer, version FROM data_versions")
	if err != nil {
		return nil, fmt.Errorf("read data versions: %w", err)
	}
	var (
		name string
		v    int64
	)
	if _, err := pgx.ForEachRow(rows, []any{&name, &v}, func() error {
		if _, ok := out[name]; ok {
			out[name] = v
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("read data versions: %w", err)
	}
	return out, nil
}
