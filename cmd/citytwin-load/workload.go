package main

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// The mix, in requests out of 100: mostly tiles, as a map is; writes and runs are the
// planners' share.
var mix = []struct {
	kind   string
	weight int
}{
	{"tile", 70}, {"catalog", 4}, {"tilejson", 6}, {"nearest", 10}, {"write", 6}, {"run", 4},
}

// results is what the workers saw.
type results struct {
	byKind   map[string]*kindStats
	errors   []string            // failed requests (first few)
	errCount int64               // all failed requests
	acked    map[string][]string // scenario id -> ids of acknowledged changes
}

type kindStats struct {
	count      int64
	status     map[int]int64
	latencies  []time.Duration
	unexpected int64 // answers with a status the kind never expects
}

// worker is one closed-loop client with its own scenario.
type worker struct {
	c        *client
	city     *cityInfo
	rng      *rand.Rand
	res      *results
	scenario string
	etag     string // the scenario's ETag, sent as If-Match on its next write ("": read it first)
	changes  int
}

// load runs the workers until the duration or the request budget is spent.
func (c *client) load(ctx context.Context, city *cityInfo) *results {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.duration)
	defer cancel()
	var budget atomic.Int64
	budget.Store(c.cfg.maxRequests)
	all := make([]*results, c.cfg.workers)
	var wg sync.WaitGroup
	for i := range c.cfg.workers {
		all[i] = newResults()
		w := &worker{c: c, city: city, rng: rand.New(rand.NewPCG(c.cfg.seed, uint64(i))), res: all[i]}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil && budget.Add(-1) >= 0 {
				w.one(ctx)
			}
		}()
	}
	wg.Wait()
	return merge(all)
}

func newResults() *results {
	return &results{byKind: map[string]*kindStats{}, acked: map[string][]string{}}
}

// one sends one request of a kind drawn from the mix and records its answer.
func (w *worker) one(ctx context.Context) {
	kind := w.pick()
	start := time.Now()
	status, err := w.send(ctx, kind)
	took := time.Since(start)
	if ctx.Err() != nil {
		return // cut by the end of the run: neither an answer nor a failure
	}
	ks := w.res.byKind[kind]
	if ks == nil {
		ks = &kindStats{status: map[int]int64{}}
		w.res.byKind[kind] = ks
	}
	if err != nil {
		w.res.errCount++
		if len(w.res.errors) < 5 {
			w.res.errors = append(w.res.errors, fmt.Sprintf("%s: %v", kind, err))
		}
		return
	}
	ks.count++
	ks.status[status]++
	ks.latencies = append(ks.latencies, took)
	if !expected(kind, status) {
		ks.unexpected++
	}
}

func (w *worker) pick() string {
	n := w.rng.IntN(100)
	for _, m := range mix {
		if n < m.weight {
			return m.kind
		}
		n -= m.weight
	}
	return mix[0].kind
}

// expected reports whether a status is a right answer for a kind.
func expected(kind string, status int) bool {
	switch kind {
	case "tile":
		return status == http.StatusOK || status == http.StatusNoContent
	case "write", "run":
		return status == http.StatusCreated
	}
	return status == http.StatusOK
}

func (w *worker) send(ctx context.Context, kind string) (int, error) {
	switch kind {
	case "tile":
		return w.tile(ctx)
	case "catalog":
		status, _, err := w.c.do(ctx, http.MethodGet, "/catalog", nil, false)
		return status, err
	case "tilejson":
		l := w.city.layers[w.rng.IntN(len(w.city.layers))]
		status, _, err := w.c.do(ctx, http.MethodGet, "/tiles/"+l.name+".json", nil, false)
		return status, err
	case "nearest":
		return w.nearest(ctx)
	case "write":
		return w.write(ctx)
	}
	return w.run(ctx)
}

// tile GETs a tile of a layer at zoom 12–16 (within the layer's zooms) over the city.
func (w *worker) tile(ctx context.Context) (int, error) {
	z := 12 + w.rng.IntN(5)
	var l tileLayer
	for range 20 {
		if l = w.city.layers[w.rng.IntN(len(w.city.layers))]; z >= l.minZoom && z <= l.maxZoom {
			break
		}
	}
	b := w.city.bounds
	x0, y0 := tileXY(b[0], b[3], z)
	x1, y1 := tileXY(b[2], b[1], z)
	x, y := x0+w.rng.IntN(x1-x0+1), y0+w.rng.IntN(y1-y0+1)
	status, _, err := w.c.do(ctx, http.MethodGet, fmt.Sprintf("/tiles/%s/%d/%d/%d.mvt", l.name, z, x, y), nil, false)
	return status, err
}

// tileXY is the tile of zoom z holding a WGS84 point.
func tileXY(lon, lat float64, z int) (int, int) {
	n := math.Exp2(float64(z))
	x := int((lon + 180) / 360 * n)
	r := lat * math.Pi / 180
	y := int((1 - math.Log(math.Tan(r)+1/math.Cos(r))/math.Pi) / 2 * n)
	return x, y
}

var facilityKinds = []string{"", "school", "clinic", "pharmacy", "kindergarten", "library"}

func (w *worker) nearest(ctx context.Context) (int, error) {
	b := w.city.bounds
	lon := b[0] + w.rng.Float64()*(b[2]-b[0])
	lat := b[1] + w.rng.Float64()*(b[3]-b[1])
	path := fmt.Sprintf("/api/nearest?lon=%.6f&lat=%.6f&k=%d", lon, lat, 1+w.rng.IntN(5))
	if k := facilityKinds[w.rng.IntN(len(facilityKinds))]; k != "" {
		path += "&kind=" + k
	}
	status, _, err := w.c.do(ctx, http.MethodGet, path, nil, false)
	return status, err
}

// write adds one change (a new floor count for a building) to the worker's scenario,
// starting a new scenario first when it has none or a full one.
func (w *worker) write(ctx context.Context) (int, error) {
	if w.scenario == "" || w.changes >= w.c.cfg.changesPerScenario {
		if err := w.newScenario(ctx); err != nil {
			return 0, err
		}
	}
	id := w.city.buildings[w.rng.IntN(len(w.city.buildings))]
	change := map[string]any{"kind": "modify_building", "target": fmt.Sprint(id),
		"properties": map[string]any{"floors": 1 + w.rng.IntN(12)}}
	etag, err := w.scenarioETag(ctx)
	if err != nil {
		return 0, err
	}
	status, body, etag, err := w.c.send(ctx, http.MethodPost, "/api/scenarios/"+w.scenario+"/changes", change, true, etag)
	if err != nil || status != http.StatusCreated {
		w.etag = "" // the scenario may or may not have changed: read it again
		return status, err
	}
	w.etag = etag
	var added struct {
		Changes []struct {
			ID string `json:"id"`
		} `json:"changes"`
	}
	if err := jsonUnmarshal(body, &added); err != nil || len(added.Changes) != 1 {
		return status, fmt.Errorf("a 201 without the change: %v %.200s", err, body)
	}
	w.res.acked[w.scenario] = append(w.res.acked[w.scenario], added.Changes[0].ID)
	w.changes++
	return status, nil
}

func (w *worker) newScenario(ctx context.Context) error {
	status, body, etag, err := w.c.send(ctx, http.MethodPost, "/api/scenarios", map[string]any{"name": "load"}, true, "")
	if err != nil {
		return err
	}
	var sc struct {
		ID string `json:"id"`
	}
	if status != http.StatusCreated || jsonUnmarshal(body, &sc) != nil || sc.ID == "" {
		return fmt.Errorf("create a scenario: %d %.200s", status, body)
	}
	w.scenario, w.changes, w.etag = sc.ID, 0, etag
	w.res.acked[sc.ID] = nil
	return nil
}

// scenarioETag is the ETag of the worker's scenario for If-Match: the one its last write
// gave, else read.
func (w *worker) scenarioETag(ctx context.Context) (string, error) {
	if w.etag != "" {
		return w.etag, nil
	}
	status, body, etag, err := w.c.send(ctx, http.MethodGet, "/api/scenarios/"+w.scenario, nil, true, "")
	if err != nil {
		return "", err
	}
	if status != http.StatusOK || etag == "" {
		return "", fmt.Errorf("read scenario %s: %d %.200s", w.scenario, status, body)
	}
	w.etag = etag
	return etag, nil
}

// run runs the worker's scenario (making one with a first change when there is none).
func (w *worker) run(ctx context.Context) (int, error) {
	if w.scenario == "" {
		if status, err := w.write(ctx); err != nil || status != http.StatusCreated {
			return status, err
		}
	}
	etag, err := w.scenarioETag(ctx)
	if err != nil {
		return 0, err
	}
	status, _, _, err := w.c.send(ctx, http.MethodPost, "/api/scenarios/"+w.scenario+"/run", nil, true, etag)
	if err != nil || status != http.StatusCreated {
		w.etag = ""
	}
	return status, err
}

// merge adds up the workers' results.
func merge(all []*results) *results {
	out := newResults()
	for _, r := range all {
		out.errCount += r.errCount
		out.errors = append(out.errors, r.errors...)
		for id, ids := range r.acked {
			out.acked[id] = append(out.acked[id], ids...)
		}
		for kind, ks := range r.byKind {
			m := out.byKind[kind]
			if m == nil {
				m = &kindStats{status: map[int]int64{}}
				out.byKind[kind] = m
			}
			m.count += ks.count
			m.unexpected += ks.unexpected
			m.latencies = append(m.latencies, ks.latencies...)
			for s, n := range ks.status {
				m.status[s] += n
			}
		}
	}
	return out
}
