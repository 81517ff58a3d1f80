package cql2

import (
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkt"
)

// SQLOptions says how a layer's table stores what filters name.
type SQLOptions struct {
	// GeometryColumn is the column of GeometryProperty; "" means "geom".
	GeometryColumn string
	// SRID is the SRID of that column; 0 means 4326. Filter geometries, in WGS84, are
	// transformed to it when it differs.
	SRID int
}

// SQL translates the filter into a boolean SQL expression for the WHERE clause of a
// query on the layer's table, with its values as positional parameters numbered from
// $firstArg: append args to the query's own arguments, which must number firstArg-1.
//
// Property names become column names quoted with pgx.Identifier.Sanitize; every literal
// is a parameter with an explicit type ($n::text, $n::double precision, $n::boolean);
// geometries are ST_GeomFromText($n::text, 4326) of their WKT, or
// ST_MakeEnvelope($a, $b, $c, $d, 4326) for BBOX. No text of the filter reaches the SQL
// otherwise. String order comparisons use COLLATE "C", so that PostgreSQL orders strings
// by code point as Match does whatever the database's collation; integer columns compare
// with double precision parameters as float64 values do in Match. The result is true,
// false or NULL exactly where Match is true, false or unknown.
func (f *Filter) SQL(firstArg int, o SQLOptions) (where string, args []any, err error) {
	if firstArg < 1 {
		return "", nil, fmt.Errorf("cql2: first parameter number %d: want 1 or more", firstArg)
	}
	if o.GeometryColumn == "" {
		o.GeometryColumn = "geom"
	}
	if o.SRID == 0 {
		o.SRID = 4326
	}
	w := &sqlWriter{f: f, o: o, first: firstArg}
	if err := w.predicate(f.expr); err != nil {
		return "", nil, fmt.Errorf("cql2: translate %s to SQL: %w", f.text, err)
	}
	return w.b.String(), w.args, nil
}

type sqlWriter struct {
	f     *Filter
	o     SQLOptions
	first int
	b     strings.Builder
	args  []any
}

// param adds a parameter and writes its placeholder with a type cast.
func (w *sqlWriter) param(v any, cast string) {
	w.args = append(w.args, v)
	fmt.Fprintf(&w.b, "$%d::%s", w.first+len(w.args)-1, cast)
}

// sqlOps maps a comparison operator to the SQL written for it, so that only these
// constants reach the statement.
var sqlOps = map[string]string{"=": " = ", "<>": " <> ", "<": " < ", "<=": " <= ", ">": " > ", ">=": " >= "}

func (w *sqlWriter) predicate(e Expr) error {
	switch e := e.(type) {
	case *And:
		return w.joined(e.Args, " AND ")
	case *Or:
		return w.joined(e.Args, " OR ")
	case *Not:
		w.b.WriteString("(NOT ")
		if err := w.predicate(e.Arg); err != nil {
			return err
		}
		w.b.WriteByte(')')
	case *Bool:
		w.param(e.Value, "boolean")
	case *Compare:
		op, ok := sqlOps[e.Op]
		if !ok {
			return fmt.Errorf("unknown comparison operator %q", e.Op)
		}
		w.b.WriteByte('(')
		if err := w.operand(e.Left); err != nil {
			return err
		}
		if e.Op != "=" && e.Op != "<>" && w.typeOf(e.Left) == TypeString {
			w.b.WriteString(` COLLATE "C"`)
		}
		w.b.WriteString(op)
		if err := w.operand(e.Right); err != nil {
			return err
		}
		w.b.WriteByte(')')
	case *Like:
		if e.Pattern == nil {
			return fmt.Errorf("LIKE without a pattern")
		}
		w.b.WriteByte('(')
		if err := w.operand(e.Arg); err != nil {
			return err
		}
		// PostgreSQL's LIKE escape character is the backslash, as in CQL2.
		w.b.WriteString(" LIKE ")
		w.param(e.Pattern.Value, "text")
		w.b.WriteByte(')')
	case *Between:
		return w.sequence("(", e.Arg, " BETWEEN ", e.Low, " AND ", e.High, ")")
	case *In:
		w.b.WriteByte('(')
		if err := w.operand(e.Arg); err != nil {
			return err
		}
		w.b.WriteString(" IN (")
		for i, a := range e.List {
			if i > 0 {
				w.b.WriteString(", ")
			}
			if err := w.operand(a); err != nil {
				return err
			}
		}
		w.b.WriteString("))")
	case *IsNull:
		return w.sequence("(", e.Arg, " IS NULL)")
	case *Intersects:
		return w.sequence("ST_Intersects(", e.Left, ", ", e.Right, ")")
	default:
		return fmt.Errorf("%T is not a predicate", e)
	}
	return nil
}

// sequence writes strings and operands in turn.
func (w *sqlWriter) sequence(parts ...any) error {
	for _, p := range parts {
		if s, ok := p.(string); ok {
			w.b.WriteString(s)
			continue
		}
		if err := w.operand(p.(Expr)); err != nil {
			return err
		}
	}
	return nil
}

func (w *sqlWriter) joined(args []Expr, sep string) error {
	w.b.WriteByte('(')
	for i, a := range args {
		if i > 0 {
			w.b.WriteString(sep)
		}
		if err := w.predicate(a); err != nil {
			return err
		}
	}
	w.b.WriteByte(')')
	return nil
}

func (w *sqlWriter) typeOf(e Expr) Type {
	switch e := e.(type) {
	case *Property:
		return w.f.types[e.Name]
	case *String:
		return TypeString
	}
	return ""
}

func (w *sqlWriter) operand(e Expr) error {
	switch e := e.(type) {
	case *Property:
		t, ok := w.f.types[e.Name]
		switch {
		case !ok:
			return fmt.Errorf("property %q was not checked", e.Name)
		case t == TypeGeometry:
			w.b.WriteString(pgx.Identifier{w.o.GeometryColumn}.Sanitize())
		default:
			w.b.WriteString(pgx.Identifier{e.Name}.Sanitize())
		}
	case *String:
		w.param(e.Value, "text")
	case *Number:
		w.param(e.Value, "double precision")
	case *Bool:
		w.param(e.Value, "boolean")
	case *Geometry:
		if w.o.SRID != 4326 {
			w.b.WriteString("ST_Transform(")
		}
		switch g := e.Geom.(type) {
		case orb.Bound:
			w.b.WriteString("ST_MakeEnvelope(")
			for i, v := range []float64{g.Min[0], g.Min[1], g.Max[0], g.Max[1]} {
				if i > 0 {
					w.b.WriteString(", ")
				}
				w.param(v, "double precision")
			}
			w.b.WriteString(", 4326)")
		case nil:
			return fmt.Errorf("geometry literal without a geometry")
		default:
			w.b.WriteString("ST_GeomFromText(")
			w.param(wkt.MarshalString(g), "text")
			w.b.WriteString(", 4326)")
		}
		if w.o.SRID != 4326 {
			fmt.Fprintf(&w.b, ", %d)", w.o.SRID)
		}
	default:
		return fmt.Errorf("%T is not an operand", e)
	}
	return nil
}
