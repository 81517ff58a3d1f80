package scenarios_test

import (
	"context"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/citytwin/citytwin/layers"
	"github.com/citytwin/citytwin/layers/postgis"
	"github.com/citytwin/citytwin/scenarios"
	"github.com/citytwin/citytwin/spatial"
)

// The SQL versions of three indicators, written the way one would in PostGIS, on the layer
// tables of layers/postgis: residents (1), school access within 800 m walking (5: 800 / 1.25
// = 640 m straight line) and green access within 300 m of a public green space of at least
// 0.5 ha (8). Distances use the Web Mercator geometry and its GiST index, scaled by
// 1/cos(latitude) to metres; areas are geodesic.
const sqlResidents = `
	CASE WHEN b.use NOT IN ('residential', 'mixed') THEN 0
	     WHEN b.dwellings IS NOT NULL THEN b.dwellings * 2.5
	     ELSE coalesce(b.gfa_m2, ST_Area(b.geom::geography) * coalesce(b.floors, greatest(1, round(b.height_m / 3)), 1))
	          * CASE b.use WHEN 'residential' THEN 1.0 ELSE 0.5 END / 35
	END`

var sqlQueries = map[string]string{
	"residents": `SELECT sum(` + sqlResidents + `) FROM buildings b`,
	"school_access_800": `
		WITH r AS (
			SELECT ` + sqlResidents + ` AS res, ST_Centroid(b.geom) AS c FROM buildings b
			WHERE b.use IN ('residential', 'mixed'))
		SELECT sum(res) FILTER (WHERE EXISTS (
			SELECT 1 FROM facilities f WHERE f.kind = 'school'
			AND ST_DWithin(f.geom_3857, ST_Transform(r.c, 3857), 800 / 1.25 / cos(radians(ST_Y(r.c))))))
			/ nullif(sum(res), 0)
		FROM r`,
	"green_access_300": `
		WITH r AS (
			SELECT ` + sqlResidents + ` AS res, ST_Centroid(b.geom) AS c FROM buildings b
			WHERE b.use IN ('residential', 'mixed'))
		SELECT sum(res) FILTER (WHERE EXISTS (
			SELECT 1 FROM green_spaces g WHERE coalesce(g.public, true)
			AND ST_DWithin(g.geom_3857, ST_Transform(r.c, 3857), 300 / cos(radians(ST_Y(r.c))))
			AND ST_Area(g.geom::geography) >= 5000))
			/ nullif(sum(res), 0)
		FROM r`,
}

var (
	sqlOnce  sync.Once
	sqlStore *postgis.Store
	sqlCity  *spatial.City
	sqlErr   error
)

// sqlBench imports the benchmark city into a fresh schema once per process.
func sqlBench(b *testing.B) (*postgis.Store, *spatial.City) {
	b.Helper()
	sqlOnce.Do(func() {
		fs := scenarios.BenchFeatures()
		sqlStore = pgStoreKeep(b)
		ctx := context.Background()
		start := time.Now()
		if _, sqlErr = sqlStore.Import(ctx, fs); sqlErr != nil {
			return
		}
		if _, sqlErr = sqlStore.Pool().Exec(ctx, "ANALYZE"); sqlErr != nil {
			return
		}
		b.Logf("imported %d features into PostGIS in %.1fs", len(fs), time.Since(start).Seconds())
		sqlCity, sqlErr = spatial.NewCity(fs)
	})
	if sqlErr != nil {
		b.Fatal(sqlErr)
	}
	return sqlStore, sqlCity
}

// pgStoreKeep is pgStore for a store shared by several benchmarks: its schema lives until
// the process ends (the test database is thrown away by scripts/with-postgis.sh).
func pgStoreKeep(b *testing.B) *postgis.Store {
	u := pgSchemaKeep(b)
	s, err := postgis.Open(context.Background(), u)
	if err != nil {
		b.Fatal(err)
	}
	if err := postgis.Migrate(context.Background(), s.Pool()); err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkSQLIndicators times the SQL versions of residents, school access and green
// access in PostGIS on the benchmark city, each alone and the three in a row, and logs their
// values beside the in-memory engine's.
func BenchmarkSQLIndicators(b *testing.B) {
	st, city := sqlBench(b)
	ctx := context.Background()
	e, _ := scenarios.NewEngine(scenarios.DefaultParameters())
	base, err := e.Baseline(ctx, city)
	if err != nil {
		b.Fatal(err)
	}
	engine := map[string]float64{
		"residents":         base.Indicators["residents"].Baseline,
		"school_access_800": base.Indicators["access_school"].Baseline,
		"green_access_300":  base.Indicators["green_access"].Baseline,
	}
	names := []string{"residents", "school_access_800", "green_access_300"}
	for _, parallel := range []bool{true, false} {
		mode := "parallel"
		if !parallel {
			mode = "one_backend"
		}
		b.Run(mode, func(b *testing.B) {
			conn, err := st.Pool().Acquire(ctx)
			if err != nil {
				b.Fatal(err)
			}
			defer conn.Release()
			// One backend alone does all the work when parallel query is off, so its CPU time
			// (from /proc) measures the work of the SQL, whatever else the machine runs.
			workers := "2"
			if !parallel {
				workers = "0"
			}
			if _, err := conn.Exec(ctx, "SET max_parallel_workers_per_gather = "+workers); err != nil {
				b.Fatal(err)
			}
			var pid int
			if err := conn.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&pid); err != nil {
				b.Fatal(err)
			}
			run := func(b *testing.B, qs ...string) {
				cpu0, n := backendCPU(pid), 0
				for b.Loop() {
					for _, name := range qs {
						var v float64
						if err := conn.QueryRow(ctx, sqlQueries[name]).Scan(&v); err != nil {
							b.Fatal(err)
						}
						if n == 0 {
							b.Logf("%s: SQL %.6g, engine %.6g (%.3f %% apart)", name, v, engine[name], 100*math.Abs(v-engine[name])/math.Max(1e-12, engine[name]))
						}
					}
					n++
				}
				if !parallel {
					b.ReportMetric((backendCPU(pid)-cpu0)/float64(n), "cpu-s/op")
				}
			}
			for _, name := range names {
				b.Run(name, func(b *testing.B) { run(b, name) })
			}
			b.Run("all_three", func(b *testing.B) { run(b, names...) })
		})
	}
}

// backendCPU reads a PostgreSQL backend's CPU time (user + system) from /proc: the
// database runs on this machine in the test setup.
func backendCPU(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return math.NaN()
	}
	// Fields after the command name (in parentheses): utime and stime are the 12th and 13th.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	ut, _ := strconv.ParseFloat(f[11], 64)
	stt, _ := strconv.ParseFloat(f[12], 64)
	return (ut + stt) / 100 // clock ticks; USER_HZ is 100 on Linux
}

// keep layers imported for the package's helpers.
var _ = layers.Names
