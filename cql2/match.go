package cql2

import (
	"cmp"
	"unicode/utf8"

	"github.com/paulmach/orb"

	"github.com/citytwin/citytwin/layers"
)

// truth is a value of SQL's three-valued logic.
type truth int8

const (
	no truth = iota
	yes
	unknown
)

func truthOf(b bool) truth {
	if b {
		return yes
	}
	return no
}

func (t truth) not() truth {
	switch t {
	case yes:
		return no
	case no:
		return yes
	}
	return unknown
}

func and(a, b truth) truth {
	switch {
	case a == no || b == no:
		return no
	case a == unknown || b == unknown:
		return unknown
	}
	return yes
}

func or(a, b truth) truth {
	switch {
	case a == yes || b == yes:
		return yes
	case a == unknown || b == unknown:
		return unknown
	}
	return no
}

// Match reports whether the filter is true for a feature, as PostGIS's WHERE would with
// Filter.SQL: a property missing from Props (or a nil geometry) is NULL, comparisons with
// NULL are unknown, NOT unknown is unknown, and only true selects the feature. Integer and
// number properties compare as float64; strings compare by code point (as COLLATE "C").
// The filter sees only f.Props and f.Geometry, never f.Restricted.
func (f *Filter) Match(feat layers.Feature) bool {
	return f.eval(f.expr, &feat) == yes
}

func (f *Filter) eval(e Expr, feat *layers.Feature) truth {
	switch e := e.(type) {
	case *And:
		t := yes
		for _, a := range e.Args {
			if t = and(t, f.eval(a, feat)); t == no {
				return no
			}
		}
		return t
	case *Or:
		t := no
		for _, a := range e.Args {
			if t = or(t, f.eval(a, feat)); t == yes {
				return yes
			}
		}
		return t
	case *Not:
		return f.eval(e.Arg, feat).not()
	case *Bool:
		return truthOf(e.Value)
	case *Compare:
		return compare(e.Op, f.value(e.Left, feat), f.value(e.Right, feat))
	case *Like:
		s, ok := f.value(e.Arg, feat).(string)
		if !ok {
			return unknown
		}
		return truthOf(matchLike(f.likes[e], s))
	case *Between:
		x := f.value(e.Arg, feat)
		return and(compare("<=", f.value(e.Low, feat), x), compare("<=", x, f.value(e.High, feat)))
	case *In:
		x := f.value(e.Arg, feat)
		t := no
		for _, a := range e.List {
			if t = or(t, compare("=", x, f.value(a, feat))); t == yes {
				return yes
			}
		}
		return t
	case *IsNull:
		return truthOf(f.value(e.Arg, feat) == nil)
	case *Intersects:
		a, aok := f.value(e.Left, feat).(orb.Geometry)
		b, bok := f.value(e.Right, feat).(orb.Geometry)
		if !aok || !bok {
			return unknown
		}
		return truthOf(intersects(a, b))
	}
	return unknown
}

// value is the value of an operand for a feature: float64, string, bool, orb.Geometry,
// []string, or nil for NULL.
func (f *Filter) value(e Expr, feat *layers.Feature) any {
	switch e := e.(type) {
	case *Property:
		if f.types[e.Name] == TypeGeometry {
			if feat.Geometry == nil {
				return nil
			}
			return feat.Geometry
		}
		switch v := feat.Props[e.Name].(type) {
		case int64:
			return float64(v)
		case int:
			return float64(v)
		case float64, string, bool, []string:
			return v
		}
		return nil
	case *String:
		return e.Value
	case *Number:
		return e.Value
	case *Bool:
		return e.Value
	case *Geometry:
		return e.Geom
	}
	return nil
}

func compare(op string, l, r any) truth {
	var c int
	switch l := l.(type) {
	case float64:
		r, ok := r.(float64)
		if !ok {
			return unknown
		}
		c = cmp.Compare(l, r)
	case string:
		r, ok := r.(string)
		if !ok {
			return unknown
		}
		c = cmp.Compare(l, r)
	case bool:
		r, ok := r.(bool)
		if !ok {
			return unknown
		}
		switch {
		case !l && r:
			c = -1
		case l && !r:
			c = 1
		}
	default:
		return unknown
	}
	switch op {
	case "=":
		return truthOf(c == 0)
	case "<>":
		return truthOf(c != 0)
	case "<":
		return truthOf(c < 0)
	case "<=":
		return truthOf(c <= 0)
	case ">":
		return truthOf(c > 0)
	case ">=":
		return truthOf(c >= 0)
	}
	return unknown
}

// likeToken is one element of a LIKE pattern: a literal character, _ (one) or % (many).
type likeToken struct {
	r         rune
	one, many bool
}

func compileLike(p string) []likeToken {
	var out []likeToken
	for i := 0; i < len(p); {
		r, n := utf8.DecodeRuneInString(p[i:])
		i += n
		switch r {
		case '%':
			if len(out) == 0 || !out[len(out)-1].many {
				out = append(out, likeToken{many: true})
			}
		case '_':
			out = append(out, likeToken{one: true})
		case '\\':
			if i < len(p) {
				r, n = utf8.DecodeRuneInString(p[i:])
				i += n
			}
			out = append(out, likeToken{r: r})
		default:
			out = append(out, likeToken{r: r})
		}
	}
	return out
}

// matchLike matches s against a compiled pattern, character by character, backtracking
// to the last % only (linear in practice).
func matchLike(p []likeToken, s string) bool {
	rs := []rune(s)
	pi, si := 0, 0
	star, starS := -1, 0
	for si < len(rs) {
		switch {
		case pi < len(p) && !p[pi].many && (p[pi].one || p[pi].r == rs[si]):
			pi++
			si++
		case pi < len(p) && p[pi].many:
			star, starS = pi, si
			pi++
		case star >= 0:
			starS++
			pi, si = star+1, starS
		default:
			return false
		}
	}
	for pi < len(p) && p[pi].many {
		pi++
	}
	return pi == len(p)
}
