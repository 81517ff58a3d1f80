package cql2

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkt"
)

// Format writes an expression in canonical CQL2 Text, which Parse reads back to the same
// text:
//   - keywords and function names in upper case (they are case-insensitive), property
//     names as written (they are case-sensitive), double-quoted only when they are not
//     plain identifiers or are keywords;
//   - one space around operators and after commas, none inside parentheses;
//   - nested AND in AND and OR in OR flattened, parentheses only where precedence needs
//     them (OR inside AND, AND or OR inside NOT), and NOT around every other predicate
//     except LIKE, BETWEEN, IN and IS NULL, written a NOT LIKE p, a NOT BETWEEN ...,
//     a NOT IN (...) and a IS NOT NULL;
//   - strings single-quoted with a quote doubled, numbers in Go's shortest form (1, 0.5,
//     1e+21), TRUE and FALSE, geometries as BBOX(w, s, e, n) or upper-case WKT.
//
// Operands keep their order: a = 1 AND b = 2 and b = 2 AND a = 1 are two texts.
func Format(e Expr) string {
	var b strings.Builder
	writePredicate(&b, e)
	return b.String()
}

func writePredicate(b *strings.Builder, e Expr) {
	switch e := e.(type) {
	case *And:
		writeJoined(b, e.Args, " AND ", func(a Expr) bool { _, ok := a.(*Or); return ok })
	case *Or:
		writeJoined(b, e.Args, " OR ", func(Expr) bool { return false })
	case *Not:
		switch a := e.Arg.(type) {
		case *Like:
			writeOperand(b, a.Arg)
			b.WriteString(" NOT LIKE ")
			writeOperand(b, a.Pattern)
		case *Between:
			writeOperand(b, a.Arg)
			b.WriteString(" NOT BETWEEN ")
			writeOperand(b, a.Low)
			b.WriteString(" AND ")
			writeOperand(b, a.High)
		case *In:
			writeOperand(b, a.Arg)
			b.WriteString(" NOT IN ")
			writeList(b, a.List)
		case *IsNull:
			writeOperand(b, a.Arg)
			b.WriteString(" IS NOT NULL")
		case *Not, *Bool:
			b.WriteString("NOT ")
			writePredicate(b, a)
		default:
			b.WriteString("NOT (")
			writePredicate(b, a)
			b.WriteByte(')')
		}
	case *Compare:
		writeOperand(b, e.Left)
		b.WriteString(" " + e.Op + " ")
		writeOperand(b, e.Right)
	case *Like:
		writeOperand(b, e.Arg)
		b.WriteString(" LIKE ")
		writeOperand(b, e.Pattern)
	case *Between:
		writeOperand(b, e.Arg)
		b.WriteString(" BETWEEN ")
		writeOperand(b, e.Low)
		b.WriteString(" AND ")
		writeOperand(b, e.High)
	case *In:
		writeOperand(b, e.Arg)
		b.WriteString(" IN ")
		writeList(b, e.List)
	case *IsNull:
		writeOperand(b, e.Arg)
		b.WriteString(" IS NULL")
	case *Intersects:
		b.WriteString("S_INTERSECTS(")
		writeOperand(b, e.Left)
		b.WriteString(", ")
		writeOperand(b, e.Right)
		b.WriteByte(')')
	default:
		writeOperand(b, e)
	}
}

// writeJoined writes the arguments of AND or OR, inlining arguments of the same operator
// and parenthesising those for which paren is true.
func writeJoined(b *strings.Builder, args []Expr, sep string, paren func(Expr) bool) {
	for i, a := range flatten(args, sep) {
		if i > 0 {
			b.WriteString(sep)
		}
		if paren(a) {
			b.WriteByte('(')
			writePredicate(b, a)
			b.WriteByte(')')
		} else {
			writePredicate(b, a)
		}
	}
}

func flatten(args []Expr, sep string) []Expr {
	var out []Expr
	for _, a := range args {
		switch a := a.(type) {
		case *And:
			if sep == " AND " {
				out = append(out, flatten(a.Args, sep)...)
				continue
			}
		case *Or:
			if sep == " OR " {
				out = append(out, flatten(a.Args, sep)...)
				continue
			}
		}
		out = append(out, a)
	}
	return out
}

func writeList(b *strings.Builder, list []Expr) {
	b.WriteByte('(')
	for i, a := range list {
		if i > 0 {
			b.WriteString(", ")
		}
		writeOperand(b, a)
	}
	b.WriteByte(')')
}

func writeOperand(b *strings.Builder, e Expr) {
	b.WriteString(formatOperand(e))
}

func formatOperand(e Expr) string {
	switch e := e.(type) {
	case *Property:
		return formatName(e.Name)
	case *String:
		if e == nil {
			return "NULL"
		}
		return formatString(e.Value)
	case *Number:
		return formatNumber(e.Value)
	case *Bool:
		if e.Value {
			return "TRUE"
		}
		return "FALSE"
	case *Geometry:
		switch g := e.Geom.(type) {
		case orb.Bound:
			return fmt.Sprintf("BBOX(%s, %s, %s, %s)", formatNumber(g.Min[0]), formatNumber(g.Min[1]), formatNumber(g.Max[0]), formatNumber(g.Max[1]))
		case nil:
			return "NULL"
		}
		return wkt.MarshalString(e.Geom)
	case nil:
		return "NULL"
	}
	// A predicate where an operand belongs: only a hand-built tree has one.
	return "(" + Format(e) + ")"
}

func formatNumber(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

func formatString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// formatName writes a property name bare when Parse reads it back as that name, and
// double-quoted otherwise.
func formatName(name string) string {
	plain := name != "" && !isReserved(name) && !isGeometryKeyword(name) &&
		!strings.EqualFold(name, "BBOX") && !strings.EqualFold(name, "S_INTERSECTS") &&
		!slicesContainsFold(unsupportedFunctions, name)
	for i, r := range name {
		if !plain {
			break
		}
		if i == 0 {
			plain = isIdentStart(r)
		} else {
			plain = isIdentPart(r)
		}
		plain = plain && r != utf8.RuneError
	}
	if plain {
		return name
	}
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}
