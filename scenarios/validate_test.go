package scenarios

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/paulmach/orb"

	"github.com/citytwin/citytwin/layers"
	"github.com/citytwin/citytwin/spatial"
)

func TestSegmentIntersection(t *testing.T) {
	p := func(x, y float64) orb.Point { return orb.Point{x, y} }
	for _, tc := range []struct {
		name       string
		a, b, c, d orb.Point
		want       bool
	}{
		{"crossing segments meet", p(0, 0), p(2, 2), p(0, 2), p(2, 0), true},
		{"parallel segments do not", p(0, 0), p(2, 0), p(0, 1), p(2, 1), false},
		{"a T touch counts", p(0, 0), p(2, 0), p(1, 0), p(1, 5), true},
		{"collinear overlap counts", p(0, 0), p(2, 0), p(1, 0), p(3, 0), true},
		{"collinear apart does not", p(0, 0), p(1, 0), p(2, 0), p(3, 0), false},
		{"shared endpoint counts", p(0, 0), p(1, 1), p(1, 1), p(2, 0), true},
		{"near miss does not", p(0, 0), p(1, 1), p(1.1, 1), p(2, 0), false},
	} {
		if got := spatial.SegmentsIntersect(tc.a, tc.b, tc.c, tc.d); got != tc.want {
			t.Errorf("%s: got %v", tc.name, got)
		}
	}
}

func TestSimplePolygonCheck(t *testing.T) {
	ring := func(pts ...float64) orb.Ring {
		var r orb.Ring
		for i := 0; i < len(pts); i += 2 {
			r = append(r, orb.Point{pts[i], pts[i+1]})
		}
		return r
	}
	for _, tc := range []struct {
		name  string
		poly  orb.Polygon
		field string // "" when valid
	}{
		{"a square is simple", orb.Polygon{ring(0, 0, 1, 0, 1, 1, 0, 1, 0, 0)}, ""},
		{"a repeated vertex is tolerated", orb.Polygon{ring(0, 0, 1, 0, 1, 0, 1, 1, 0, 1, 0, 0)}, ""},
		{"a bow tie intersects itself", orb.Polygon{ring(0, 0, 1, 1, 1, 0, 0, 1, 0, 0)}, "g[0]"},
		{"a spike folds back", orb.Polygon{ring(0, 0, 2, 0, 1, 0, 1, 1, 0, 0)}, "g[0]"},
		{"a flat ring has zero area", orb.Polygon{ring(0, 0, 1, 0, 2, 0, 0, 0)}, "g[0]"},
		{"a hole inside is fine", orb.Polygon{ring(0, 0, 10, 0, 10, 10, 0, 10, 0, 0), ring(2, 2, 2, 4, 4, 4, 4, 2, 2, 2)}, ""},
		{"a hole crossing the shell is not", orb.Polygon{ring(0, 0, 10, 0, 10, 10, 0, 10, 0, 0), ring(8, 2, 8, 4, 12, 4, 12, 2, 8, 2)}, "g[1]"},
		{"a figure eight touching itself is not simple", orb.Polygon{ring(0, 0, 2, 0, 1, 1, 2, 2, 0, 2, 1, 1, 0, 0)}, "g[0]"},
	} {
		err := checkSimplePolygon(tc.poly, "g")
		var fe *layers.FieldError
		switch {
		case tc.field == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.field != "" && (!errors.As(err, &fe) || fe.Field != tc.field):
			t.Errorf("%s: error %v, want one on %s", tc.name, err, tc.field)
		}
	}
}

func TestChangeValidationNamesTheField(t *testing.T) {
	c := tinyCity(t)
	sq := rectGeoJSON(c, 360, 60, 390, 90)
	bowTie := func() []byte {
		p := func(x, y float64) orb.Point { return wgs(c, x, y) }
		return geoJSON(orb.Polygon{orb.Ring{p(0, 0), p(50, 50), p(50, 0), p(0, 50), p(0, 0)}})
	}()
	open := []byte(fmt.Sprintf(`{"type":"Polygon","coordinates":[[[%[1]g,%[2]g],[%[3]g,%[2]g],[%[3]g,%[4]g],[%[1]g,%[4]g]]]}`,
		wgs(c, 0, 0)[0], wgs(c, 0, 0)[1], wgs(c, 50, 50)[0], wgs(c, 50, 50)[1]))
	outside := rectGeoJSON(c, 900, 900, 1100, 950)
	b := func(props map[string]any) map[string]any {
		out := map[string]any{"use": "residential", "floors": 3.0}
		for k, v := range props {
			out[k] = v
		}
		return out
	}
	tgt := func(s string) json.RawMessage { r, _ := json.Marshal(s); return r }
	for _, tc := range []struct {
		name  string
		in    ChangeInput
		field string
	}{
		{"an unknown kind is refused", ChangeInput{Kind: "build_tower", Geometry: sq}, "kind"},
		{"a missing kind is refused", ChangeInput{Geometry: sq}, "kind"},
		{"floors out of range", ChangeInput{Kind: AddBuilding, Geometry: sq, Properties: b(map[string]any{"floors": 500.0})}, "properties.floors"},
		{"fractional floors", ChangeInput{Kind: AddBuilding, Geometry: sq, Properties: b(map[string]any{"floors": 2.5})}, "properties.floors"},
		{"a use outside the catalog", ChangeInput{Kind: AddBuilding, Geometry: sq, Properties: b(map[string]any{"use": "castle"})}, "properties.use"},
		{"restricted or unknown properties", ChangeInput{Kind: AddBuilding, Geometry: sq, Properties: b(map[string]any{"owner_name": "X"})}, "properties.owner_name"},
		{"floors are required for a new building", ChangeInput{Kind: AddBuilding, Geometry: sq, Properties: map[string]any{"use": "office"}}, "properties.floors"},
		{"a building needs a geometry", ChangeInput{Kind: AddBuilding, Properties: b(nil)}, "geometry"},
		{"a building is not a point", ChangeInput{Kind: AddBuilding, Geometry: geoJSON(wgs(c, 0, 0)), Properties: b(nil)}, "geometry"},
		{"a self-intersecting polygon", ChangeInput{Kind: AddBuilding, Geometry: bowTie, Properties: b(nil)}, "geometry.coordinates[0]"},
		{"an open ring", ChangeInput{Kind: AddBuilding, Geometry: open, Properties: b(nil)}, "geometry.coordinates[0]"},
		{"a polygon leaving the city", ChangeInput{Kind: AddBuilding, Geometry: outside, Properties: b(nil)}, "geometry.coordinates[0][1]"},
		{"a facility outside the city", ChangeInput{Kind: AddFacility, Geometry: geoJSON(wgs(c, 5000, 0)), Properties: map[string]any{"kind": "school"}}, "geometry.coordinates"},
		{"not GeoJSON", ChangeInput{Kind: AddBuilding, Geometry: []byte(`{"type":"Circle","radius":3}`), Properties: b(nil)}, "geometry"},
		{"a point of one number is not (x, 0)", ChangeInput{Kind: AddFacility, Geometry: []byte(fmt.Sprintf(`{"type":"Point","coordinates":[%g]}`, wgs(c, 10, 10)[0])), Properties: map[string]any{"kind": "school"}}, "geometry.coordinates"},
		{"a third coordinate is refused, not dropped", ChangeInput{Kind: AddFacility, Geometry: []byte(fmt.Sprintf(`{"type":"Point","coordinates":[%g,%g,12]}`, wgs(c, 10, 10)[0], wgs(c, 10, 10)[1])), Properties: map[string]any{"kind": "school"}}, "geometry.coordinates"},
		{"a ring position with a height is refused", ChangeInput{Kind: AddBuilding, Geometry: []byte(fmt.Sprintf(`{"type":"Polygon","coordinates":[[[%[1]g,%[2]g],[%[3]g,%[2]g,5],[%[3]g,%[4]g],[%[1]g,%[4]g],[%[1]g,%[2]g]]]}`,
			wgs(c, 0, 0)[0], wgs(c, 0, 0)[1], wgs(c, 50, 50)[0], wgs(c, 50, 50)[1])), Properties: b(nil)}, "geometry.coordinates[0][1]"},
		{"a target that does not exist", ChangeInput{Kind: DemolishBuilding, Target: tgt("999")}, "target"},
		{"a target that is not an id", ChangeInput{Kind: DemolishBuilding, Target: tgt("B1")}, "target"},
		{"a target of the wrong layer", ChangeInput{Kind: RemoveFacility, Target: tgt("999")}, "target"},
		{"a demolition takes no geometry", ChangeInput{Kind: DemolishBuilding, Target: tgt("1"), Geometry: sq}, "geometry"},
		{"an add takes no target", ChangeInput{Kind: AddBuilding, Target: tgt("1"), Geometry: sq, Properties: b(nil)}, "target"},
		{"a modification must change something", ChangeInput{Kind: ModifyBuilding, Target: tgt("1")}, "properties"},
		{"modify_facility changes capacity, not kind", ChangeInput{Kind: ModifyFacility, Target: tgt("1"), Properties: map[string]any{"kind": "clinic"}}, "properties.kind"},
		{"a rezone needs a target or a polygon", ChangeInput{Kind: Rezone, Properties: map[string]any{"max_floors": 3.0}}, "target"},
		{"a new broadband polygon needs its speed", ChangeInput{Kind: SetBroadband, Geometry: sq, Properties: map[string]any{"technology": "fibre"}}, "properties.max_down_mbps"},
		{"a negative capacity", ChangeInput{Kind: AddFacility, Geometry: geoJSON(wgs(c, 10, 10)), Properties: map[string]any{"kind": "school", "capacity": -3.0}}, "properties.capacity"},
	} {
		svc := newServiceOn(t, c)
		sc, _ := svc.Create(context.Background(), "v", "")
		_, _, err := svc.AddChanges(context.Background(), sc.ID, nil, []ChangeInput{tc.in})
		var fe *layers.FieldError
		if !errors.As(err, &fe) || fe.Field != tc.field {
			t.Errorf("%s: error %v, want one on %q", tc.name, err, tc.field)
			continue
		}
		if got, _, _ := svc.Get(context.Background(), sc.ID); got.Version != 1 || got.Changes != 0 {
			t.Errorf("%s: a refused change was stored: %+v", tc.name, got)
		}
	}
}

func newServiceOn(t *testing.T, c *spatial.City) *Service {
	t.Helper()
	return serviceOn(t, c)
}

func TestTooManyVerticesIsRefused(t *testing.T) {
	c := tinyCity(t)
	// A regular polygon with MaxVerticesPerPolygon+1 positions (closing one included).
	n := MaxVerticesPerPolygon
	var ring orb.Ring
	for i := range n {
		a := 2 * 3.141592653589793 * float64(i) / float64(n)
		ring = append(ring, wgs(c, 300+100*math.Cos(a), 300+100*math.Sin(a)))
	}
	ring = append(ring, ring[0])
	svc := serviceOn(t, c)
	sc, _ := svc.Create(context.Background(), "v", "")
	_, _, err := svc.AddChanges(context.Background(), sc.ID, nil, []ChangeInput{{Kind: AddGreenSpace, Geometry: geoJSON(orb.Polygon{ring}), Properties: map[string]any{"kind": "park"}}})
	var fe *layers.FieldError
	if !errors.As(err, &fe) || fe.Field != "geometry.coordinates" || !strings.Contains(fe.Message, "at most") {
		t.Fatalf("error %v, want a vertex limit on geometry.coordinates", err)
	}
}

func TestBatchesAreAllOrNothingAndMayReferToEarlierChanges(t *testing.T) {
	c := tinyCity(t)
	svc := serviceOn(t, c)
	ctx := context.Background()
	sc, _ := svc.Create(ctx, "batch", "")
	add := ChangeInput{Kind: AddBuilding, Geometry: rectGeoJSON(c, 360, 60, 390, 90), Properties: map[string]any{"use": "office", "floors": 2.0}}
	// The first change of a scenario gets sequence 1, so it adds feature AddedIDBase+1; the
	// second change may modify it.
	newID := itoa(AddedIDBase + 1)
	tgt := func(s string) json.RawMessage { r, _ := json.Marshal(s); return r }
	modify := ChangeInput{Kind: ModifyBuilding, Target: tgt(newID), Properties: map[string]any{"floors": 4.0}}
	bad := ChangeInput{Kind: DemolishBuilding, Target: tgt("12345")}

	_, _, err := svc.AddChanges(ctx, sc.ID, nil, []ChangeInput{add, modify, bad})
	var fe *layers.FieldError
	if !errors.As(err, &fe) || fe.Field != "changes[2].target" {
		t.Fatalf("error %v, want one on changes[2].target", err)
	}
	if got, changes, _ := svc.Get(ctx, sc.ID); got.Version != 1 || len(changes) != 0 {
		t.Fatalf("a refused batch left %d changes (version %d)", len(changes), got.Version)
	}
	got, added, err := svc.AddChanges(ctx, sc.ID, nil, []ChangeInput{add, modify})
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != 2 || got.Changes != 2 || added[0].ID != "c1" || added[0].FeatureID != AddedIDBase+1 || added[1].ID != "c2" {
		t.Fatalf("scenario %+v, changes %+v", got, added)
	}
	// Removing the add would orphan the modification.
	if _, err := svc.RemoveChange(ctx, sc.ID, "c1", nil); !errors.Is(err, ErrInUse) {
		t.Fatalf("removing a change a later one depends on: %v, want ErrInUse", err)
	}
	// Demolishing the same building twice is refused.
	_, _, err = svc.AddChanges(ctx, sc.ID, nil, []ChangeInput{{Kind: DemolishBuilding, Target: tgt("1")}, {Kind: DemolishBuilding, Target: tgt("1")}})
	if !errors.As(err, &fe) || fe.Field != "changes[1].target" || !strings.Contains(fe.Message, "removed by an earlier change") {
		t.Fatalf("double demolition: %v", err)
	}
}

func TestVersionsAndPreconditions(t *testing.T) {
	c := tinyCity(t)
	svc := serviceOn(t, c)
	ctx := context.Background()
	sc, _ := svc.Create(ctx, "v", "first")
	stale := int64(7)
	if _, err := svc.Update(ctx, sc.ID, &stale, Patch{}); !errors.Is(err, ErrPrecondition) {
		t.Fatalf("update with a stale If-Match: %v", err)
	}
	name := "renamed"
	one := int64(1)
	up, err := svc.Update(ctx, sc.ID, &one, Patch{Name: &name})
	if err != nil || up.Version != 2 || up.Name != "renamed" || up.Description != "first" {
		t.Fatalf("update: %+v, %v", up, err)
	}
	// A write based on a version that moved on meanwhile is a conflict in the store.
	next := up
	next.Version = 3
	if err := svc.Store.UpdateScenario(ctx, next, 1); !errors.Is(err, ErrConflict) {
		t.Fatalf("store write on a stale version: %v", err)
	}
	cl, err := svc.Clone(ctx, sc.ID, nil, nil)
	if err != nil || cl.Parent != sc.ID || cl.Name != "renamed (copy)" || cl.Version != 1 {
		t.Fatalf("clone: %+v, %v", cl, err)
	}
	if err := svc.Delete(ctx, sc.ID, &one); !errors.Is(err, ErrPrecondition) {
		t.Fatalf("delete with a stale If-Match: %v", err)
	}
	if err := svc.Delete(ctx, sc.ID, nil); err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.Get(ctx, sc.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("get after delete: %v", err)
	}
	empty := ""
	if _, err := svc.Update(ctx, cl.ID, nil, Patch{Name: &empty}); err == nil {
		t.Fatal("an empty name was accepted")
	}
	many := make([]ChangeInput, MaxChangesPerRequest+1)
	if _, _, err := svc.AddChanges(ctx, cl.ID, nil, many); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("too many changes: %v", err)
	}
}
