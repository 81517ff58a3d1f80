package network_test

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"

	"github.com/citytwin/citytwin/data"
	"github.com/citytwin/citytwin/network"
	"github.com/citytwin/citytwin/scenarios"
	"github.com/citytwin/citytwin/spatial"
)

// TestMonacoWalksAgreeWithPgRouting compares the walks the engine measures on the demo city
// (its own network, scenarios.StreetNetwork of data.DemoStreets, buildings and facilities
// attached as the access indicators attach them) with pgRouting's on the same streets loaded
// into PostGIS: pgRouting's graph is built by PostGIS alone (every segment an edge, vertices
// where segment ends coincide, lengths measured by PostGIS in the city's local metres), the
// places where buildings and facilities meet the network found by PostGIS too, and
// pgr_withPointsCost walks between them; the straight stubs are added to its costs. Every
// building/facility pair must agree within 1 m, and be reachable or not alike.
func TestMonacoWalksAgreeWithPgRouting(t *testing.T) {
	const nBuildings, nFacilities = 75, 40 // 3,000 pairs
	ctx := context.Background()
	fs, err := data.Demo()
	if err != nil {
		t.Fatal(err)
	}
	city, err := spatial.NewCity(fs)
	if err != nil {
		t.Fatal(err)
	}
	if city.Streets, err = data.DemoStreets(); err != nil {
		t.Fatal(err)
	}
	g, err := scenarios.StreetNetwork(city)
	if err != nil || g == nil {
		t.Fatalf("the demo city's network: %v", err)
	}
	// metric is the SQL of a lon/lat geometry in the city's local metres, by PostGIS.
	metric := func(col string) string { return network.MetricSQL(city.Proj, col) }

	conn := network.PgRoutingConn(t, "monaco_network")
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := conn.Exec(ctx, q, args...); err != nil {
			t.Fatalf("%.80s: %v", q, err)
		}
	}
	exec("CREATE TABLE streets (id bigint PRIMARY KEY, geom geometry(Geometry, 4326) NOT NULL)")
	var batch pgx.Batch
	for _, f := range city.Streets {
		b, err := wkb.Marshal(f.Geometry)
		if err != nil {
			t.Fatal(err)
		}
		batch.Queue("INSERT INTO streets VALUES ($1, ST_GeomFromWKB($2, 4326))", f.ID, b)
	}
	if err := conn.SendBatch(ctx, &batch).Close(); err != nil {
		t.Fatalf("insert streets: %v", err)
	}
	for _, q := range []string{
		`CREATE TABLE edges AS
		   SELECT (row_number() OVER (ORDER BY id, (p).path, (d).path))::bigint AS id, (d).geom AS geom
		   FROM (SELECT id, p, ST_DumpSegments((p).geom) AS d FROM (SELECT id, ST_Dump(geom) AS p FROM streets) s) s`,
		`DELETE FROM edges WHERE ST_StartPoint(geom) = ST_EndPoint(geom)`,
		`ALTER TABLE edges ADD source bigint, ADD target bigint, ADD cost float8, ADD mgeom geometry`,
		`UPDATE edges SET mgeom = ` + metric("geom") + `, cost = ST_Length(` + metric("geom") + `)`,
		`CREATE INDEX ON edges USING gist (mgeom)`,
		`CREATE TABLE vertices AS SELECT id, in_edges, out_edges, geom FROM pgr_extractVertices('SELECT id, geom FROM edges ORDER BY id')`,
		`UPDATE edges e SET source = v.id FROM (SELECT id, unnest(out_edges) AS eid FROM vertices) v WHERE e.id = v.eid`,
		`UPDATE edges e SET target = v.id FROM (SELECT id, unnest(in_edges) AS eid FROM vertices) v WHERE e.id = v.eid`,
		`CREATE TABLE pts (pid bigint PRIMARY KEY, geom geometry(Point, 4326))`,
		`CREATE TYPE near AS (id bigint, mgeom geometry, d float8)`,
	} {
		exec(q)
	}

	// The places: building centroids (as the engine places a building) and facility points,
	// at random.
	rng := rand.New(rand.NewPCG(3, 14))
	type place struct {
		pid int64
		p   orb.Point // lon/lat
	}
	pick := func(items []*spatial.Item, n int, first int64, at func(*spatial.Item) orb.Point) []place {
		var out []place
		for _, i := range rng.Perm(len(items))[:min(4*n, len(items))] {
			out = append(out, place{first + int64(len(out)), at(items[i])})
		}
		return out
	}
	buildings := pick(city.Layer("buildings").Items(), nBuildings, 1, func(it *spatial.Item) orb.Point { return city.Proj.ToWGS84(it.Centroid) })
	facilities := pick(city.Layer("facilities").Items(), nFacilities, 100000, func(it *spatial.Item) orb.Point { return it.Feature.Geometry.(orb.Point) })
	for _, pl := range append(append([]place(nil), buildings...), facilities...) {
		exec("INSERT INTO pts VALUES ($1, ST_SetSRID(ST_MakePoint($2, $3), 4326))", pl.pid, pl.p[0], pl.p[1])
	}
	// Each place's nearest segment, where on it, and the stub; a place whose second nearest
	// segment is within a millimetre of it (equally near two streets) is left out, and so is
	// one whose nearest place is a segment's end: pgRouting's withPoints functions take a
	// point at fraction 0 or 1 for a vertex and answer for it erratically.
	exec(`CREATE TABLE points AS
		SELECT p.pid, n[1].id AS edge_id, ST_LineLocatePoint(n[1].mgeom, ` + metric("p.geom") + `) AS fraction,
		       n[1].d AS stub, n[2].d AS second
		FROM pts p CROSS JOIN LATERAL (
			SELECT array_agg(ROW(id, mgeom, d)::near ORDER BY d) AS n FROM (
				SELECT id, mgeom, ST_Distance(mgeom, ` + metric("p.geom") + `) AS d FROM edges
				ORDER BY mgeom <-> ` + metric("p.geom") + ` LIMIT 8) k) s`)
	exec(`DELETE FROM points WHERE fraction <= 1e-9 OR fraction >= 1 - 1e-9 OR second - stub < 1e-3`)
	stub := map[int64]float64{}
	rows, err := conn.Query(ctx, "SELECT pid, stub FROM points")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var pid int64
		var s float64
		if err := rows.Scan(&pid, &s); err != nil {
			t.Fatal(err)
		}
		stub[pid] = s
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	keep := func(ps []place, n int) []place {
		var out []place
		for _, pl := range ps {
			if _, ok := stub[pl.pid]; ok && len(out) < n {
				out = append(out, pl)
			}
		}
		if len(out) < n {
			t.Fatalf("%d places kept, want %d", len(out), n)
		}
		return out
	}
	buildings, facilities = keep(buildings, nBuildings), keep(facilities, nFacilities)
	ids := func(ps []place) []int64 {
		out := make([]int64, len(ps))
		for i, pl := range ps {
			out[i] = -pl.pid
		}
		return out
	}
	ref := network.WithPointsCosts(ctx, t, conn, network.EdgesSQL, ids(buildings), ids(facilities), stub)

	worst, compared, unreachable := 0.0, 0, 0
	for _, b := range buildings {
		a, _ := g.Attach(b.p, 0)
		if math.Abs(a.Stub-stub[b.pid]) > 1e-3 {
			t.Fatalf("building place %d: the engine's stub %.4f m, PostGIS's %.4f m", b.pid, a.Stub, stub[b.pid])
		}
		d := g.Distances([]network.Attachment{a}, math.Inf(1))
		for _, f := range facilities {
			fa, _ := g.Attach(f.p, 0)
			got, _, gotOK := d.At(fa)
			want, wantOK := ref[[2]int64{b.pid, f.pid}]
			if gotOK != wantOK {
				t.Fatalf("building place %d → facility place %d: reached %v (%.2f m), pgRouting %v (%.2f m)", b.pid, f.pid, gotOK, got, wantOK, want)
			}
			if !wantOK {
				unreachable++
				continue
			}
			compared++
			if diff := math.Abs(got - want); diff > worst {
				worst = diff
			}
			if math.Abs(got-want) > 1 {
				t.Errorf("building place %d → facility place %d: the engine walks %.3f m, pgRouting %.3f m", b.pid, f.pid, got, want)
			}
		}
	}
	t.Logf("Monaco: %d edges, %d nodes; %d building/facility pairs compared (%d unreachable both ways), worst difference %.3g m",
		g.NumEdges(), g.NumNodes(), compared, unreachable, worst)
	if compared < nBuildings*nFacilities/2 {
		t.Errorf("only %d pairs reachable", compared)
	}
}
