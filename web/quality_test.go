package web

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/paulmach/orb"

	"github.com/citytwin/citytwin/citymodel"
	"github.com/citytwin/citytwin/layers"
	"github.com/citytwin/citytwin/scenarios"
	"github.com/citytwin/citytwin/spatial"
)

type memCensus struct{ c *layers.Census }

func (m memCensus) Census(context.Context) (*layers.Census, error) { return m.c, nil }

// GET /api/quality is public and counts, by hand: buildings B1 (surveyed, every key
// attribute), B2 (derived, no dwellings), B3 (surveyed, no floors, its height and dwellings
// listed as estimated); facilities F1 capacity
// 100, F2 capacity 0 (unknown), F3 capacity 50 marked capacity_estimated; a derived noise
// polygon; a parcel whose owner must not appear.
func TestQualityReportsWhereTheNumbersComeFrom(t *testing.T) {
	p := spatial.NewProjection(orb.Point{23.59, 46.77})
	pt := func(x, y float64) orb.Point { return p.ToWGS84(orb.Point{x, y}) }
	r := func(x0, y0, x1, y1 float64) orb.Polygon {
		return orb.Polygon{orb.Ring{pt(x0, y0), pt(x1, y0), pt(x1, y1), pt(x0, y1), pt(x0, y0)}}
	}
	type m = map[string]any
	city, err := spatial.NewCity([]layers.Feature{
		{Layer: "districts", ID: 1, Geometry: r(-1000, -1000, 1000, 1000), Props: m{"name": "Centre", "code": "C"}},
		{Layer: "parcels", ID: 1, Geometry: r(0, 0, 100, 100), Props: m{"cad_number": "100", "area_m2": 10000.0}, Restricted: m{"owner_name": "Ion Popescu"}},
		{Layer: "buildings", ID: 1, Geometry: r(10, 10, 40, 40), Props: m{"use": "residential", "floors": int64(4), "height_m": 12.0, "dwellings": int64(20)}},
		{Layer: "buildings", ID: 2, Geometry: r(-110, 10, -80, 40), Props: m{"use": "residential", "floors": int64(2), "height_m": 6.0, "derived": true}},
		{Layer: "buildings", ID: 3, Geometry: r(200, 10, 230, 40), Props: m{"use": "residential", "height_m": 9.0, "dwellings": int64(10), "estimated": []string{"height_m", "dwellings"}}},
		{Layer: "facilities", ID: 1, Geometry: pt(0, 300), Props: m{"kind": "school", "capacity": int64(100)}},
		{Layer: "facilities", ID: 2, Geometry: pt(0, -300), Props: m{"kind": "school", "capacity": int64(0)}},
		{Layer: "facilities", ID: 3, Geometry: pt(300, 0), Props: m{"kind": "kindergarten", "capacity": int64(50), "capacity_estimated": true}},
		{Layer: "noise", ID: 1, Geometry: r(-500, -500, 500, 500), Props: m{"source": "road", "lden_db": 55.0, "derived": true}},
	})
	if err != nil {
		t.Fatal(err)
	}
	eng, err := scenarios.NewEngine(scenarios.DefaultParameters())
	if err != nil {
		t.Fatal(err)
	}
	eng.Census = memCensus{&layers.Census{Rows: []layers.CensusRow{{District: "*", Population: 100, Year: 2021, Source: "INS, RPL 2021"}}}}
	store, err := scenarios.OpenDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	model := citymodel.Fixed(city)
	srv := New(Options{Logger: scenarioTestLogger(), Model: model, Scenarios: scenarios.NewService(store, eng, model)})
	f := &apiFixture{srv: srv, h: srv.Handler(), city: city, model: model}

	a := f.do(t, http.MethodGet, "/api/quality", "", nil)
	wantStatus(t, "GET /api/quality without a token", a, http.StatusOK)
	if strings.Contains(string(a.body), "Popescu") {
		t.Fatalf("the quality report leaks a restricted field: %s", a.body)
	}
	var q qualityAnswer
	if err := json.Unmarshal(a.body, &q); err != nil {
		t.Fatal(err)
	}
	attr := func(layer, name string) attributeQuality { return q.Layers[layer].Attributes[name] }
	tests := []struct {
		name      string
		got, want attributeQuality
	}{
		{"a building's use: B1 and B3 surveyed, B2 derived", attr("buildings", "use"),
			attributeQuality{Surveyed: 2, Derived: 1, SurveyedShare: 2.0 / 3, DerivedShare: 1.0 / 3}},
		{"a building's floors: B1 surveyed, B2 derived, B3 missing", attr("buildings", "floors"),
			attributeQuality{Surveyed: 1, Derived: 1, Missing: 1, SurveyedShare: 1.0 / 3, DerivedShare: 1.0 / 3, MissingShare: 1.0 / 3}},
		{"a building's height: B1 surveyed, B2 derived, B3's estimated", attr("buildings", "height_m"),
			attributeQuality{Surveyed: 1, Derived: 2, SurveyedShare: 1.0 / 3, DerivedShare: 2.0 / 3}},
		{"a building's dwellings: B1 surveyed, B3's estimated, B2 missing", attr("buildings", "dwellings"),
			attributeQuality{Surveyed: 1, Derived: 1, Missing: 1, SurveyedShare: 1.0 / 3, DerivedShare: 1.0 / 3, MissingShare: 1.0 / 3}},
		{"a capacity of 0 is missing and an estimated one derived", attr("facilities", "capacity"),
			attributeQuality{Surveyed: 1, Derived: 1, Missing: 1, SurveyedShare: 1.0 / 3, DerivedShare: 1.0 / 3, MissingShare: 1.0 / 3}},
		{"a parcel's area is surveyed", attr("parcels", "area_m2"), attributeQuality{Surveyed: 1, SurveyedShare: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %+v, want %+v", tt.got, tt.want)
			}
		})
	}
	if b := q.Layers["buildings"]; b.Features != 3 || b.Derived != 1 || b.DerivedShare != 1.0/3 {
		t.Errorf("buildings = %+v, want 3 features, 1 derived", b)
	}
	if q.Basis != "attribute" || strings.Join(q.DerivedLayers, ",") != "buildings,noise" {
		t.Errorf("basis %q, derived layers %q; want attribute, buildings,noise", q.Basis, q.DerivedLayers)
	}
	// Residents: B1 20 × 2.2 × 5/6 = 36.67, B2 6 m → 2 floors × 900 m² = 1800 / 35 = 51.43,
	// B3 10 × 2.2 × 5/6 = 18.33: scaled to the census's 100, but B2 is derived, so residents
	// rest on modelled inputs. F2's school capacity is unknown: the load counts it at the
	// default of its kind, so the school capacity is modelled; the green space (none) is not.
	if c := q.Census; c == nil || !c.Loaded || !c.Complete || c.Years[0] != 2021 || c.Sources[0] != "INS, RPL 2021" || c.CalibratedResidents < 100-1e-9 || c.CalibratedResidents > 100+1e-9 {
		t.Errorf("census = %+v, want loaded, complete, 2021 INS, 100 residents", c)
	}
	if q.Sources["residents"] != scenarios.SourceModelled || q.Sources["school_capacity"] != scenarios.SourceModelled || q.Sources["public_green_m2"] != scenarios.SourceSurveyed {
		t.Errorf("sources residents %q, school_capacity %q, public_green_m2 %q; want modelled (a derived building), modelled (F2's default), surveyed",
			q.Sources["residents"], q.Sources["school_capacity"], q.Sources["public_green_m2"])
	}
	modelled := strings.Join(q.ModelledIndicators, ",")
	if !strings.Contains(modelled, "residents") || !strings.Contains(modelled, "noise_lden_55") || strings.Contains(modelled, "public_green_m2") {
		t.Errorf("modelled indicators %s: want residents and noise, not public_green_m2", modelled)
	}
}
