package synthcity

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"maps"
	"math"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"

	"github.com/citytwin/citytwin/layers"
	"github.com/citytwin/citytwin/spatial"
)

var genCenter = orb.Point{23.59, 46.77}

func genGenerateAll(t testing.TB, opts Options) []layers.Feature {
	t.Helper()
	var fs []layers.Feature
	if err := Generate(opts, func(f layers.Feature) error {
		fs = append(fs, f)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return fs
}

func genByLayer(fs []layers.Feature) map[string][]layers.Feature {
	out := map[string][]layers.Feature{}
	for _, f := range fs {
		out[f.Layer] = append(out[f.Layer], f)
	}
	return out
}

// genDigest hashes the features as JSON (map keys sorted), the closest thing to the bytes a
// writer would produce.
func genDigest(t *testing.T, opts Options) [32]byte {
	t.Helper()
	h := sha256.New()
	enc := json.NewEncoder(h)
	if err := Generate(opts, func(f layers.Feature) error { return enc.Encode(f) }); err != nil {
		t.Fatal(err)
	}
	var sum [32]byte
	copy(sum[:], h.Sum(nil))
	return sum
}

func TestGenerateIsDeterministic(t *testing.T) {
	a := genDigest(t, Options{Parcels: 3000, Seed: 7})
	if b := genDigest(t, Options{Parcels: 3000, Seed: 7}); a != b {
		t.Error("two runs with the same options differ")
	}
	if b := genDigest(t, Options{Parcels: 3000, Seed: 8}); a == b {
		t.Error("a different seed gives the same city")
	}
	if b := genDigest(t, Options{Parcels: 3000, Seed: 7, Center: orb.Point{26.1, 44.43}}); a == b {
		t.Error("a different centre gives the same city")
	}
}

func TestGenerateRejectsNoParcels(t *testing.T) {
	if err := Generate(Options{}, func(layers.Feature) error { return nil }); err == nil {
		t.Error("zero parcels accepted")
	}
}

func TestGenerateStopsOnEmitError(t *testing.T) {
	stop := errors.New("stop")
	n := 0
	err := Generate(Options{Parcels: 1000}, func(layers.Feature) error {
		n++
		if n == 10 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 10 {
		t.Errorf("got %v after %d features, want the emit error after 10", err, n)
	}
}

func TestGenerateFollowsTheCatalog(t *testing.T) {
	fs := genGenerateAll(t, Options{Parcels: 5000, Seed: 3})
	wantOrder := []string{"districts", "zoning", "parcels", "buildings", "facilities", "green_spaces", "noise", "flood", "air_stations", "broadband", "streets", "water", "places"}
	var order []string
	lastID := map[string]int64{}
	cads := map[string]bool{}
	for _, f := range fs {
		if len(order) == 0 || order[len(order)-1] != f.Layer {
			order = append(order, f.Layer)
		}
		l, err := layers.Lookup(f.Layer)
		if err != nil {
			t.Fatal(err)
		}
		if f.ID != lastID[f.Layer]+1 {
			t.Fatalf("%s: ID %d follows %d", f.Layer, f.ID, lastID[f.Layer])
		}
		lastID[f.Layer] = f.ID
		if err := l.CheckGeometry(f.Geometry); err != nil {
			t.Fatalf("%s %d: %v", f.Layer, f.ID, err)
		}
		raw := maps.Clone(f.Props)
		maps.Copy(raw, f.Restricted)
		pub, res, err := l.Normalize(raw)
		if err != nil {
			t.Fatalf("%s %d: %v", f.Layer, f.ID, err)
		}
		if !reflect.DeepEqual(pub, f.Props) || !reflect.DeepEqual(res, f.Restricted) {
			t.Fatalf("%s %d: props are not typed as the catalog says:\n%#v\n%#v", f.Layer, f.ID, f.Props, f.Restricted)
		}
		var want []string
		for _, fl := range l.Fields {
			want = append(want, fl.Name)
		}
		got := append(slices.Sorted(maps.Keys(f.Props)), slices.Collect(maps.Keys(f.Restricted))...)
		sort.Strings(got)
		sort.Strings(want)
		if !slices.Equal(got, want) {
			t.Fatalf("%s %d: fields %v, want %v", f.Layer, f.ID, got, want)
		}
		if f.Props["derived"] != true {
			t.Fatalf("%s %d: not marked derived", f.Layer, f.ID)
		}
		if f.Layer == "parcels" {
			a := f.Props["area_m2"].(float64)
			if a < 300 || a > 1500 {
				t.Errorf("parcel %d: area %.1f m² outside 300–1500", f.ID, a)
			}
			cad := f.Props["cad_number"].(string)
			if cads[cad] {
				t.Errorf("parcel %d: cad_number %s repeated", f.ID, cad)
			}
			cads[cad] = true
		}
	}
	if !slices.Equal(order, wantOrder) {
		t.Errorf("layer order %v, want %v", order, wantOrder)
	}
	kinds := map[string]int{}
	for _, f := range genByLayer(fs)["facilities"] {
		kinds[f.Props["kind"].(string)]++
	}
	for _, k := range layers.FacilityKinds {
		if kinds[k] == 0 {
			t.Errorf("no %s among the facilities", k)
		}
	}
}

func TestGenerateBuildingsSitInsideTheirParcels(t *testing.T) {
	ls := genByLayer(genGenerateAll(t, Options{Parcels: 3000, Seed: 5}))
	p := spatial.NewProjection(genCenter)
	parcels := map[string]orb.Polygon{}
	for _, f := range ls["parcels"] {
		parcels[f.Props["cad_number"].(string)] = p.Geometry(f.Geometry).(orb.Polygon)
	}
	var parcelBounds []orb.Bound
	for _, g := range parcels {
		parcelBounds = append(parcelBounds, g.Bound())
	}
	genNoOverlap(t, "parcels", parcelBounds, 0.01)
	seen := map[string]bool{}
	var bounds []orb.Bound
	for _, f := range ls["buildings"] {
		cad := f.Props["cad_number"].(string)
		parcel, ok := parcels[cad]
		if !ok {
			t.Fatalf("building %d: no parcel %s", f.ID, cad)
		}
		if seen[cad] {
			t.Errorf("building %d: parcel %s holds a second building", f.ID, cad)
		}
		seen[cad] = true
		b := p.Geometry(f.Geometry).(orb.Polygon)
		for _, q := range b[0] {
			if !planar.PolygonContains(parcel, q) {
				t.Fatalf("building %d: corner %v outside parcel %s", f.ID, q, cad)
			}
		}
		if pb, bb := parcel.Bound(), b.Bound(); bb.Min[0]-pb.Min[0] < 0.9 || bb.Min[1]-pb.Min[1] < 0.9 ||
			pb.Max[0]-bb.Max[0] < 0.9 || pb.Max[1]-bb.Max[1] < 0.9 {
			t.Errorf("building %d: set back less than 1 m from parcel %s", f.ID, cad)
		}
		share := spatial.Area(b) / spatial.Area(parcel)
		if share < 0.1 || share > 0.8 {
			t.Errorf("building %d covers %.0f %% of its parcel", f.ID, share*100)
		}
		bounds = append(bounds, b.Bound())
	}
	genNoOverlap(t, "footprints", bounds, 0)
}

// genNoOverlap fails when two rectangles share more than a sliver of tol metres (shared
// parcel edges move by up to a centimetre when rounded to 1e-7°).
func genNoOverlap(t *testing.T, what string, bounds []orb.Bound, tol float64) {
	t.Helper()
	sort.Slice(bounds, func(i, j int) bool { return bounds[i].Min[0] < bounds[j].Min[0] })
	for i, a := range bounds {
		for _, b := range bounds[i+1:] {
			if b.Min[0] >= a.Max[0]-tol {
				break
			}
			if b.Min[1] < a.Max[1]-tol && a.Min[1] < b.Max[1]-tol {
				t.Fatalf("%s %v and %v overlap", what, a, b)
			}
		}
	}
}

func TestGenerateScalesWithParcels(t *testing.T) {
	for _, tc := range []struct {
		name      string
		parcels   int
		districts [2]int
	}{
		{"10,000 parcels make about 7,500 buildings in 4 districts", 10000, [2]int{4, 4}},
		{"60,000 parcels make about 45,000 buildings in 4 districts", 60000, [2]int{4, 4}},
		// round(200,000 / 25,000) = 8 districts wanted: a 3 × 3 grid.
		{"200,000 parcels make about 150,000 buildings in about 8 districts", 200000, [2]int{8, 9}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.parcels > 100000 && testing.Short() {
				t.Skip("large city in -short mode")
			}
			counts := map[string]int{}
			residents, schools := 0.0, 0
			if err := Generate(Options{Parcels: tc.parcels, Seed: 1}, func(f layers.Feature) error {
				counts[f.Layer]++
				if f.Layer == "buildings" {
					residents += float64(f.Props["dwellings"].(int64)) * 2.5
				}
				if f.Layer == "facilities" && f.Props["kind"] == "school" {
					schools++
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			t.Logf("counts %v, residents %.0f", counts, residents)
			if counts["parcels"] != tc.parcels {
				t.Errorf("%d parcels, want %d", counts["parcels"], tc.parcels)
			}
			if b := float64(counts["buildings"]) / float64(tc.parcels); b < 0.72 || b > 0.78 {
				t.Errorf("%d buildings: %.3f per parcel, want about 0.75", counts["buildings"], b)
			}
			if d := counts["districts"]; d < tc.districts[0] || d > tc.districts[1] {
				t.Errorf("%d districts, want %d–%d", d, tc.districts[0], tc.districts[1])
			}
			// One school per about 5,000 residents.
			if want := residents / 5000; math.Abs(float64(schools)-want) > 0.3*want+1 {
				t.Errorf("%d schools for %.0f residents, want about %.0f", schools, residents, want)
			}
			for _, l := range []string{"zoning", "green_spaces", "noise", "flood", "air_stations", "broadband"} {
				if counts[l] == 0 {
					t.Errorf("no %s", l)
				}
			}
		})
	}
}

func TestGenerateBreaksSomeZoneLimits(t *testing.T) {
	ls := genByLayer(genGenerateAll(t, Options{Parcels: 10000, Seed: 2}))
	p := spatial.NewProjection(genCenter)
	parcelArea := map[string]float64{}
	for _, f := range ls["parcels"] {
		parcelArea[f.Props["cad_number"].(string)] = spatial.Area(p.Geometry(f.Geometry))
	}
	type zone struct {
		b     orb.Bound
		props map[string]any
	}
	var zones []zone
	for _, f := range ls["zoning"] {
		zones = append(zones, zone{p.Geometry(f.Geometry).Bound(), f.Props})
	}
	why := map[string]int{}
	broken := 0
	for _, f := range ls["buildings"] {
		g := p.Geometry(f.Geometry)
		c := spatial.Centroid(g)
		var z map[string]any
		for _, zz := range zones {
			if zz.b.Contains(c) {
				z = zz.props
				break
			}
		}
		if z == nil {
			t.Fatalf("building %d lies in no zone", f.ID)
		}
		area := parcelArea[f.Props["cad_number"].(string)]
		reasons := 0
		check := func(name string, over bool) {
			if over {
				why[name]++
				reasons++
			}
		}
		check("floors", f.Props["floors"].(int64) > z["max_floors"].(int64))
		check("height", f.Props["height_m"].(float64) > z["max_height_m"].(float64))
		check("POT", spatial.Area(g)/area*100 > z["max_pot_pct"].(float64))
		check("CUT", f.Props["gfa_m2"].(float64)/area > z["max_cut"].(float64))
		check("use", !slices.Contains(z["allowed_uses"].([]string), f.Props["use"].(string)))
		if reasons > 0 {
			broken++
		}
	}
	share := float64(broken) / float64(len(ls["buildings"]))
	t.Logf("%d of %d buildings break a limit (%.1f %%): %v", broken, len(ls["buildings"]), share*100, why)
	if share < 0.01 || share > 0.06 {
		t.Errorf("%.1f %% of buildings break a zone limit, want a few percent", share*100)
	}
	for _, k := range []string{"floors", "height", "POT", "use"} {
		if why[k] == 0 {
			t.Errorf("no building breaks the %s limit", k)
		}
	}
}

func BenchmarkGenerate(b *testing.B) {
	for _, n := range []int{10000, 200000} {
		b.Run("parcels="+strconv.Itoa(n), func(b *testing.B) {
			features := 0
			for b.Loop() {
				features = 0
				if err := Generate(Options{Parcels: n, Seed: 1}, func(layers.Feature) error {
					features++
					return nil
				}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(features), "features/op")
		})
	}
}
