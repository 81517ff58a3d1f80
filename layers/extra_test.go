package layers

import (
	"errors"
	"strings"
	"testing"
)

func TestExtraLayersArePublishedBesideTheBaseLayers(t *testing.T) {
	trees := &Extra{Layer: Layer{Name: "trees", MaxZoom: 22}, Table: "city.trees", GeometryColumn: "geom"}
	p, err := NewPublished([]*Extra{trees})
	if err != nil {
		t.Fatal(err)
	}
	ls, err := p.ParseList("buildings,trees")
	if err != nil || len(ls) != 2 || ls[1] != &trees.Layer {
		t.Fatalf("buildings,trees: %v %v", ls, err)
	}
	if _, err := p.ParseList("trees,trees"); err == nil {
		t.Error("a layer listed twice was accepted")
	}
	if _, err := p.ParseList("treez"); !errors.Is(err, ErrUnknownLayer) || !strings.Contains(err.Error(), "trees") {
		t.Errorf("unknown layer: %v, want ErrUnknownLayer listing trees", err)
	}
	// The catalog's own lookups never see extra layers: the model and scenarios have none.
	if _, err := ParseList("trees"); !errors.Is(err, ErrUnknownLayer) {
		t.Errorf("ParseList(trees) = %v, want ErrUnknownLayer", err)
	}
	var none *Published
	if ls, err := none.ParseList("buildings"); err != nil || len(ls) != 1 {
		t.Errorf("no extras: %v %v", ls, err)
	}
	if _, err := NewPublished([]*Extra{trees, trees}); err == nil {
		t.Error("two extra layers of one name were accepted")
	}
}

func TestExtraLayerCheck(t *testing.T) {
	cases := []struct {
		name  string
		edit  func(e *Extra)
		field string
	}{
		{"an upper-case name", func(e *Extra) { e.Name = "Trees" }, "name"},
		{"a name with a comma", func(e *Extra) { e.Name = "a,b" }, "name"},
		{"a base layer's name", func(e *Extra) { e.Name = "parcels" }, "name"},
		{"a table without schema", func(e *Extra) { e.Table = "trees" }, "table"},
		{"a three-part table", func(e *Extra) { e.Table = "a.b.c" }, "table"},
		{"no geometry column", func(e *Extra) { e.GeometryColumn = "" }, "geometry_column"},
		{"a negative SRID", func(e *Extra) { e.SRID = -1 }, "srid"},
		{"a reserved field name", func(e *Extra) { e.Columns = []string{ExtraGeometryAlias} }, "fields[0]"},
		{"the geometry as a field", func(e *Extra) { e.Columns = []string{"species", "geom"} }, "fields[1]"},
		{"a field twice", func(e *Extra) { e.Columns = []string{"species", "species"} }, "fields[1]"},
		{"minzoom above maxzoom", func(e *Extra) { e.MinZoom = 15; e.MaxZoom = 14 }, "minzoom"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := &Extra{Layer: Layer{Name: "trees", MaxZoom: 22}, Table: "city.trees", GeometryColumn: "geom", Columns: []string{"species"}}
			c.edit(e)
			var fe *FieldError
			if err := e.Check(); !errors.As(err, &fe) || fe.Field != c.field {
				t.Errorf("got %v, want an error on %s", err, c.field)
			}
		})
	}
}

func TestPublishedZoomRangesLeaveTheCatalogAlone(t *testing.T) {
	catalogNoise, _ := Lookup("noise")
	lo, hi := catalogNoise.MinZoom, catalogNoise.MaxZoom
	p, err := NewPublished(nil, ZoomRange{Layer: "noise", MinZoom: 12, MaxZoom: 18})
	if err != nil {
		t.Fatal(err)
	}
	looked, err := p.Lookup("noise")
	if err != nil || looked.MinZoom != 12 || looked.MaxZoom != 18 {
		t.Errorf("published noise zoom %d..%d, %v; want 12..18", looked.MinZoom, looked.MaxZoom, err)
	}
	listed, err := p.ParseBaseList("buildings,noise")
	if err != nil || listed[1].MinZoom != 12 || listed[1].MaxZoom != 18 {
		t.Errorf("noise in a parsed list: %+v, %v; want zoom 12..18", listed, err)
	}
	for _, l := range p.Base() {
		if l.Name == "noise" && (l.MinZoom != 12 || l.MaxZoom != 18) {
			t.Errorf("noise among the base layers: zoom %d..%d, want 12..18", l.MinZoom, l.MaxZoom)
		}
	}
	if catalogNoise.MinZoom != lo || catalogNoise.MaxZoom != hi {
		t.Errorf("the catalog's noise zoom became %d..%d, want it left at %d..%d", catalogNoise.MinZoom, catalogNoise.MaxZoom, lo, hi)
	}
	var none *Published
	if l, _ := none.Lookup("noise"); l != catalogNoise {
		t.Error("the nil Published does not give the catalog's layer")
	}
}

func TestPublishedZoomRangesAreChecked(t *testing.T) {
	cases := []struct {
		name  string
		zooms []ZoomRange
		want  string
	}{
		{"an inverted range is refused", []ZoomRange{{"noise", 18, 12}}, "want 0 <= minzoom <= maxzoom"},
		{"a negative zoom is refused", []ZoomRange{{"noise", -1, 12}}, "want 0 <= minzoom <= maxzoom"},
		{"an unknown layer is refused", []ZoomRange{{"nowhere", 1, 2}}, "unknown layer"},
		{"two ranges for one layer are refused", []ZoomRange{{"noise", 1, 2}, {"noise", 3, 4}}, "two zoom ranges"},
	}
	for _, c := range cases {
		if _, err := NewPublished(nil, c.zooms...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error saying %q", c.name, err, c.want)
		}
	}
}
