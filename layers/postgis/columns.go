package postgis

import (
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/citytwin/citytwin/layers"
)

// privateTable holds the restricted fields of parcels, the only layer that has any; its key
// column is privateKey.
const (
	privateTable = "parcels_private"
	privateKey   = "parcel_id"
)

// derivedColumn is NOT NULL DEFAULT false: a feature without the property is stored as not
// derived, and Load returns it as derived = false.
const derivedColumn = "derived"

// table is the mapping of one catalog layer to its tables.
type table struct {
	layer      *layers.Layer
	public     []layers.Field // columns of the layer table, catalog order, derived included
	restricted []layers.Field // columns of privateTable (parcels only)
	extra      *extraTable    // set for an extra layer (extra.go), nil for a base layer
}

// tables maps every catalog layer, in catalog order.
var tables = func() []*table {
	var out []*table
	for _, l := range layers.All() {
		t := &table{layer: l}
		for _, f := range l.Fields {
			if f.Restricted {
				t.restricted = append(t.restricted, f)
			} else {
				t.public = append(t.public, f)
			}
		}
		if len(t.restricted) > 0 && l.Name != "parcels" {
			// The schema has a private table for parcels only; a new restricted field
			// elsewhere needs a migration first.
			panic(fmt.Sprintf("postgis: layer %s has restricted fields but no private table", l.Name))
		}
		out = append(out, t)
	}
	return out
}()

var tableByName = func() map[string]*table {
	m := map[string]*table{}
	for _, t := range tables {
		m[t.layer.Name] = t
	}
	return m
}()

func lookupTable(name string) (*table, error) {
	t, ok := tableByName[name]
	if !ok {
		_, err := layers.Lookup(name)
		return nil, err
	}
	return t, nil
}

// ident quotes an identifier that comes from the catalog.
func ident(name string) string { return pgx.Identifier{name}.Sanitize() }

// literal quotes a catalog string as an SQL literal (standard_conforming_strings is on in
// every supported PostgreSQL).
func literal(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// columnValue converts a property to the Go value pgx encodes into the field's column,
// checked by the catalog's own rules (layers.Field.Convert, as layers.Normalize checks). nil
// means NULL.
func columnValue(f layers.Field, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	tv, err := f.Convert(v)
	if err != nil {
		return nil, err
	}
	if l, ok := tv.([]string); ok && l == nil {
		// A present but empty list is an empty array, not NULL (which pgx makes of a nil
		// slice): NULL means the property is absent.
		return []string{}, nil
	}
	return tv, nil
}

// scanner receives one column of a Load row and puts its value, typed as layers.Normalize
// types it, into a property map when the column is not NULL.
type scanner interface {
	target() any
	put(props map[string]any, name string)
}

func newScanner(f layers.Field) scanner {
	switch f.Type {
	case layers.String:
		return &textScanner{}
	case layers.Number:
		return &floatScanner{}
	case layers.Integer:
		return &intScanner{}
	case layers.Boolean:
		return &boolScanner{}
	case layers.List:
		return &listScanner{}
	}
	panic("postgis: no scanner for field type " + string(f.Type))
}

type textScanner struct{ v pgtype.Text }

func (s *textScanner) target() any { return &s.v }
func (s *textScanner) put(m map[string]any, name string) {
	if s.v.Valid {
		m[name] = s.v.String
	}
}

type floatScanner struct{ v pgtype.Float8 }

func (s *floatScanner) target() any { return &s.v }
func (s *floatScanner) put(m map[string]any, name string) {
	if s.v.Valid {
		m[name] = s.v.Float64
	}
}

type intScanner struct{ v pgtype.Int8 }

func (s *intScanner) target() any { return &s.v }
func (s *intScanner) put(m map[string]any, name string) {
	if s.v.Valid {
		m[name] = s.v.Int64
	}
}

type boolScanner struct{ v pgtype.Bool }

func (s *boolScanner) target() any { return &s.v }
func (s *boolScanner) put(m map[string]any, name string) {
	if s.v.Valid {
		m[name] = s.v.Bool
	}
}

type listScanner struct{ v pgtype.Array[string] }

func (s *listScanner) target() any { return &s.v }
func (s *listScanner) put(m map[string]any, name string) {
	if !s.v.Valid {
		return
	}
	if len(s.v.Elements) == 0 {
		// layers.Normalize makes a nil slice of an empty list.
		m[name] = []string(nil)
		return
	}
	m[name] = slices.Clone(s.v.Elements)
}
