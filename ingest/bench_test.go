package ingest

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/citytwin/citytwin/layers"
)

// benchDir holds fixtures shared by a run's benchmarks; TestMain removes it.
var (
	benchDir     string
	benchDirOnce sync.Once
)

func TestMain(m *testing.M) {
	code := m.Run()
	if benchDir != "" {
		os.RemoveAll(benchDir)
	}
	os.Exit(code)
}

// benchShapefile makes, once, a Shapefile of n square parcels of 20 m in a grid over
// Bucharest, in Stereo 70 with CP1250 attributes, by ogr2ogr from GeoJSON text sequences.
func benchShapefile(b *testing.B, n int) string {
	b.Helper()
	needGDAL(b)
	var err error
	benchDirOnce.Do(func() { benchDir, err = os.MkdirTemp("", "citytwin-ingest-bench-") })
	if err != nil {
		b.Fatal(err)
	}
	shp := filepath.Join(benchDir, fmt.Sprintf("parcele%d.shp", n))
	if _, err := os.Stat(shp); err == nil {
		return shp
	}
	src := filepath.Join(benchDir, "parcels.geojsonl")
	f, err := os.Create(src)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f)
	const side = 0.00025 // degrees, about 20 m
	cols := 500
	for i := range n {
		x := 26.0 + float64(i%cols)*side*1.2
		y := 44.35 + float64(i/cols)*side*1.2
		fmt.Fprintf(w, `{"type":"Feature","properties":{"NR_CAD":"%d","SUPRAFATA":%.4f,"CATEGORIE":"Curţi construcţii"},"geometry":{"type":"Polygon","coordinates":[[[%.7f,%.7f],[%.7f,%.7f],[%.7f,%.7f],[%.7f,%.7f],[%.7f,%.7f]]]}}`+"\n",
			230000+i, 0.04, x, y, x+side, y, x+side, y+side, x, y+side, x, y)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	f.Close()
	ogr2ogr(b, "-f", "ESRI Shapefile", "-t_srs", "EPSG:3844", "-lco", "ENCODING=CP1250", "-nln", fmt.Sprintf("parcele%d", n), shp, src)
	os.Remove(src)
	return shp
}

// BenchmarkStereo70Shapefile reads 200,000 polygons of a Shapefile in Stereo 70: records
// decoded, attributes mapped and checked, geometry reprojected by PROJ (cs2cs) and checked.
//
//	go test ./ingest/ -run '^$' -bench Stereo70Shapefile -benchtime 3x
func BenchmarkStereo70Shapefile(b *testing.B) {
	const n = 200_000
	shp := benchShapefile(b, n)
	m, err := ParseMapping(`
[[source]]
layer = "parcels"
[source.fields]
cad_number = "NR_CAD"
area_m2 = { from = "SUPRAFATA", unit = "ha" }
land_use = "CATEGORIE"
`, "")
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	start, cpu0 := time.Now(), cpuTime()
	for range b.N {
		count := 0
		if _, err := Read(context.Background(), shp, Options{Mapping: m}, func(layers.Feature) error {
			count++
			return nil
		}); err != nil {
			b.Fatal(err)
		}
		if count != n {
			b.Fatalf("read %d features, want %d", count, n)
		}
	}
	b.ReportMetric(float64(n*b.N)/time.Since(start).Seconds(), "features/s")
	// On a shared machine the wall clock counts other people's work too; processor time
	// counts ours only.
	b.ReportMetric(float64(n*b.N)/(cpuTime()-cpu0).Seconds(), "features/cpu-s")
}

// cpuTime is the processor time (user and system) the process and its ended child
// processes (PROJ's cs2cs) have used.
func cpuTime() time.Duration {
	var total time.Duration
	for _, who := range []int{syscall.RUSAGE_SELF, syscall.RUSAGE_CHILDREN} {
		var ru syscall.Rusage
		syscall.Getrusage(who, &ru)
		total += time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	return total
}
