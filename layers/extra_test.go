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

func TestSetZoomRange(t *testing.T) {
	l, _ := Lookup("noise")
	lo, hi := l.MinZoom, l.MaxZoom
	t.Cleanup(func() { l.MinZoom, l.MaxZoom = lo, hi })
	if err := SetZoomRange("noise", 12, 18); err != nil || l.MinZoom != 12 || l.MaxZoom != 18 {
		t.Errorf("noise zoom %d..%d, %v; want 12..18", l.MinZoom, l.MaxZoom, err)
	}
	if err := SetZoomRange("noise", 18, 12); err == nil {
		t.Error("an inverted range was accepted")
	}
	if err := SetZoomRange("nowhere", 1, 2); !errors.Is(err, ErrUnknownLayer) {
		t.Errorf("unknown layer: %v", err)
	}
}
