package network

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"

	"github.com/citytwin/citytwin/internal/pgtest"
	"github.com/citytwin/citytwin/spatial"
)

// EdgesSQL is the edge query every pgRouting function below runs on: undirected, cost both ways.
const EdgesSQL = "SELECT id, source, target, cost, cost AS reverse_cost FROM edges"

// metricSQL is the SQL of the lon/lat geometry col in testProj's local metres, computed by
// PostGIS: (lon - lon0, lat - lat0) scaled by the metres in a degree of each.
func metricSQL(col string) string { return MetricSQL(testProj, col) }

// MetricSQL is the SQL of the lon/lat geometry col in proj's local metres, computed by
// PostGIS: (lon - lon0, lat - lat0) scaled by the metres in a degree of each. Exported for
// the external tests.
func MetricSQL(proj spatial.Projection, col string) string {
	dlon, dlat := proj.MetresToDegrees(1)
	return fmt.Sprintf("ST_Scale(ST_Translate(%s, %.17g, %.17g), %.17g, %.17g)", col, -proj.Origin[0], -proj.Origin[1], 1/dlon, 1/dlat)
}

// PgRoutingConn connects to a schema of the test's own with pgRouting available, closed when
// the test ends. Exported for the external tests.
func PgRoutingConn(t *testing.T, schema string) *pgx.Conn {
	t.Helper()
	ctx := context.Background()
	dbURL, _ := pgtest.Schema(t, schema)
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { conn.Close(ctx) })
	// scripts/with-postgis.sh creates pgRouting once for every test package; this only
	// covers a database made otherwise.
	if _, err := conn.Exec(ctx, "CREATE EXTENSION IF NOT EXISTS pgrouting SCHEMA public"); err != nil {
		t.Fatalf("create extension pgrouting: %v", err)
	}
	return conn
}

// pgTown loads a generated town's lines into PostGIS and builds pgRouting's own graph of them,
// independently of Build: every segment of every line an edge (ST_DumpSegments), vertices
// where segment ends coincide (pgr_extractVertices), costs measured by PostGIS in the same
// local projection (ST_Translate and ST_Scale of lon/lat, ST_Length). It returns the
// connection and pgRouting's vertex ID of each node of g (matched by exact coordinates).
func pgTown(t *testing.T, g *Graph, town gridTown) (*pgx.Conn, map[NodeID]int64) {
	t.Helper()
	ctx := context.Background()
	conn := PgRoutingConn(t, "network")
	if _, err := conn.Exec(ctx, "CREATE TABLE lines (id bigint PRIMARY KEY, geom geometry(LineString, 4326) NOT NULL)"); err != nil {
		t.Fatalf("create lines: %v", err)
	}
	var batch pgx.Batch
	for _, l := range town.lines {
		b, err := wkb.Marshal(l.Geom)
		if err != nil {
			t.Fatal(err)
		}
		batch.Queue("INSERT INTO lines VALUES ($1, ST_GeomFromWKB($2, 4326))", l.Source, b)
	}
	if err := conn.SendBatch(ctx, &batch).Close(); err != nil {
		t.Fatalf("insert lines: %v", err)
	}
	for _, q := range []string{
		`CREATE TABLE edges AS
		   SELECT (row_number() OVER (ORDER BY id, (d).path))::bigint AS id, (d).geom AS geom
		   FROM (SELECT id, ST_DumpSegments(geom) AS d FROM lines) s`,
		`ALTER TABLE edges ADD source bigint, ADD target bigint, ADD cost float8`,
		`UPDATE edges SET cost = ST_Length(` + metricSQL("geom") + `)`,
		`CREATE TABLE vertices AS SELECT id, in_edges, out_edges, geom FROM pgr_extractVertices('SELECT id, geom FROM edges ORDER BY id')`,
		`UPDATE edges e SET source = v.id FROM (SELECT id, unnest(out_edges) AS eid FROM vertices) v WHERE e.id = v.eid`,
		`UPDATE edges e SET target = v.id FROM (SELECT id, unnest(in_edges) AS eid FROM vertices) v WHERE e.id = v.eid`,
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	byPoint := map[orb.Point]NodeID{}
	for n := range g.NumNodes() {
		byPoint[g.Node(NodeID(n)).Point] = NodeID(n)
	}
	rows, err := conn.Query(ctx, "SELECT id, ST_X(geom), ST_Y(geom), coalesce(cardinality(in_edges), 0) + coalesce(cardinality(out_edges), 0) FROM vertices")
	if err != nil {
		t.Fatalf("read vertices: %v", err)
	}
	vid := map[NodeID]int64{}
	unmatched := 0
	for rows.Next() {
		var id int64
		var p orb.Point
		var degree int
		if err := rows.Scan(&id, &p[0], &p[1], &degree); err != nil {
			t.Fatal(err)
		}
		switch n, ok := byPoint[p]; {
		case ok:
			vid[n] = id
		case degree == 2:
			unmatched++
		default:
			t.Fatalf("pgRouting vertex %d at %v joins %d edges, and the graph has no node there", id, p, degree)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	// pgRouting also has a vertex wherever two segments meet: at every bend, and at the
	// crossings only one line passes (both blocks across it missing); the graph has no node
	// there.
	if len(vid) != g.NumNodes() || unmatched < town.bends {
		t.Fatalf("pgRouting: %d vertices at the graph's %d nodes and %d elsewhere; want all nodes and at least the %d bends",
			len(vid), g.NumNodes(), unmatched, town.bends)
	}
	return conn, vid
}

// TestAgreesWithPgRouting compares the graph's walking distances and reach with pgRouting's
// on a generated town with random missing blocks: pgr_dijkstraCost for thousands of node
// pairs, pgr_drivingDistance for single-source isochrones and, with equicost, for a
// multi-source run.
func TestAgreesWithPgRouting(t *testing.T) {
	const nx, ny, spacing = 40, 40, 80.0
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(20, 24))
	// With 30 % of blocks missing a few corners of the town are cut off from the rest.
	town := newGridTown(rng, nx, ny, spacing, 0.3)
	g, err := Build(testProj, town.lines)
	if err != nil {
		t.Fatal(err)
	}
	conn, vid := pgTown(t, g, town)
	node := map[int64]NodeID{}
	for n, v := range vid {
		node[v] = n
	}

	t.Run("shortest walks between 3000 node pairs cost what pgr_dijkstraCost says", func(t *testing.T) {
		const pairs = 3000
		var src, dst []int64
		for len(src) < pairs {
			a, b := NodeID(rng.IntN(g.NumNodes())), NodeID(rng.IntN(g.NumNodes()))
			if a != b {
				src, dst = append(src, vid[a]), append(dst, vid[b])
			}
		}
		if _, err := conn.Exec(ctx, "CREATE TABLE pairs AS SELECT * FROM unnest($1::bigint[], $2::bigint[]) AS p(source, target)", src, dst); err != nil {
			t.Fatalf("pairs: %v", err)
		}
		rows, err := conn.Query(ctx, "SELECT start_vid, end_vid, agg_cost FROM pgr_dijkstraCost($1, 'SELECT source, target FROM pairs', directed => false)", EdgesSQL)
		if err != nil {
			t.Fatalf("pgr_dijkstraCost: %v", err)
		}
		ref := map[[2]int64]float64{}
		for rows.Next() {
			var s, d int64
			var c float64
			if err := rows.Scan(&s, &d, &c); err != nil {
				t.Fatal(err)
			}
			ref[[2]int64{s, d}] = c
		}
		if err := rows.Err(); err != nil {
			t.Fatalf("pgr_dijkstraCost: %v", err)
		}
		runs := map[int64]*Distances{}
		worst, unreachable := 0.0, 0
		for i := range src {
			d, ok := runs[src[i]]
			if !ok {
				d = g.Distances([]Attachment{g.AtNode(node[src[i]])}, math.Inf(1))
				runs[src[i]] = d
			}
			got, gotOK := d.Node(node[dst[i]])
			want, wantOK := ref[[2]int64{src[i], dst[i]}]
			if gotOK != wantOK {
				t.Fatalf("%d → %d: reached %v, pgRouting %v", src[i], dst[i], gotOK, wantOK)
			}
			if !wantOK {
				unreachable++
				continue
			}
			worst = math.Max(worst, math.Abs(got-want))
		}
		t.Logf("%d pairs (%d unreachable both ways), worst difference %.3g m", pairs, unreachable, worst)
		if worst > 1e-6 {
			t.Errorf("worst difference from pgRouting %.9f m, want under a micrometre", worst)
		}
		if unreachable == 0 || unreachable > pairs/4 {
			t.Errorf("%d of %d pairs unreachable: the missing blocks should cut off a few", unreachable, pairs)
		}
	})

	// compareReach checks the nodes the graph reaches within limit, and their distances,
	// against pgr_drivingDistance's answer rows (node, agg_cost); a node within a micrometre
	// of the limit may fall either way.
	compareReach := func(t *testing.T, reached []NodeID, mine *Distances, limit float64, rows pgx.Rows) {
		t.Helper()
		ref := map[NodeID]float64{}
		for rows.Next() {
			var v int64
			var c float64
			if err := rows.Scan(&v, &c); err != nil {
				t.Fatal(err)
			}
			if n, ok := node[v]; ok { // bends aside
				ref[n] = c
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatalf("pgr_drivingDistance: %v", err)
		}
		got := map[NodeID]bool{}
		for _, n := range reached {
			got[n] = true
		}
		for n := range g.NumNodes() {
			n := NodeID(n)
			d, _ := mine.Node(n)
			want, in := ref[n]
			if math.Abs(d-limit) < 1e-6 || math.Abs(want-limit) < 1e-6 {
				continue
			}
			if got[n] != in {
				t.Fatalf("node %d (pgRouting %d): in the graph's reach %v (%.6f m), in pgRouting's %v (%.6f m)", n, vid[n], got[n], d, in, want)
			}
			if in && math.Abs(d-want) > 1e-6 {
				t.Fatalf("node %d: %.9f m, pgRouting %.9f m", n, d, want)
			}
		}
	}

	t.Run("walks between points off the network cost what pgr_withPointsCost says, stubs added", func(t *testing.T) {
		const nSrc, nDst = 20, 50
		// PostGIS finds each point's nearest segment and where on it, in the same local
		// metres; pgRouting walks from there; the stubs are added here. Only points whose
		// nearest place lies strictly inside a segment are kept: pgRouting's withPoints
		// functions treat a point at a segment's end (fraction 0 or 1) as a vertex and answer
		// for it erratically; the hand-made tests cover points beyond a crossing.
		if _, err := conn.Exec(ctx, "CREATE TABLE pts (pid bigint PRIMARY KEY, geom geometry(Point, 4326))"); err != nil {
			t.Fatal(err)
		}
		pts := map[int64]orb.Point{}
		for pid := int64(1); pid <= 2*(nSrc+nDst); pid++ {
			pts[pid] = randomPoint(rng, nx, ny, spacing)
			if _, err := conn.Exec(ctx, "INSERT INTO pts VALUES ($1, ST_SetSRID(ST_MakePoint($2, $3), 4326))", pid, pts[pid][0], pts[pid][1]); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := conn.Exec(ctx, `CREATE TABLE points AS
			SELECT p.pid, e.id AS edge_id, ST_LineLocatePoint(`+metricSQL("e.geom")+`, `+metricSQL("p.geom")+`) AS fraction,
			       ST_Distance(`+metricSQL("e.geom")+`, `+metricSQL("p.geom")+`) AS stub
			FROM pts p CROSS JOIN LATERAL (
				SELECT id, geom FROM edges ORDER BY ST_Distance(`+metricSQL("geom")+`, `+metricSQL("p.geom")+`) LIMIT 1) e`); err != nil {
			t.Fatalf("points: %v", err)
		}
		if _, err := conn.Exec(ctx, "DELETE FROM points WHERE fraction <= 1e-9 OR fraction >= 1 - 1e-9"); err != nil {
			t.Fatal(err)
		}
		stub := map[int64]float64{}
		var pids []int64
		rows, err := conn.Query(ctx, "SELECT pid, stub FROM points ORDER BY pid")
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
			pids = append(pids, pid)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		if len(pids) < nSrc+nDst {
			t.Fatalf("%d points inside segments, want %d", len(pids), nSrc+nDst)
		}
		src, dst := pids[:nSrc], pids[nSrc:nSrc+nDst]
		neg := func(ids []int64) []int64 {
			out := make([]int64, len(ids))
			for i, id := range ids {
				out[i] = -id
			}
			return out
		}
		ref := WithPointsCosts(ctx, t, conn, EdgesSQL, neg(src), neg(dst), stub)
		worst, compared := 0.0, 0
		for _, s := range src {
			a, _ := g.Attach(pts[s], 0)
			d := g.Distances([]Attachment{a}, math.Inf(1))
			for _, e := range dst {
				b, _ := g.Attach(pts[e], 0)
				got, _, gotOK := d.At(b)
				want, wantOK := ref[[2]int64{s, e}]
				if gotOK != wantOK {
					t.Fatalf("point %d → %d: reached %v, pgRouting %v", s, e, gotOK, wantOK)
				}
				if wantOK {
					worst = math.Max(worst, math.Abs(got-want))
					compared++
				}
			}
		}
		t.Logf("%d point pairs, worst difference %.3g m", compared, worst)
		if worst > 1e-6 {
			t.Errorf("worst difference from pgRouting %.9f m, want under a micrometre", worst)
		}
	})

	t.Run("isochrone nodes from 20 sources are pgr_drivingDistance's", func(t *testing.T) {
		sizes := make([]int, 0, 20)
		for range 20 {
			s := NodeID(rng.IntN(g.NumNodes()))
			limit := 300 + rng.Float64()*1200
			iso := g.Isochrone(g.AtNode(s), limit)
			rows, err := conn.Query(ctx, "SELECT node, agg_cost FROM pgr_drivingDistance($1, $2::bigint, $3::float8, directed => false)", EdgesSQL, vid[s], limit)
			if err != nil {
				t.Fatalf("pgr_drivingDistance: %v", err)
			}
			compareReach(t, iso.Nodes, g.Distances([]Attachment{g.AtNode(s)}, math.Inf(1)), limit, rows)
			sizes = append(sizes, len(iso.Nodes))
		}
		sort.Ints(sizes)
		t.Logf("isochrone sizes (nodes): %v", sizes)
	})

	// pgRouting 3.4's own multi-source answer (equicost => true) is not always the least cost:
	// on this town it gave one node 486.36 m where pgr_dijkstraCost from the same sources gives
	// 483.83 m. The reference is therefore the least agg_cost per node over the sources.
	t.Run("a multi-source reach is the least of pgr_drivingDistance's per source", func(t *testing.T) {
		const limit = 600.0
		var ids []int64
		var sources []Attachment
		for range 12 {
			s := NodeID(rng.IntN(g.NumNodes()))
			ids = append(ids, vid[s])
			sources = append(sources, g.AtNode(s))
		}
		rows, err := conn.Query(ctx, "SELECT node, min(agg_cost) FROM pgr_drivingDistance($1, $2::bigint[], $3::float8, directed => false) GROUP BY node", EdgesSQL, ids, limit)
		if err != nil {
			t.Fatalf("pgr_drivingDistance: %v", err)
		}
		mine := g.Distances(sources, limit)
		compareReach(t, mine.Reached(), mine, limit, rows)
		t.Logf("%d of %d nodes within %g m of the %d sources", len(mine.Reached()), g.NumNodes(), limit, len(sources))
	})
}

// WithPointsCosts asks pgRouting's pgr_withPointsCost for the walks between the points from
// and to (pgRouting's negative point ids, rows of a table "points": pid, edge_id, fraction)
// over the undirected edges of EdgesSQL, and adds each end's stub (keyed by the positive
// id) as CityTwin walks it. Keys are the positive ids. Exported for the external tests.
func WithPointsCosts(ctx context.Context, t *testing.T, conn *pgx.Conn, EdgesSQL string, from, to []int64, stub map[int64]float64) map[[2]int64]float64 {
	t.Helper()
	rows, err := conn.Query(ctx, "SELECT start_pid, end_pid, agg_cost FROM pgr_withPointsCost($1, 'SELECT pid, edge_id, fraction FROM points', $2::bigint[], $3::bigint[], directed => false)",
		EdgesSQL, from, to)
	if err != nil {
		t.Fatalf("pgr_withPointsCost: %v", err)
	}
	ref := map[[2]int64]float64{}
	for rows.Next() {
		var s, d int64
		var c float64
		if err := rows.Scan(&s, &d, &c); err != nil {
			t.Fatal(err)
		}
		ref[[2]int64{-s, -d}] = c + stub[-s] + stub[-d]
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("pgr_withPointsCost: %v", err)
	}
	return ref
}
