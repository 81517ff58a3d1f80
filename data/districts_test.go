package data

import (
	"sort"
	"strings"
	"testing"

	"github.com/paulmach/osm"

	"github.com/citytwin/citytwin/spatial"
)

// boundary adds an administrative boundary relation of one closed outer way around the
// metric rectangle.
func (o *tinyOSM) boundary(rel osm.RelationID, way osm.WayID, level, name string, x0, y0, x1, y1 float64) {
	o.box(way, nil, x0, y0, x1, y1)
	o.d.rels = append(o.d.rels, &osm.Relation{ID: rel, Tags: tags("type", "boundary", "boundary", "administrative", "admin_level", level, "name", name),
		Members: osm.Members{{Type: osm.TypeWay, Ref: int64(way), Role: "outer"}}})
}

func TestDistrictsComeFromTheLevelThatPartsTheCity(t *testing.T) {
	o := newTinyOSM()
	// A region (level 4) over everything: one boundary, no set of districts.
	o.boundary(1, 901, "4", "Region", -1000, -1000, 3000, 1000)
	// Two parishes (level 7) side by side, and a county (level 6) east of them.
	o.boundary(2, 902, "7", "Parish A", 0, 0, 200, 200)
	o.boundary(3, 903, "7", "Parish B", 200, 0, 400, 200)
	o.boundary(4, 904, "6", "County C", 600, 0, 800, 200)
	// A county over both parishes: level 6 covers more buildings (4) than level 7 (3), but
	// level 7 is finer and covers more than half as many; this county holds buildings
	// already in a parish, so it is left out.
	o.boundary(5, 905, "6", "County over the parishes", -10, -10, 410, 210)
	o.box(10, tags("building", "yes"), 50, 50, 60, 60)     // in parish A
	o.box(11, tags("building", "yes"), 100, 50, 110, 60)   // in parish A
	o.box(12, tags("building", "yes"), 300, 50, 310, 60)   // in parish B
	o.box(13, tags("building", "yes"), 700, 50, 710, 60)   // in county C only
	o.box(14, tags("building", "yes"), 2000, 50, 2010, 60) // in no boundary but the region
	city, err := spatial.NewCity(o.derive(t))
	if err != nil {
		t.Fatal(err)
	}
	want := map[int64]string{10: "Parish A", 11: "Parish A", 12: "Parish B", 13: "County C", 14: "Grid "}
	for id, name := range want {
		b, _ := city.Layer("buildings").Get(id)
		ds := city.Layer("districts").Containing(b.Centroid)
		if len(ds) != 1 || !strings.HasPrefix(ds[0].Feature.Props["name"].(string), name) {
			var got []string
			for _, d := range ds {
				got = append(got, d.Feature.Props["name"].(string))
			}
			t.Errorf("building %d is in districts %v, want %s", id, got, name)
		}
	}
	var names []string
	for _, d := range city.Layer("districts").Items() {
		names = append(names, d.Feature.Props["name"].(string))
	}
	sort.Strings(names)
	if got := strings.Join(names, ", "); !strings.HasPrefix(got, "County C, Grid ") || !strings.HasSuffix(got, ", Parish A, Parish B") || len(names) != 4 {
		t.Errorf("districts %s, want County C, one grid square, Parish A, Parish B", got)
	}
}
