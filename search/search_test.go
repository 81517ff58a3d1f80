package search

import (
	"sort"
	"sync"
	"testing"

	"github.com/paulmach/orb"

	"github.com/citytwin/citytwin/data"
	"github.com/citytwin/citytwin/layers"
	"github.com/citytwin/citytwin/spatial"
)

func square(x, y, d float64) orb.Polygon {
	return orb.Polygon{{{x, y}, {x + d, y}, {x + d, y + d}, {x, y + d}, {x, y}}}
}

// smallCity has one of each kind of thing, near (23.6, 46.77).
func smallCity(t *testing.T) *spatial.City {
	t.Helper()
	fs := []layers.Feature{
		{Layer: "districts", ID: 1, Geometry: square(23.60, 46.77, 0.02), Props: map[string]any{"name": "Mănăștur", "code": "D01"}},
		{Layer: "facilities", ID: 2, Geometry: orb.Point{23.605, 46.775}, Props: map[string]any{"kind": "school", "name": "Școala Gimnazială Avram Iancu"}},
		{Layer: "facilities", ID: 3, Geometry: orb.Point{23.606, 46.776}, Props: map[string]any{"kind": "school", "name": "École Saint-Charles"}},
		{Layer: "facilities", ID: 4, Geometry: orb.Point{23.607, 46.777}, Props: map[string]any{"kind": "pharmacy", "name": "Farmacia Centrală"}},
		{Layer: "facilities", ID: 5, Geometry: orb.Point{23.608, 46.778}, Props: map[string]any{"kind": "clinic"}},
		{Layer: "facilities", ID: 6, Geometry: orb.Point{23.609, 46.779}, Props: map[string]any{"kind": "library", "name": "Unirii"}},
		{Layer: "parcels", ID: 10, Geometry: square(23.610, 46.780, 0.001), Props: map[string]any{"cad_number": "CJ-123456", "address": "Strada Moților 12"},
			Restricted: map[string]any{"owner_name": "Ionescu Maria", "land_book": "CF-99"}},
		{Layer: "parcels", ID: 11, Geometry: square(23.612, 46.780, 0.001), Props: map[string]any{"cad_number": "CJ-123457", "address": "Strada Moților 14"}},
	}
	c, err := spatial.NewCity(fs)
	if err != nil {
		t.Fatal(err)
	}
	c.Streets = []layers.Feature{
		{ID: 20, Geometry: orb.LineString{{23.60, 46.78}, {23.61, 46.78}}, Props: map[string]any{"name": "Strada Moților", "highway": "residential"}},
		{ID: 21, Geometry: orb.LineString{{23.61, 46.78}, {23.62, 46.78}}, Props: map[string]any{"name": "Strada Moților", "highway": "residential"}},
		{ID: 22, Geometry: orb.LineString{{23.60, 46.79}, {23.61, 46.79}}, Props: map[string]any{"name": "Piața Unirii", "highway": "pedestrian"}},
		{ID: 23, Geometry: orb.LineString{{23.60, 46.76}, {23.61, 46.76}}, Props: map[string]any{"highway": "service"}},
	}
	return c
}

func labels(hs []Hit) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = h.Kind + ":" + h.Label
	}
	return out
}

func TestSearchFindsWhatACitizenTypes(t *testing.T) {
	ix := Build(smallCity(t))
	tests := []struct {
		name, q string
		want    []string // the first hits, in order
	}{
		{"a name without diacritics finds the name with them", "scoala", []string{"facility:École Saint-Charles", "facility:Școala Gimnazială Avram Iancu"}},
		{"a kind word in Romanian finds facilities of that kind whatever their name", "farmacie", []string{"facility:Farmacia Centrală"}},
		{"a kind word in English finds them too", "clinic", []string{"facility:Clinic"}},
		{"upper case and cedilla forms fold alike", "MOŢILOR", []string{"street:Strada Moților", "address:Strada Moților 12", "address:Strada Moților 14"}},
		{"every word is a prefix", "str mot 1", []string{"address:Strada Moților 12", "address:Strada Moților 14"}},
		{"a typo of one letter in a word of four or more is forgiven", "motilkr", []string{"street:Strada Moților", "address:Strada Moților 12", "address:Strada Moților 14"}},
		{"two typos are forgiven from eight letters", "gimnaxiaka", []string{"facility:Școala Gimnazială Avram Iancu"}}, // gimnaziala with z→x and l→k
		{"but not three", "gimnaxiakk", nil},
		{"the whole name comes before names that contain it", "strada motilor", []string{"street:Strada Moților", "address:Strada Moților 12", "address:Strada Moților 14"}},
		{"a square is a place", "piata", []string{"place:Piața Unirii"}},
		{"a whole name comes before a kind that ranks higher", "unirii", []string{"facility:Unirii", "place:Piața Unirii"}},
		{"a district by its name", "manastur", []string{"district:Mănăștur"}},
		{"a parcel by its cadastral number", "CJ-123457", []string{"parcel:CJ-123457"}},
		{"a cadastral number's prefix finds both parcels", "cj 12345", []string{"parcel:CJ-123456", "parcel:CJ-123457"}},
		{"a word that matches nothing finds nothing", "zzzz", nil},
		{"all words must match", "strada unirii", nil},
		{"an owner's name is never searched", "Ionescu", nil},
		{"a land book number is never searched", "CF-99", nil},
		{"a short word must be typed right", "sco", []string{"facility:École Saint-Charles", "facility:Școala Gimnazială Avram Iancu"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := labels(ix.Search(tc.q, 10))
			if len(got) < len(tc.want) || len(tc.want) == 0 && len(got) != 0 {
				t.Fatalf("Search(%q) = %q, want %q first", tc.q, got, tc.want)
			}
			for i := range tc.want {
				if got[i] != tc.want[i] {
					t.Fatalf("Search(%q) = %q, want %q first", tc.q, got, tc.want)
				}
			}
		})
	}
}

func TestAStreetOfManyWaysIsOneHitCoveringThemAll(t *testing.T) {
	hs := Build(smallCity(t)).Search("Strada Moților", 1)
	if len(hs) != 1 || hs[0].Kind != KindStreet {
		t.Fatalf("hits %v, want the street", hs)
	}
	// The two ways run from 23.60 to 23.61 and from 23.61 to 23.62 along 46.78.
	if want := [4]float64{23.60, 46.78, 23.62, 46.78}; hs[0].BBox != want {
		t.Errorf("bbox %v, want %v", hs[0].BBox, want)
	}
	// The middle of that extent is (23.61, 46.78), a vertex of both ways.
	if hs[0].Point != (orb.Point{23.61, 46.78}) {
		t.Errorf("point %v, want the vertex (23.61, 46.78)", hs[0].Point)
	}
}

func TestHitsPointAtTheirPlace(t *testing.T) {
	ix := Build(smallCity(t))
	hs := ix.Search("CJ-123456", 1)
	if len(hs) != 1 {
		t.Fatalf("hits %v", hs)
	}
	// The parcel is the square 23.610..23.611 × 46.780..46.781: its centroid is its middle.
	c := hs[0].Point
	if dx, dy := c[0]-23.6105, c[1]-46.7805; dx*dx+dy*dy > 1e-12 {
		t.Errorf("point %v, want about (23.6105, 46.7805)", c)
	}
	if want := [4]float64{23.610, 46.780, 23.611, 46.781}; hs[0].BBox != want {
		t.Errorf("bbox %v, want %v", hs[0].BBox, want)
	}
	want := orb.Point{23.607, 46.777}
	if hs := ix.Search("farmacia", 1); len(hs) != 1 || hs[0].Point != want || hs[0].Category != "pharmacy" {
		t.Errorf("pharmacy hit %+v, want the point (23.607, 46.777) and category pharmacy", hs)
	}
}

func TestLimitKeepsTheBest(t *testing.T) {
	ix := Build(smallCity(t))
	all := labels(ix.Search("s", 100))
	for n := 1; n <= len(all); n++ {
		got := labels(ix.Search("s", n))
		if len(got) != n {
			t.Fatalf("limit %d gave %d hits", n, len(got))
		}
		for i := range got {
			if got[i] != all[i] {
				t.Fatalf("limit %d gave %q, want the first %d of %q", n, got, n, all)
			}
		}
	}
}

func TestFoldAndEdits(t *testing.T) {
	folds := map[string]string{"Școala": "scoala", "ŞCOALĂ": "scoala", "Țară ţară": "tara tara", "Îngheţată": "inghetata", "Âne Été Œuvre Straße": "ane ete oeuvre strasse", "Boulevard": "boulevard"}
	for in, want := range folds {
		if got := Fold(in); got != want {
			t.Errorf("Fold(%q) = %q, want %q", in, got, want)
		}
	}
	edits := []struct {
		a, b string
		k    int
		want bool
	}{
		{"moulins", "moulins", 0, true},
		{"moulins", "moulin", 1, true},  // one deletion
		{"moulins", "muolins", 1, true}, // one swap of neighbours
		{"moulins", "moulims", 1, true}, // one substitution
		{"moulins", "mulin", 1, false},  // two deletions
		{"moulins", "mulin", 2, true},
		{"abc", "xyz", 2, false},
	}
	for _, e := range edits {
		if got := withinEdits([]rune(e.a), []rune(e.b), e.k); got != e.want {
			t.Errorf("withinEdits(%q, %q, %d) = %v, want %v", e.a, e.b, e.k, got, e.want)
		}
	}
}

// TestSearchKeepsTheBestOfAllEntries checks the cut-offs of Search against ranking every
// entry of the demo city for queries of every sort.
func TestSearchKeepsTheBestOfAllEntries(t *testing.T) {
	ix := Build(demoCity(t))
	queries := []string{"a", "b", "bo", "boulevard", "boulevard des moulins", "moulins 2", "rue", "ru", "avenue de", "mc", "mc 0001",
		"1", "2", "monte", "monte-carlo", "scoala", "pharmacy", "farmacie", "parc", "place", "princesse grace", "bulevard", "avenu", "st", "saint"}
	for _, q := range queries {
		ms := make([]wordMatch, 0)
		for _, w := range Words(q) {
			ms = append(ms, ix.matchWord(w))
		}
		var all []scored
		for e := range ix.entries {
			if s, ok := ix.score(int32(e), ms); ok {
				all = append(all, s)
			}
		}
		sort.Slice(all, func(i, j int) bool { return ix.better(all[i], all[j]) })
		for _, limit := range []int{1, 3, 10} {
			got := ix.Search(q, limit)
			want := all[:min(limit, len(all))]
			if len(got) != len(want) {
				t.Errorf("Search(%q, %d): %d hits, want %d", q, limit, len(got), len(want))
				continue
			}
			for i := range want {
				if got[i] != ix.entries[want[i].entry].hit {
					t.Errorf("Search(%q, %d) = %q, want %q", q, limit, labels(got), labels(hitsOf(ix, want)))
					break
				}
			}
		}
	}
}

func hitsOf(ix *Index, ss []scored) []Hit {
	out := make([]Hit, len(ss))
	for i, s := range ss {
		out[i] = ix.entries[s.entry].hit
	}
	return out
}

func demoCity(t testing.TB) *spatial.City {
	t.Helper()
	fs, err := data.Demo()
	if err != nil {
		t.Fatal(err)
	}
	c, err := spatial.NewCity(fs)
	if err != nil {
		t.Fatal(err)
	}
	if c.Streets, err = data.DemoStreets(); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestTheDemoCityFindsItsStreetsAndSchools(t *testing.T) {
	ix := Build(demoCity(t))
	for _, q := range []string{"Boulevard des Moulins", "boulevard des moul", "Monte-Carlo", "monte carlo", "bulevard des moulins"} {
		hs := ix.Search(q, 10)
		if len(hs) == 0 {
			t.Errorf("Search(%q) found nothing", q)
			continue
		}
		t.Logf("%q: %q", q, labels(hs))
	}
	if hs := ix.Search("Boulevard des Moulins", 1); len(hs) != 1 || hs[0].Label != "Boulevard des Moulins" || hs[0].Kind != KindStreet {
		t.Errorf("Boulevard des Moulins: %q, want the street first", labels(hs))
	}
	hs := ix.Search("scoala", 10)
	if len(hs) == 0 {
		t.Fatal("scoala found no school")
	}
	for _, h := range hs {
		if h.Kind != KindFacility || h.Category != "school" && h.Category != "high_school" && h.Category != "kindergarten" {
			t.Errorf("scoala found %+v", h)
		}
	}
}

func TestForKeepsOneIndexPerCity(t *testing.T) {
	a, b := smallCity(t), smallCity(t)
	var wg sync.WaitGroup
	got := make([]*Index, 8)
	for i := range got {
		wg.Go(func() { got[i] = For(a) })
	}
	wg.Wait()
	for _, ix := range got {
		if ix != got[0] {
			t.Fatal("concurrent callers got different indexes for one city")
		}
	}
	if For(b) == got[0] {
		t.Error("a new city (a reload) kept the old index")
	}
}
