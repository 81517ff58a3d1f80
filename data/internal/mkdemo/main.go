// Command mkdemo converts an OpenStreetMap PBF extract into the embedded demo city of package
// data: gzip-compressed newline-delimited GeoJSON made by data.ReadOSM and data.WriteGeoJSON.
// Run it through go generate in the data directory.
package main

import (
	"bufio"
	"compress/gzip"
	"flag"
	"fmt"
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
	fs, err := data.ReadFile(in)
	if err != nil {
		return err
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	defer f.Close()
	bw := bufio.NewWriter(f)
	zw, err := gzip.NewWriterLevel(bw, gzip.BestCompression)
	if err != nil {
		return err
	}
	if err := data.WriteGeoJSON(zw, fs); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
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
	return f.Sync()
}
