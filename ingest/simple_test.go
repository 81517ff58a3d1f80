package ingest

import (
	"context"
	"strings"
	"testing"

	"github.com/paulmach/orb"
)

func TestPolygonsThatAreNotSimpleAreFoundAndTheOthersPass(t *testing.T) {
	square := orb.Ring{{0, 0}, {4, 0}, {4, 4}, {0, 4}, {0, 0}}
	cases := []struct {
		name string
		g    orb.Geometry
		want string // "" for simple
	}{
		{"a square is simple", orb.Polygon{square}, ""},
		{"a concave L shape is simple", orb.Polygon{{{0, 0}, {4, 0}, {4, 1}, {1, 1}, {1, 4}, {0, 4}, {0, 0}}}, ""},
		{"a square with a hole inside is simple", orb.Polygon{square, {{1, 1}, {1, 2}, {2, 2}, {2, 1}, {1, 1}}}, ""},
		{"a hole touching the outer ring at one position is allowed, as OGC allows it", orb.Polygon{square, {{0, 2}, {1, 3}, {1, 1}, {0, 2}}}, ""},
		{"a bow tie crosses itself", orb.Polygon{{{0, 0}, {4, 4}, {4, 0}, {0, 4}, {0, 0}}}, "ring 0 intersects itself: edge 0–1 meets edge 2–3"},
		{"a ring touching itself at a vertex is not simple", orb.Polygon{{{0, 0}, {4, 0}, {2, 2}, {4, 4}, {0, 4}, {2, 2}, {0, 0}}}, "ring 0 intersects itself"},
		{"a spike folds back", orb.Polygon{{{0, 0}, {4, 0}, {6, 0}, {4, 0.0}, {4, 4}, {0, 4}, {0, 0}}}, "ring 0"},
		{"a hole crossing the outer ring", orb.Polygon{square, {{3, 1}, {5, 1}, {5, 2}, {3, 2}, {3, 1}}}, "ring 1 crosses ring 0"},
		{"a bad part of a MultiPolygon is named", orb.MultiPolygon{{square}, {{{10, 0}, {14, 4}, {14, 0}, {10, 4}, {10, 0}}}}, "polygon 1: ring 0 intersects itself"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := checkSimple(c.g)
			switch {
			case c.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Errorf("got %v, want an error saying %q", err, c.want)
			}
		})
	}
}

func TestADryRunReportsSelfIntersectingPolygonsWithTheirIDs(t *testing.T) {
	dir := t.TempDir()
	path := writeFile(t, dir+"/parcele.csv", "id,cad_number,wkt\n"+
		"1,A,\"POLYGON((23.50 46.70,23.51 46.70,23.51 46.71,23.50 46.71,23.50 46.70))\"\n"+
		"2,B,\"POLYGON((23.50 46.70,23.54 46.74,23.54 46.70,23.50 46.72,23.50 46.70))\"\n") // a bow tie, lobes of unequal area
	job := parcelsJob(path, Append, "")
	job.DryRun, job.Options.MaxErrors = true, 1
	res, err := Run(context.Background(), nil, job)
	if err != nil {
		t.Fatal(err)
	}
	rep := res.Report
	if rep.Accepted != 1 || rep.Rejected != 1 || rep.Sources[0].Rejections[RejectSelfIntersection] != 1 {
		t.Fatalf("accepted %d, rejected %d (%v); want parcel 1 accepted and the bow tie rejected as a self-intersection", rep.Accepted, rep.Rejected, rep.Sources[0].Rejections)
	}
	r := rep.Rejects[0]
	if r.ID != 2 || r.Kind != RejectSelfIntersection || !strings.Contains(r.Reason, "ring 0 intersects itself: edge") {
		t.Errorf("reject %+v, want id 2, kind %s, the edges that meet", r, RejectSelfIntersection)
	}
	var b strings.Builder
	if err := rep.WriteText(&b); err != nil || !strings.Contains(b.String(), "rejected: self-intersection: 1 features") {
		t.Errorf("the report's text does not count the self-intersection:\n%s", b.String())
	}
}
