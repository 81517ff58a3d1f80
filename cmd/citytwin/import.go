package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"time"

	"github.com/citytwin/citytwin/data"
	"github.com/citytwin/citytwin/layers"
	"github.com/citytwin/citytwin/layers/postgis"
)

func runImport(ctx context.Context, args []string) error {
	fs := newFlagSet("import", "import [--database URL | --data-dir DIR] [--census FILE.csv] FILE...\n\n"+
		"Reads GeoJSON (.geojson, .json; newline-delimited .ndjson, .geojsonl; optionally .gz) and\n"+
		"OpenStreetMap PBF (.osm.pbf), each file in one all-or-nothing transaction. OSM is mapped to\n"+
		"the city's layers and the layers OSM lacks are derived (docs/import-rules.md).")
	database := fs.String("database", "", "PostgreSQL/PostGIS URL (also DATABASE_URL); empty: the data directory")
	dataDir := fs.String("data-dir", "citytwin-data", "the memory mode's data directory, used without --database")
	census := fs.String("census", "", censusUsage)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	files := fs.Args()
	if len(files) == 0 && *census == "" {
		fs.Usage()
		return errors.New("import needs at least one FILE")
	}
	store, closeStore, err := openImportStore(ctx, *database, *dataDir)
	if err != nil {
		return err
	}
	defer closeStore()
	if *census != "" {
		if err := importCensus(ctx, store, *census, os.Stdout); err != nil {
			return err
		}
	}
	for _, path := range files {
		if err := importFile(ctx, store, path); err != nil {
			return err
		}
	}
	return nil
}

func openImportStore(ctx context.Context, database, dataDir string) (layers.Store, func(), error) {
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

func importFile(ctx context.Context, store layers.Store, path string) error {
	start := time.Now()
	fmt.Fprintf(os.Stderr, "reading %s\n", path)
	features, err := data.ReadFile(path)
	if err != nil {
		return fmt.Errorf("import %s: %w", path, err)
	}
	read := time.Since(start)
	if o := data.ParcelOverlaps(features); len(o) > 0 {
		fmt.Fprintf(os.Stderr, "%s: data issue: %d pairs of parcels overlap (kept as imported)\n", path, len(o))
		for _, p := range o[:min(len(o), 20)] {
			fmt.Fprintf(os.Stderr, "  parcels %d and %d overlap by %.1f m²\n", p.A, p.B, p.AreaM2)
		}
	}
	counts, err := store.Import(ctx, features)
	if err != nil {
		return fmt.Errorf("import %s: %w (nothing from this file was written)", path, err)
	}
	total := time.Since(start)
	fmt.Printf("%s: %d features in %.2fs (read %.2fs, %.0f features/s)\n", path, len(features),
		total.Seconds(), read.Seconds(), float64(len(features))/total.Seconds())
	printCounts(counts)
	return nil
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
