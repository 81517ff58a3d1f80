package data

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/citytwin/citytwin/layers"
)

func TestReadCensusCSV(t *testing.T) {
	i64 := func(n int64) *int64 { return &n }
	tests := []struct {
		name    string
		in      string
		want    []layers.CensusRow
		wantErr string
	}{
		{"a code column, counts with thousands separators and optional cells", "code,population,dwellings,households,year,source\n" +
			"W,\"1,200\",500,,2021,INS\n*,38 350,,,2016,\"IMSEE, Monaco census 2016\"\n",
			[]layers.CensusRow{{District: "W", Population: 1200, Dwellings: i64(500), Year: 2021, Source: "INS"},
				{District: "*", Population: 38350, Year: 2016, Source: "IMSEE, Monaco census 2016"}}, ""},
		{"a name column in another order and case", "Population,NAME\n90,West\n",
			[]layers.CensusRow{{District: "West", Population: 90}}, ""},
		{"an unknown column is refused", "district,populaton\nW,1\n", nil, `unknown column "populaton"`},
		{"a missing population column is refused", "district,year\nW,2021\n", nil, `missing column "population"`},
		{"a district given twice is refused, whatever its case", "district,population\nW,1\nw,2\n", nil, "line 3: district \"w\" already given on line 2"},
		{"a negative population is refused", "district,population\nW,-1\n", nil, "line 2: population"},
		{"a fractional population is refused", "district,population\nW,1.5\n", nil, "line 2: population"},
		{"a year out of range is refused", "district,population,year\nW,1,16\n", nil, "line 2: year"},
		{"a file without rows is refused", "district,population\n", nil, "no rows"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ReadCensusCSV(strings.NewReader(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(c.Rows, tt.want) {
				t.Errorf("rows %+v, want %+v", c.Rows, tt.want)
			}
		})
	}
}

// The data directory serves the demo city's census while it serves the demo city; a census
// imported there replaces it, and comes back as imported.
func TestFileStoreCensus(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := NewFileStore(dir)
	demo, err := s.Census(ctx)
	if err != nil || demo == nil || len(demo.Rows) != 1 || demo.Rows[0] != (layers.CensusRow{District: "*", Population: 38350, Year: 2016, Source: "IMSEE, Monaco census 2016"}) {
		t.Fatalf("demo census = %+v, %v; want Monaco's 38,350 of 2016", demo, err)
	}
	n := int64(7)
	mine := &layers.Census{Rows: []layers.CensusRow{{District: "W", Population: 90, Households: &n, Year: 2021, Source: "INS, RPL 2021"}}}
	if err := s.ImportCensus(ctx, mine); err != nil {
		t.Fatal(err)
	}
	got, err := s.Census(ctx)
	if err != nil || !reflect.DeepEqual(got, mine) {
		t.Fatalf("census = %+v, %v; want %+v", got, err, mine)
	}
	// A data directory with its own layers and no census has none (not the demo's).
	other := NewFileStore(t.TempDir())
	if err := os.WriteFile(filepath.Join(other.Dir, "layers.ndjson"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if c, err := other.Census(ctx); err != nil || c != nil {
		t.Errorf("census of a directory with layers and no census = %+v, %v; want none", c, err)
	}
}
