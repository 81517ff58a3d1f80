package postgis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/paulmach/orb"

	"github.com/citytwin/citytwin/layers"
	"github.com/citytwin/citytwin/spatial"
)

// ErrDuplicateID marks an import with a feature id that is repeated in the import or already
// stored in its layer.
var ErrDuplicateID = errors.New("duplicate id")

// VersionsChannel is the PostgreSQL notification channel on which Import and Truncate
// announce new data versions, as a JSON object {"layer": version, ...}; see WatchVersions.
const VersionsChannel = "citytwin_data_versions"

// progressEvery is how many rows Import copies between two Progress calls.
const progressEvery = 10000

// bulkRows is the size of an import into an empty layer from which it pays to drop the
// layer's GiST indexes, copy, and build them again (sorted, in one pass) rather than insert
// every row into them: 150,000 buildings go in 1.8 times faster.
const bulkRows = 10000

// Import writes features in one transaction, all or nothing: each layer by binary COPY into
// its table, the restricted fields of parcels into parcels_private. Every value is checked
// against the catalog as it is copied (and again by the table's CHECK constraints); a wrong
// value, a geometry of the wrong type or a duplicate id (ErrDuplicateID) fails the whole
// import with an error naming the layer and the feature id, and nothing is written. The data
// versions of the layers written are bumped and announced on VersionsChannel.
//
// Each layer's rows are copied in the order of a Hilbert curve over their centres, so that
// features near one another share table pages and a tile reads few of them. A large import
// into an empty layer rebuilds the layer's spatial indexes inside the transaction instead of
// updating them row by row; readers of that layer wait for the import to commit.
func (s *Store) Import(ctx context.Context, features []layers.Feature) (layers.Counts, error) {
	return s.write(ctx, features, nil, true)
}

// Replace swaps every feature of the named layers for features (which may fill those layers
// only) in one transaction: the layers' rows are deleted (their restricted fields with them)
// and the new ones copied as Import does, and the data versions bumped once it commits.
// Readers see the old layers until the commit and the new ones after it, never a part of
// either nor an empty layer: the indexes are kept and updated row by row (no bulk rebuild,
// which would make readers wait), and a SHARE ROW EXCLUSIVE lock keeps other writers of the
// layers out while letting readers in. A failure leaves the old layers as they were.
func (s *Store) Replace(ctx context.Context, names []string, features []layers.Feature) (layers.Counts, error) {
	var tabs []*table
	for _, n := range names {
		t, err := lookupTable(n)
		if err != nil {
			return nil, err
		}
		tabs = append(tabs, t)
	}
	for i := range features {
		if !slices.Contains(names, features[i].Layer) {
			return nil, fmt.Errorf("replace %v: feature %d is of layer %s", names, features[i].ID, features[i].Layer)
		}
	}
	return s.write(ctx, features, func(tx pgx.Tx) ([]string, error) {
		for _, t := range tabs {
			if err := lockLayer(ctx, tx, t); err != nil {
				return nil, err
			}
			if _, err := tx.Exec(ctx, "DELETE FROM "+ident(t.layer.Name)); err != nil {
				return nil, fmt.Errorf("replace %s: %w", t.layer.Name, err)
			}
		}
		return names, nil
	}, false)
}

// Upsert writes features matched by the key field (layers.PlanUpsert) in one transaction:
// a feature whose key is stored replaces that row, keeping its id, and the others are
// inserted. Readers see the layer before or after, as with Replace.
func (s *Store) Upsert(ctx context.Context, key string, features []layers.Feature) (layers.Upsert, error) {
	var plan layers.Upsert
	_, err := s.write(ctx, features, func(tx pgx.Tx) ([]string, error) {
		stored := map[string]map[string][]int64{}
		for _, t := range tables {
			if !slices.ContainsFunc(features, func(f layers.Feature) bool { return f.Layer == t.layer.Name }) {
				continue
			}
			if err := layers.CheckUpsertKey(t.layer, key); err != nil {
				return nil, err
			}
			if err := lockLayer(ctx, tx, t); err != nil {
				return nil, err
			}
			keys, err := storedKeys(ctx, tx, t, key)
			if err != nil {
				return nil, err
			}
			stored[t.layer.Name] = keys
		}
		var err error
		if plan, err = layers.PlanUpsert(key, stored, features); err != nil {
			return nil, err
		}
		for layer, ids := range plan.Replaced {
			if _, err := tx.Exec(ctx, "DELETE FROM "+ident(layer)+" WHERE id = ANY($1)", ids); err != nil {
				return nil, fmt.Errorf("upsert %s: %w", layer, err)
			}
		}
		return nil, nil
	}, false)
	if err != nil {
		return layers.Upsert{}, err
	}
	return plan, nil
}

// lockLayer keeps other writers of t (and of its private table) out until the transaction
// ends; readers are not held.
func lockLayer(ctx context.Context, tx pgx.Tx, t *table) error {
	tabs := []string{t.layer.Name}
	if len(t.restricted) > 0 {
		tabs = append(tabs, privateTable)
	}
	if _, err := tx.Exec(ctx, "LOCK TABLE "+identList(tabs)+" IN SHARE ROW EXCLUSIVE MODE"); err != nil {
		return fmt.Errorf("lock %s: %w", t.layer.Name, err)
	}
	return nil
}

// storedKeys maps the key texts of t's rows (layers.UpsertKeyText: integers in decimal) to
// the ids holding them.
func storedKeys(ctx context.Context, tx pgx.Tx, t *table, key string) (map[string][]int64, error) {
	rows, err := tx.Query(ctx, "SELECT "+ident(key)+"::text, id FROM "+ident(t.layer.Name)+" WHERE "+ident(key)+" IS NOT NULL")
	if err != nil {
		return nil, fmt.Errorf("upsert %s: read keys: %w", t.layer.Name, err)
	}
	keys := map[string][]int64{}
	var (
		k  string
		id int64
	)
	if _, err := pgx.ForEachRow(rows, []any{&k, &id}, func() error {
		keys[k] = append(keys[k], id)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("upsert %s: read keys: %w", t.layer.Name, err)
	}
	return keys, nil
}

// write copies features in one transaction, after before (when set) has run in it, and
// bumps the versions of the layers written and of those before names. bulk allows the
// index rebuild of a large import into an empty layer.
func (s *Store) write(ctx context.Context, features []layers.Feature, before func(pgx.Tx) ([]string, error), bulk bool) (layers.Counts, error) {
	byTable := map[*table][]*layers.Feature{}
	for i := range features {
		f := &features[i]
		t, err := lookupTable(f.Layer)
		if err != nil {
			return nil, fmt.Errorf("feature %d: %w", f.ID, err)
		}
		byTable[t] = append(byTable[t], f)
	}
	if len(byTable) == 0 && before == nil {
		return layers.Counts{}, nil
	}

	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback(ctx) // a no-op after Commit
	// A big import runs for minutes; the pool's statement_timeout is meant for tiles.
	if _, err := tx.Exec(ctx, "SET LOCAL statement_timeout = 0; SET LOCAL maintenance_work_mem = '256MB'"); err != nil {
		return nil, err
	}
	var names []string
	if before != nil {
		if names, err = before(tx); err != nil {
			return nil, err
		}
	}
	counts := layers.Counts{}
	for _, t := range tables {
		fs := byTable[t]
		if len(fs) == 0 {
			continue
		}
		sortHilbert(fs)
		if err := s.copyLayer(ctx, tx, t, fs, bulk); err != nil {
			return nil, err
		}
		counts[t.layer.Name] = len(fs)
		if !slices.Contains(names, t.layer.Name) {
			names = append(names, t.layer.Name)
		}
	}
	if len(names) == 0 {
		return counts, nil
	}
	if _, err := bumpVersions(ctx, tx, names); err != nil {
		return nil, err
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("commit import: %w", err)
	}
	// Fresh statistics, so that the planner knows the new size of the tables and the
	// spread of their geometries at once rather than when autovacuum gets to them. Only
	// geom_3857, which the tile statements filter on: the whole rows take twice as long,
	// and autovacuum analyzes them soon anyway.
	var analyze []string
	for _, n := range names {
		analyze = append(analyze, ident(n)+" (geom_3857)")
		if tableByName[n].restricted != nil {
			analyze = append(analyze, ident(privateTable))
		}
	}
	// The import is committed whatever happens here: a failure (a cancelled context) only
	// leaves the statistics to autovacuum.
	_, _ = s.pool.Exec(ctx, "ANALYZE "+strings.Join(analyze, ", "))
	return counts, nil
}

// copyLayer copies fs into t's table, then their restricted fields into the private table.
func (s *Store) copyLayer(ctx context.Context, tx pgx.Tx, t *table, fs []*layers.Feature, bulk bool) error {
	name := t.layer.Name
	cols := []string{"id", "geom"}
	for _, f := range t.public {
		cols = append(cols, f.Name)
	}
	var rebuild []string
	if bulk {
		var err error
		if rebuild, err = dropIndexesForBulk(ctx, tx, name, len(fs)); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	src := &copySource{
		feats:    fs,
		row:      make([]any, len(cols)),
		seen:     make(map[int64]struct{}, len(fs)),
		progress: s.Progress,
		layer:    name,
		values:   func(f *layers.Feature, row []any) error { return publicRow(t, f, row) },
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{name}, cols, src); err != nil {
		return copyError(name, src, err)
	}
	for _, def := range rebuild {
		if _, err := tx.Exec(ctx, def); err != nil {
			return fmt.Errorf("%s: rebuild index: %w", name, err)
		}
	}
	if s.Progress != nil {
		s.Progress(name, len(fs), len(fs))
	}
	if len(t.restricted) == 0 {
		return nil
	}
	var private []*layers.Feature
	for _, f := range fs {
		if hasValues(f.Restricted) {
			private = append(private, f)
		}
	}
	if len(private) == 0 {
		return nil
	}
	cols = []string{privateKey}
	for _, f := range t.restricted {
		cols = append(cols, f.Name)
	}
	src = &copySource{
		feats:  private,
		row:    make([]any, len(cols)),
		layer:  name,
		values: func(f *layers.Feature, row []any) error { return privateRow(t, f, row) },
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{privateTable}, cols, src); err != nil {
		return copyError(name, src, err)
	}
	return nil
}

// dropIndexesForBulk drops the secondary (GiST) indexes of an empty layer about to receive
// at least bulkRows rows, and returns the statements that create them again. The primary key
// stays: it finds duplicate ids.
func dropIndexesForBulk(ctx context.Context, tx pgx.Tx, table string, rows int) ([]string, error) {
	if rows < bulkRows {
		return nil, nil
	}
	var empty bool
	if err := tx.QueryRow(ctx, "SELECT NOT EXISTS (SELECT FROM "+ident(table)+")").Scan(&empty); err != nil || !empty {
		return nil, err
	}
	r, err := tx.Query(ctx, `
		SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid)
		FROM pg_index
		WHERE indrelid = to_regclass($1) AND NOT indisunique`, ident(table))
	if err != nil {
		return nil, err
	}
	var (
		name, def string
		names     []string
		defs      []string
	)
	if _, err := pgx.ForEachRow(r, []any{&name, &def}, func() error {
		names = append(names, name)
		defs = append(defs, def)
		return nil
	}); err != nil {
		return nil, err
	}
	for _, n := range names {
		// n is a regclass name, already quoted where it needs to be.
		if _, err := tx.Exec(ctx, "DROP INDEX "+n); err != nil {
			return nil, err
		}
	}
	return defs, nil
}

// publicRow fills row with id, EWKB geometry and the public columns of f, checking every
// property against the catalog. Restricted fields are checked too, and must be in
// f.Restricted: a personal datum in Props is refused, not stored in a public table.
func publicRow(t *table, f *layers.Feature, row []any) error {
	if err := t.layer.CheckGeometry(f.Geometry); err != nil {
		return err
	}
	g, err := encodeEWKB(f.Geometry)
	if err != nil {
		return &layers.FieldError{Field: "geometry", Message: err.Error()}
	}
	row[0], row[1] = f.ID, g
	for name, v := range f.Props {
		fd, ok := t.layer.Field(name)
		switch {
		case !ok:
			return &layers.FieldError{Field: "properties." + name, Message: "unknown property for layer " + t.layer.Name}
		case fd.Restricted && v != nil:
			return &layers.FieldError{Field: "properties." + name, Message: "restricted field found among the public properties"}
		}
	}
	for i, fd := range t.public {
		v, err := columnValue(fd, f.Props[fd.Name])
		if err != nil {
			return &layers.FieldError{Field: "properties." + fd.Name, Message: err.Error()}
		}
		if v == nil && fd.Name == derivedColumn {
			v = false
		}
		row[2+i] = v
	}
	for name, v := range f.Restricted {
		fd, ok := t.layer.Field(name)
		if !ok || !fd.Restricted {
			return &layers.FieldError{Field: "restricted." + name, Message: "not a restricted field of layer " + t.layer.Name}
		}
		if _, err := columnValue(fd, v); err != nil {
			return &layers.FieldError{Field: "restricted." + name, Message: err.Error()}
		}
	}
	return nil
}

// privateRow fills row with the parcel id and the restricted columns of f (checked by
// publicRow already).
func privateRow(t *table, f *layers.Feature, row []any) error {
	row[0] = f.ID
	for i, fd := range t.restricted {
		v, err := columnValue(fd, f.Restricted[fd.Name])
		if err != nil {
			return &layers.FieldError{Field: "restricted." + fd.Name, Message: err.Error()}
		}
		row[1+i] = v
	}
	return nil
}

func hasValues(m map[string]any) bool {
	for _, v := range m {
		if v != nil {
			return true
		}
	}
	return false
}

// copySource feeds one layer's features to CopyFrom, converting each as it goes. It runs on
// the goroutine pgx feeds COPY from.
type copySource struct {
	feats    []*layers.Feature
	i        int
	row      []any // reused: pgx encodes a row before asking for the next
	values   func(*layers.Feature, []any) error
	seen     map[int64]struct{} // ids so far, when duplicates are to be found here
	layer    string
	progress func(layer string, done, total int)
	err      error
}

func (c *copySource) Next() bool {
	if c.err != nil || c.i >= len(c.feats) {
		return false
	}
	f := c.feats[c.i]
	c.i++
	if c.seen != nil {
		if _, dup := c.seen[f.ID]; dup {
			c.err = fmt.Errorf("%s feature %d: %w in this import", c.layer, f.ID, ErrDuplicateID)
			return false
		}
		c.seen[f.ID] = struct{}{}
	}
	if err := c.values(f, c.row); err != nil {
		c.err = fmt.Errorf("%s feature %d: %w", c.layer, f.ID, err)
		return false
	}
	if c.progress != nil && c.i%progressEvery == 0 {
		c.progress(c.layer, c.i, len(c.feats))
	}
	return true
}

func (c *copySource) Values() ([]any, error) { return c.row, nil }
func (c *copySource) Err() error             { return c.err }

var (
	// "Key (id)=(42) already exists."
	duplicateKey = regexp.MustCompile(`^Key \(\w+\)=\((-?\d+)\) already exists`)
	// "COPY buildings, line 3" or "COPY buildings, line 3, column floors: ..."
	copyLine = regexp.MustCompile(`^COPY \S+, line (\d+)`)
)

// copyError says which feature a failed COPY stumbled on: the source's own error when it
// refused a feature (pgx passes on only its text), else what PostgreSQL tells.
func copyError(layer string, src *copySource, err error) error {
	if src.err != nil {
		return src.err
	}
	fs := src.feats
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return err
	}
	if pe.Code == "23505" { // unique_violation: the id is already stored
		if m := duplicateKey.FindStringSubmatch(pe.Detail); m != nil {
			return fmt.Errorf("%s feature %s: %w: already stored", layer, m[1], ErrDuplicateID)
		}
		return fmt.Errorf("%s: %w: %s", layer, ErrDuplicateID, pe.Detail)
	}
	if m := copyLine.FindStringSubmatch(pe.Where); m != nil {
		if n, _ := strconv.Atoi(m[1]); n >= 1 && n <= len(fs) {
			return fmt.Errorf("%s feature %d: %w", layer, fs[n-1].ID, err)
		}
	}
	return fmt.Errorf("%s: %w", layer, err)
}

// Truncate deletes every feature of the named layers (all layers when none is named) and
// bumps their data versions. Restricted fields go with their parcels.
func (s *Store) Truncate(ctx context.Context, names ...string) error {
	if len(names) == 0 {
		names = layers.Names()
	}
	var tabs []string
	for _, n := range names {
		t, err := lookupTable(n)
		if err != nil {
			return err
		}
		if len(t.restricted) > 0 {
			tabs = append(tabs, privateTable)
		}
		tabs = append(tabs, n)
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "TRUNCATE "+identList(tabs)); err != nil {
			return fmt.Errorf("truncate %s: %w", strings.Join(names, ", "), err)
		}
		_, err := bumpVersions(ctx, tx, names)
		return err
	})
}

// bumpVersions increments the data versions of the named layers and announces them on
// VersionsChannel (PostgreSQL delivers the notification when tx commits).
func bumpVersions(ctx context.Context, tx pgx.Tx, names []string) (map[string]int64, error) {
	rows, err := tx.Query(ctx, `
		INSERT INTO data_versions AS d (layer, version)
		SELECT unnest($1::text[]), 1
		ON CONFLICT (layer) DO UPDATE SET version = d.version + 1, updated_at = now()
		RETURNING layer, version`, names)
	if err != nil {
		return nil, fmt.Errorf("bump data versions: %w", err)
	}
	versions := map[string]int64{}
	var (
		layer   string
		version int64
	)
	if _, err := pgx.ForEachRow(rows, []any{&layer, &version}, func() error {
		versions[layer] = version
		return nil
	}); err != nil {
		return nil, fmt.Errorf("bump data versions: %w", err)
	}
	payload, _ := json.Marshal(versions)
	if _, err := tx.Exec(ctx, "SELECT pg_notify($1, $2)", VersionsChannel, string(payload)); err != nil {
		return nil, fmt.Errorf("notify data versions: %w", err)
	}
	return versions, nil
}

func identList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = ident(n)
	}
	return strings.Join(q, ", ")
}

// sortHilbert orders features by the Hilbert index of their bounding-box centre on a
// 65536×65536 grid over their common extent.
func sortHilbert(fs []*layers.Feature) {
	if len(fs) < 2 {
		return
	}
	centres := make([]orb.Point, len(fs))
	ext := orb.Bound{Min: orb.Point{math.Inf(1), math.Inf(1)}, Max: orb.Point{math.Inf(-1), math.Inf(-1)}}
	for i, f := range fs {
		if f.Geometry == nil {
			continue // refused when copied
		}
		c := f.Geometry.Bound().Center()
		centres[i] = c
		ext = ext.Extend(c)
	}
	const side = 1 << 16
	sx := (side - 1) / math.Max(ext.Max[0]-ext.Min[0], 1e-12)
	sy := (side - 1) / math.Max(ext.Max[1]-ext.Min[1], 1e-12)
	type keyed struct {
		key uint64
		f   *layers.Feature
	}
	ks := make([]keyed, len(fs))
	for i, f := range fs {
		x := uint32(math.Max(0, math.Min(side-1, (centres[i][0]-ext.Min[0])*sx)))
		y := uint32(math.Max(0, math.Min(side-1, (centres[i][1]-ext.Min[1])*sy)))
		ks[i] = keyed{spatial.Hilbert(side, uint64(x), uint64(y)), f}
	}
	sort.SliceStable(ks, func(i, j int) bool { return ks[i].key < ks[j].key })
	for i := range ks {
		fs[i] = ks[i].f
	}
}
