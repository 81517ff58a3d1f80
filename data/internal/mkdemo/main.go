// Command mkdemo converts an OpenStreetMap PBF extract into the embedded demo city of package
// data: gzip-compressed newline-delimited GeoJSON made by data.ReadOSM and data.WriteGeoJSON
// (its streets are a layer like the others).
// Run it through go generate in the data directory.
package main

import (
	"bufio"
	"compress/gzip"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"

	"github.com/citytwin/citytwin/data"
)

func main() {
	in := flag.String("in", "", "OpenStreetMap PBF extract")
	out := flag.String("out", "demo/monaco.ndjson.gz", "gzip-compressed newline-delimited GeoJSON to write")
	flag.Parse()
	if err := run(*in, *out); err != nil {
		fmt.Fprintln(os.Stderr, "mkdemo:", err)
		os.Exit(1)
	}
}

func run(in, out string) error {
	pbf, err := os.Open(in)
	if err != nil {
		return err
	}
	defer pbf.Close()
	fs, err := data.ReadOSM(pbf)
	if err != nil {
		return err
	}
	if err := writeGzip(out, func(w io.Writer) error { return data.WriteGeoJSON(w, fs) }); err != nil {
		return err
	}
	counts := map[string]int{}
	for _, feat := range fs {
		counts[feat.Layer]++
	}
	names := make([]string, 0, len(counts))
	for n := range counts {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Printf("%-13s %6d\n", n, counts[n])
	}
	return nil
}

// writeGzip writes a file compressed at the best level through write, synced before it returns.
func writeGzip(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	bw := bufio.NewWriter(f)
	zw, err := gzip.NewWriterLevel(bw, gzip.BestCompression)
	if err != nil {
		return err
	}
	if err := write(zw); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := zw.Close(); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	return f.Sync()
}
