// Package export writes whole tile pyramids of the city's layers into single files for static
// hosting — PMTiles (one file that map clients read by HTTP range requests, straight from
// object storage) and MBTiles (SQLite) — and reads such files back as a tile source.
//
// Tiles come from a layers.Source (PostGIS or the memory model), so a file holds the very
// bytes the server would serve, gzip-compressed; tiles with no feature are left out. Many
// workers make tiles at once and one writer stores them. MBTiles is written in place and
// commits as it goes, so an interrupted export resumes where it stopped; PMTiles, whose
// directories can only be written once every tile is known, is made through such an MBTiles
// spool beside it, assembled when the last tile is in and removed afterwards.
//
// The package is a consumer of tiles, as the web server is, rather than a part of the tiles
// package: it carries a SQLite driver that neither the tile code nor the server needs.
package export

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
	"golang.org/x/sync/errgroup"

	"github.com/citytwin/citytwin/layers"
	"github.com/citytwin/citytwin/spatial"
	"github.com/citytwin/citytwin/tiles"
)

// Format is a tile archive format.
type Format string

const (
	PMTiles Format = "pmtiles"
	MBTiles Format = "mbtiles"
)

// ParseFormat reads a format name.
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(s)); f {
	case PMTiles, MBTiles:
		return f, nil
	}
	return "", fmt.Errorf("format %q: want pmtiles or mbtiles", s)
}

// Options say what to export.
type Options struct {
	Source layers.Source
	Layers []*layers.Layer
	// MinZoom..MaxZoom are the zoom levels written.
	MinZoom, MaxZoom int
	// Bound is the WGS84 area covered: every tile that can hold a feature inside it (the tile
	// grown by its buffer meets it) is made.
	Bound orb.Bound
	// Workers make tiles at once; 0: GOMAXPROCS.
	Workers int
	// Resume continues an interrupted export into the same file: tiles already written are
	// kept and not made again. Without it an existing file is an error.
	Resume bool
	// Name and Description go into the file's metadata; empty Name: "citytwin " + the layers.
	Name, Description string
	// Progress, when set, is called about every ProgressEvery (0: one second) and once at the
	// end, from one goroutine at a time.
	Progress      func(Progress)
	ProgressEvery time.Duration
}

func (o *Options) check() error {
	switch {
	case o.Source == nil:
		return fmt.Errorf("no tile source")
	case len(o.Layers) == 0:
		return fmt.Errorf("no layers to export")
	case o.MinZoom < 0 || o.MaxZoom > tiles.MaxZoom || o.MinZoom > o.MaxZoom:
		return fmt.Errorf("zoom range %d..%d: want 0 <= minzoom <= maxzoom <= %d", o.MinZoom, o.MaxZoom, tiles.MaxZoom)
	case !validBound(o.Bound):
		return fmt.Errorf("bound %v: want west <= east and south <= north in longitude/latitude", o.Bound)
	case o.Workers < 0:
		return fmt.Errorf("workers %d: cannot be negative", o.Workers)
	}
	return nil
}

func validBound(b orb.Bound) bool {
	return b.Min[0] >= -180 && b.Max[0] <= 180 && b.Min[1] >= -90 && b.Max[1] <= 90 &&
		b.Min[0] <= b.Max[0] && b.Min[1] <= b.Max[1]
}

// Progress is how far an export is.
type Progress struct {
	// Done of Total tiles of the pyramid are dealt with: made (written or found empty) or,
	// when resuming, already in the file (Skipped).
	Done, Total int64
	Skipped     int64
	// Written is the number of non-empty tiles stored by this run.
	Written int64
	Elapsed time.Duration
}

// Rate is the tiles made per second by this run (skipped tiles cost nothing and do not count).
func (p Progress) Rate() float64 {
	if p.Elapsed <= 0 {
		return 0
	}
	return float64(p.Done-p.Skipped) / p.Elapsed.Seconds()
}

// ETA is the time left at the current rate; 0 when unknown.
func (p Progress) ETA() time.Duration {
	r := p.Rate()
	if r <= 0 {
		return 0
	}
	return time.Duration(float64(p.Total-p.Done) / r * float64(time.Second)).Round(time.Second)
}

// String is the one-line progress report, e.g.
// "tiles 1200/5461 (22.0%), 412 tiles/s, ETA 10s; 830 written, 0 already there".
func (p Progress) String() string {
	pct := 100.0
	if p.Total > 0 {
		pct = 100 * float64(p.Done) / float64(p.Total)
	}
	return fmt.Sprintf("tiles %d/%d (%.1f%%), %.0f tiles/s, ETA %s; %d written, %d already there",
		p.Done, p.Total, pct, p.Rate(), p.ETA(), p.Written, p.Skipped)
}

// Write exports the pyramid into the file at path in the given format and reports the final
// progress.
func Write(ctx context.Context, format Format, path string, o Options) (Progress, error) {
	if err := o.check(); err != nil {
		return Progress{}, err
	}
	switch format {
	case MBTiles:
		return writeMBTiles(ctx, path, o)
	case PMTiles:
		return writePMTiles(ctx, path, o)
	}
	return Progress{}, fmt.Errorf("format %q: want pmtiles or mbtiles", format)
}

// Count is the number of tiles of the pyramid Options describe (empty ones included).
func Count(o Options) int64 {
	var n int64
	for z := o.MinZoom; z <= o.MaxZoom; z++ {
		r := cover(o.Bound, maptile.Zoom(z))
		n += int64(r.maxX-r.minX+1) * int64(r.maxY-r.minY+1)
	}
	return n
}

// tileRange is a rectangle of tiles of one zoom, bounds included.
type tileRange struct {
	z                      maptile.Zoom
	minX, minY, maxX, maxY uint32
}

// cover is the range of tiles at zoom z whose buffered square (the tile grown by Buffer+1
// pixels, as tiles.QueryBound) meets b: a feature inside b can appear in no other tile.
func cover(b orb.Bound, z maptile.Zoom) tileRange {
	n := float64(uint64(1) << z)
	grow := float64(tiles.Buffer+1) / tiles.Extent
	fx := func(lon float64) float64 { return (lon + 180) / 360 * n }
	fy := func(lat float64) float64 {
		lat = math.Max(-spatial.MaxLatitude, math.Min(spatial.MaxLatitude, lat)) * math.Pi / 180
		return (1 - math.Log(math.Tan(lat)+1/math.Cos(lat))/math.Pi) / 2 * n
	}
	clamp := func(v float64) uint32 { return uint32(math.Max(0, math.Min(n-1, math.Floor(v)))) }
	return tileRange{
		z:    z,
		minX: clamp(fx(b.Min[0]) - grow), maxX: clamp(fx(b.Max[0]) + grow),
		minY: clamp(fy(b.Max[1]) - grow), maxY: clamp(fy(b.Min[1]) + grow),
	}
}

// made is a tile made by a worker: gzipped MVT, nil when empty.
type made struct {
	t  maptile.Tile
	gz []byte
}

// run makes every tile of the pyramid not in done, with o.Workers workers, and hands the
// non-empty ones to put, which runs on one goroutine. It reports progress as it goes.
func run(ctx context.Context, o Options, done func(maptile.Tile) bool, put func(made) error) (Progress, error) {
	workers := o.Workers
	if workers == 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	var p progressCounter
	p.start, p.total = time.Now(), Count(o)
	stop := p.report(o)
	defer stop()

	g, gctx := errgroup.WithContext(ctx)
	jobs := make(chan maptile.Tile, workers*2)
	g.Go(func() error {
		defer close(jobs)
		return eachTile(gctx, o, func(t maptile.Tile) error {
			if done(t) {
				p.skipped.Add(1)
				p.done.Add(1)
				return nil
			}
			select {
			case jobs <- t:
				return nil
			case <-gctx.Done():
				return gctx.Err()
			}
		})
	})
	results := make(chan made, workers*2)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		g.Go(func() error {
			defer wg.Done()
			return makeTiles(gctx, o, jobs, results, &p)
		})
	}
	go func() { wg.Wait(); close(results) }()
	g.Go(func() error {
		for m := range results {
			if err := put(m); err != nil {
				return err
			}
			p.written.Add(1)
		}
		return nil
	})
	err := g.Wait()
	stop()
	return p.snapshot(), err
}

// eachTile calls fn with every tile of the pyramid, zoom by zoom, row by row.
func eachTile(ctx context.Context, o Options, fn func(maptile.Tile) error) error {
	for z := o.MinZoom; z <= o.MaxZoom; z++ {
		r := cover(o.Bound, maptile.Zoom(z))
		for y := r.minY; y <= r.maxY; y++ {
			if err := ctx.Err(); err != nil {
				return err
			}
			for x := r.minX; x <= r.maxX; x++ {
				if err := fn(maptile.New(x, y, r.z)); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// makeTiles is one worker: it makes the tiles it receives and passes on the non-empty ones,
// gzipped as the server gzips them.
func makeTiles(ctx context.Context, o Options, jobs <-chan maptile.Tile, out chan<- made, p *progressCounter) error {
	for t := range jobs {
		data, err := o.Source.Tile(ctx, t, o.Layers)
		if err != nil {
			return fmt.Errorf("tile %d/%d/%d: %w", t.Z, t.X, t.Y, err)
		}
		p.done.Add(1)
		if len(data) == 0 {
			continue
		}
		select {
		case out <- made{t: t, gz: tiles.Gzip(data)}:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// progressCounter counts an export's tiles from several goroutines.
type progressCounter struct {
	start                  time.Time
	total                  int64
	done, skipped, written atomic.Int64
}

func (p *progressCounter) snapshot() Progress {
	return Progress{Done: p.done.Load(), Total: p.total, Skipped: p.skipped.Load(),
		Written: p.written.Load(), Elapsed: time.Since(p.start)}
}

// report calls o.Progress every o.ProgressEvery until the returned stop is called; stop
// reports once more, the final figures, and may be called again (it does nothing then).
func (p *progressCounter) report(o Options) (stop func()) {
	if o.Progress == nil {
		return func() {}
	}
	every := o.ProgressEvery
	if every <= 0 {
		every = time.Second
	}
	quit, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-tick.C:
				o.Progress(p.snapshot())
			case <-quit:
				o.Progress(p.snapshot())
				return
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() { close(quit); <-finished })
	}
}

// metadata is what both formats record about the pyramid, in TileJSON's terms.
func metadata(o Options) tiles.TileJSON {
	name := o.Name
	if name == "" {
		names := make([]string, len(o.Layers))
		for i, l := range o.Layers {
			names[i] = l.Name
		}
		name = "citytwin " + strings.Join(names, ",")
	}
	tj := tiles.NewTileJSON(name, "", o.Layers, o.Bound)
	tj.Tiles = nil
	if o.Description != "" {
		tj.Description = o.Description
	}
	tj.MinZoom, tj.MaxZoom = o.MinZoom, o.MaxZoom
	tj.Center[2] = float64(tiles.FitZoom(o.Bound, o.MinZoom, o.MaxZoom))
	// A layer is in the file only where its own range and the exported range meet.
	for i := range tj.VectorLayers {
		vl := &tj.VectorLayers[i]
		vl.MinZoom = max(vl.MinZoom, o.MinZoom)
		vl.MaxZoom = max(vl.MinZoom, min(vl.MaxZoom, o.MaxZoom))
	}
	return tj
}
