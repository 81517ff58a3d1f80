package cql2

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkt"
)

// Parse parses a filter in CQL2 Text. A syntax error is an *Error (kind ErrSyntax) at
// the first token that does not fit, saying what was expected there.
//
// String literals are single-quoted, with two single quotes for one inside (the other
// escape the CQL2 grammar allows, backslash quote, would leave no way to end a string
// with a backslash, so it is not one here); a backslash in a string
// is an ordinary character (it escapes the next character of a LIKE pattern only).
// Property names are identifiers or double-quoted with "" for a double quote inside.
func Parse(text string) (e Expr, err error) {
	p := &parser{src: text, lx: lexer{src: text}, pos: newPositions([]byte(text))}
	defer func() {
		if r := recover(); r != nil {
			pe, ok := r.(*Error)
			if !ok {
				panic(r)
			}
			e, err = nil, pe
		}
	}()
	if !utf8.ValidString(text) {
		off := 0
		for off < len(text) {
			r, n := utf8.DecodeRuneInString(text[off:])
			if r == utf8.RuneError && n <= 1 {
				break
			}
			off += n
		}
		p.fail(off, "the filter is not valid UTF-8")
	}
	p.advance()
	if p.tok.kind == tEOF {
		p.fail(p.tok.off, "expected a predicate, found an empty filter")
	}
	e = p.parseOr()
	if p.tok.kind != tEOF {
		p.failExpected("AND, OR or the end of the filter")
	}
	return e, nil
}

type tokKind int

const (
	tEOF    tokKind = iota
	tIdent          // unquoted identifier or keyword; text is as written
	tQuoted         // double-quoted identifier; text is the name
	tString         // text is the value
	tNumber         // num is the value
	tLParen
	tRParen
	tComma
	tOp    // = <> < <= > >= (and != to say it is not CQL2)
	tOther // any other character
)

type token struct {
	kind     tokKind
	off, end int // byte range in the source
	text     string
	num      float64
}

// lexer splits CQL2 Text into tokens. It is a value, so that the parser can look ahead by
// copying it.
type lexer struct {
	src string
	off int
}

// lexError is a token that cannot be read: an unterminated literal, a bad number.
type lexError struct {
	off int
	msg string
}

func isIdentStart(r rune) bool {
	return r == '_' || r == ':' || unicode.IsLetter(r)
}

func isIdentPart(r rune) bool {
	return isIdentStart(r) || r == '.' || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r) || r == '\u203F' || r == '\u2040'
}

func isDigit(b byte) bool { return '0' <= b && b <= '9' }

func (l *lexer) next() (token, *lexError) {
	for l.off < len(l.src) {
		r, n := utf8.DecodeRuneInString(l.src[l.off:])
		if !unicode.IsSpace(r) {
			break
		}
		l.off += n
	}
	start := l.off
	if start >= len(l.src) {
		return token{kind: tEOF, off: start, end: start}, nil
	}
	c := l.src[start]
	tok := func(k tokKind, n int) token {
		l.off = start + n
		return token{kind: k, off: start, end: l.off, text: l.src[start:l.off]}
	}
	switch {
	case c == '(':
		return tok(tLParen, 1), nil
	case c == ')':
		return tok(tRParen, 1), nil
	case c == ',':
		return tok(tComma, 1), nil
	case c == '=':
		return tok(tOp, 1), nil
	case c == '<':
		if strings.HasPrefix(l.src[start:], "<>") || strings.HasPrefix(l.src[start:], "<=") {
			return tok(tOp, 2), nil
		}
		return tok(tOp, 1), nil
	case c == '>':
		if strings.HasPrefix(l.src[start:], ">=") {
			return tok(tOp, 2), nil
		}
		return tok(tOp, 1), nil
	case c == '!' && strings.HasPrefix(l.src[start:], "!="):
		return tok(tOp, 2), nil
	case c == '\'':
		return l.quoted('\'', tString)
	case c == '"':
		return l.quoted('"', tQuoted)
	case isDigit(c) || c == '.' && start+1 < len(l.src) && isDigit(l.src[start+1]) ||
		(c == '+' || c == '-') && start+1 < len(l.src) &&
			(isDigit(l.src[start+1]) || l.src[start+1] == '.' && start+2 < len(l.src) && isDigit(l.src[start+2])):
		return l.number()
	}
	r, n := utf8.DecodeRuneInString(l.src[start:])
	if isIdentStart(r) {
		end := start + n
		for end < len(l.src) {
			r, n := utf8.DecodeRuneInString(l.src[end:])
			if !isIdentPart(r) {
				break
			}
			end += n
		}
		return tok(tIdent, end-start), nil
	}
	return tok(tOther, n), nil
}

// quoted reads a literal between quotes q, where a doubled q stands for one.
func (l *lexer) quoted(q byte, kind tokKind) (token, *lexError) {
	start := l.off
	var b strings.Builder
	i := start + 1
	for {
		j := strings.IndexByte(l.src[i:], q)
		if j < 0 {
			if kind == tString {
				return token{}, &lexError{start, "unterminated string: expected a closing ' (write '' for a quote inside a string)"}
			}
			return token{}, &lexError{start, `unterminated property name: expected a closing " (write "" for a double quote inside a name)`}
		}
		b.WriteString(l.src[i : i+j])
		i += j + 1
		if i < len(l.src) && l.src[i] == q {
			b.WriteByte(q)
			i++
			continue
		}
		break
	}
	l.off = i
	s := b.String()
	if strings.IndexByte(s, 0) >= 0 {
		return token{}, &lexError{start, "a string or name cannot contain the NUL character"}
	}
	if kind == tQuoted && s == "" {
		return token{}, &lexError{start, `expected a property name between the double quotes, found ""`}
	}
	return token{kind: kind, off: start, end: i, text: s}, nil
}

// number reads [+-] digits [. digits] [E [+-] digits], or with digits only after the point.
func (l *lexer) number() (token, *lexError) {
	start := l.off
	i := start
	if l.src[i] == '+' || l.src[i] == '-' {
		i++
	}
	for i < len(l.src) && isDigit(l.src[i]) {
		i++
	}
	if i < len(l.src) && l.src[i] == '.' {
		i++
		for i < len(l.src) && isDigit(l.src[i]) {
			i++
		}
	}
	if i < len(l.src) && (l.src[i] == 'e' || l.src[i] == 'E') {
		j := i + 1
		if j < len(l.src) && (l.src[j] == '+' || l.src[j] == '-') {
			j++
		}
		if j < len(l.src) && isDigit(l.src[j]) {
			for j < len(l.src) && isDigit(l.src[j]) {
				j++
			}
			i = j
		}
	}
	l.off = i
	text := l.src[start:i]
	v, err := strconv.ParseFloat(text, 64)
	if err != nil || math.IsInf(v, 0) {
		return token{}, &lexError{start, fmt.Sprintf("number %s is out of range", text)}
	}
	return token{kind: tNumber, off: start, end: i, text: text, num: v}, nil
}

type parser struct {
	src   string
	lx    lexer
	tok   token
	pos   *positions
	depth int
}

func (p *parser) fail(off int, format string, args ...any) {
	panic(&Error{Pos: p.pos.at(off), Kind: ErrSyntax, Msg: fmt.Sprintf(format, args...)})
}

func (p *parser) failExpected(what string) {
	p.fail(p.tok.off, "expected %s, found %s", what, p.describe(p.tok))
}

func (p *parser) describe(t token) string {
	if t.kind == tEOF {
		return "the end of the filter"
	}
	s := p.src[t.off:t.end]
	if utf8.RuneCountInString(s) > 40 {
		s = string([]rune(s)[:40]) + "..."
	}
	return s
}

func (p *parser) advance() {
	t, err := p.lx.next()
	if err != nil {
		p.fail(err.off, "%s", err.msg)
	}
	p.tok = t
}

// peek returns the token after the current one.
func (p *parser) peek() token {
	l := p.lx
	t, err := l.next()
	if err != nil {
		return token{kind: tOther, off: err.off, end: err.off}
	}
	return t
}

func (p *parser) keyword(kw string) bool {
	return p.tok.kind == tIdent && strings.EqualFold(p.tok.text, kw)
}

func (p *parser) expect(k tokKind, what string) token {
	if p.tok.kind != k {
		p.failExpected(what)
	}
	t := p.tok
	p.advance()
	return t
}

func (p *parser) at(off int) At { return At{p.pos.at(off)} }

func (p *parser) enter() {
	p.depth++
	if p.depth > MaxDepth {
		p.fail(p.tok.off, "the filter is nested more than %d levels deep", MaxDepth)
	}
}

func (p *parser) parseOr() Expr {
	p.enter()
	defer func() { p.depth-- }()
	first := p.parseAnd()
	if !p.keyword("OR") {
		return first
	}
	args := []Expr{first}
	for p.keyword("OR") {
		p.advance()
		args = append(args, p.parseAnd())
	}
	return &Or{At{first.Pos()}, args}
}

func (p *parser) parseAnd() Expr {
	first := p.parseNot()
	if !p.keyword("AND") {
		return first
	}
	args := []Expr{first}
	for p.keyword("AND") {
		p.advance()
		args = append(args, p.parseNot())
	}
	return &And{At{first.Pos()}, args}
}

func (p *parser) parseNot() Expr {
	if p.keyword("NOT") {
		p.enter()
		defer func() { p.depth-- }()
		at := p.at(p.tok.off)
		p.advance()
		return &Not{at, p.parseNot()}
	}
	return p.parsePrimary()
}

// reserved are the keywords that cannot be unquoted property names.
var reserved = []string{"AND", "OR", "NOT", "LIKE", "BETWEEN", "IN", "IS", "NULL", "TRUE", "FALSE"}

func isReserved(s string) bool {
	for _, k := range reserved {
		if strings.EqualFold(s, k) {
			return true
		}
	}
	return false
}

// geometryKeywords are the WKT geometry types a filter may hold.
var geometryKeywords = []string{"POINT", "LINESTRING", "POLYGON", "MULTIPOINT", "MULTILINESTRING", "MULTIPOLYGON", "GEOMETRYCOLLECTION"}

func isGeometryKeyword(s string) bool {
	for _, k := range geometryKeywords {
		if strings.EqualFold(s, k) {
			return true
		}
	}
	return false
}

// unsupportedFunctions are the CQL2 functions of conformance classes this package does
// not implement, named so that the error says so.
var unsupportedFunctions = []string{
	"S_EQUALS", "S_DISJOINT", "S_TOUCHES", "S_WITHIN", "S_OVERLAPS", "S_CROSSES", "S_CONTAINS",
	"T_AFTER", "T_BEFORE", "T_CONTAINS", "T_DISJOINT", "T_DURING", "T_EQUALS", "T_FINISHEDBY",
	"T_FINISHES", "T_INTERSECTS", "T_MEETS", "T_METBY", "T_OVERLAPPEDBY", "T_OVERLAPS",
	"T_STARTEDBY", "T_STARTS", "A_EQUALS", "A_CONTAINS", "A_CONTAINEDBY", "A_OVERLAPS",
	"CASEI", "ACCENTI", "DATE", "TIMESTAMP", "INTERVAL",
}

func (p *parser) parsePrimary() Expr {
	if p.tok.kind == tLParen {
		p.advance()
		e := p.parseOr()
		p.expect(tRParen, "), AND or OR")
		return e
	}
	if p.tok.kind == tIdent && p.peek().kind == tLParen && !isGeometryKeyword(p.tok.text) && !strings.EqualFold(p.tok.text, "BBOX") {
		return p.parseFunction()
	}
	start := p.tok
	at := p.at(start.off) // before the operand: positions are cheapest in increasing order
	left := p.parseOperand()
	neg := false
	if p.keyword("NOT") {
		neg = true
		p.advance()
		if !p.keyword("LIKE") && !p.keyword("BETWEEN") && !p.keyword("IN") {
			p.failExpected("LIKE, BETWEEN or IN after NOT")
		}
	}
	var e Expr
	switch {
	case p.tok.kind == tOp:
		if p.tok.text == "!=" {
			p.fail(p.tok.off, "expected a comparison operator (=, <>, <, <=, >, >=), found != (CQL2 writes not equal as <>)")
		}
		op := p.tok.text
		p.advance()
		e = &Compare{at, op, left, p.parseOperand()}
	case p.keyword("LIKE"):
		p.advance()
		if p.tok.kind != tString {
			p.failExpected("a string pattern after LIKE")
		}
		pat := &String{p.at(p.tok.off), p.tok.text}
		if err := checkPattern(pat.Value); err != "" {
			p.fail(p.tok.off, "%s", err)
		}
		p.advance()
		e = &Like{at, left, pat}
	case p.keyword("BETWEEN"):
		p.advance()
		low := p.parseOperand()
		if !p.keyword("AND") {
			p.failExpected("AND between the bounds of BETWEEN")
		}
		p.advance()
		e = &Between{at, left, low, p.parseOperand()}
	case p.keyword("IN"):
		p.advance()
		p.expect(tLParen, "( to open the list of IN")
		list := []Expr{p.parseOperand()}
		for p.tok.kind == tComma {
			p.advance()
			list = append(list, p.parseOperand())
		}
		p.expect(tRParen, ", or ) to close the list of IN")
		e = &In{at, left, list}
	case p.keyword("IS"):
		p.advance()
		if p.keyword("NOT") {
			neg = true
			p.advance()
		}
		if !p.keyword("NULL") {
			p.failExpected("NULL or NOT NULL after IS")
		}
		p.advance()
		e = &IsNull{at, left}
	default:
		if b, ok := left.(*Bool); ok {
			return b
		}
		p.failExpected(fmt.Sprintf("a comparison operator (=, <>, <, <=, >, >=), LIKE, BETWEEN, IN or IS NULL after %s", p.describe(start)))
	}
	if neg {
		return &Not{at, e}
	}
	return e
}

func (p *parser) parseFunction() Expr {
	name := p.tok
	at := p.at(name.off)
	switch {
	case strings.EqualFold(name.text, "S_INTERSECTS"):
	case slicesContainsFold(unsupportedFunctions, name.text):
		p.fail(name.off, "%s is not supported: of the CQL2 functions, only S_INTERSECTS is", strings.ToUpper(name.text))
	default:
		p.fail(name.off, "unknown function %s: of the CQL2 functions, only S_INTERSECTS is supported", name.text)
	}
	p.advance()
	p.expect(tLParen, "(")
	a := p.parseOperand()
	p.expect(tComma, ", between the arguments of S_INTERSECTS")
	b := p.parseOperand()
	p.expect(tRParen, ") after the second argument of S_INTERSECTS")
	return &Intersects{at, a, b}
}

func slicesContainsFold(list []string, s string) bool {
	for _, k := range list {
		if strings.EqualFold(k, s) {
			return true
		}
	}
	return false
}

// parseOperand reads a property name or a literal.
func (p *parser) parseOperand() Expr {
	t := p.tok
	at := p.at(t.off)
	switch t.kind {
	case tNumber:
		p.advance()
		return &Number{at, t.num}
	case tString:
		p.advance()
		return &String{at, t.text}
	case tQuoted:
		p.advance()
		return &Property{at, t.text}
	case tIdent:
		switch {
		case strings.EqualFold(t.text, "TRUE"), strings.EqualFold(t.text, "FALSE"):
			p.advance()
			return &Bool{at, strings.EqualFold(t.text, "TRUE")}
		case isReserved(t.text):
			p.failExpected("a property name or a literal")
		case isGeometryKeyword(t.text) && p.peek().kind == tIdent && slicesContainsFold([]string{"EMPTY", "Z", "M", "ZM"}, p.peek().text):
			p.advance()
			p.fail(p.tok.off, "expected ( after %s, found %s: EMPTY geometries and Z or M coordinates are not supported", strings.ToUpper(t.text), p.tok.text)
		case p.peek().kind == tLParen:
			if strings.EqualFold(t.text, "BBOX") {
				return p.parseBBox()
			}
			if isGeometryKeyword(t.text) {
				return p.parseWKT()
			}
			p.fail(t.off, "expected a property name or a literal, found the function %s: functions are only supported as predicates (S_INTERSECTS)", t.text)
		}
		p.advance()
		return &Property{at, t.text}
	}
	p.failExpected("a property name or a literal (string, number, TRUE, FALSE, BBOX or geometry)")
	return nil
}

func (p *parser) parseBBox() Expr {
	start := p.tok.off
	at := p.at(start)
	p.advance()
	p.expect(tLParen, "(")
	var v []float64
	for {
		t := p.expect(tNumber, "a number in BBOX")
		v = append(v, t.num)
		if p.tok.kind != tComma {
			break
		}
		p.advance()
	}
	p.expect(tRParen, ", or ) in BBOX")
	g, msg := bboxOf(v)
	if msg != "" {
		p.fail(start, "%s", msg)
	}
	return &Geometry{at, g}
}

// bboxOf makes the bound of BBOX(west, south, east, north).
func bboxOf(v []float64) (orb.Bound, string) {
	switch {
	case len(v) == 6:
		return orb.Bound{}, "expected BBOX(west, south, east, north): 3D bounding boxes are not supported"
	case len(v) != 4:
		return orb.Bound{}, fmt.Sprintf("expected BBOX(west, south, east, north), found %d numbers", len(v))
	case v[0] > v[2]:
		return orb.Bound{}, fmt.Sprintf("BBOX west %g is east of its east %g (boxes across the antimeridian are not supported)", v[0], v[2])
	case v[1] > v[3]:
		return orb.Bound{}, fmt.Sprintf("BBOX south %g is north of its north %g", v[1], v[3])
	}
	return orb.Bound{Min: orb.Point{v[0], v[1]}, Max: orb.Point{v[2], v[3]}}, ""
}

// parseWKT reads a WKT geometry token by token up to its closing parenthesis and hands
// it, respelled, to orb's WKT reader.
func (p *parser) parseWKT() Expr {
	start := p.tok
	at := p.at(start.off)
	kind := strings.ToUpper(start.text)
	var b strings.Builder
	b.WriteString(kind)
	p.advance()
	depth := 0
	prevNumber := false
	for {
		t := p.tok
		switch t.kind {
		case tLParen:
			depth++
			if depth > MaxDepth {
				p.fail(t.off, "the geometry is nested more than %d levels deep", MaxDepth)
			}
			b.WriteByte('(')
		case tRParen:
			depth--
			b.WriteByte(')')
		case tComma:
			b.WriteByte(',')
		case tNumber:
			if prevNumber {
				b.WriteByte(' ')
			}
			b.WriteString(strconv.FormatFloat(t.num, 'g', -1, 64))
		case tIdent:
			if kind != "GEOMETRYCOLLECTION" || !isGeometryKeyword(t.text) || p.peek().kind != tLParen {
				p.failExpected(fmt.Sprintf("coordinates in %s (EMPTY and Z or M coordinates are not supported)", kind))
			}
			b.WriteString(strings.ToUpper(t.text))
		default:
			p.failExpected(fmt.Sprintf("coordinates, a comma or a parenthesis in %s", kind))
		}
		prevNumber = t.kind == tNumber
		p.advance()
		if depth == 0 {
			break
		}
	}
	g, err := wkt.Unmarshal(b.String())
	if err != nil {
		p.fail(start.off, "invalid %s: expected x y coordinates (longitude latitude) separated by commas, in the parentheses of WKT", kind)
	}
	if msg := checkGeometry(g); msg != "" {
		p.fail(start.off, "invalid %s: %s", kind, msg)
	}
	return &Geometry{at, g}
}

// checkPattern returns what is wrong with a LIKE pattern, or "".
func checkPattern(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' {
			if i == len(s)-1 {
				return `a LIKE pattern cannot end with the escape character \ (write \\ for a backslash)`
			}
			i++
		}
	}
	return ""
}
