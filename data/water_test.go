package data

import (
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/osm"

	"github.com/citytwin/citytwin/spatial"
)

// coast adds a way through existing or new nodes at the metric points, sharing the node of a
// point already given (so ways join end to end).
func (o *tinyOSM) coast(id osm.WayID, t osm.Tags, xy ...float64) {
	w := &osm.Way{ID: id, Tags: t}
	for k := 0; k < len(xy); k += 2 {
		p := o.proj.ToWGS84(orb.Point{xy[k], xy[k+1]})
		node := osm.NodeID(0)
		for nid, q := range o.pts {
			if q == p {
				node = nid
			}
		}
		if node == 0 {
			node = o.next
			o.pts[node] = p
			o.next++
		}
		w.Nodes = append(w.Nodes, osm.WayNode{ID: node})
	}
	o.d.ways[id] = w
}

// setBox gives the extract a header box of the metric rectangle.
func (o *tinyOSM) setBox(x0, y0, x1, y1 float64) {
	sw, ne := o.proj.ToWGS84(orb.Point{x0, y0}), o.proj.ToWGS84(orb.Point{x1, y1})
	o.d.bounds = &osm.Bounds{MinLon: sw[0], MinLat: sw[1], MaxLon: ne[0], MaxLat: ne[1]}
}

// seaAt reports whether a metric point lies in a sea polygon of the features.
func seaAt(o *tinyOSM, fs []orb.Geometry, x, y float64) bool {
	p := o.proj.ToWGS84(orb.Point{x, y})
	for _, g := range fs {
		if spatial.Contains(g, p) {
			return true
		}
	}
	return false
}

// seas derives the tiny extract and returns its sea polygons.
func seas(t *testing.T, o *tinyOSM) []orb.Geometry {
	t.Helper()
	var out []orb.Geometry
	for _, f := range o.derive(t) {
		if f.Layer == "water" && f.Props["kind"] == "sea" {
			out = append(out, f.Geometry)
		}
	}
	return out
}

func TestTheSeaLiesRightOfTheCoastline(t *testing.T) {
	coastline := tags("natural", "coastline")
	type probe struct {
		x, y float64
		sea  bool
	}
	tests := []struct {
		name   string
		build  func(o *tinyOSM)
		probes []probe
		polys  int
	}{
		{"a coast running east has the land north, the sea south",
			func(o *tinyOSM) {
				o.coast(1, coastline, -600, 0, 0, 50)
				o.coast(2, coastline, 0, 50, 600, 0) // joined to way 1 at (0, 50)
			},
			[]probe{{0, -250, true}, {0, 25, true}, {0, 75, false}, {-450, 450, false}, {450, -450, true}}, 1},
		{"the same coast drawn westwards has the sea north",
			func(o *tinyOSM) { o.coast(1, coastline, 600, 0, -600, 0) },
			[]probe{{0, -250, false}, {0, 250, true}}, 1},
		{"a harbour: the coast runs in and out of a bay, whose water is sea",
			func(o *tinyOSM) {
				o.coast(1, coastline, -600, 0, -100, 0, -100, 300, 100, 300, 100, 0, 600, 0)
			},
			[]probe{{0, 200, true}, {-200, 200, false}, {200, 200, false}, {0, -200, true}}, 1},
		{"an island, a closed coast turning counter-clockwise, is a hole in the sea",
			func(o *tinyOSM) {
				o.coast(1, coastline, -600, 200, 600, 200)
				o.coast(2, coastline, -50, -250, 50, -250, 50, -150, -50, -150, -50, -250)
			},
			[]probe{{0, -200, false}, {0, -300, true}, {0, 300, false}}, 1},
		{"a coast that ends inside the box closes the sea no further than its end",
			// The extract holds the coast from x = -600 to 300 only: the box's east side moves
			// to x = 300, and the sea is the south-west part, 900 × 500 m.
			func(o *tinyOSM) { o.coast(1, coastline, -600, 0, 300, 0) },
			[]probe{{0, -250, true}, {400, -250, false}, {0, 250, false}}, 1},
		{"a coast along the box's side leaves no sea inside the box",
			func(o *tinyOSM) { o.coast(1, coastline, 500, 500, -500, 500) },
			[]probe{{0, 0, false}}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := newTinyOSM()
			o.setBox(-500, -500, 500, 500)
			o.box(100, tags("building", "yes"), -5, -5, 5, 5)
			tc.build(o)
			s := seas(t, o)
			if len(s) != tc.polys {
				t.Fatalf("%d sea polygons, want %d", len(s), tc.polys)
			}
			for _, p := range tc.probes {
				if got := seaAt(o, s, p.x, p.y); got != p.sea {
					t.Errorf("(%v, %v): sea %v, want %v", p.x, p.y, got, p.sea)
				}
			}
		})
	}
}

func TestWaterKinds(t *testing.T) {
	tests := []struct {
		name string
		tags osm.Tags
		want string
	}{
		{"a lake is a lake", tags("natural", "water", "water", "lake"), "lake"},
		{"an oxbow is a lake", tags("natural", "water", "water", "oxbow"), "lake"},
		{"a river area is a river", tags("natural", "water", "water", "river"), "river"},
		{"a riverbank is a river", tags("waterway", "riverbank"), "river"},
		{"a dock is a harbour", tags("waterway", "dock"), "harbour"},
		{"a fountain is water", tags("natural", "water", "water", "fountain"), "water"},
		{"natural=water alone is water", tags("natural", "water"), "water"},
		{"a reservoir land use is a reservoir", tags("landuse", "reservoir"), "reservoir"},
		{"a basin land use is a basin", tags("landuse", "basin"), "basin"},
		{"a wood is no water", tags("natural", "wood"), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := waterKind(tc.tags); got != tc.want {
				t.Errorf("waterKind(%v) = %q, want %q", tc.tags, got, tc.want)
			}
		})
	}
}

// TestMonacoSea checks the demo city's sea against places everyone knows: the harbour (Port
// Hercule) and the open sea east of the Rock are water; the Prince's Palace on the Rock, the
// Casino and the Jardin Exotique are not.
func TestMonacoSea(t *testing.T) {
	fs, err := Demo()
	if err != nil {
		t.Fatal(err)
	}
	var sea []orb.Geometry
	for _, f := range fs {
		if f.Layer == "water" && f.Props["kind"] == "sea" {
			sea = append(sea, f.Geometry)
		}
	}
	if len(sea) == 0 {
		t.Fatal("the demo city has no sea")
	}
	tests := []struct {
		name string
		at   orb.Point
		sea  bool
	}{
		{"Port Hercule, the harbour", orb.Point{7.4250, 43.7347}, true},
		{"the open sea east of the Rock", orb.Point{7.4330, 43.7320}, true},
		{"the Fontvieille harbour", orb.Point{7.4190, 43.7296}, true},
		{"the Prince's Palace on the Rock", orb.Point{7.4202, 43.7314}, false},
		{"the Casino", orb.Point{7.4283, 43.7393}, false},
		{"the Jardin Exotique", orb.Point{7.4155, 43.7310}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := false
			for _, g := range sea {
				got = got || spatial.Contains(g, tc.at)
			}
			if got != tc.sea {
				t.Errorf("%v: sea %v, want %v", tc.at, got, tc.sea)
			}
		})
	}
}
