package cql2

import (
	"fmt"
	"sort"
	"strings"

	"github.com/citytwin/citytwin/layers"
)

// Type is the type of a queryable property.
type Type string

const (
	TypeString   Type = "string"
	TypeNumber   Type = "number"
	TypeInteger  Type = "integer"
	TypeBoolean  Type = "boolean"
	TypeGeometry Type = "geometry"
	// TypeList is a list of strings: only IS NULL applies to it (CQL2 array functions are
	// not supported).
	TypeList Type = "list"
)

func (t Type) numeric() bool { return t == TypeNumber || t == TypeInteger }

// comparable reports whether values of a and b can be compared with each other.
func (t Type) comparable(u Type) bool {
	return t == u && t != TypeGeometry && t != TypeList || t.numeric() && u.numeric()
}

// Queryables maps the name of each property a filter may name to its type.
type Queryables map[string]Type

// QueryablesOf returns the queryable properties of a layer: its public fields, typed from
// the catalog, and its geometry as GeometryProperty (unless a field has that name).
// Restricted fields are not queryable: a filter that names one gets the same error as for
// a property that does not exist, so filters cannot probe personal data.
func QueryablesOf(l *layers.Layer) Queryables {
	q := Queryables{GeometryProperty: TypeGeometry}
	for _, f := range l.PublicFields() {
		switch f.Type {
		case layers.String:
			q[f.Name] = TypeString
		case layers.Number:
			q[f.Name] = TypeNumber
		case layers.Integer:
			q[f.Name] = TypeInteger
		case layers.Boolean:
			q[f.Name] = TypeBoolean
		case layers.List:
			q[f.Name] = TypeList
		}
	}
	return q
}

// Names returns the queryable names in alphabetical order.
func (q Queryables) Names() []string {
	out := make([]string, 0, len(q))
	for n := range q {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Filter is an expression checked against a layer's queryables: it can be matched against
// features, translated to SQL and written in canonical form.
type Filter struct {
	expr  Expr
	types map[string]Type // the types of the properties the filter names
	text  string
	likes map[*Like][]likeToken
}

// Expr returns the expression the filter was checked from.
func (f *Filter) Expr() Expr { return f.expr }

// String returns the canonical CQL2 Text of the filter (see Format): equal for filters
// that differ only in keyword case, spacing, redundant parentheses, number spelling or
// their language (Text or JSON), so that it can key a cache.
func (f *Filter) String() string { return f.text }

// Check verifies an expression against queryable properties: every property must be
// queryable, operands must be of comparable types (numbers with numbers, strings with
// strings, booleans with booleans, with = and <> only for booleans), LIKE applies to
// strings, BETWEEN to numbers and S_INTERSECTS to geometries. All errors are returned as
// an ErrorList of *Error, kinds ErrUnknownProperty and ErrType, in order of position.
func Check(e Expr, q Queryables) (*Filter, error) {
	c := &checker{q: q, f: &Filter{expr: e, types: map[string]Type{}, likes: map[*Like][]likeToken{}}}
	c.predicate(e)
	if len(c.errs) > 0 {
		sort.SliceStable(c.errs, func(i, j int) bool { return c.errs[i].Offset < c.errs[j].Offset })
		return nil, c.errs
	}
	c.f.text = Format(e)
	return c.f, nil
}

type checker struct {
	q    Queryables
	f    *Filter
	errs ErrorList
}

func (c *checker) errorf(at Expr, kind error, format string, args ...any) {
	c.errs = append(c.errs, &Error{Pos: at.Pos(), Kind: kind, Msg: fmt.Sprintf(format, args...)})
}

func (c *checker) predicate(e Expr) {
	switch e := e.(type) {
	case *And:
		for _, a := range e.Args {
			c.predicate(a)
		}
	case *Or:
		for _, a := range e.Args {
			c.predicate(a)
		}
	case *Not:
		c.predicate(e.Arg)
	case *Bool:
	case *Compare:
		l, lok := c.scalar(e.Left)
		r, rok := c.scalar(e.Right)
		if !lok || !rok {
			return
		}
		switch {
		case !l.comparable(r):
			c.errorf(e.Right, ErrType, "cannot compare %s with %s", c.describe(e.Left), c.describe(e.Right))
		case l == TypeBoolean && e.Op != "=" && e.Op != "<>":
			c.errorf(e, ErrType, "booleans can only be compared with = and <>, not %s", e.Op)
		}
	case *Like:
		if t, ok := c.scalar(e.Arg); ok && t != TypeString {
			c.errorf(e.Arg, ErrType, "LIKE applies to strings, and %s is not one", c.describe(e.Arg))
		}
		if e.Pattern == nil {
			c.errorf(e, ErrType, "LIKE without a pattern")
			return
		}
		c.f.likes[e] = compileLike(e.Pattern.Value)
	case *Between:
		for _, a := range []Expr{e.Arg, e.Low, e.High} {
			if t, ok := c.scalar(a); ok && !t.numeric() {
				c.errorf(a, ErrType, "BETWEEN applies to numbers, and %s is not one", c.describe(a))
			}
		}
	case *In:
		t, ok := c.scalar(e.Arg)
		for _, a := range e.List {
			if u, uok := c.scalar(a); ok && uok && !t.comparable(u) {
				c.errorf(a, ErrType, "cannot compare %s with %s in the IN list", c.describe(e.Arg), c.describe(a))
			}
		}
	case *IsNull:
		c.operand(e.Arg)
	case *Intersects:
		for _, a := range []Expr{e.Left, e.Right} {
			if t, ok := c.operand(a); ok && t != TypeGeometry {
				c.errorf(a, ErrType, "S_INTERSECTS applies to geometries, and %s is not one", c.describe(a))
			}
		}
	case nil:
		c.errs = append(c.errs, &Error{Kind: ErrType, Msg: "missing predicate"})
	default:
		c.errorf(e, ErrType, "expected a predicate, found %s", c.describe(e))
	}
}

// scalar is operand for a value compared with others: geometries and lists are errors.
func (c *checker) scalar(e Expr) (Type, bool) {
	t, ok := c.operand(e)
	if !ok {
		return "", false
	}
	switch t {
	case TypeGeometry:
		c.errorf(e, ErrType, "%s is a geometry: geometries are compared with S_INTERSECTS only", c.describe(e))
		return "", false
	case TypeList:
		c.errorf(e, ErrType, "%s is a list: filters on lists are not supported, except IS NULL", c.describe(e))
		return "", false
	}
	return t, true
}

// operand returns the type of a property or literal; an unknown property is an error.
func (c *checker) operand(e Expr) (Type, bool) {
	switch e := e.(type) {
	case *Property:
		t, ok := c.q[e.Name]
		if !ok {
			msg := fmt.Sprintf("unknown property %q", e.Name)
			names := c.q.Names()
			for _, n := range names {
				if strings.EqualFold(n, e.Name) {
					msg += fmt.Sprintf(" (property names are case-sensitive: did you mean %q?)", n)
					break
				}
			}
			c.errorf(e, ErrUnknownProperty, "%s; queryable properties: %s", msg, strings.Join(names, ", "))
			return "", false
		}
		c.f.types[e.Name] = t
		return t, true
	case *String:
		return TypeString, true
	case *Number:
		return TypeNumber, true
	case *Bool:
		return TypeBoolean, true
	case *Geometry:
		if e.Geom == nil {
			c.errorf(e, ErrType, "geometry literal without a geometry")
			return "", false
		}
		return TypeGeometry, true
	case nil:
		c.errs = append(c.errs, &Error{Kind: ErrType, Msg: "missing operand"})
		return "", false
	}
	c.errorf(e, ErrType, "expected a property or a literal, found a predicate")
	return "", false
}

func (c *checker) describe(e Expr) string {
	switch e := e.(type) {
	case *Property:
		if t, ok := c.q[e.Name]; ok {
			return fmt.Sprintf("property %s (%s)", formatName(e.Name), t)
		}
		return "property " + formatName(e.Name)
	case *String:
		return "the string " + formatString(e.Value)
	case *Number:
		return "the number " + formatNumber(e.Value)
	case *Bool:
		return "the boolean " + formatOperand(e)
	case *Geometry:
		return "a geometry"
	}
	return "a predicate"
}
