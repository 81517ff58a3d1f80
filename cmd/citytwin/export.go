package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/paulmach/orb"

	"github.com/citytwin/citytwin/citymodel"
	"github.com/citytwin/citytwin/export"
	"github.com/citytwin/citytwin/layers"
	"github.com/citytwin/citytwin/spatial"
	"github.com/citytwin/citytwin/tiles"
	"github.com/citytwin/citytwin/web"
)

type exportConfig struct {
	format, layers   string
	minZoom, maxZoom int
	bbox             string
	database         string
	dataDir          string
	workers          int
	resume           bool
	name             string
}

func runExport(ctx context.Context, args []string) error {
	var cfg exportConfig
	fs := newFlagSet("export", "export --format pmtiles|mbtiles --layers a,b,... --minzoom Z --maxzoom Z [flags] OUT")
	fs.StringVar(&cfg.format, "format", "", "archive format: pmtiles or mbtiles")
	fs.StringVar(&cfg.layers, "layers", "", "comma-separated layers, made into one tile of several MVT layers (as /tiles/a,b/...)")
	fs.IntVar(&cfg.minZoom, "minzoom", 12, "first zoom level written")
	fs.IntVar(&cfg.maxZoom, "maxzoom", 15, "last zoom level written")
	fs.StringVar(&cfg.bbox, "bbox", "", "area to export, west,south,east,north in degrees; empty: the extent of the layers' data")
	fs.StringVar(&cfg.database, "database", "", "PostgreSQL/PostGIS URL (also DATABASE_URL): tiles made by PostGIS; empty: the memory model of --data-dir (or the demo city)")
	fs.StringVar(&cfg.dataDir, "data-dir", "citytwin-data", "directory of the memory mode's files")
	fs.IntVar(&cfg.workers, "workers", runtime.GOMAXPROCS(0), "tiles made at once")
	fs.BoolVar(&cfg.resume, "resume", false, "continue an interrupted export into OUT: tiles already written are kept")
	fs.StringVar(&cfg.name, "name", "", `the tileset's name in the file's metadata (default "citytwin " + the layers)`)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return fmt.Errorf("export: want one output file, got %d arguments", fs.NArg())
	}
	return exportPyramid(ctx, cfg, fs.Arg(0), os.Stderr)
}

// exportPyramid writes the pyramid cfg describes to out, reporting progress on w.
func exportPyramid(ctx context.Context, cfg exportConfig, out string, w io.Writer) error {
	format, err := export.ParseFormat(cfg.format)
	if err != nil {
		return fmt.Errorf("--format: %w", err)
	}
	ls, err := layers.ParseList(cfg.layers)
	if err != nil {
		return fmt.Errorf("--layers: %w", err)
	}
	var bbox orb.Bound
	if cfg.bbox != "" {
		if bbox, err = parseBBox(cfg.bbox); err != nil {
			return fmt.Errorf("--bbox: %w", err)
		}
	}
	log, err := newLogger("text", w)
	if err != nil {
		return err
	}
	store, closeStore, err := openStore(ctx, &serveConfig{database: cfg.database, dataDir: cfg.dataDir}, log)
	if err != nil {
		return err
	}
	defer closeStore()
	src, dataBound, err := exportSource(ctx, store, ls)
	if err != nil {
		return err
	}
	if cfg.bbox == "" {
		if dataBound == (orb.Bound{}) {
			return fmt.Errorf("the layers %s have no features: nothing to export", cfg.layers)
		}
		bbox = dataBound
	}
	opts := export.Options{Source: src, Layers: ls, MinZoom: cfg.minZoom, MaxZoom: cfg.maxZoom,
		Bound: bbox, Workers: cfg.workers, Resume: cfg.resume, Name: cfg.name}
	opts.Progress, opts.ProgressEvery = exportProgress(w)
	log.Info("exporting", "format", format, "layers", cfg.layers, "zooms", fmt.Sprintf("%d-%d", cfg.minZoom, cfg.maxZoom),
		"tiles", export.Count(opts), "workers", cfg.workers, "out", out)
	p, err := export.Write(ctx, format, out, opts)
	if err != nil {
		if format == export.PMTiles && errors.Is(err, context.Canceled) {
			return fmt.Errorf("export interrupted (%s); run it again with --resume to continue from %s", p, export.SpoolPath(out))
		}
		return fmt.Errorf("export: %w", err)
	}
	log.Info("exported", "out", out, "tiles_written", p.Written, "seconds", p.Elapsed.Seconds(), "tiles_per_second", int(p.Rate()))
	return nil
}

// exportSource is the tile source the server would use on store — PostGIS itself, or the
// memory source over the model loaded from it — and the WGS84 extent of the layers' features.
func exportSource(ctx context.Context, store layers.Store, ls []*layers.Layer) (layers.Source, orb.Bound, error) {
	var b orb.Bound
	want := map[string]bool{}
	for _, l := range ls {
		want[l.Name] = true
	}
	extend := func(f layers.Feature) {
		if !want[f.Layer] || f.Geometry == nil {
			return
		}
		if fb := f.Geometry.Bound(); b == (orb.Bound{}) {
			b = fb
		} else {
			b = b.Union(fb)
		}
	}
	if src, ok := store.(layers.Source); ok {
		err := store.Load(ctx, func(f layers.Feature) error { extend(f); return nil })
		if err != nil {
			return nil, b, fmt.Errorf("measure the layers' extent: %w", err)
		}
		return src, b, nil
	}
	city, err := spatial.Load(ctx, boundingStore{Store: store, extend: extend})
	if err != nil {
		return nil, b, err
	}
	return tiles.NewMemorySource(citymodel.Fixed(city)), b, nil
}

// boundingStore passes each loaded feature to extend on its way into the model.
type boundingStore struct {
	layers.Store
	extend func(layers.Feature)
}

func (s boundingStore) Load(ctx context.Context, fn func(layers.Feature) error) error {
	return s.Store.Load(ctx, func(f layers.Feature) error {
		s.extend(f)
		return fn(f)
	})
}

// parseBBox reads west,south,east,north.
func parseBBox(s string) (orb.Bound, error) {
	var w, south, e, n float64
	if _, err := fmt.Sscanf(strings.ReplaceAll(s, " ", ""), "%g,%g,%g,%g", &w, &south, &e, &n); err != nil {
		return orb.Bound{}, fmt.Errorf("%q: want west,south,east,north in degrees", s)
	}
	b := orb.Bound{Min: orb.Point{w, south}, Max: orb.Point{e, n}}
	if w < -180 || e > 180 || south < -90 || n > 90 || w > e || south > n {
		return orb.Bound{}, fmt.Errorf("%q: want -180 <= west <= east <= 180 and -90 <= south <= north <= 90", s)
	}
	return b, nil
}

// exportProgress reports progress on w: one line rewritten in place on a terminal, else a
// line every ten seconds (logs and CI keep every line).
func exportProgress(w io.Writer) (func(export.Progress), time.Duration) {
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			return func(p export.Progress) {
				end := ""
				if p.Done == p.Total {
					end = "\n"
				}
				fmt.Fprintf(w, "\r\x1b[K%s%s", p, end)
			}, 500 * time.Millisecond
		}
	}
	return func(p export.Progress) { fmt.Fprintln(w, p) }, 10 * time.Second
}

// tileFilesFlag is the repeatable --tiles-file NAME=PATH of serve; its environment variable
// takes several, comma-separated.
type tileFilesFlag map[string]string

// tileFileName is what a tile file's name may be: it takes a layer's place in URLs.
var tileFileName = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,62}$`)

func (f *tileFilesFlag) String() string {
	if f == nil || len(*f) == 0 {
		return ""
	}
	var parts []string
	for name, path := range *f {
		parts = append(parts, name+"="+path)
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

func (f *tileFilesFlag) Set(v string) error {
	if *f == nil {
		*f = tileFilesFlag{}
	}
	for _, item := range strings.Split(v, ",") {
		name, path, ok := strings.Cut(strings.TrimSpace(item), "=")
		switch {
		case !ok || path == "":
			return fmt.Errorf("%q: want NAME=PATH.pmtiles or NAME=PATH.mbtiles", item)
		case !tileFileName.MatchString(name):
			return fmt.Errorf("%q: a name is lower-case letters, digits, _ and -, starting with a letter", name)
		case (*f)[name] != "":
			return fmt.Errorf("%q is given twice", name)
		}
		if _, err := layers.Lookup(name); err == nil {
			return fmt.Errorf("%q is a layer's name: choose another for the file", name)
		}
		(*f)[name] = path
	}
	return nil
}

// openTileFiles opens the files of --tiles-file for the server; a name may not be one of
// the published layers'.
func openTileFiles(f tileFilesFlag, published *layers.Published) (map[string]web.TileFile, func(), error) {
	for name := range f {
		if published.Extra(name) != nil {
			return nil, nil, fmt.Errorf("--tiles-file %s: an extra layer has that name: choose another for the file", name)
		}
	}
	out := map[string]web.TileFile{}
	var opened []*export.Archive
	closeAll := func() {
		for _, a := range opened {
			a.Close()
		}
	}
	for name, path := range f {
		a, err := export.Open(path)
		if err != nil {
			closeAll()
			return nil, nil, fmt.Errorf("--tiles-file %s: %w", name, err)
		}
		opened = append(opened, a)
		out[name] = a
	}
	return out, closeAll, nil
}
