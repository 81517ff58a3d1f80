package scenarios

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/paulmach/orb"

	"github.com/citytwin/citytwin/layers"
	"github.com/citytwin/citytwin/spatial"
)

// riverLine is a LineString in riverCity's metres (its own projection, as riverCity makes it).
func riverLine(xy ...float64) []byte {
	p := spatial.NewProjection(orb.Point{23.59, 46.77})
	var ls orb.LineString
	for i := 0; i+1 < len(xy); i += 2 {
		ls = append(ls, p.ToWGS84(orb.Point{xy[i], xy[i+1]}))
	}
	return geoJSON(ls)
}

// numbered decodes changes and numbers them as the service does, without validating them.
func numbered(t *testing.T, ins ...ChangeInput) []Change {
	t.Helper()
	var out []Change
	for i, in := range ins {
		c, err := DecodeChange(in)
		if err != nil {
			t.Fatal(err)
		}
		c.Seq, c.ID = int64(i+1), "c"+itoa(int64(i+1))
		if makesFeature(&c) {
			c.FeatureID = AddedIDBase + c.Seq
		}
		out = append(out, c)
	}
	return out
}

func targetJSON(id int64) json.RawMessage { b, _ := json.Marshal(itoa(id)); return b }

// walkOf returns building 1's walk to the nearest school in a run's variant, in metres.
func walkToSchool(t *testing.T, e *Engine, c *spatial.City, changes []Change) float64 {
	t.Helper()
	b, err := e.baselineFor(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	v, err := Build(c, e.params, changes)
	if err != nil {
		t.Fatal(err)
	}
	en := e.newEnv(b, v)
	e.setWalks(en, false)
	it, _ := en.buildings.Get(1)
	return e.walks(en, it.Centroid, make([]float64, e.walkTargets()))[e.schoolIdx]
}

func TestAFootbridgeAcrossTheRiverBringsTheSchoolWithinReach(t *testing.T) {
	e := newEngine(t)
	c := riverCity(t, true)
	ctx := context.Background()
	// A footbridge straight across the river at x = 100, from the south bank street (y = 0)
	// to the north bank street (y = 200), its ends on the streets.
	changes := prepared(t, c, nil, ChangeInput{Kind: AddFootpath, Geometry: riverLine(100, 0, 100, 200), Properties: map[string]any{"name": "Footbridge"}})
	before, err := e.Run(ctx, c, Scenario{ID: "before"}, nil, RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	after, err := e.Run(ctx, c, Scenario{ID: "after"}, changes, RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Before: 10 + 900 + 200 + 900 + 10 = 2020 m by the far bridge, beyond 800 m.
	if got := before.Indicators["access_school"].Variant; got != 0 {
		t.Fatalf("without the footbridge access_school = %v, want 0 (a 2020 m walk)", got)
	}
	// After: 10 m stub from the home (100, -10) to the south street, 200 m over the
	// footbridge, 10 m stub to the school (100, 210): 10 + 200 + 10 = 220 m <= 800 m.
	if got := after.Indicators["access_school"]; got.Variant != 1 || got.Diff != 1 {
		t.Fatalf("with the footbridge access_school = %+v, want the variant at 1 (a 220 m walk)", got)
	}
	if w := walkToSchool(t, e, c, changes); math.Abs(w-220) > 1 {
		t.Fatalf("walk to the school over the footbridge = %v m, want 220 m", w)
	}
	if got := after.DistanceMethods["access_school"]; got != DistanceNetwork {
		t.Fatalf("access_school measured by %q, want %q", got, DistanceNetwork)
	}
	// Closing the footbridge again (its id is the change's feature id) restores the far walk.
	closed := prepared(t, c, changes, ChangeInput{Kind: CloseStreet, Target: targetJSON(changes[0].FeatureID)})
	again, err := e.Run(ctx, c, Scenario{ID: "after"}, closed, RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := again.Indicators["access_school"].Variant; got != 0 || !again.Incremental {
		t.Fatalf("with the footbridge closed access_school = %v (incremental %v), want 0", got, again.Incremental)
	}
}

// oneStreetCity has one street, x 0..1000 along y = 0; a home at (100, -10) (10 residents)
// and a school at (600, 10).
func oneStreetCity(t *testing.T) *spatial.City {
	t.Helper()
	p := spatial.NewProjection(orb.Point{23.59, 46.77})
	fs := []layers.Feature{
		{Layer: "buildings", ID: 1, Geometry: rect(p, 95, -15, 105, -5), Props: map[string]any{"use": "residential", "dwellings": int64(4), "floors": int64(2)}},
		{Layer: "facilities", ID: 1, Geometry: p.ToWGS84(orb.Point{600, 10}), Props: map[string]any{"kind": "school", "capacity": int64(600)}},
	}
	c, err := spatial.NewCity(fs)
	if err != nil {
		t.Fatal(err)
	}
	c.Streets = []layers.Feature{{Layer: "streets", ID: 7, Geometry: orb.LineString{p.ToWGS84(orb.Point{0, 0}), p.ToWGS84(orb.Point{1000, 0})}}}
	return c
}

func TestClosingTheOnlyStreetCutsAccess(t *testing.T) {
	e := newEngine(t)
	c := oneStreetCity(t)
	ctx := context.Background()
	// Open: 10 m stub + 500 m along the street (x 100 → 600) + 10 m stub = 520 m <= 800 m.
	if w := walkToSchool(t, e, c, nil); math.Abs(w-520) > 1 {
		t.Fatalf("walk along the street = %v m, want 520 m", w)
	}
	closed := prepared(t, c, nil, ChangeInput{Kind: CloseStreet, Target: targetJSON(7)})
	run, err := e.Run(ctx, c, Scenario{ID: "closed"}, closed, RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Closed: no street is left to walk, so no walk reaches the school (the straight line,
	// 500.4 m × 1.25, would).
	if got := run.Indicators["access_school"]; got.Baseline != 1 || got.Variant != 0 {
		t.Fatalf("access_school = %+v, want 1 in the baseline and 0 with the street closed", got)
	}
	if got := run.DistanceMethods["access_school"]; got != DistanceNetwork {
		t.Fatalf("access_school measured by %q, want %q", got, DistanceNetwork)
	}
}

func TestWalkChangesAreValidatedWhenAdded(t *testing.T) {
	ctx := context.Background()
	river := riverCity(t, true)
	footbridge := ChangeInput{Kind: AddFootpath, Geometry: riverLine(100, 0, 100, 200)}
	tests := []struct {
		name      string
		city      *spatial.City
		existing  []ChangeInput
		add       ChangeInput
		wantField string
		wantIn    string // in the message
	}{
		{"a footpath whose ends touch the streets is accepted", river, nil, footbridge, "", ""},
		{"a footpath joining within 5 m of a street is accepted", river, nil,
			ChangeInput{Kind: AddFootpath, Geometry: riverLine(100, 4, 100, 196)}, "", ""},
		{"a footpath whose end is 30 m from every street is refused, naming its end", river, nil,
			ChangeInput{Kind: AddFootpath, Geometry: riverLine(100, 0, 100, 170)}, "geometry.coordinates[1]", "end touches no street"},
		{"a footpath whose start is 30 m from every street is refused, naming its start", river, nil,
			ChangeInput{Kind: AddFootpath, Geometry: riverLine(100, 30, 100, 100, 100, 200)}, "geometry.coordinates[0]", "start touches no street"},
		{"a footpath may join an earlier footpath", river, []ChangeInput{footbridge},
			ChangeInput{Kind: AddFootpath, Geometry: riverLine(100, 100, 104, 0)}, "", ""},
		{"a footpath is a LineString, not a Point", river, nil,
			ChangeInput{Kind: AddFootpath, Geometry: geoJSON(river.Proj.ToWGS84(orb.Point{0, 0}))}, "geometry", "LineString"},
		{"a footpath takes a name and nothing else", river, nil,
			ChangeInput{Kind: AddFootpath, Geometry: riverLine(100, 0, 100, 200), Properties: map[string]any{"width_m": 3.0}}, "properties.width_m", "may set only name"},
		{"closing a street of the city is accepted", river, nil, ChangeInput{Kind: CloseStreet, Target: targetJSON(3)}, "", ""},
		{"closing a street the city does not have is refused", river, nil, ChangeInput{Kind: CloseStreet, Target: targetJSON(99)}, "target", "no street 99"},
		{"closing a street twice is refused", river, []ChangeInput{{Kind: CloseStreet, Target: targetJSON(3)}},
			ChangeInput{Kind: CloseStreet, Target: targetJSON(3)}, "target", "closed by an earlier change"},
		{"closing a street takes no geometry", river, nil,
			ChangeInput{Kind: CloseStreet, Target: targetJSON(3), Geometry: riverLine(0, 0, 10, 0)}, "geometry", "takes no geometry"},
		{"a city without streets has no network to change", riverCity(t, false), nil, footbridge, "kind", "has none"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			all := numbered(t, append(tt.existing, tt.add)...)
			existing, added := all[:len(tt.existing)], all[len(tt.existing):]
			_, err := Validate(ctx, tt.city, DefaultParameters(), existing, added)
			if tt.wantField == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var fe *layers.FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("err = %v, want a field error on %s", err, tt.wantField)
			}
			if fe.Field != tt.wantField || !strings.Contains(fe.Message, tt.wantIn) {
				t.Fatalf("error on %s: %q; want %s saying %q", fe.Field, fe.Message, tt.wantField, tt.wantIn)
			}
		})
	}
}

func TestAFootpathsPositionsCountTowardsTheScenariosVertexQuota(t *testing.T) {
	path := numbered(t, ChangeInput{Kind: AddFootpath, Geometry: riverLine(100, 0, 100, 100, 100, 200)})
	q := Quotas{MaxChanges: 10, MaxVertices: 2}
	var qe *QuotaError
	if err := checkQuotas(q, nil, path); !errors.As(err, &qe) || qe.Would != 3 {
		t.Fatalf("a 3-position footpath under a quota of 2 positions: %v, want the quota error for 3", err)
	}
}
