//go:build linux

package web

import (
	"fmt"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/paulmach/orb"

	"github.com/citytwin/citytwin/citymodel"
	"github.com/citytwin/citytwin/scenarios"
	"github.com/citytwin/citytwin/spatial"
)

// BenchmarkIsochroneHTTP15min asks GET /api/isochrone?minutes=15 of a memory model of the
// generated benchmark city (270,000 parcels: about 200,000 buildings, as scenarios'
// BenchParcels) from random places of it, one request at a time. It reports the median, 99th
// percentile and mean of the requests' times ("http-"), wall and CPU ("-cpu-": of the whole
// process, the handler running on a goroutine of its own and the collector included), and
// beside them the same of the network's own part of each (attach and network.Graph.Isochrone
// from the same place, "net-"), so that the handler's share shows; the mean size of an
// answer; and the places refused (no street within 500 m).
func BenchmarkIsochroneHTTP15min(b *testing.B) {
	fs := generatedCity(b, 270_000)
	c, err := spatial.NewCity(fs)
	if err != nil {
		b.Fatal(err)
	}
	fs = nil
	h := New(Options{Logger: scenarioTestLogger(), Model: citymodel.Fixed(c)}).Handler()
	g, err := scenarios.StreetNetwork(c)
	if err != nil || g == nil {
		b.Fatalf("no walking network: %v", err)
	}
	const minutes = 15
	const limit = minutes * DefaultWalkSpeedKMH * 1000 / 60 // metres
	rng := rand.New(rand.NewSource(9))
	bd := c.Proj.Bound(c.Bound)
	var httpWall, httpCPU, netWall, netCPU []time.Duration
	var bytes int64
	refused := 0
	runtime.GC()
	for b.Loop() {
		p := c.Proj.ToWGS84(orb.Point{bd.Min[0] + rng.Float64()*(bd.Max[0]-bd.Min[0]), bd.Min[1] + rng.Float64()*(bd.Max[1]-bd.Min[1])})
		w := &discard{h: http.Header{}}
		r := httptest.NewRequest("GET", fmt.Sprintf("/api/isochrone?lon=%v&lat=%v&minutes=%d", p[0], p[1], minutes), nil)
		t0, c0 := time.Now(), processCPU()
		h.ServeHTTP(w, r)
		httpWall, httpCPU = append(httpWall, time.Since(t0)), append(httpCPU, processCPU()-c0)
		if w.code != 0 && w.code != http.StatusOK {
			refused++
			continue
		}
		bytes += w.n
		t0, c0 = time.Now(), processCPU()
		if a, ok := g.Attach(p, MaxIsochroneStub); ok {
			g.Isochrone(a, limit)
		}
		netWall, netCPU = append(netWall, time.Since(t0)), append(netCPU, processCPU()-c0)
	}
	for _, m := range []struct {
		prefix string
		times  []time.Duration
	}{{"http-", httpWall}, {"http-cpu-", httpCPU}, {"net-", netWall}, {"net-cpu-", netCPU}} {
		if len(m.times) == 0 {
			continue
		}
		var sum time.Duration
		for _, t := range m.times {
			sum += t
		}
		slices.Sort(m.times)
		b.ReportMetric(float64(m.times[len(m.times)*99/100].Microseconds())/1000, m.prefix+"p99-ms")
		b.ReportMetric(float64(m.times[len(m.times)/2].Microseconds())/1000, m.prefix+"p50-ms")
		b.ReportMetric(float64(sum.Microseconds())/1000/float64(len(m.times)), m.prefix+"mean-ms")
	}
	if n := len(netWall); n > 0 {
		b.ReportMetric(float64(bytes)/1024/float64(n), "answer-KiB")
	}
	b.ReportMetric(float64(refused), "refused")
}

// processCPU is the CPU time the process has used, all its threads (CLOCK_PROCESS_CPUTIME_ID,
// to the nanosecond, hence Linux only).
func processCPU() time.Duration {
	const clockProcessCPUTime = 2 // CLOCK_PROCESS_CPUTIME_ID
	var ts syscall.Timespec
	if _, _, errno := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockProcessCPUTime, uintptr(unsafe.Pointer(&ts)), 0); errno != 0 {
		return 0
	}
	return time.Duration(ts.Nano())
}
