package cql2

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/paulmach/orb/geojson"
)

// ParseJSON parses a filter in CQL2 JSON: {"op": ..., "args": [...]} objects, with
// {"property": name}, strings, numbers, booleans, {"bbox": [w, s, e, n]} and GeoJSON
// geometries as operands. Operator names are as the CQL2 JSON schema spells them ("=",
// "<>", "<", "<=", ">", ">=", "and", "or", "not", "like", "between", "in", "isNull",
// "s_intersects"). Errors are *Error (kind ErrSyntax) at the offending JSON value.
func ParseJSON(data []byte) (e Expr, err error) {
	jp := &jsonParser{data: data, pos: newPositions(data)}
	defer func() {
		if r := recover(); r != nil {
			pe, ok := r.(*Error)
			if !ok {
				panic(r)
			}
			e, err = nil, pe
		}
	}()
	root := jp.document()
	return jp.predicate(root), nil
}

// jvalue is a JSON value with the byte range it was read from.
type jvalue struct {
	off, end int
	kind     byte // '{' object, '[' array, 's' string, 'n' number, 'b' boolean, 'z' null
	members  []jmember
	elems    []*jvalue
	str      string
	num      json.Number
	b        bool
}

type jmember struct {
	key   string
	off   int
	value *jvalue
}

func (v *jvalue) member(key string) *jvalue {
	for _, m := range v.members {
		if m.key == key {
			return m.value
		}
	}
	return nil
}

type jsonParser struct {
	data []byte
	dec  *json.Decoder
	pos  *positions
}

func (jp *jsonParser) fail(off int, format string, args ...any) {
	panic(&Error{Pos: jp.pos.at(off), Kind: ErrSyntax, Msg: fmt.Sprintf(format, args...)})
}

// document reads the whole input as one JSON value.
func (jp *jsonParser) document() *jvalue {
	jp.dec = json.NewDecoder(bytes.NewReader(jp.data))
	jp.dec.UseNumber()
	v := jp.value(0)
	off := jp.start()
	if _, err := jp.dec.Token(); err != io.EOF {
		jp.fail(off, "expected the end of the JSON filter after its value")
	}
	return v
}

// start is the offset where the decoder's next token begins.
func (jp *jsonParser) start() int {
	off := int(jp.dec.InputOffset())
	for off < len(jp.data) {
		switch jp.data[off] {
		case ' ', '\t', '\r', '\n', ',', ':':
			off++
			continue
		}
		break
	}
	return off
}

func (jp *jsonParser) token() (json.Token, int) {
	off := jp.start()
	t, err := jp.dec.Token()
	if err != nil {
		var se *json.SyntaxError
		switch {
		case errors.As(err, &se):
			jp.fail(int(se.Offset), "invalid JSON: %s", strings.TrimPrefix(se.Error(), "json: "))
		case err == io.EOF, errors.Is(err, io.ErrUnexpectedEOF):
			jp.fail(len(jp.data), "invalid JSON: unexpected end of the filter")
		default:
			jp.fail(off, "invalid JSON: %v", err)
		}
	}
	return t, off
}

func (jp *jsonParser) value(depth int) *jvalue {
	if depth > MaxDepth {
		jp.fail(jp.start(), "the filter is nested more than %d levels deep", MaxDepth)
	}
	t, off := jp.token()
	v := &jvalue{off: off}
	switch t := t.(type) {
	case json.Delim:
		switch t {
		case '{':
			v.kind = '{'
			for jp.dec.More() {
				kt, koff := jp.token()
				key, _ := kt.(string)
				if v.member(key) != nil {
					jp.fail(koff, "duplicate member %q", key)
				}
				v.members = append(v.members, jmember{key, koff, jp.value(depth + 1)})
			}
		case '[':
			v.kind = '['
			for jp.dec.More() {
				v.elems = append(v.elems, jp.value(depth+1))
			}
		}
		jp.token() // the closing delimiter
	case string:
		v.kind, v.str = 's', t
	case json.Number:
		v.kind, v.num = 'n', t
	case bool:
		v.kind, v.b = 'b', t
	case nil:
		v.kind = 'z'
	}
	v.end = int(jp.dec.InputOffset())
	return v
}

func describeJSON(v *jvalue) string {
	switch v.kind {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 's':
		return "a string"
	case 'n':
		return "a number"
	case 'b':
		return "a boolean"
	}
	return "null"
}

var jsonComparisons = map[string]bool{"=": true, "<>": true, "<": true, "<=": true, ">": true, ">=": true}

// predicate converts a value that must be a boolean expression.
func (jp *jsonParser) predicate(v *jvalue) Expr {
	at := At{jp.pos.at(v.off)}
	if v.kind == 'b' {
		return &Bool{at, v.b}
	}
	if v.kind != '{' || v.member("op") == nil {
		jp.fail(v.off, `expected a predicate: an object {"op": ..., "args": [...]} or true or false, found %s`, describeJSON(v))
	}
	opv := v.member("op")
	if opv.kind != 's' {
		jp.fail(opv.off, `expected the operator name as a string, found %s`, describeJSON(opv))
	}
	for _, m := range v.members {
		if m.key != "op" && m.key != "args" {
			jp.fail(m.off, `unexpected member %q in an operation: expected "op" and "args"`, m.key)
		}
	}
	argsv := v.member("args")
	if argsv == nil || argsv.kind != '[' {
		jp.fail(v.off, `expected "args": [...] with the operands of %q`, opv.str)
	}
	args := argsv.elems
	count := func(n int, what string) {
		if len(args) != n {
			jp.fail(argsv.off, "expected %s as the args of %q, found %d values", what, opv.str, len(args))
		}
	}
	op := opv.str
	switch {
	case op == "and" || op == "or":
		if len(args) < 2 {
			jp.fail(argsv.off, "expected at least 2 predicates as the args of %q, found %d", op, len(args))
		}
		list := make([]Expr, len(args))
		for i, a := range args {
			list[i] = jp.predicate(a)
		}
		if op == "and" {
			return &And{at, list}
		}
		return &Or{at, list}
	case op == "not":
		count(1, "1 predicate")
		return &Not{at, jp.predicate(args[0])}
	case jsonComparisons[op]:
		count(2, "2 operands")
		return &Compare{at, op, jp.operand(args[0]), jp.operand(args[1])}
	case op == "like":
		count(2, "an operand and a pattern")
		if args[1].kind != 's' {
			jp.fail(args[1].off, "expected a string pattern for like, found %s", describeJSON(args[1]))
		}
		if msg := checkPattern(args[1].str); msg != "" {
			jp.fail(args[1].off, "%s", msg)
		}
		return &Like{at, jp.operand(args[0]), jp.operand(args[1]).(*String)}
	case op == "between":
		count(3, "an operand and two bounds")
		return &Between{at, jp.operand(args[0]), jp.operand(args[1]), jp.operand(args[2])}
	case op == "in":
		count(2, "an operand and an array of values")
		if args[1].kind != '[' || len(args[1].elems) == 0 {
			jp.fail(args[1].off, "expected a non-empty array of values for in, found %s", describeJSON(args[1]))
		}
		list := make([]Expr, len(args[1].elems))
		for i, e := range args[1].elems {
			list[i] = jp.operand(e)
		}
		return &In{at, jp.operand(args[0]), list}
	case op == "isNull":
		count(1, "1 operand")
		return &IsNull{at, jp.operand(args[0])}
	case op == "s_intersects":
		count(2, "2 geometries")
		return &Intersects{at, jp.operand(args[0]), jp.operand(args[1])}
	case slicesContainsFold(unsupportedFunctions, op):
		jp.fail(opv.off, "%s is not supported: of the CQL2 functions, only s_intersects is", op)
	}
	jp.fail(opv.off, `unknown operator %q: expected one of =, <>, <, <=, >, >=, and, or, not, like, between, in, isNull, s_intersects`, op)
	return nil
}

// operand converts a value that must be a property or a literal.
func (jp *jsonParser) operand(v *jvalue) Expr {
	at := At{jp.pos.at(v.off)}
	switch v.kind {
	case 's':
		if strings.IndexByte(v.str, 0) >= 0 {
			jp.fail(v.off, "a string cannot contain the NUL character")
		}
		return &String{at, v.str}
	case 'n':
		f, err := strconv.ParseFloat(string(v.num), 64)
		if err != nil || math.IsInf(f, 0) {
			jp.fail(v.off, "number %s is out of range", v.num)
		}
		return &Number{at, f}
	case 'b':
		return &Bool{at, v.b}
	case '{':
		if p := v.member("property"); p != nil {
			if p.kind != 's' || p.str == "" || len(v.members) != 1 {
				jp.fail(v.off, `expected {"property": "name"}`)
			}
			if strings.IndexByte(p.str, 0) >= 0 {
				jp.fail(v.off, "a property name cannot contain the NUL character")
			}
			return &Property{at, p.str}
		}
		if v.member("type") != nil {
			g, err := geojson.UnmarshalGeometry(jp.data[v.off:v.end])
			if err != nil {
				jp.fail(v.off, "invalid GeoJSON geometry: %v", err)
			}
			if msg := checkGeometry(g.Geometry()); msg != "" {
				jp.fail(v.off, "invalid GeoJSON geometry: %s", msg)
			}
			return &Geometry{at, g.Geometry()}
		}
		if b := v.member("bbox"); b != nil {
			if b.kind != '[' || len(v.members) != 1 {
				jp.fail(v.off, `expected {"bbox": [west, south, east, north]}`)
			}
			var nums []float64
			for _, e := range b.elems {
				if e.kind != 'n' {
					jp.fail(e.off, "expected a number in bbox, found %s", describeJSON(e))
				}
				nums = append(nums, jp.operand(e).(*Number).Value)
			}
			g, msg := bboxOf(nums)
			if msg != "" {
				jp.fail(v.off, "%s", msg)
			}
			return &Geometry{at, g}
		}
		if v.member("op") != nil {
			jp.fail(v.off, "expected a property or a literal, found an operation: functions and arithmetic are not supported as operands")
		}
		for _, k := range []string{"date", "timestamp", "interval"} {
			if v.member(k) != nil {
				jp.fail(v.off, "temporal literals are not supported")
			}
		}
	}
	jp.fail(v.off, `expected a property {"property": name} or a literal (string, number, boolean, {"bbox": [...]} or a GeoJSON geometry), found %s`, describeJSON(v))
	return nil
}
