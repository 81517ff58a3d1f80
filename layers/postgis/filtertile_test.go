package postgis

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/paulmach/orb/maptile"

	"github.com/citytwin/citytwin/cql2"
	"github.com/citytwin/citytwin/layers"
)

// TestFilteredTiles cuts filtered tiles of a few buildings: each keeps the features of the
// unfiltered tile that the filter selects, at zoom 16 and at zoom 13 (where the statement
// thins, so the filter's parameters start at $6), a literal that looks like SQL is a value
// like any other, and no filtered statement is kept among the tile statements (whose number
// stays what the unfiltered tiles made). Catches filter parameters numbered over the tile's
// own and filtered statements filling the statement cache.
func TestFilteredTiles(t *testing.T) {
	ctx := testContext(t)
	s := newStore(t)
	// Four buildings of 30 m (kept at zoom 13: wider than 32 pixels of 1.19 m·cos(46.8°)).
	sqlish := "O'Brien'); DROP TABLE buildings; --"
	fs := []layers.Feature{
		{Layer: "buildings", ID: 1, Geometry: square(0, 0, 30), Props: map[string]any{"use": "residential", "floors": int64(4), "cad_number": sqlish}},
		{Layer: "buildings", ID: 2, Geometry: square(40, 0, 30), Props: map[string]any{"use": "office", "floors": int64(9)}},
		{Layer: "buildings", ID: 3, Geometry: square(0, 40, 30), Props: map[string]any{"use": "residential", "floors": int64(2)}},
		{Layer: "buildings", ID: 4, Geometry: square(40, 40, 30), Props: map[string]any{"use": "other"}},
	}
	if _, err := s.Import(ctx, fs); err != nil {
		t.Fatal(err)
	}
	buildings := catalogLayers(t, "buildings")
	check := func(text string) *cql2.Filter {
		t.Helper()
		e, err := cql2.Parse(text)
		if err != nil {
			t.Fatal(err)
		}
		f, err := cql2.Check(e, cql2.QueryablesOf(buildings[0]))
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	centre := at(35, 35)
	for _, z := range []maptile.Zoom{16, 13} {
		if all, err := s.Tile(ctx, maptile.At(centre, z), buildings); err != nil {
			t.Fatal(err)
		} else if got := decodedIDs(t, all)["buildings"]; !slices.Equal(got, []int64{1, 2, 3, 4}) {
			t.Fatalf("zoom %d: the unfiltered tile holds %v, want every building", z, got)
		}
	}
	statements := len(s.tileSQL)

	tests := []struct {
		name, filter string
		want         []int64
	}{
		{"an equality", "use = 'residential'", []int64{1, 3}},
		{"a comparison leaves out the building without floors", "floors > 3", []int64{1, 2}},
		{"NOT of unknown is unknown", "NOT (floors > 3)", []int64{3}},
		{"a literal that looks like SQL is a value", "cad_number = " + formatted(sqlish), []int64{1}},
		{"a filter that selects nothing gives an empty tile", "floors > 100", nil},
	}
	for _, z := range []maptile.Zoom{16, 13} {
		for _, tt := range tests {
			t.Run(fmt.Sprintf("zoom %d, %s", z, tt.name), func(t *testing.T) {
				b, err := s.FilteredTile(ctx, maptile.At(centre, z), buildings[0], check(tt.filter))
				if err != nil {
					t.Fatalf("zoom %d: %v", z, err)
				}
				if got := decodedIDs(t, b)["buildings"]; !slices.Equal(got, tt.want) {
					t.Errorf("zoom %d: %v, want %v", z, got, tt.want)
				}
			})
		}
	}
	if len(s.tileSQL) != statements {
		t.Errorf("%d tile statements kept after the filtered tiles, %d before: filtered statements must not be kept", len(s.tileSQL), statements)
	}
	var count int
	if err := s.pool.QueryRow(ctx, "SELECT count(*) FROM buildings").Scan(&count); err != nil || count != len(fs) {
		t.Errorf("%d buildings (%v) after the filters, want %d", count, err, len(fs))
	}
}

// formatted is a CQL2 string literal of s: single-quoted, a quote doubled.
func formatted(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}
