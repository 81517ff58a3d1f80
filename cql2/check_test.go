package cql2

import (
	"errors"
	"maps"
	"strings"
	"testing"

	"github.com/citytwin/citytwin/layers"
)

func mustLayer(t *testing.T, name string) *layers.Layer {
	t.Helper()
	l, err := layers.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestQueryablesAreThePublicFieldsAndTheGeometry(t *testing.T) {
	want := Queryables{
		"geometry": TypeGeometry, "cad_number": TypeString, "area_m2": TypeNumber, "land_use": TypeString,
		"intravilan": TypeBoolean, "ownership": TypeString, "address": TypeString, "derived": TypeBoolean,
	}
	got := QueryablesOf(mustLayer(t, "parcels"))
	if !maps.Equal(got, want) {
		t.Errorf("parcels queryables = %v, want %v (owner_name and land_book are restricted)", got, want)
	}
	z := QueryablesOf(mustLayer(t, "zoning"))
	if z["allowed_uses"] != TypeList || z["max_floors"] != TypeInteger {
		t.Errorf("zoning queryables = %v: want allowed_uses a list and max_floors an integer", z)
	}
}

func TestCheckReportsUnknownPropertiesAndTypeMismatchesWithPositions(t *testing.T) {
	parcels := QueryablesOf(mustLayer(t, "parcels"))
	buildings := QueryablesOf(mustLayer(t, "buildings"))
	zoning := QueryablesOf(mustLayer(t, "zoning"))
	type want struct {
		column int
		kind   error
		msg    string
	}
	for _, c := range []struct {
		name   string
		q      Queryables
		filter string
		want   []want
	}{
		{"a restricted field is unknown, as if it did not exist", parcels, `owner_name = 'Popescu'`,
			[]want{{1, ErrUnknownProperty, `unknown property "owner_name"; queryable properties: address, area_m2, cad_number, derived, geometry, intravilan, land_use, ownership`}}},
		{"a restricted field is unknown inside IS NULL too", parcels, `land_book IS NOT NULL`,
			[]want{{1, ErrUnknownProperty, `unknown property "land_book"`}}},
		{"a property of another layer is unknown", buildings, `area_m2 > 100`,
			[]want{{1, ErrUnknownProperty, `unknown property "area_m2"`}}},
		{"property names are case-sensitive, with a hint", buildings, `Floors > 3`,
			[]want{{1, ErrUnknownProperty, `(property names are case-sensitive: did you mean "floors"?)`}}},
		{"an integer field compared with a string", buildings, `floors = '3'`,
			[]want{{10, ErrType, `cannot compare property floors (integer) with the string '3'`}}},
		{"a string field compared with a number", buildings, `use < 5`,
			[]want{{7, ErrType, `cannot compare property use (string) with the number 5`}}},
		{"a boolean field compared with a number", buildings, `derived = 1`,
			[]want{{11, ErrType, `cannot compare property derived (boolean) with the number 1`}}},
		{"a boolean ordered", buildings, `derived > FALSE`,
			[]want{{1, ErrType, `booleans can only be compared with = and <>, not >`}}},
		{"two properties of different types", buildings, `use = floors`,
			[]want{{7, ErrType, `cannot compare property use (string) with property floors (integer)`}}},
		{"LIKE on a number", buildings, `floors LIKE '1%'`,
			[]want{{1, ErrType, `LIKE applies to strings, and property floors (integer) is not one`}}},
		{"BETWEEN on strings", buildings, `use BETWEEN 'a' AND 'm'`,
			[]want{{1, ErrType, `BETWEEN applies to numbers, and property use (string) is not one`},
				{13, ErrType, `the string 'a' is not one`}, {21, ErrType, `the string 'm' is not one`}}},
		{"a mixed IN list", buildings, `floors IN (1, '2', 3)`,
			[]want{{15, ErrType, `cannot compare property floors (integer) with the string '2' in the IN list`}}},
		{"S_INTERSECTS of a field", buildings, `S_INTERSECTS(use, BBOX(7, 43, 8, 44))`,
			[]want{{14, ErrType, `S_INTERSECTS applies to geometries, and property use (string) is not one`}}},
		{"the geometry compared with =", buildings, `geometry = POINT(7 43)`,
			[]want{{1, ErrType, `property geometry (geometry) is a geometry: geometries are compared with S_INTERSECTS only`},
				{12, ErrType, `a geometry is a geometry`}}},
		{"a list compared", zoning, `allowed_uses = 'residential'`,
			[]want{{1, ErrType, `property allowed_uses (list) is a list: filters on lists are not supported, except IS NULL`}}},
		{"every error, in order", buildings, `height < 'x' OR floors = 'y' AND nope = 1`,
			[]want{{1, ErrUnknownProperty, `unknown property "height"`}, {26, ErrType, `cannot compare property floors`},
				{34, ErrUnknownProperty, `unknown property "nope"`}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			e, err := Parse(c.filter)
			if err != nil {
				t.Fatalf("Parse(%q): %v", c.filter, err)
			}
			f, err := Check(e, c.q)
			if err == nil {
				t.Fatalf("Check(%q) = %s, want errors", c.filter, f)
			}
			var list ErrorList
			if !errors.As(err, &list) {
				t.Fatalf("Check(%q) error %v is not an ErrorList", c.filter, err)
			}
			if len(list) != len(c.want) {
				t.Fatalf("Check(%q) = %d errors (%v), want %d", c.filter, len(list), err, len(c.want))
			}
			for i, w := range c.want {
				if list[i].Column != w.column || !errors.Is(list[i], w.kind) || !strings.Contains(list[i].Msg, w.msg) {
					t.Errorf("error %d = column %d, %v, %q; want column %d, %v, %q", i, list[i].Column, list[i].Kind, list[i].Msg, w.column, w.kind, w.msg)
				}
			}
			if !errors.Is(err, c.want[0].kind) {
				t.Errorf("errors.Is(err, %v) is false for the list", c.want[0].kind)
			}
		})
	}
}

func TestCheckAcceptsWellTypedFilters(t *testing.T) {
	buildings := QueryablesOf(mustLayer(t, "buildings"))
	zoning := QueryablesOf(mustLayer(t, "zoning"))
	for _, c := range []struct {
		q      Queryables
		filter string
	}{
		{buildings, `floors = 3.5 AND height_m > floors AND use IN ('office', 'mixed') AND derived <> TRUE`},
		{buildings, `cad_number LIKE 'RO-%' OR year_built BETWEEN 1900 AND 1950 OR gfa_m2 IS NULL`},
		{buildings, `S_INTERSECTS(geometry, BBOX(7.4, 43.7, 7.5, 43.8)) AND NOT (use = 'office')`},
		{buildings, `'a' < 'b' AND 1 = 1 AND TRUE`},
		{zoning, `allowed_uses IS NULL`},
	} {
		e, err := Parse(c.filter)
		if err != nil {
			t.Fatalf("Parse(%q): %v", c.filter, err)
		}
		if _, err := Check(e, c.q); err != nil {
			t.Errorf("Check(%q): %v", c.filter, err)
		}
	}
}
