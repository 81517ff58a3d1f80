package postgis

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"

	"github.com/citytwin/citytwin/layers"
)

// Extra layers (layers.Extra) are a city's own tables and views published as tiles beside the
// base layers. Nothing of them is trusted before the database confirms it: ResolveExtras looks
// every name up in information_schema and geometry_columns, and the tile statement names only
// what was found there, quoted by pgx.

// extraTable is what the tile statement of an extra layer needs.
type extraTable struct {
	def    *layers.Extra
	cte    string // the layer's CTE in the tile statement, made once
	source string // the subquery feature queries read its rows from (extraSource), made once
	order  int    // its place among the extra layers given to ResolveExtras: its rank in tiles
}

// ResolveExtras checks the extra layers against the database — the table or view, its
// geometry column, id column and published columns must exist and be readable by this role,
// and none may publish what the base layers keep restricted (refuseRestricted) —
// fills in what the database says (the SRID when not given, the geometry type, the fields'
// types, the feature count and extent) and makes their tiles available through Tile. Call it
// once at start, before serving.
func (s *Store) ResolveExtras(ctx context.Context, extras []*layers.Extra) error {
	tabs := make(map[string]*table, len(extras))
	for i, e := range extras {
		if err := e.Check(); err != nil {
			return fmt.Errorf("extra layer %s: %w", e.Name, err)
		}
		if err := refuseRestricted(e); err != nil {
			return fmt.Errorf("extra layer %s: %w", e.Name, err)
		}
		t, err := s.resolveExtra(ctx, e)
		if err != nil {
			return fmt.Errorf("extra layer %s: %w", e.Name, err)
		}
		t.extra.order = i
		tabs[e.Name] = t
	}
	s.tileMu.Lock()
	defer s.tileMu.Unlock()
	s.extras = tabs
	clear(s.tileSQL) // statements naming an earlier definition of a layer
	return nil
}

// restrictedFields are the catalog's restricted fields (personal data: a parcel's owner_name
// and land_book), by name in lower case, with the layer they belong to.
var restrictedFields = func() map[string]string {
	m := map[string]string{}
	for _, t := range tables {
		for _, f := range t.restricted {
			m[strings.ToLower(f.Name)] = t.layer.Name
		}
	}
	return m
}()

// refuseRestricted refuses an extra layer that would publish personal data the base layers
// keep out of every tile: one on privateTable (in any schema), or one publishing a column
// (field or id) named as a restricted field of the catalog, in any case. The check goes by
// names: a view that renames such a column is the city's own responsibility.
func refuseRestricted(e *layers.Extra) error {
	if _, name := e.SplitTable(); strings.EqualFold(name, privateTable) {
		return fmt.Errorf("table: %s holds the restricted fields of parcels (personal data), which are never published", e.Table)
	}
	check := func(setting, col string) error {
		if layer, ok := restrictedFields[strings.ToLower(col)]; ok {
			return fmt.Errorf("%s: column %q is named as a restricted field of %s (personal data), which is never published", setting, col, layer)
		}
		return nil
	}
	if e.IDColumn != "" {
		if err := check("id_column", e.IDColumn); err != nil {
			return err
		}
	}
	for i, c := range e.Columns {
		if err := check(fmt.Sprintf("fields[%d]", i), c); err != nil {
			return err
		}
	}
	return nil
}

// lookupTable returns the table of a base or extra layer.
func (s *Store) lookupTable(name string) (*table, error) {
	if t, ok := tableByName[name]; ok {
		return t, nil
	}
	s.tileMu.RLock()
	t, ok := s.extras[name]
	s.tileMu.RUnlock()
	if ok {
		return t, nil
	}
	_, err := layers.Lookup(name)
	return nil, err
}

// column is one column of a table as information_schema describes it.
type column struct {
	name, dataType, udtName string
}

func (s *Store) resolveExtra(ctx context.Context, e *layers.Extra) (*table, error) {
	schema, name := e.SplitTable()
	cols, err := s.tableColumns(ctx, schema, name)
	if err != nil {
		return nil, err
	}
	if len(cols) == 0 {
		return nil, fmt.Errorf("table %s: no such table or view, or this role cannot read it", e.Table)
	}
	byName := map[string]column{}
	var names []string
	for _, c := range cols {
		byName[c.name] = c
		names = append(names, c.name)
	}
	known := func(col, setting string) (column, error) {
		c, ok := byName[col]
		if !ok {
			return column{}, fmt.Errorf("%s: table %s has no column %q (columns: %s)", setting, e.Table, col, strings.Join(names, ", "))
		}
		return c, nil
	}
	g, err := known(e.GeometryColumn, "geometry_column")
	if err != nil {
		return nil, err
	}
	if g.udtName != "geometry" {
		return nil, fmt.Errorf("geometry_column: column %q of %s is %s, not geometry", g.name, e.Table, g.dataType)
	}
	colSRID, err := s.resolveGeometry(ctx, e, schema, name)
	if err != nil {
		return nil, err
	}
	if e.IDColumn != "" {
		c, err := known(e.IDColumn, "id_column")
		if err != nil {
			return nil, err
		}
		if fieldType(c) != layers.Integer {
			return nil, fmt.Errorf("id_column: column %q of %s is %s; a feature id must be an integer", c.name, e.Table, c.dataType)
		}
	}
	e.Fields = e.Fields[:0]
	for i, name := range e.Columns {
		c, err := known(name, fmt.Sprintf("fields[%d]", i))
		if err != nil {
			return nil, err
		}
		if c.udtName == "geometry" || c.udtName == "geography" {
			return nil, fmt.Errorf("fields[%d]: column %q of %s is a geometry; publish one geometry, as geometry_column", i, name, e.Table)
		}
		e.Fields = append(e.Fields, layers.Field{Name: name, Type: fieldType(c), Description: "column " + name + " of " + e.Table})
	}
	t := &table{layer: &e.Layer, public: e.Fields}
	t.extra = &extraTable{def: e, cte: extraCTE(e, colSRID), source: extraSource(e, colSRID)}
	if err := s.measureExtra(ctx, e, colSRID); err != nil {
		return nil, err
	}
	return t, nil
}

func (s *Store) tableColumns(ctx context.Context, schema, name string) ([]column, error) {
	rows, err := s.pool.Query(ctx, `SELECT column_name, data_type, udt_name FROM information_schema.columns
		WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position`, schema, name)
	if err != nil {
		return nil, fmt.Errorf("read the columns of %s.%s: %w", schema, name, err)
	}
	var out []column
	var c column
	_, err = pgx.ForEachRow(rows, []any{&c.name, &c.dataType, &c.udtName}, func() error {
		out = append(out, c)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read the columns of %s.%s: %w", schema, name, err)
	}
	return out, nil
}

// resolveGeometry reads the geometry column's SRID and type from geometry_columns, sets the
// layer's SRID (when not configured) and geometry type, and returns the column's own SRID (0
// when the column is not constrained to one).
func (s *Store) resolveGeometry(ctx context.Context, e *layers.Extra, schema, name string) (int, error) {
	var srid int
	var typ string
	err := s.pool.QueryRow(ctx, `SELECT srid, upper(type) FROM geometry_columns
		WHERE f_table_schema = $1 AND f_table_name = $2 AND f_geometry_column = $3`,
		schema, name, e.GeometryColumn).Scan(&srid, &typ)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, fmt.Errorf("geometry_column: %s.%s is not in geometry_columns", e.Table, e.GeometryColumn)
	}
	if err != nil {
		return 0, fmt.Errorf("read geometry_columns: %w", err)
	}
	switch {
	case e.SRID == 0 && srid == 0:
		return 0, fmt.Errorf("srid: column %s of %s has no SRID constraint; set srid", e.GeometryColumn, e.Table)
	case e.SRID == 0:
		e.SRID = srid
	case srid != 0 && srid != e.SRID:
		return 0, fmt.Errorf("srid: configured %d, but column %s of %s is in SRID %d", e.SRID, e.GeometryColumn, e.Table, srid)
	}
	var known int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM spatial_ref_sys WHERE srid = $1`, e.SRID).Scan(&known); err != nil {
		return 0, fmt.Errorf("read spatial_ref_sys: %w", err)
	}
	if known == 0 {
		return 0, fmt.Errorf("srid: %d is not in spatial_ref_sys", e.SRID)
	}
	switch strings.TrimPrefix(strings.TrimSuffix(typ, "M"), "MULTI") {
	case "POINT":
		e.Geometry = layers.Point
	case "LINESTRING":
		e.Geometry = layers.LineString
	case "POLYGON":
		e.Geometry = layers.Polygon
	default:
		e.Geometry = layers.AnyGeometry
	}
	return srid, nil
}

// fieldType is the catalog type a column is published as; text for whatever has no closer one.
func fieldType(c column) layers.FieldType {
	switch c.dataType {
	case "smallint", "integer", "bigint":
		return layers.Integer
	case "numeric", "real", "double precision":
		return layers.Number
	case "boolean":
		return layers.Boolean
	case "ARRAY":
		return layers.List
	}
	return layers.String
}

// geometryExpr is the layer's geometry in its SRID: the column itself, or the column given
// the configured SRID when it has none of its own.
func geometryExpr(e *layers.Extra, colSRID int) string {
	g := "t." + ident(e.GeometryColumn)
	if colSRID == 0 {
		return fmt.Sprintf("ST_SetSRID(%s, %d)", g, e.SRID)
	}
	return g
}

// extraCTE writes the CTE of an extra layer in the tile statement ($1, $2, $3 are z, x, y),
// as pg_tileserv does: the features whose geometry meets the tile envelope, with its buffer,
// transformed into the table's SRID (so the table's own GiST index serves the filter), with
// the published columns and the geometry transformed to Web Mercator in tile coordinates.
// Extra layers are never thinned: ST_AsMVTGeom snaps them to the tile grid. Example for a
// table of trees in Stereo 70:
//
//	"mvt_trees" AS (
//	  SELECT t."gid" AS "mvt_id", t."species"::text AS "species", t."height_m"::float8 AS "height_m",
//	         ST_AsMVTGeom(ST_Transform(t."geom", 3857), ST_TileEnvelope($1, $2, $3), 4096, 64, true) AS "mvt_geom"
//	  FROM "city"."trees" AS t
//	  WHERE t."geom" && ST_Transform(ST_TileEnvelope($1, $2, $3, margin => 64.0 / 4096), 31700)
//	)
func extraCTE(e *layers.Extra, colSRID int) string {
	var cols []string
	if e.IDColumn != "" {
		cols = append(cols, fmt.Sprintf("t.%s AS %s", ident(e.IDColumn), ident(layers.ExtraIDAlias)))
	}
	for _, f := range e.Fields {
		c := "t." + ident(f.Name)
		switch f.Type {
		case layers.Number:
			c += "::float8"
		case layers.String:
			c += "::text"
		case layers.List:
			c = fmt.Sprintf("array_to_string(%s, ',')", c)
		}
		cols = append(cols, c+" AS "+ident(f.Name))
	}
	geom := geometryExpr(e, colSRID)
	merc, env := geom, "ST_TileEnvelope($1, $2, $3, margin => %d.0 / %d)"
	env = fmt.Sprintf(env, TileBuffer, TileExtent)
	if e.SRID != 3857 {
		merc = fmt.Sprintf("ST_Transform(%s, 3857)", geom)
		env = fmt.Sprintf("ST_Transform(%s, %d)", env, e.SRID)
	}
	filter := "t." + ident(e.GeometryColumn)
	if colSRID == 0 {
		// The column has no SRID of its own: compare it with an envelope that has none either.
		env = fmt.Sprintf("ST_SetSRID(%s, 0)", env)
	}
	schema, name := e.SplitTable()
	cols = append(cols, fmt.Sprintf("ST_AsMVTGeom(%s, ST_TileEnvelope($1, $2, $3), %d, %d, true) AS %s",
		merc, TileExtent, TileBuffer, ident(layers.ExtraGeometryAlias)))
	var b strings.Builder
	fmt.Fprintf(&b, "%s AS (\n", ident("mvt_"+e.Name))
	fmt.Fprintf(&b, "  SELECT %s\n", strings.Join(cols, ",\n         "))
	fmt.Fprintf(&b, "  FROM %s AS t\n", pgx.Identifier{schema, name}.Sanitize())
	fmt.Fprintf(&b, "  WHERE %s && %s\n)", filter, env)
	return b.String()
}

// extraSource is the subquery OGC API feature queries read an extra layer's rows from: its id
// column as mvt_id, its geometry in the layer's SRID as mvt_geom (so a filter's geometries
// are transformed to it, as tiles do), and the published columns cast to the types they are
// published as, under their own names, so that filters compare them as the queryables say.
// No other column of the table is named. Example:
//
//	(SELECT t."gid" AS "mvt_id", t."geom" AS "mvt_geom", t."species"::text AS "species",
//	        t."height_m"::float8 AS "height_m"
//	 FROM "city"."trees" AS t)
func extraSource(e *layers.Extra, colSRID int) string {
	cols := []string{
		fmt.Sprintf("t.%s AS %s", ident(e.IDColumn), ident(layers.ExtraIDAlias)),
		fmt.Sprintf("%s AS %s", geometryExpr(e, colSRID), ident(layers.ExtraGeometryAlias)),
	}
	if e.IDColumn == "" {
		cols[0] = "NULL::bigint AS " + ident(layers.ExtraIDAlias)
	}
	for _, f := range e.Fields {
		c := "t." + ident(f.Name)
		switch f.Type {
		case layers.String:
			c += "::text"
		case layers.Number:
			c += "::float8"
		case layers.Integer:
			c += "::bigint"
		case layers.List:
			c += "::text[]"
		}
		cols = append(cols, c+" AS "+ident(f.Name))
	}
	schema, name := e.SplitTable()
	return fmt.Sprintf("(SELECT %s\n FROM %s AS t)", strings.Join(cols, ", "), pgx.Identifier{schema, name}.Sanitize())
}

// mvtCall is the ST_AsMVT call that makes t's MVT layer of its CTE's rows q.
func (t *table) mvtCall() string {
	if t.extra == nil {
		return fmt.Sprintf("ST_AsMVT(q, %s, %d, 'geom', 'id')", literal(t.layer.Name), TileExtent)
	}
	e := t.extra.def
	if e.IDColumn == "" {
		return fmt.Sprintf("ST_AsMVT(q, %s, %d, %s)", literal(e.Name), TileExtent, literal(layers.ExtraGeometryAlias))
	}
	return fmt.Sprintf("ST_AsMVT(q, %s, %d, %s, %s)", literal(e.Name), TileExtent, literal(layers.ExtraGeometryAlias), literal(layers.ExtraIDAlias))
}

// measureExtra counts the layer's features and reads their WGS84 extent, for the catalog
// and TileJSON.
func (s *Store) measureExtra(ctx context.Context, e *layers.Extra, colSRID int) error {
	schema, name := e.SplitTable()
	q := fmt.Sprintf(`SELECT n, ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b)
		FROM (SELECT count(*) AS n, ST_Transform(ST_SetSRID(ST_Extent(%s)::geometry, %d), 4326) AS b FROM %s AS t) AS m`,
		geometryExpr(e, colSRID), e.SRID, pgx.Identifier{schema, name}.Sanitize())
	var n int64
	var x0, y0, x1, y1 *float64
	if err := s.pool.QueryRow(ctx, q).Scan(&n, &x0, &y0, &x1, &y1); err != nil {
		return fmt.Errorf("measure %s: %w", e.Table, err)
	}
	e.Features = int(n)
	if x0 != nil && y0 != nil && x1 != nil && y1 != nil {
		e.Bounds = orb.Bound{Min: orb.Point{*x0, *y0}, Max: orb.Point{*x1, *y1}}
	}
	return nil
}
