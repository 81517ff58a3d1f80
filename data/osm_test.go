package data

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/osm"

	"github.com/citytwin/citytwin/internal/testcity"
	"github.com/citytwin/citytwin/layers"
	"github.com/citytwin/citytwin/spatial"
)

var monaco struct {
	once sync.Once
	fs   []layers.Feature
	err  error
}

// monacoFeatures imports the Monaco extract once for all tests.
func monacoFeatures(t testing.TB) []layers.Feature {
	t.Helper()
	path := testcity.MonacoPBF(t)
	monaco.once.Do(func() { monaco.fs, monaco.err = ReadFile(path) })
	if monaco.err != nil {
		t.Fatal(monaco.err)
	}
	return monaco.fs
}

func countByLayer(fs []layers.Feature) map[string]int {
	out := map[string]int{}
	for _, f := range fs {
		out[f.Layer]++
	}
	return out
}

func TestMonacoImportCounts(t *testing.T) {
	got := countByLayer(monacoFeatures(t))
	// Exact counts of the current rules, with the bounds any sane rule set must stay within:
	// the extract holds about 1,200 buildings, Monaco has nine quartiers.
	tests := []struct {
		layer    string
		want     int
		min, max int
	}{
		{"buildings", 1207, 1100, 1300},
		{"parcels", 1207, 1207, 1207}, // one per building
		{"facilities", 62, 30, 200},
		{"green_spaces", 60, 40, 100},
		{"districts", 14, 9, 30}, // 9 quartiers + 5 grid squares over the French side
		{"zoning", 76, 10, 200},
		{"noise", 517, 50, 2000},
		{"flood", 70, 3, 500},
		{"air_stations", 14, 14, 14}, // one per district
		{"broadband", 85, 4, 500},
	}
	for _, tt := range tests {
		t.Run(tt.layer, func(t *testing.T) {
			if got[tt.layer] < tt.min || got[tt.layer] > tt.max {
				t.Fatalf("%d %s, want %d..%d", got[tt.layer], tt.layer, tt.min, tt.max)
			}
			if got[tt.layer] != tt.want {
				t.Errorf("%d %s, want exactly %d (update the count if a rule changed on purpose)", got[tt.layer], tt.layer, tt.want)
			}
		})
	}
	if len(got) != len(layers.Names()) {
		t.Errorf("layers present: %v, want all of %v", got, layers.Names())
	}
}

func TestMonacoFeaturesPassTheCatalogAndAreUnique(t *testing.T) {
	seen := map[string]map[int64]bool{}
	for i, f := range monacoFeatures(t) {
		l, err := layers.Lookup(f.Layer)
		if err != nil {
			t.Fatal(err)
		}
		if err := l.CheckGeometry(f.Geometry); err != nil {
			t.Fatalf("feature %d (id %d, layer %s): %v", i, f.ID, f.Layer, err)
		}
		if seen[f.Layer] == nil {
			seen[f.Layer] = map[int64]bool{}
		}
		if seen[f.Layer][f.ID] || f.ID <= 0 {
			t.Fatalf("feature %d: id %d repeated or not positive in layer %s", i, f.ID, f.Layer)
		}
		seen[f.Layer][f.ID] = true
	}
}

func TestMonacoMarksModelledLayersDerived(t *testing.T) {
	modelled := map[string]bool{"parcels": true, "zoning": true, "noise": true, "flood": true, "air_stations": true, "broadband": true}
	for _, f := range monacoFeatures(t) {
		d, ok := f.Props["derived"].(bool)
		if !ok {
			t.Fatalf("%s %d has no derived flag", f.Layer, f.ID)
		}
		switch {
		case f.Layer == "districts":
			// Quartiers from OSM boundaries (ids of relations) are real; grid squares are not.
			if d != (f.ID < relationIDBase) {
				t.Errorf("district %d %q: derived = %v", f.ID, f.Props["name"], d)
			}
		case d != modelled[f.Layer]:
			t.Fatalf("%s %d: derived = %v, want %v", f.Layer, f.ID, d, modelled[f.Layer])
		}
	}
}

func TestMonacoHasItsNineQuartiers(t *testing.T) {
	var names []string
	for _, f := range monacoFeatures(t) {
		if f.Layer == "districts" && f.Props["derived"] == false {
			names = append(names, f.Props["code"].(string)+" "+f.Props["name"].(string))
		}
	}
	sort.Strings(names)
	want := "MC-CO La Condamine, MC-FO Fontvieille, MC-JE Jardin Exotique, MC-LA Larvotto, MC-MC Monte-Carlo, MC-MG Les Monegetti, MC-MO Monaco-Ville, MC-SD Sainte-Dévote, MC-VR La Rousse"
	if got := strings.Join(names, ", "); got != want {
		t.Fatalf("quartiers\n got %s\nwant %s", got, want)
	}
}

func TestEveryMonacoBuildingIsInAZoneAndADistrict(t *testing.T) {
	city, err := spatial.NewCity(monacoFeatures(t))
	if err != nil {
		t.Fatal(err)
	}
	inDistricts, inZones := map[int]int{}, map[int]int{}
	for _, b := range city.Layer("buildings").Items() {
		d := len(city.Layer("districts").Containing(b.Centroid))
		z := len(city.Layer("zoning").Containing(b.Centroid))
		if d == 0 || z == 0 {
			t.Errorf("building %d (centroid %v) is in %d districts and %d zones, want at least one of each", b.Feature.ID, b.Feature.Geometry.Bound().Center(), d, z)
		}
		inDistricts[d]++
		inZones[z]++
	}
	// Where OSM areas overlap, a building may be in two: one building lies where the straight
	// line closing Les Monegetti crosses a neighbouring quartier, two in nested land-use areas.
	if inDistricts[1] < 1200 || inZones[1] < 1200 {
		t.Errorf("buildings by number of districts %v and zones %v: want nearly all in exactly one", inDistricts, inZones)
	}
}

func TestMonacoBuildingsLinkToTheirParcels(t *testing.T) {
	parcels := map[string]layers.Feature{}
	for _, f := range monacoFeatures(t) {
		if f.Layer == "parcels" {
			parcels[f.Props["cad_number"].(string)] = f
		}
	}
	for _, f := range monacoFeatures(t) {
		if f.Layer != "buildings" {
			continue
		}
		p, ok := parcels[f.Props["cad_number"].(string)]
		if !ok {
			t.Fatalf("building %d: no parcel %v", f.ID, f.Props["cad_number"])
		}
		// Parcels part the land, so a building whose footprint interlocks with a neighbour's
		// may overhang its parcel; its centroid is always on it.
		if c := spatial.Centroid(f.Geometry); !spatial.Contains(p.Geometry, c) {
			t.Fatalf("building %d: centroid %v is not on its parcel %v", f.ID, c, p.Props["cad_number"])
		}
		if p.Restricted["owner_name"] == nil || p.Restricted["land_book"] == nil || p.Props["owner_name"] != nil {
			t.Fatalf("parcel %v: owner_name and land_book must be restricted, got props %v restricted %v", p.Props["cad_number"], p.Props, p.Restricted)
		}
	}
}

func TestMonacoKnownFeatures(t *testing.T) {
	byID := map[string]layers.Feature{}
	for _, f := range monacoFeatures(t) {
		byID[fmt.Sprintf("%s/%d", f.Layer, f.ID)] = f
	}
	tests := []struct {
		name, key string
		want      map[string]any
	}{
		{"Stade Louis-II keeps its OSM capacity", "facilities/49209155",
			map[string]any{"kind": "sport", "name": "Stade Louis-II", "capacity": int64(18523)}},
		{"a Lycée is a high school with the default capacity", "facilities/1000001484190",
			map[string]any{"kind": "high_school", "name": "Lycée Albert-1er", "capacity": int64(800), "capacity_unit": "pupils"}},
		{"the town hall node is a citizen centre", "facilities/2000280487439",
			map[string]any{"kind": "citizen_center", "name": "Mairie de Monaco"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, ok := byID[tt.key]
			if !ok {
				t.Fatalf("no feature %s", tt.key)
			}
			for k, v := range tt.want {
				if f.Props[k] != v {
					t.Errorf("%s = %#v, want %#v", k, f.Props[k], v)
				}
			}
		})
	}
}

func TestReadOSMFromAPlainReaderMatchesAFile(t *testing.T) {
	f, err := os.Open(testcity.MonacoPBF(t))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fs, err := ReadOSM(struct{ io.Reader }{f}) // not seekable: read into memory first
	if err != nil {
		t.Fatal(err)
	}
	got, want := countByLayer(fs), countByLayer(monacoFeatures(t))
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("counts %v, want %v", got, want)
	}
}

func TestReadOSMRejectsWhatIsNotPBF(t *testing.T) {
	if _, err := ReadOSM(strings.NewReader("not a pbf file")); err == nil {
		t.Fatal("accepted garbage")
	}
}

func tags(kv ...string) osm.Tags {
	var t osm.Tags
	for i := 0; i < len(kv); i += 2 {
		t = append(t, osm.Tag{Key: kv[i], Value: kv[i+1]})
	}
	return t
}

func TestFloorsAndHeight(t *testing.T) {
	tests := []struct {
		name   string
		tags   osm.Tags
		floors int64
		height float64
	}{
		{"levels count the ground floor", tags("building", "yes", "building:levels", "5"), 5, 15},
		{"height alone gives floors at 3 m", tags("building", "yes", "height", "12 m"), 4, 12},
		{"a decimal height", tags("building", "yes", "height", "12.5"), 4, 12.5}, // 12.5 / 3 = 4.17 -> 4
		{"a decimal comma", tags("building", "yes", "height", "7,5"), 3, 7.5},    // 7.5 / 3 = 2.5 -> 3
		{"feet are converted", tags("building", "yes", "height", "40 ft"), 4, 12.192},
		{"levels and height both kept", tags("building", "yes", "building:levels", "3", "height", "14"), 3, 14},
		{"a house defaults to 2 floors", tags("building", "house"), 2, 6},
		{"apartments default to 5 floors", tags("building", "apartments"), 5, 15},
		{"other buildings default to 3 floors", tags("building", "yes"), 3, 9},
		{"a roof has no floor but a height", tags("building", "roof"), 0, 3},
		{"nonsense levels fall back to the default", tags("building", "yes", "building:levels", "many"), 3, 9},
		{"absurd levels fall back to the default", tags("building", "yes", "building:levels", "500"), 3, 9},
		{"a tiny height still makes one floor", tags("building", "yes", "height", "1"), 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, h := floorsAndHeight(tt.tags)
			if f != tt.floors || mathAbs(h-tt.height) > 1e-9 {
				t.Fatalf("got %d floors, %v m; want %d, %v", f, h, tt.floors, tt.height)
			}
		})
	}
}

func mathAbs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

func TestBuildingUse(t *testing.T) {
	tests := []struct {
		name    string
		tags    osm.Tags
		landuse string
		want    string
	}{
		{"apartments are residential", tags("building", "apartments"), "", "residential"},
		{"a retail building is commercial", tags("building", "retail"), "", "commercial"},
		{"a warehouse is industrial", tags("building", "warehouse"), "", "industrial"},
		{"a school building is education", tags("building", "school"), "", "education"},
		{"a chapel is culture", tags("building", "chapel"), "", "culture"},
		{"a public building is office", tags("building", "public"), "", "office"},
		{"a garage is other", tags("building", "garage"), "", "other"},
		{"yes with a shop is commercial", tags("building", "yes", "shop", "bakery"), "", "commercial"},
		{"yes with an office is office", tags("building", "yes", "office", "company"), "", "office"},
		{"yes with a hospital is health", tags("building", "yes", "amenity", "hospital"), "", "health"},
		{"yes in a retail area is commercial", tags("building", "yes"), "retail", "commercial"},
		{"yes in a commercial area is office", tags("building", "yes"), "commercial", "office"},
		{"yes in an industrial area is industrial", tags("building", "yes"), "industrial", "industrial"},
		{"plain yes is residential", tags("building", "yes"), "residential", "residential"},
		{"building type wins over other tags", tags("building", "church", "amenity", "school"), "", "culture"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := buildingUse(tt.tags, useEvidence{landuse: tt.landuse}); got != tt.want {
				t.Fatalf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestEstimateDwellings(t *testing.T) {
	tests := []struct {
		use  string
		gfa  float64
		want int64
	}{
		{"residential", 1750, 20}, // 1750 × 0.8 / 70 = 20
		{"mixed", 1750, 10},       // half residential: 875 × 0.8 / 70 = 10
		{"office", 1750, 0},
		{"residential", 40, 0}, // 40 × 0.8 / 70 = 0.46 -> 0
	}
	for _, tt := range tests {
		if got := estimateDwellings(tt.use, tt.gfa); got != tt.want {
			t.Errorf("%s building of %v m²: %d dwellings, want %d", tt.use, tt.gfa, got, tt.want)
		}
	}
}

func TestYearBuilt(t *testing.T) {
	for in, want := range map[string]int64{
		"1995": 1995, "1995-04-01": 1995, "~1900": 1900, "before 1930": 1930, "C19": 0, "": 0,
		"12345": 0, "0800": 0, "1890s": 1890,
	} {
		if got := yearBuilt(in); got != want {
			t.Errorf("yearBuilt(%q) = %d, want %d", in, got, want)
		}
	}
}

func TestFacilityKind(t *testing.T) {
	tests := []struct {
		name string
		tags osm.Tags
		want string
	}{
		{"a childcare is a kindergarten", tags("amenity", "childcare"), "kindergarten"},
		{"a school is a school", tags("amenity", "school", "name", "École des Carmes"), "school"},
		{"ISCED 3 makes a high school", tags("amenity", "school", "isced:level", "2;3"), "high_school"},
		{"a Lycée is a high school", tags("amenity", "school", "name", "Lycée Albert-1er"), "high_school"},
		{"a Romanian liceu is a high school", tags("amenity", "school", "name", "Liceul Teoretic"), "high_school"},
		{"a college is a university", tags("amenity", "college"), "university"},
		{"doctors are a clinic", tags("amenity", "doctors"), "clinic"},
		{"healthcare=clinic alone is a clinic", tags("healthcare", "clinic"), "clinic"},
		{"healthcare=pharmacy alone is a pharmacy", tags("healthcare", "pharmacy"), "pharmacy"},
		{"a cinema is culture", tags("amenity", "cinema"), "culture"},
		{"a town hall is a citizen centre", tags("amenity", "townhall"), "citizen_center"},
		{"a government office is a citizen centre", tags("office", "government"), "citizen_center"},
		{"a stadium is sport", tags("leisure", "stadium"), "sport"},
		{"a restaurant is no facility", tags("amenity", "restaurant"), ""},
		{"a laboratory is no facility", tags("healthcare", "laboratory"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := facilityKind(tt.tags); got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestPublicWifi(t *testing.T) {
	for _, tt := range []struct {
		tags osm.Tags
		want bool
	}{
		{tags("internet_access", "wlan"), true},
		{tags("internet_access", "wifi", "internet_access:fee", "no"), true},
		{tags("internet_access", "wlan", "internet_access:fee", "yes"), false},
		{tags("internet_access", "wlan", "internet_access:fee", "customers"), false},
		{tags("internet_access", "wired"), false},
	} {
		if got := isPublicWifi(tt.tags); got != tt.want {
			t.Errorf("isPublicWifi(%v) = %v, want %v", tt.tags, got, tt.want)
		}
	}
}

func TestGreenKind(t *testing.T) {
	for _, tt := range []struct {
		tags osm.Tags
		want string
	}{
		{tags("leisure", "park"), "park"},
		{tags("leisure", "garden"), "garden"},
		{tags("leisure", "playground"), "playground"},
		{tags("landuse", "recreation_ground"), "park"},
		{tags("landuse", "forest"), "forest"},
		{tags("natural", "wood"), "forest"},
		{tags("landuse", "grass"), "square"},
		{tags("leisure", "pitch"), ""},
	} {
		if got := greenKind(tt.tags); got != tt.want {
			t.Errorf("greenKind(%v) = %q, want %q", tt.tags, got, tt.want)
		}
	}
}

func TestChainWaysJoinsPartsInEitherDirection(t *testing.T) {
	ids := func(xs ...int64) []osm.NodeID {
		out := make([]osm.NodeID, len(xs))
		for i, x := range xs {
			out[i] = osm.NodeID(x)
		}
		return out
	}
	tests := []struct {
		name       string
		parts      [][]osm.NodeID
		rings, ope string
	}{
		{"a closed way is a ring", [][]osm.NodeID{ids(1, 2, 3, 1)}, "[[1 2 3 1]]", "[]"},
		{"two halves make a ring", [][]osm.NodeID{ids(1, 2, 3), ids(3, 4, 1)}, "[[1 2 3 4 1]]", "[]"},
		{"a reversed part is turned round", [][]osm.NodeID{ids(1, 2, 3), ids(1, 4, 3)}, "[[1 2 3 4 1]]", "[]"},
		{"parts are joined backwards too", [][]osm.NodeID{ids(3, 4, 5), ids(1, 2, 3)}, "[]", "[[1 2 3 4 5]]"},
		{"a gap leaves an open chain", [][]osm.NodeID{ids(1, 2, 3), ids(4, 5, 1)}, "[]", "[[4 5 1 2 3]]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rings, open := chainWays(tt.parts)
			if fmt.Sprint(rings) != tt.rings || fmt.Sprint(open) != tt.ope {
				t.Fatalf("rings %v open %v, want %s and %s", rings, open, tt.rings, tt.ope)
			}
		})
	}
}

// traceCells traces a picture of cells ('#' inside), first line northernmost, on a grid of
// 1 m cells, and returns the polygons as text.
func traceCells(picture ...string) string {
	h := len(picture)
	g := grid{size: 1, nx: len(picture[0]), ny: h}
	in := func(i, j int) bool { return picture[h-1-j][i] == '#' }
	var out []string
	for _, p := range g.tracePolygons(block{0, 0, g.nx, g.ny}, in) {
		out = append(out, fmt.Sprint(p))
	}
	return strings.Join(out, " ")
}

func TestTracePolygons(t *testing.T) {
	tests := []struct {
		name    string
		picture []string
		want    string
	}{
		{"one cell is a square", []string{"#"}, "[[[0 0] [1 0] [1 1] [0 1] [0 0]]]"},
		{"a row of cells is one rectangle", []string{"###"}, "[[[0 0] [3 0] [3 1] [0 1] [0 0]]]"},
		{"an L keeps its six corners", []string{"#.", "##"}, "[[[0 0] [2 0] [2 1] [1 1] [1 2] [0 2] [0 0]]]"},
		{"a ring of cells has a clockwise hole", []string{"###", "#.#", "###"},
			"[[[0 0] [3 0] [3 3] [0 3] [0 0]] [[2 1] [1 1] [1 2] [2 2] [2 1]]]"},
		{"cells touching at a corner are separate polygons", []string{".#", "#."},
			"[[[0 0] [1 0] [1 1] [0 1] [0 0]]] [[[1 1] [2 1] [2 2] [1 2] [1 1]]]"},
		{"a region touching itself at a corner gets a hole touching its shell", []string{"###", "#.#", "##."},
			"[[[0 0] [2 0] [2 1] [3 1] [3 3] [0 3] [0 0]] [[2 1] [1 1] [1 2] [2 2] [2 1]]]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := traceCells(tt.picture...); got != tt.want {
				t.Fatalf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestTracedPolygonsAreValidRings(t *testing.T) {
	// A checkerboard with a solid frame: many corners where cells touch diagonally.
	picture := []string{"########", "#.#.#..#", "##.#.#.#", "#.#.#..#", "########"}
	h := len(picture)
	g := grid{size: 1, nx: len(picture[0]), ny: h}
	polys := g.tracePolygons(block{0, 0, g.nx, g.ny}, func(i, j int) bool { return picture[h-1-j][i] == '#' })
	area := 0.0
	for _, p := range polys {
		for k, r := range p {
			seen := map[orb.Point]bool{}
			for _, v := range r[:len(r)-1] {
				if seen[v] {
					t.Fatalf("ring %v touches itself at %v", r, v)
				}
				seen[v] = true
			}
			if (k == 0) != (r.Orientation() == orb.CCW) {
				t.Fatalf("ring %d of %v has the wrong orientation", k, p)
			}
		}
		area += spatial.Area(p)
	}
	cells := strings.Count(strings.Join(picture, ""), "#")
	if area != float64(cells) {
		t.Fatalf("polygons cover %v m², want %d (one per cell)", area, cells)
	}
}

func TestLeftOfLineAtCorners(t *testing.T) {
	// The coast runs east then turns north (a left turn): land is the inner corner.
	left := orb.LineString{{0, 0}, {10, 0}, {10, 10}}
	// It runs east then turns south (a right turn): land is all but the outer corner.
	right := orb.LineString{{0, 0}, {10, 0}, {10, -10}}
	tests := []struct {
		name string
		l    orb.LineString
		p    orb.Point
		seg  int
		t    float64
		want bool
	}{
		{"beside the middle of a segment, left is land", left, orb.Point{5, 1}, 0, 0.5, true},
		{"beside the middle of a segment, right is sea", left, orb.Point{5, -1}, 0, 0.5, false},
		{"beyond a left-turning corner is sea", left, orb.Point{11, -1}, 0, 1, false},
		{"inside a right-turning corner's outside is land", right, orb.Point{11, 1}, 0, 1, true},
		{"inside a right-turning corner is sea", right, orb.Point{9, -1}, 0, 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := leftOfLine(tt.l, false, tt.seg, tt.t, tt.p); got != tt.want {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestGridNames(t *testing.T) {
	g := grid{size: 25, nx: 120, ny: 80} // 3 × 2 one-kilometre blocks of 40 cells
	tests := []struct {
		b    block
		want string
	}{
		{block{0, 40, 40, 80}, "A1"}, // north-west
		{block{0, 0, 40, 40}, "A2"},
		{block{80, 0, 120, 40}, "C2"},
	}
	for _, tt := range tests {
		if got := gridName(g, tt.b, 40); got != tt.want {
			t.Errorf("gridName(%v) = %s, want %s", tt.b, got, tt.want)
		}
	}
	if got := gridName(grid{size: 25, nx: 40 * 30, ny: 40}, block{40 * 27, 0, 40 * 28, 40}, 40); got != "AB1" {
		t.Errorf("column 28 is %s, want AB", got)
	}
}

func TestDefaultZone(t *testing.T) {
	bld := func(use, typ string, gfa float64) *building {
		return &building{use: use, gfa: gfa, footprint: gfa / 3, e: &element{tags: tags("building", typ)}}
	}
	tests := []struct {
		name string
		bs   []*building
		want string
	}{
		{"apartment blocks make collective housing", []*building{bld("residential", "yes", 3000), bld("commercial", "retail", 500)}, "LC"},
		{"houses make individual housing", []*building{bld("residential", "house", 300), bld("residential", "detached", 200)}, "LI"},
		{"warehouses make industry", []*building{bld("industrial", "warehouse", 3000), bld("residential", "yes", 1000)}, "I"},
		{"schools and hospitals make public institutions", []*building{bld("education", "school", 3000), bld("office", "office", 1000)}, "IS"},
		{"a mix makes central mixed", []*building{bld("office", "office", 3000), bld("residential", "yes", 3000)}, "M"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := defaultZone(tt.bs).prefix; got != tt.want {
				t.Fatalf("got %s, want %s", got, tt.want)
			}
		})
	}
}

// tinyOSM builds an extract in memory from metric coordinates around Cluj (x east, y north).
type tinyOSM struct {
	d    *osmData
	proj spatial.Projection
	pts  map[osm.NodeID]orb.Point
	next osm.NodeID
}

func newTinyOSM() *tinyOSM {
	return &tinyOSM{d: &osmData{ways: map[osm.WayID]*osm.Way{}}, proj: spatial.NewProjection(orb.Point{23.59, 46.77}), pts: map[osm.NodeID]orb.Point{}, next: 1}
}

// way adds a way through the metric points; closed repeats the first node at the end.
func (o *tinyOSM) way(id osm.WayID, closed bool, t osm.Tags, xy ...float64) {
	w := &osm.Way{ID: id, Tags: t}
	for k := 0; k < len(xy); k += 2 {
		o.pts[o.next] = o.proj.ToWGS84(orb.Point{xy[k], xy[k+1]})
		w.Nodes = append(w.Nodes, osm.WayNode{ID: o.next})
		o.next++
	}
	if closed {
		w.Nodes = append(w.Nodes, w.Nodes[0])
	}
	o.d.ways[id] = w
}

// box adds a closed way around the metric rectangle.
func (o *tinyOSM) box(id osm.WayID, t osm.Tags, x0, y0, x1, y1 float64) {
	o.way(id, true, t, x0, y0, x1, y0, x1, y1, x0, y1)
}

func (o *tinyOSM) derive(t *testing.T) []layers.Feature {
	t.Helper()
	var need []osm.NodeID
	for id := range o.pts {
		need = append(need, id)
	}
	o.d.coords = newNodeCoords(need)
	for id, p := range o.pts {
		o.d.coords.set(id, p[0], p[1])
	}
	fs, err := deriveCity(o.d)
	if err != nil {
		t.Fatal(err)
	}
	return fs
}

func TestDerivedLayersOfATinyCity(t *testing.T) {
	o := newTinyOSM()
	// A primary road along y = 0 from x = -300 to 300, and the same road in a tunnel at y = 400.
	o.way(1, false, tags("highway", "primary"), -300, 0, 300, 0)
	o.way(2, false, tags("highway", "primary", "tunnel", "yes"), -300, 400, 300, 400)
	// The coast runs west along y = 600 with the land (south) on its left.
	o.way(3, false, tags("natural", "coastline"), 400, 600, -400, 600)
	// Buildings (10 m squares) by their centres: beside the road, 100 m from it, by the tunnel, by the sea.
	o.box(10, tags("building", "apartments"), -5, 5, 5, 15)     // centre 10 m from the road
	o.box(11, tags("building", "apartments"), -5, 95, 5, 105)   // 100 m
	o.box(12, tags("building", "apartments"), -5, 395, 5, 405)  // on the tunnel
	o.box(13, tags("building", "apartments"), -5, 570, 5, 580)  // 25 m from the sea
	o.box(20, tags("landuse", "residential"), -50, -50, 50, 50) // holds building 10 only
	fs := o.derive(t)
	city, err := spatial.NewCity(fs)
	if err != nil {
		t.Fatal(err)
	}
	at := func(x, y float64) orb.Point { return city.Proj.ToMetric(o.proj.ToWGS84(orb.Point{x, y})) }
	lden := func(x, y float64) float64 {
		best := 0.0
		for _, it := range city.Layer("noise").Containing(at(x, y)) {
			best = max(best, it.Feature.Props["lden_db"].(float64))
		}
		return best
	}
	floods := func(x, y float64) []int64 {
		var out []int64
		for _, it := range city.Layer("flood").Containing(at(x, y)) {
			out = append(out, it.Feature.Props["return_period_years"].(int64))
		}
		sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
		return out
	}
	t.Run("noise falls with distance from a major road", func(t *testing.T) {
		// 10 m: 75 dB (≤ 15 m); 100 m: 60 dB (≤ 130 m); 200 m: 55 dB (≤ 250 m); 290 m: quiet.
		for _, c := range []struct{ y, want float64 }{{10, 75}, {-30, 70}, {100, 60}, {200, 55}, {-290, 0}} {
			if got := lden(0, c.y); got != c.want {
				t.Errorf("%v m from the road: %v dB, want %v", c.y, got, c.want)
			}
		}
	})
	t.Run("a road in a tunnel makes no noise", func(t *testing.T) {
		if got := lden(0, 400); got != 0 {
			t.Fatalf("above the tunnel: %v dB, want quiet", got)
		}
	})
	t.Run("flood zones are nested along the land side of the coast", func(t *testing.T) {
		// 10 m inland (a 20 m cell's centre within 20 m) floods every 10 years, so it is in the
		// 100- and 1000-year zones too.
		if got := fmt.Sprint(floods(0, 590)); got != "[10 100 1000]" {
			t.Errorf("10 m inland: %s, want [10 100 1000]", got)
		}
		if got := fmt.Sprint(floods(0, 500)); got != "[1000]" { // 100 m inland
			t.Errorf("100 m inland: %s, want [1000]", got)
		}
		if got := fmt.Sprint(floods(0, 625)); got != "[]" { // at sea
			t.Errorf("25 m out at sea: %s, want no flood zone", got)
		}
	})
	t.Run("without OSM districts a 1 km grid holds every building", func(t *testing.T) {
		for _, b := range city.Layer("buildings").Items() {
			ds := city.Layer("districts").Containing(b.Centroid)
			if len(ds) != 1 || ds[0].Feature.Props["derived"] != true || !strings.HasPrefix(ds[0].Feature.Props["name"].(string), "Grid ") {
				t.Fatalf("building %d is in %d districts, want one grid district", b.Feature.ID, len(ds))
			}
		}
		if n := city.Layer("air_stations").Len(); n != city.Layer("districts").Len() {
			t.Fatalf("%d air stations for %d districts", n, city.Layer("districts").Len())
		}
	})
	t.Run("a residential land-use area is collective housing, the rest default zones", func(t *testing.T) {
		for _, b := range city.Layer("buildings").Items() {
			zs := city.Layer("zoning").Containing(b.Centroid)
			if len(zs) != 1 {
				t.Fatalf("building %d is in %d zones, want 1", b.Feature.ID, len(zs))
			}
			code := zs[0].Feature.Props["code"].(string)
			if (b.Feature.ID == 10) != (code == "UTR-LC1") {
				t.Errorf("building %d is in zone %s", b.Feature.ID, code)
			}
		}
	})
	t.Run("each building gets its parcel", func(t *testing.T) {
		p, ok := city.Layer("parcels").Get(1)
		if !ok || p.Feature.Props["cad_number"] != "XX-000001" {
			t.Fatalf("parcel 1 = %+v, want XX-000001 (no addr:country in the data)", p)
		}
		// A 10 m square (x -5..5, y 5..15) grown by 15 m on each side (x -20..20, y -10..30),
		// cut by the road along y = 0: 40 m × 30 m = 1,200 m².
		if a := p.Feature.Props["area_m2"].(float64); mathAbs(a-1200) > 0.5 {
			t.Fatalf("parcel area %v m², want 1200", a)
		}
	})
}
