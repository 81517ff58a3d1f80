package main

import (
	"bufio"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/citytwin/citytwin/data"
	"github.com/citytwin/citytwin/data/synthcity"
	"github.com/citytwin/citytwin/layers"
)

func runGenerate(ctx context.Context, args []string) error {
	fs := newFlagSet("generate", "generate --parcels N [--seed S] [--out FILE | --database URL]\n\n"+
		"Writes a realistic, deterministic synthetic city (blocks, parcels, buildings, zones,\n"+
		"facilities, environment layers): the same options always give the same city.")
	parcels := fs.Int("parcels", 10000, "number of parcels (about 0.75 buildings per parcel); 1,000,000 works")
	seed := fs.Int64("seed", 1, "random seed")
	out := fs.String("out", "-", "newline-delimited GeoJSON file (.gz compresses; - for stdout)")
	database := fs.String("database", "", "write straight into this PostgreSQL/PostGIS database (also DATABASE_URL)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *parcels <= 0 {
		return fmt.Errorf("--parcels must be positive, got %d", *parcels)
	}
	if *out != "-" && *database != "" {
		// Refused rather than guessed: DATABASE_URL set in the environment for other commands
		// would otherwise send a city meant for a file into the database.
		return fmt.Errorf("--out %s and --database (or DATABASE_URL) are both set: write to one of them", *out)
	}
	opts := synthcity.Options{Parcels: *parcels, Seed: *seed}
	start := time.Now()
	if *database != "" {
		return generateIntoDatabase(ctx, opts, *database, start)
	}
	return generateToFile(opts, *out, start)
}

func generateIntoDatabase(ctx context.Context, opts synthcity.Options, database string, start time.Time) error {
	var fs []layers.Feature
	if err := synthcity.Generate(opts, func(f layers.Feature) error {
		fs = append(fs, f)
		return nil
	}); err != nil {
		return fmt.Errorf("generate: %w", err)
	}
	fmt.Fprintf(os.Stderr, "generated %d features in %.1fs\n", len(fs), time.Since(start).Seconds())
	store, closeStore, err := openImportStore(ctx, database, "")
	if err != nil {
		return err
	}
	defer closeStore()
	counts, err := store.Import(ctx, fs)
	if err != nil {
		return fmt.Errorf("import generated city: %w", err)
	}
	fmt.Printf("%d features in %.1fs\n", len(fs), time.Since(start).Seconds())
	printCounts(counts)
	return nil
}

func generateToFile(opts synthcity.Options, out string, start time.Time) error {
	var w io.Writer = os.Stdout
	var f *os.File
	if out != "-" {
		var err error
		if f, err = os.Create(out); err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	var dst io.Writer = bw
	var zw *gzip.Writer
	if strings.HasSuffix(out, ".gz") {
		zw = gzip.NewWriter(bw)
		dst = zw
	}
	gw := data.NewGeoJSONWriter(dst)
	counts := layers.Counts{}
	n := 0
	err := synthcity.Generate(opts, func(feat layers.Feature) error {
		counts[feat.Layer]++
		n++
		if n%100000 == 0 {
			fmt.Fprintf(os.Stderr, "\r  %d features", n)
		}
		return gw.Write(feat)
	})
	if err != nil {
		return fmt.Errorf("generate: %w", err)
	}
	if zw != nil {
		if err := zw.Close(); err != nil {
			return err
		}
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if f != nil {
		if err := f.Sync(); err != nil {
			return err
		}
	}
	fmt.Fprintf(os.Stderr, "\rwrote %d features in %.1fs\n", n, time.Since(start).Seconds())
	printCountsTo(os.Stderr, counts)
	return nil
}
