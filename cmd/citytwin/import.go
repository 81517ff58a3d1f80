package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/paulmach/orb"

	"github.com/citytwin/citytwin/citymodel"

	"github.com/citytwin/citytwin/data"
	"github.com/citytwin/citytwin/ingest"
	"github.com/citytwin/citytwin/layers"
	"github.com/citytwin/citytwin/layers/postgis"
)

const importSynopsis = `import [--database URL | --data-dir DIR] [--census FILE.csv] [flags] FILE...

Reads GeoJSON (.geojson, .json; newline-delimited .ndjson, .geojsonl; optionally .gz) and
OpenStreetMap PBF (.osm.pbf); OSM is mapped to the city's layers and the layers OSM lacks are
derived (docs/import-rules.md).

Reads a city's own GIS files too: Shapefiles (.shp, or zipped in a .zip, with .prj and .cpg),
GeoPackages (.gpkg), CSV files with a WKT column or x/y columns (.csv) and every other format
GDAL's ogr2ogr reads. Their attributes are decoded (--encoding, else the .cpg or the DBF
header), mapped to the catalog's fields by a TOML mapping (--mapping; without one, --layer
names the target layer and fields named like catalog fields map to themselves; examples in
docs/import-mapping-examples/), reprojected to WGS 84 by PROJ (Debian's proj-bin; --srid
overrides the file's CRS) and checked with the catalog's rules. A report says what was read
and how: format, encoding, CRS, field mapping, repairs and rejects.

Each file is imported all or nothing: when more features are rejected than --max-errors
allows, nothing of it is written. --dry-run reads and reports, and writes nothing.

By default a file's features are added to its layers (an id already stored is an error).
--replace swaps every layer the file fills for the file's features; --upsert FIELD updates
the stored features whose FIELD (id, or a public text or integer field such as cad_number)
matches one of the file's, keeping their ids, and adds the others. Each is one transaction
in PostGIS, one atomic rewrite of a data directory: running servers see the old layer until
the new one is in place, and a failed import leaves the old one as it was.

Example:
  citytwin import --data-dir city --mapping docs/import-mapping-examples/cadastre.toml \
      --dry-run --rejects rejects.geojson parcele.zip`

// importFlags are the flags of files read by package ingest.
type importFlags struct {
	mapping, layer, encoding, table, rejects, extent string
	wktColumn, xColumn, yColumn                      string
	srid, maxErrors                                  int
	dryRun, commaBelow, replace                      bool
	upsert                                           string
}

func runImport(ctx context.Context, args []string) error {
	fs := newFlagSet("import", importSynopsis)
	database := fs.String("database", "", "PostgreSQL/PostGIS URL (also DATABASE_URL); empty: the data directory")
	dataDir := fs.String("data-dir", "citytwin-data", "the memory mode's data directory, used without --database")
	var f importFlags
	fs.StringVar(&f.mapping, "mapping", "", "TOML `FILE` mapping the sources' tables and fields to the catalog's layers and fields")
	fs.StringVar(&f.layer, "layer", "", "target layer `NAME` when there is no mapping")
	fs.IntVar(&f.srid, "srid", 0, "source CRS as an EPSG code `N`, over the file's own (.prj, GeoPackage); e.g. 3844 for Stereo 70")
	fs.StringVar(&f.encoding, "encoding", "", "attribute encoding (e.g. CP1250, ISO-8859-2, UTF-8), over the .cpg, the DBF header and the mapping")
	fs.StringVar(&f.table, "table", "", "the GeoPackage table or GDAL layer to read; empty: every feature table")
	fs.BoolVar(&f.dryRun, "dry-run", false, "read, check and report; write nothing")
	fs.StringVar(&f.rejects, "rejects", "", "write the rejected features, with their reasons, to this GeoJSON `FILE`")
	fs.IntVar(&f.maxErrors, "max-errors", 0, "how many rejected features are tolerated before the file's import fails, writing nothing")
	fs.StringVar(&f.extent, "extent", "", "reject features outside this WGS 84 box `w,s,e,n` (e.g. 25.9,44.3,26.3,44.6); empty: none")
	fs.StringVar(&f.wktColumn, "wkt-column", "", "CSV: the column holding WKT geometry (default: wkt, geom, geometry or the_geom)")
	fs.StringVar(&f.xColumn, "x-column", "", "CSV: the column of x or longitude (default: x, lon, lng or longitude)")
	fs.StringVar(&f.yColumn, "y-column", "", "CSV: the column of y or latitude (default: y, lat or latitude)")
	fs.BoolVar(&f.commaBelow, "comma-below", false, "write Ş ş Ţ ţ (cedilla, all code page 1250 has) as the Romanian Ș ș Ț ț")
	fs.BoolVar(&f.replace, "replace", false, "swap every layer a file fills for the file's features, in one transaction")
	fs.StringVar(&f.upsert, "upsert", "", "update the stored features whose `FIELD` matches (id, cad_number...) and add the others, in one transaction")
	census := fs.String("census", "", censusUsage)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	files := fs.Args()
	if len(files) == 0 && *census == "" {
		fs.Usage()
		return errors.New("import needs at least one FILE")
	}
	opt, err := f.options()
	if err != nil {
		return err
	}
	mode, err := f.mode()
	if err != nil {
		return err
	}
	if f.rejects != "" {
		n := 0
		for _, path := range files {
			if !isCityTwinFile(path) {
				n++
			}
		}
		if n > 1 {
			return fmt.Errorf("--rejects names one file for the rejects of one imported file; %d were given", n)
		}
	}
	if *census != "" && f.dryRun {
		return errors.New("--census writes the census; leave out --dry-run")
	}
	var store ingest.Writer
	if !f.dryRun {
		s, closeStore, err := openImportStore(ctx, *database, *dataDir)
		if err != nil {
			return err
		}
		defer closeStore()
		store = s
	}
	if *census != "" {
		if err := importCensus(ctx, store, *census, os.Stdout); err != nil {
			return err
		}
	}
	for _, path := range files {
		job := ingest.Job{Path: path, Options: opt, Mode: mode, Key: f.upsert, DryRun: f.dryRun}
		if isCityTwinFile(path) {
			err = importFile(ctx, store, job)
		} else {
			err = ingestFile(ctx, store, job, f.rejects, os.Stdout, os.Stderr)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// options makes the flags ingest's options.
func (f *importFlags) options() (ingest.Options, error) {
	opt := ingest.Options{
		OpenOptions: ingest.OpenOptions{
			Table: f.table, Encoding: f.encoding,
			WKTColumn: f.wktColumn, XColumn: f.xColumn, YColumn: f.yColumn,
		},
		Layer: f.layer, SRID: f.srid, MaxErrors: f.maxErrors, CommaBelow: f.commaBelow,
	}
	if f.maxErrors < 0 {
		return opt, fmt.Errorf("--max-errors %d: want 0 or more", f.maxErrors)
	}
	if f.srid < 0 {
		return opt, fmt.Errorf("--srid %d: want an EPSG code", f.srid)
	}
	if f.mapping != "" {
		m, err := ingest.LoadMapping(f.mapping)
		if err != nil {
			return opt, fmt.Errorf("--mapping: %w", err)
		}
		opt.Mapping = m
	}
	if f.extent != "" {
		b, err := parseExtent(f.extent)
		if err != nil {
			return opt, fmt.Errorf("--extent %q: %w", f.extent, err)
		}
		opt.Extent = &b
	}
	return opt, nil
}

// mode is the write mode the flags ask for.
func (f *importFlags) mode() (ingest.Mode, error) {
	switch {
	case f.replace && f.upsert != "":
		return "", errors.New("--replace and --upsert exclude each other")
	case f.replace:
		return ingest.Replace, nil
	case f.upsert != "":
		return ingest.Upsert, nil
	}
	return ingest.Append, nil
}

// parseExtent reads "w,s,e,n" in degrees.
func parseExtent(s string) (orb.Bound, error) {
	parts := strings.Split(s, ",")
	if len(parts) != 4 {
		return orb.Bound{}, errors.New("want four numbers w,s,e,n")
	}
	var v [4]float64
	for i, p := range parts {
		x, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil {
			return orb.Bound{}, fmt.Errorf("%q is not a number", p)
		}
		v[i] = x
	}
	w, south, e, n := v[0], v[1], v[2], v[3]
	if w < -180 || e > 180 || south < -90 || n > 90 || w >= e || south >= n {
		return orb.Bound{}, errors.New("want -180 ≤ w < e ≤ 180 and -90 ≤ s < n ≤ 90")
	}
	return orb.Bound{Min: orb.Point{w, south}, Max: orb.Point{e, n}}, nil
}

// isCityTwinFile says whether a file is GeoJSON or OSM PBF, read by package data.
func isCityTwinFile(path string) bool {
	name := strings.TrimSuffix(strings.ToLower(path), ".gz")
	for _, x := range []string{".geojson", ".json", ".ndjson", ".geojsonl", ".geojsonseq", ".jsonl", ".pbf"} {
		if strings.HasSuffix(name, x) {
			return true
		}
	}
	return false
}

func openImportStore(ctx context.Context, database, dataDir string) (ingest.Writer, func(), error) {
	if database == "" {
		fmt.Fprintf(os.Stderr, "importing into the data directory %s\n", dataDir)
		return data.NewFileStore(dataDir), func() {}, nil
	}
	pg, err := openMigrated(ctx, database, postgis.Options{})
	if err != nil {
		return nil, nil, err
	}
	pg.Progress = progressPrinter()
	return pg, pg.Close, nil
}

// progressPrinter reports a long import's progress on stderr, at most a few times a second.
func progressPrinter() func(layer string, done, total int) {
	var last time.Time
	return func(layer string, done, total int) {
		if done != total && time.Since(last) < 250*time.Millisecond {
			return
		}
		last = time.Now()
		fmt.Fprintf(os.Stderr, "\r  %-13s %9d / %d", layer, done, total)
		if done == total {
			fmt.Fprintln(os.Stderr)
		}
	}
}

// readProgressEvery is how often a long read reports its progress.
const readProgressEvery = 2 * time.Second

// readProgress reports, every readProgressEvery, the records read of a source, the rate
// and, when the source announced its size, the time left.
func readProgress(w io.Writer) func(source string, read, records int) {
	start := time.Now()
	last := start
	return func(source string, read, records int) {
		now := time.Now()
		if now.Sub(last) < readProgressEvery {
			return
		}
		last = now
		rate := float64(read) / now.Sub(start).Seconds()
		line := fmt.Sprintf("  %s: %d records read, %.0f/s", source, read, rate)
		if records > 0 && rate > 0 {
			left := time.Duration(float64(max(records-read, 0)) / rate * float64(time.Second))
			line = fmt.Sprintf("  %s: %d / %d records read (%.0f%%), %.0f/s, about %s left",
				source, read, records, 100*float64(read)/float64(records), rate, left.Round(time.Second))
		}
		fmt.Fprintln(w, line)
	}
}

// ingestFile imports a file read by package ingest: the report goes to out whether the
// import succeeds, fails or is a dry run (store nil).
func ingestFile(ctx context.Context, store ingest.Writer, job ingest.Job, rejectsPath string, out, progress io.Writer) (err error) {
	fmt.Fprintf(progress, "reading %s\n", job.Path)
	if rejectsPath != "" {
		rf, err := os.Create(rejectsPath)
		if err != nil {
			return fmt.Errorf("--rejects: %w", err)
		}
		defer func() {
			if cerr := rf.Close(); cerr != nil && err == nil {
				err = fmt.Errorf("--rejects: %w", cerr)
			}
		}()
		job.Options.Rejects = rf
	}
	job.Options.Progress = readProgress(progress)
	res, err := ingest.Run(ctx, store, job)
	if res.Report != nil {
		if werr := res.Report.WriteText(out); werr != nil && err == nil {
			err = werr
		}
	}
	if err != nil {
		return fmt.Errorf("import %s: %w (nothing from this file was written)", job.Path, err)
	}
	return res.WriteText(out)
}

func importFile(ctx context.Context, store ingest.Writer, job ingest.Job) error {
	path := job.Path
	start := time.Now()
	fmt.Fprintf(os.Stderr, "reading %s\n", path)
	features, err := data.ReadFile(path)
	if err != nil {
		return fmt.Errorf("import %s: %w", path, err)
	}
	read := time.Since(start)
	reportOverlaps(os.Stderr, path, features)
	c := layers.Counts{}
	var names []string
	for _, f := range features {
		if c[f.Layer] == 0 {
			names = append(names, f.Layer)
		}
		c[f.Layer]++
	}
	if store == nil {
		fmt.Printf("%s: %d features read in %.2fs; dry run: nothing was written\n", path, len(features), read.Seconds())
		printCounts(c)
		return nil
	}
	counts, updated, inserted, err := ingest.Write(ctx, store, job.Mode, job.Key, names, features)
	if err != nil {
		return fmt.Errorf("import %s: %w (nothing from this file was written)", path, err)
	}
	total := time.Since(start)
	fmt.Printf("%s: %d features in %.2fs (read %.2fs, %.0f features/s)\n", path, len(features),
		total.Seconds(), read.Seconds(), float64(len(features))/total.Seconds())
	printCounts(counts)
	if job.Mode == ingest.Upsert {
		fmt.Println("updated:")
		printCounts(updated)
		fmt.Println("inserted:")
		printCounts(inserted)
	}
	return nil
}

// dataDirPoll is how often a server in memory mode looks whether its data directory's
// layers were rewritten (by `citytwin import` or the admin upload page).
const dataDirPoll = 500 * time.Millisecond

// followDataDir reloads the model of a server in memory mode whenever an import rewrites
// its data directory's layers, until ctx ends: a new model, and tiles made from the old
// one no longer served.
func followDataDir(ctx context.Context, fs *data.FileStore, model *citymodel.Model, log *slog.Logger) {
	go model.FollowChanges(ctx)
	go fs.Follow(ctx, dataDirPoll, func() {
		model.Changed()
		log.Info("layers changed in the data directory: tile cache invalidated, model reloading", "dir", fs.Dir)
	})
}

// reportOverlaps names the pairs of imported parcels that overlap, a data issue kept as
// imported.
func reportOverlaps(w io.Writer, path string, features []layers.Feature) {
	if o := data.ParcelOverlaps(features); len(o) > 0 {
		fmt.Fprintf(w, "%s: data issue: %d pairs of parcels overlap (kept as imported)\n", path, len(o))
		for _, p := range o[:min(len(o), 20)] {
			fmt.Fprintf(w, "  parcels %d and %d overlap by %.1f m²\n", p.A, p.B, p.AreaM2)
		}
	}
}

func printCounts(c layers.Counts) { printCountsTo(os.Stdout, c) }

func printCountsTo(w io.Writer, c layers.Counts) {
	names := make([]string, 0, len(c))
	for n := range c {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-13s %9d\n", n, c[n])
	}
}
