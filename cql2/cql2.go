// Package cql2 owns CityTwin's filter language, OGC CQL2 (OGC 21-065), for filtered
// features and tiles: parsing CQL2 Text (Parse) and CQL2 JSON (ParseJSON) into one
// expression tree, checking an expression against a layer's queryable properties (Check,
// QueryablesOf), the canonical text of a checked filter used as a cache key
// (Filter.String), evaluation over an in-memory layers.Feature (Filter.Match) and
// translation into a parameterised PostGIS WHERE clause (Filter.SQL).
//
// Supported: the basic-cql2 conformance class (=, <>, <, <=, >, >=, AND, OR, NOT, IS NULL,
// string, number and boolean literals), advanced-comparison-operators (LIKE with % and _
// and \ as escape character, BETWEEN, IN) and basic-spatial-functions (S_INTERSECTS with
// BBOX or a WKT / GeoJSON POINT, LINESTRING, POLYGON, MULTIPOINT, MULTILINESTRING,
// MULTIPOLYGON or GEOMETRYCOLLECTION in WGS84 longitude/latitude), with comparisons of a
// property with a literal, another property or a literal with a literal. Keywords and
// function names are case-insensitive, property names are case-sensitive. Temporal,
// array and other spatial functions, arithmetic, CASEI and ACCENTI are not supported and
// are syntax errors that say so.
//
// Logic is SQL's three-valued logic: a missing property is NULL, a comparison with NULL is
// unknown, and a filter selects the features for which it is true, in memory as in
// PostGIS.
package cql2

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/paulmach/orb"
)

// GeometryProperty is the name of a layer's geometry in filters, as in GeoJSON features.
const GeometryProperty = "geometry"

// MaxDepth bounds the nesting of a filter (parentheses, NOT, AND/OR groups, JSON objects),
// so that no request can exhaust the stack.
const MaxDepth = 100

// Pos is where a node or an error starts in the filter: Offset is the byte offset from the
// start (0-based); Line and Column are 1-based, Column counting characters (not bytes)
// from the start of the line.
type Pos struct {
	Offset, Line, Column int
}

func (p Pos) String() string {
	if p.Line <= 1 {
		return fmt.Sprintf("column %d", p.Column)
	}
	return fmt.Sprintf("line %d, column %d", p.Line, p.Column)
}

// Kinds of error, for errors.Is: every *Error wraps one of them.
var (
	ErrSyntax          = errors.New("invalid filter")
	ErrUnknownProperty = errors.New("unknown property")
	ErrType            = errors.New("type mismatch")
)

// Error is a parse or check error at a position of the filter.
type Error struct {
	Pos
	Kind error  // ErrSyntax, ErrUnknownProperty or ErrType
	Msg  string // what is wrong, and what was expected
}

func (e *Error) Error() string { return e.Pos.String() + ": " + e.Msg }
func (e *Error) Unwrap() error { return e.Kind }

// ErrorList is every error Check found, in order of position.
type ErrorList []*Error

// maxListed is how many errors ErrorList.Error spells out.
const maxListed = 10

func (l ErrorList) Error() string {
	var msgs []string
	for i, e := range l {
		if i == maxListed {
			msgs = append(msgs, fmt.Sprintf("and %d more", len(l)-maxListed))
			break
		}
		msgs = append(msgs, e.Error())
	}
	return strings.Join(msgs, "; ")
}

// Unwrap lets errors.Is and errors.As see every error of the list.
func (l ErrorList) Unwrap() []error {
	out := make([]error, len(l))
	for i, e := range l {
		out[i] = e
	}
	return out
}

// Expr is a node of a filter: a predicate (And, Or, Not, Compare, Like, Between, In,
// IsNull, Intersects, or a Bool used as a predicate) or an operand (Property, String,
// Number, Bool, Geometry).
type Expr interface {
	Pos() Pos
}

// At is the position of a node.
type At struct{ P Pos }

// Pos returns where the node starts.
func (a At) Pos() Pos { return a.P }

// And is true when every argument is true (two or more).
type And struct {
	At
	Args []Expr
}

// Or is true when any argument is true (two or more).
type Or struct {
	At
	Args []Expr
}

// Not negates its argument; NOT of unknown is unknown. "a NOT LIKE p", "a NOT BETWEEN ...",
// "a NOT IN (...)" and "a IS NOT NULL" are Not of the positive predicate.
type Not struct {
	At
	Arg Expr
}

// Compare is Left Op Right, Op one of = <> < <= > >=.
type Compare struct {
	At
	Op          string
	Left, Right Expr
}

// Like matches Arg against Pattern: % is any run of characters, _ one character, and \
// makes the next character literal.
type Like struct {
	At
	Arg     Expr
	Pattern *String
}

// Between is Low <= Arg AND Arg <= High.
type Between struct {
	At
	Arg, Low, High Expr
}

// In is true when Arg equals one of List (one or more).
type In struct {
	At
	Arg  Expr
	List []Expr
}

// IsNull is true when Arg is NULL (a missing property).
type IsNull struct {
	At
	Arg Expr
}

// Intersects is S_INTERSECTS(Left, Right): the two geometries share at least one point.
type Intersects struct {
	At
	Left, Right Expr
}

// Property names a property of the feature (or its geometry, GeometryProperty).
type Property struct {
	At
	Name string
}

// String is a character literal.
type String struct {
	At
	Value string
}

// Number is a numeric literal.
type Number struct {
	At
	Value float64
}

// Bool is TRUE or FALSE.
type Bool struct {
	At
	Value bool
}

// Geometry is a geometry literal in WGS84 longitude/latitude: an orb.Bound for BBOX, or
// an orb.Point, MultiPoint, LineString, MultiLineString, Polygon, MultiPolygon or
// Collection.
type Geometry struct {
	At
	Geom orb.Geometry
}

// positions turns byte offsets of a source into Pos, cheaply for increasing offsets.
type positions struct {
	src            []byte
	off, line, col int // the last position computed
}

func newPositions(src []byte) *positions {
	return &positions{src: src, line: 1, col: 1}
}

func (p *positions) at(off int) Pos {
	if off > len(p.src) {
		off = len(p.src)
	}
	if off < p.off {
		p.off, p.line, p.col = 0, 1, 1
	}
	for p.off < off {
		r, n := utf8.DecodeRune(p.src[p.off:])
		if p.off+n > off {
			break
		}
		p.off += n
		if r == '\n' {
			p.line++
			p.col = 1
		} else {
			p.col++
		}
	}
	return Pos{Offset: off, Line: p.line, Column: p.col}
}
