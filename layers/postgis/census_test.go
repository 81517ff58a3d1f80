package postgis

import (
	"reflect"
	"testing"

	"github.com/citytwin/citytwin/layers"
)

// A census comes back as imported (the city total first); a second import replaces the
// first whole and bumps the data version "census", which servers follow to recalibrate.
func TestCensusImportReplacesAndComesBack(t *testing.T) {
	ctx := testContext(t)
	s := newStore(t)
	if c, err := s.Census(ctx); err != nil || c != nil {
		t.Fatalf("census before any import = %+v, %v; want none", c, err)
	}
	n := int64(15000)
	first := &layers.Census{Rows: []layers.CensusRow{
		{District: "*", Population: 38350, Year: 2016, Source: "IMSEE, Monaco census 2016"},
		{District: "MC-FO", Population: 3600, Dwellings: &n},
		{District: "Monte-Carlo", Population: 9000, Households: &n, Year: 2016},
	}}
	second := &layers.Census{Rows: []layers.CensusRow{{District: "W", Population: 90}}}
	version := func() int64 {
		var v int64
		if err := s.Pool().QueryRow(ctx, "SELECT version FROM data_versions WHERE layer = 'census'").Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	for i, c := range []*layers.Census{first, second} {
		if err := s.ImportCensus(ctx, c); err != nil {
			t.Fatal(err)
		}
		got, err := s.Census(ctx)
		if err != nil || !reflect.DeepEqual(got, c) {
			t.Fatalf("import %d: census = %+v, %v; want %+v", i+1, got, err, c)
		}
		if v := version(); v != int64(i+1) {
			t.Errorf("import %d: data version of census = %d, want %d", i+1, v, i+1)
		}
	}
	dup := &layers.Census{Rows: []layers.CensusRow{{District: "W", Population: 1}, {District: "w", Population: 2}}}
	if err := s.ImportCensus(ctx, dup); err == nil {
		t.Error("a census naming W and w was imported; want it refused")
	}
	if got, _ := s.Census(ctx); !reflect.DeepEqual(got, second) {
		t.Errorf("after a refused import census = %+v, want the one before", got)
	}
}
