package cql2

import (
	"errors"
	"strings"
	"testing"
)

// The examples follow the requirements of the CQL2 conformance classes of OGC 21-065
// (Common Query Language, CQL2 1.0.0): Basic CQL2 (/conf/basic-cql2), Advanced Comparison
// Operators (/conf/advanced-comparison-operators), Property-Property Comparisons
// (/conf/property-property), Basic Spatial Functions (/conf/basic-spatial-functions:
// S_INTERSECTS with POINT and BBOX) and Basic Spatial Functions with additional Spatial
// Literals (/conf/basic-spatial-functions-plus), each in CQL2 Text (/conf/cql2-text) and
// CQL2 JSON (/conf/cql2-json). Each example is written in both encodings; both must parse
// to the same canonical text.
var conformanceExamples = []struct {
	name, class, text, json, canonical string
}{
	{"a string equality", "basic-cql2",
		`city='Toronto'`,
		`{"op": "=", "args": [{"property": "city"}, "Toronto"]}`,
		`city = 'Toronto'`},
	{"a quote inside a string is doubled", "basic-cql2",
		`owner = 'O''Neil'`,
		`{"op": "=", "args": [{"property": "owner"}, "O'Neil"]}`,
		`owner = 'O''Neil'`},
	{"a number less than", "basic-cql2",
		`avg_wind < 4`,
		`{"op": "<", "args": [{"property": "avg_wind"}, 4]}`,
		`avg_wind < 4`},
	{"a signed decimal greater than", "basic-cql2",
		`balance > -150.0`,
		`{"op": ">", "args": [{"property": "balance"}, -150.0]}`,
		`balance > -150`},
	{"not equal, at most and at least", "basic-cql2",
		`floors<>3 AND floors<=10 AND floors>=1`,
		`{"op": "and", "args": [{"op": "<>", "args": [{"property": "floors"}, 3]}, {"op": "<=", "args": [{"property": "floors"}, 10]}, {"op": ">=", "args": [{"property": "floors"}, 1]}]}`,
		`floors <> 3 AND floors <= 10 AND floors >= 1`},
	{"an exponent number", "basic-cql2",
		`area_m2 >= 1.5E3`,
		`{"op": ">=", "args": [{"property": "area_m2"}, 1.5e3]}`,
		`area_m2 >= 1500`},
	{"a boolean property equals a boolean literal", "basic-cql2",
		`swimming_pool = true`,
		`{"op": "=", "args": [{"property": "swimming_pool"}, true]}`,
		`swimming_pool = TRUE`},
	{"a boolean literal alone is a predicate", "basic-cql2",
		`TRUE`,
		`true`,
		`TRUE`},
	{"AND binds tighter than OR", "basic-cql2",
		`a = 1 or b = 2 and c = 3`,
		`{"op": "or", "args": [{"op": "=", "args": [{"property": "a"}, 1]}, {"op": "and", "args": [{"op": "=", "args": [{"property": "b"}, 2]}, {"op": "=", "args": [{"property": "c"}, 3]}]}]}`,
		`a = 1 OR b = 2 AND c = 3`},
	{"parentheses keep an OR inside an AND", "basic-cql2",
		`(a = 1 OR b = 2) AND c = 3`,
		`{"op": "and", "args": [{"op": "or", "args": [{"op": "=", "args": [{"property": "a"}, 1]}, {"op": "=", "args": [{"property": "b"}, 2]}]}, {"op": "=", "args": [{"property": "c"}, 3]}]}`,
		`(a = 1 OR b = 2) AND c = 3`},
	{"NOT of a comparison", "basic-cql2",
		`NOT city = 'Toronto'`,
		`{"op": "not", "args": [{"op": "=", "args": [{"property": "city"}, "Toronto"]}]}`,
		`NOT (city = 'Toronto')`},
	{"IS NULL", "basic-cql2",
		`geometry IS NULL`,
		`{"op": "isNull", "args": [{"property": "geometry"}]}`,
		`geometry IS NULL`},
	{"IS NOT NULL", "basic-cql2",
		`name is not null`,
		`{"op": "not", "args": [{"op": "isNull", "args": [{"property": "name"}]}]}`,
		`name IS NOT NULL`},
	{"a double-quoted property name", "basic-cql2",
		`"land use" = 'park' AND "say ""hi""" = 'x' AND "and" = 1`,
		`{"op": "and", "args": [{"op": "=", "args": [{"property": "land use"}, "park"]}, {"op": "=", "args": [{"property": "say \"hi\""}, "x"]}, {"op": "=", "args": [{"property": "and"}, 1]}]}`,
		`"land use" = 'park' AND "say ""hi""" = 'x' AND "and" = 1`},
	{"LIKE with % and _", "advanced-comparison-operators",
		`name LIKE 'Smith_%'`,
		`{"op": "like", "args": [{"property": "name"}, "Smith_%"]}`,
		`name LIKE 'Smith_%'`},
	{"NOT LIKE with an escaped wildcard", "advanced-comparison-operators",
		`name NOT LIKE '100\%%'`,
		`{"op": "not", "args": [{"op": "like", "args": [{"property": "name"}, "100\\%%"]}]}`,
		`name NOT LIKE '100\%%'`},
	{"BETWEEN", "advanced-comparison-operators",
		`depth BETWEEN 100.0 and 150.0`,
		`{"op": "between", "args": [{"property": "depth"}, 100.0, 150.0]}`,
		`depth BETWEEN 100 AND 150`},
	{"NOT BETWEEN", "advanced-comparison-operators",
		`depth not between 100 and 150`,
		`{"op": "not", "args": [{"op": "between", "args": [{"property": "depth"}, 100, 150]}]}`,
		`depth NOT BETWEEN 100 AND 150`},
	{"IN a list of strings", "advanced-comparison-operators",
		`cityName IN ('Toronto','Frankfurt','Tokyo','New York')`,
		`{"op": "in", "args": [{"property": "cityName"}, ["Toronto", "Frankfurt", "Tokyo", "New York"]]}`,
		`cityName IN ('Toronto', 'Frankfurt', 'Tokyo', 'New York')`},
	{"NOT IN a list of numbers", "advanced-comparison-operators",
		`category NOT IN (1,2,3,4)`,
		`{"op": "not", "args": [{"op": "in", "args": [{"property": "category"}, [1, 2, 3, 4]]}]}`,
		`category NOT IN (1, 2, 3, 4)`},
	{"a property compared with a property", "property-property",
		`height_m > floors`,
		`{"op": ">", "args": [{"property": "height_m"}, {"property": "floors"}]}`,
		`height_m > floors`},
	{"S_INTERSECTS with a POINT", "basic-spatial-functions",
		`S_INTERSECTS(geometry,POINT(36.319836 32.288087))`,
		`{"op": "s_intersects", "args": [{"property": "geometry"}, {"type": "Point", "coordinates": [36.319836, 32.288087]}]}`,
		`S_INTERSECTS(geometry, POINT(36.319836 32.288087))`},
	{"S_INTERSECTS with a BBOX", "basic-spatial-functions",
		`s_intersects(geometry, bbox(-128.098193, -1.1, -99.999, 80.0))`,
		`{"op": "s_intersects", "args": [{"property": "geometry"}, {"bbox": [-128.098193, -1.1, -99.999, 80.0]}]}`,
		`S_INTERSECTS(geometry, BBOX(-128.098193, -1.1, -99.999, 80))`},
	{"S_INTERSECTS with a LINESTRING", "basic-spatial-functions-plus",
		`S_INTERSECTS(geometry, LINESTRING(43.72992 -79.2998, 43.73005 -79.2991, 43.73006 -79.2984))`,
		`{"op": "s_intersects", "args": [{"property": "geometry"}, {"type": "LineString", "coordinates": [[43.72992, -79.2998], [43.73005, -79.2991], [43.73006, -79.2984]]}]}`,
		`S_INTERSECTS(geometry, LINESTRING(43.72992 -79.2998,43.73005 -79.2991,43.73006 -79.2984))`},
	{"S_INTERSECTS with a POLYGON with a hole", "basic-spatial-functions-plus",
		`S_INTERSECTS(geometry, Polygon ((0 0, 10 0, 10 10, 0 10, 0 0), (2 2, 2 8, 8 8, 2 2)))`,
		`{"op": "s_intersects", "args": [{"property": "geometry"}, {"type": "Polygon", "coordinates": [[[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]], [[2, 2], [2, 8], [8, 8], [2, 2]]]}]}`,
		`S_INTERSECTS(geometry, POLYGON((0 0,10 0,10 10,0 10,0 0),(2 2,2 8,8 8,2 2)))`},
	{"S_INTERSECTS with a MULTIPOINT", "basic-spatial-functions-plus",
		`S_INTERSECTS(geometry, MULTIPOINT((7 43), (7.5 43.5)))`,
		`{"op": "s_intersects", "args": [{"property": "geometry"}, {"type": "MultiPoint", "coordinates": [[7, 43], [7.5, 43.5]]}]}`,
		`S_INTERSECTS(geometry, MULTIPOINT((7 43),(7.5 43.5)))`},
	{"S_INTERSECTS with a MULTILINESTRING", "basic-spatial-functions-plus",
		`S_INTERSECTS(geometry, MULTILINESTRING((7 43, 8 44), (9 43, 9 44)))`,
		`{"op": "s_intersects", "args": [{"property": "geometry"}, {"type": "MultiLineString", "coordinates": [[[7, 43], [8, 44]], [[9, 43], [9, 44]]]}]}`,
		`S_INTERSECTS(geometry, MULTILINESTRING((7 43,8 44),(9 43,9 44)))`},
	{"S_INTERSECTS with a MULTIPOLYGON", "basic-spatial-functions-plus",
		`S_INTERSECTS(geometry, MULTIPOLYGON(((0 0, 1 0, 1 1, 0 0)), ((5 5, 6 5, 6 6, 5 5))))`,
		`{"op": "s_intersects", "args": [{"property": "geometry"}, {"type": "MultiPolygon", "coordinates": [[[[0, 0], [1, 0], [1, 1], [0, 0]]], [[[5, 5], [6, 5], [6, 6], [5, 5]]]]}]}`,
		`S_INTERSECTS(geometry, MULTIPOLYGON(((0 0,1 0,1 1,0 0)),((5 5,6 5,6 6,5 5))))`},
	{"S_INTERSECTS with a GEOMETRYCOLLECTION", "basic-spatial-functions-plus",
		`S_INTERSECTS(geometry, GEOMETRYCOLLECTION(POINT(7 43), LINESTRING(7 43, 8 44)))`,
		`{"op": "s_intersects", "args": [{"property": "geometry"}, {"type": "GeometryCollection", "geometries": [{"type": "Point", "coordinates": [7, 43]}, {"type": "LineString", "coordinates": [[7, 43], [8, 44]]}]}]}`,
		`S_INTERSECTS(geometry, GEOMETRYCOLLECTION(POINT(7 43),LINESTRING(7 43,8 44)))`},
	{"a spatial predicate inside logic", "basic-spatial-functions",
		`NOT S_INTERSECTS(geometry, BBOX(7, 43, 8, 44)) OR floors > 3`,
		`{"op": "or", "args": [{"op": "not", "args": [{"op": "s_intersects", "args": [{"property": "geometry"}, {"bbox": [7, 43, 8, 44]}]}]}, {"op": ">", "args": [{"property": "floors"}, 3]}]}`,
		`NOT (S_INTERSECTS(geometry, BBOX(7, 43, 8, 44))) OR floors > 3`},
}

func TestConformanceExamplesParseToTheirCanonicalText(t *testing.T) {
	for _, c := range conformanceExamples {
		t.Run(c.class+"/"+c.name, func(t *testing.T) {
			e, err := Parse(c.text)
			if err != nil {
				t.Fatalf("Parse(%q): %v", c.text, err)
			}
			if got := Format(e); got != c.canonical {
				t.Errorf("text: canonical form\n got %s\nwant %s", got, c.canonical)
			}
			j, err := ParseJSON([]byte(c.json))
			if err != nil {
				t.Fatalf("ParseJSON(%s): %v", c.json, err)
			}
			if got := Format(j); got != c.canonical {
				t.Errorf("JSON: canonical form\n got %s\nwant %s", got, c.canonical)
			}
			again, err := Parse(c.canonical)
			if err != nil {
				t.Fatalf("the canonical text does not parse: %v", err)
			}
			if got := Format(again); got != c.canonical {
				t.Errorf("canonical text is not stable:\n got %s\nwant %s", got, c.canonical)
			}
		})
	}
}

func TestCanonicalTextIgnoresKeywordCaseButNotPropertyCase(t *testing.T) {
	same := [][]string{
		{`a=1 and b='x'`, `a = 1 AND b = 'x'`, `(a = 1.0) And (((b = 'x')))`, `a = 1e0 AND b = 'x'`,
			`{"op":"and","args":[{"op":"=","args":[{"property":"a"},1]},{"op":"=","args":[{"property":"b"},"x"]}]}`},
		{`a = 1 AND (b = 2 AND c = 3)`, `(a = 1 AND b = 2) AND c = 3`, `a=1 AND b=2 AND c=3`},
		{`x not like 'a%'`, `NOT x LIKE 'a%'`, `NOT (x LIKE 'a%')`},
		{`s_intersects(geometry, point(7 43))`, `S_INTERSECTS(geometry,POINT(7.0 43.0))`, `S_INTERSECTS("geometry", POINT (7 43))`},
	}
	for _, group := range same {
		want := ""
		for i, s := range group {
			var e Expr
			var err error
			if strings.HasPrefix(s, "{") {
				e, err = ParseJSON([]byte(s))
			} else {
				e, err = Parse(s)
			}
			if err != nil {
				t.Fatalf("parse %q: %v", s, err)
			}
			got := Format(e)
			if i == 0 {
				want = got
			} else if got != want {
				t.Errorf("%q and %q have different canonical texts: %q and %q", group[0], s, want, got)
			}
		}
	}
	// Property names are case-sensitive: A and a are two properties.
	upper, _ := Parse(`A = 1 AND b = 'x'`)
	lower, _ := Parse(`a = 1 AND b = 'x'`)
	if Format(upper) == Format(lower) {
		t.Errorf("A = 1 and a = 1 have the same canonical text %q", Format(upper))
	}
}

func TestCanonicalTextQuotesNamesThatNeedIt(t *testing.T) {
	for _, c := range []struct{ name, want string }{
		{"floors", "floors"},
		{"Höhe", "Höhe"},
		{"ns:height.m", "ns:height.m"},
		{"land use", `"land use"`},
		{"1st", `"1st"`},
		{"and", `"and"`},
		{"Point", `"Point"`},
		{"bbox", `"bbox"`},
		{`say "hi"`, `"say ""hi"""`},
	} {
		if got := formatName(c.name); got != c.want {
			t.Errorf("formatName(%q) = %s, want %s", c.name, got, c.want)
		}
		e, err := Parse(formatName(c.name) + " = 1")
		if err != nil {
			t.Fatalf("%s does not parse back: %v", formatName(c.name), err)
		}
		if p := e.(*Compare).Left.(*Property); p.Name != c.name {
			t.Errorf("%s parses back as property %q, want %q", formatName(c.name), p.Name, c.name)
		}
	}
}

func TestParseErrorsSayWhereAndWhatWasExpected(t *testing.T) {
	for _, c := range []struct {
		name, text     string
		offset, column int
		msg            string
	}{
		{"an empty filter", ``, 0, 1, "expected a predicate"},
		{"a comparison without its right operand", `floors = `, 9, 10, "expected a property name or a literal"},
		{"a property alone is not a predicate", `floors AND x = 1`, 7, 8, "expected a comparison operator (=, <>, <, <=, >, >=), LIKE, BETWEEN, IN or IS NULL after floors"},
		{"an unterminated string", `name = 'abc`, 7, 8, "unterminated string"},
		{"an unterminated quoted name", `"name = 'abc'`, 0, 1, "unterminated property name"},
		{"an empty quoted name", `"" = 1`, 0, 1, "expected a property name between the double quotes"},
		{"a missing closing parenthesis", `(a = 1 OR b = 2`, 15, 16, "expected ), AND or OR, found the end of the filter"},
		{"a stray closing parenthesis", `a = 1)`, 5, 6, "expected AND, OR or the end of the filter, found )"},
		{"!= instead of <>", `a != 1`, 2, 3, "CQL2 writes not equal as <>"},
		{"a keyword where a property belongs", `AND = 1`, 0, 1, "expected a property name or a literal, found AND"},
		{"BETWEEN without AND", `a BETWEEN 1 OR 2`, 12, 13, "expected AND between the bounds of BETWEEN"},
		{"IN without a list", `a IN 1`, 5, 6, "expected ( to open the list of IN"},
		{"an unclosed IN list", `a IN (1, 2`, 10, 11, "expected , or ) to close the list of IN"},
		{"IS without NULL", `a IS 1`, 5, 6, "expected NULL or NOT NULL after IS"},
		{"NOT without LIKE, BETWEEN or IN", `a NOT = 1`, 6, 7, "expected LIKE, BETWEEN or IN after NOT"},
		{"LIKE with a number", `a LIKE 1`, 7, 8, "expected a string pattern after LIKE"},
		{"a pattern ending with the escape character", `a LIKE 'x\'`, 7, 8, "cannot end with the escape character"},
		{"an unsupported spatial function", `S_WITHIN(geometry, POINT(1 2))`, 0, 1, "S_WITHIN is not supported"},
		{"an unknown function", `lower(name) = 'x'`, 0, 1, "unknown function lower"},
		{"a BBOX with 3 numbers", `S_INTERSECTS(geometry, BBOX(1, 2, 3))`, 23, 24, "expected BBOX(west, south, east, north), found 3 numbers"},
		{"a 3D BBOX", `S_INTERSECTS(geometry, BBOX(1, 2, 3, 4, 5, 6))`, 23, 24, "3D bounding boxes are not supported"},
		{"a BBOX across the antimeridian", `S_INTERSECTS(geometry, BBOX(170, 2, -170, 4))`, 23, 24, "west 170 is east of its east -170"},
		{"a polygon ring that is not closed", `S_INTERSECTS(geometry, POLYGON((0 0, 1 0, 1 1, 0 1)))`, 23, 24, "invalid POLYGON: a polygon ring must end where it starts"},
		{"a line of one position", `S_INTERSECTS(geometry, LINESTRING(0 0))`, 23, 24, "invalid LINESTRING: a line needs at least 2 positions"},
		{"a point with three coordinates", `S_INTERSECTS(geometry, POINT(1 2 3))`, 23, 24, "invalid POINT: expected x y coordinates"},
		{"an EMPTY geometry", `S_INTERSECTS(geometry, POINT EMPTY)`, 29, 30, "expected ( after POINT, found EMPTY: EMPTY geometries and Z or M coordinates are not supported"},
		{"a word inside WKT", `S_INTERSECTS(geometry, POINT(1 x))`, 31, 32, "expected coordinates in POINT"},
		{"a semicolon after the filter", `name = 'a'; DROP TABLE buildings`, 10, 11, "expected AND, OR or the end of the filter, found ;"},
		{"an SQL comment after the filter", `name = 'a' -- comment`, 11, 12, "expected AND, OR or the end of the filter, found -"},
		{"a number out of range", `a = 1e999`, 4, 5, "number 1e999 is out of range"},
		// Ω is 2 bytes: the end is at byte 8+2+5 = 15, after 14 characters.
		{"columns count characters, offsets count bytes", `name = 'Ω' AND`, 15, 15, "expected a property name or a literal"},
		{"positions on a second line", "a = 1\n  AND ?", 12, 7, "found ?"},
		{"invalid UTF-8", "name = '\xff'", 8, 9, "not valid UTF-8"},
		{"a NUL in a string", "name = 'a\x00b'", 7, 8, "NUL"},
		{"nesting beyond the limit", strings.Repeat("(", MaxDepth+1) + "a = 1" + strings.Repeat(")", MaxDepth+1), MaxDepth, MaxDepth + 1, "nested more than 100 levels"},
	} {
		t.Run(c.name, func(t *testing.T) {
			e, err := Parse(c.text)
			if err == nil {
				t.Fatalf("Parse(%q) = %s, want an error", c.text, Format(e))
			}
			var pe *Error
			if !errors.As(err, &pe) || !errors.Is(err, ErrSyntax) {
				t.Fatalf("Parse(%q) error %v is not a syntax *Error", c.text, err)
			}
			if pe.Offset != c.offset || pe.Column != c.column || !strings.Contains(pe.Msg, c.msg) {
				t.Errorf("Parse(%q) = offset %d, column %d, %q; want offset %d, column %d and %q",
					c.text, pe.Offset, pe.Column, pe.Msg, c.offset, c.column, c.msg)
			}
		})
	}
}

func TestParseJSONErrorsSayWhereAndWhatWasExpected(t *testing.T) {
	for _, c := range []struct {
		name, json     string
		offset, column int
		msg            string
	}{
		{"invalid JSON", `{"op": "=", "args": [1, ]}`, 24, 25, "invalid JSON"},
		{"truncated JSON", `{"op": "=", "args": [1`, 22, 23, "unexpected end"},
		{"trailing data", `true false`, 5, 6, "expected the end of the JSON filter"},
		{"a string where a predicate belongs", `"a = 1"`, 0, 1, "expected a predicate"},
		{"an unknown operator", `{"op": "~", "args": [1, 2]}`, 7, 8, `unknown operator "~"`},
		{"an unsupported function", `{"op": "t_before", "args": [1, 2]}`, 7, 8, "t_before is not supported"},
		{"too few operands", `{"op": "=", "args": [{"property": "a"}]}`, 20, 21, `expected 2 operands as the args of "="`},
		{"AND of one predicate", `{"op": "and", "args": [true]}`, 22, 23, "expected at least 2 predicates"},
		{"an unknown member", `{"op": "=", "args": [1, 1], "x": 1}`, 28, 29, `unexpected member "x"`},
		{"a duplicate member", `{"op": "=", "op": "<", "args": [1, 1]}`, 12, 13, `duplicate member "op"`},
		{"an empty IN list", `{"op": "in", "args": [{"property": "a"}, []]}`, 41, 42, "expected a non-empty array"},
		{"a like pattern that is a number", `{"op": "like", "args": [{"property": "a"}, 5]}`, 43, 44, "expected a string pattern"},
		{"a property without a name", `{"op": "isNull", "args": [{"property": 5}]}`, 26, 27, `expected {"property": "name"}`},
		{"an invalid GeoJSON geometry", `{"op": "s_intersects", "args": [{"property": "geometry"}, {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1]]]}]}`, 58, 59, "a polygon ring needs at least 4 positions"},
		{"a temporal literal", `{"op": "=", "args": [{"property": "a"}, {"timestamp": "2020-01-01T00:00:00Z"}]}`, 40, 41, "temporal literals are not supported"},
		{"a second line", "{\"op\": \"=\",\n \"args\": [{\"property\": \"a\"}, null]}", 41, 30, "found null"},
	} {
		t.Run(c.name, func(t *testing.T) {
			e, err := ParseJSON([]byte(c.json))
			if err == nil {
				t.Fatalf("ParseJSON(%s) = %s, want an error", c.json, Format(e))
			}
			var pe *Error
			if !errors.As(err, &pe) || !errors.Is(err, ErrSyntax) {
				t.Fatalf("ParseJSON(%s) error %v is not a syntax *Error", c.json, err)
			}
			if pe.Offset != c.offset || pe.Column != c.column || !strings.Contains(pe.Msg, c.msg) {
				t.Errorf("ParseJSON(%s) = offset %d, column %d, %q; want offset %d, column %d and %q",
					c.json, pe.Offset, pe.Column, pe.Msg, c.offset, c.column, c.msg)
			}
		})
	}
}
