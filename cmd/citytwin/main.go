// Command citytwin serves a city's digital model: vector tiles of its layers from PostGIS or
// memory, and planning scenarios run on an in-memory spatial index.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string) error
}

func commands() []command {
	return []command{
		{"serve", "serve tiles, the API and the web map (demo city in memory unless --database is given)", runServe},
		{"import", "import GeoJSON, OSM PBF, Shapefile, GeoPackage, CSV or any GDAL format (and a census) into PostGIS or the data directory", runImport},
		{"generate", "write a deterministic synthetic city of any size", runGenerate},
		{"migrate", "create or update the PostGIS schema", runMigrate},
		{"export", "write a tile pyramid of layers to a PMTiles or MBTiles file", runExport},
		{"config", "check a configuration file: citytwin config check FILE", runConfig},
		{"token", "create, list or revoke bearer tokens of the planner and admin roles", runToken},
	}
}

func usage(w io.Writer) {
	fmt.Fprint(w, `citytwin — a city's digital model on the web

Usage:
  citytwin <command> [flags]

Commands:
`)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, `
Run "citytwin <command> --help" for a command's flags. Every flag can also be set with an
environment variable: CITYTWIN_<FLAG> in upper case with dashes as underscores
(e.g. CITYTWIN_ADDR, CITYTWIN_TILE_CACHE_MB); --database also reads DATABASE_URL.
`)
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "citytwin:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(os.Stdout)
		return nil
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(ctx, args[1:])
		}
	}
	usage(os.Stderr)
	return fmt.Errorf("unknown command %q", args[0])
}

// newFlagSet returns a flag set whose usage lists the flags with their environment variables.
func newFlagSet(name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: citytwin %s\n\nFlags:\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args, taking a flag's value from its environment variable
// (CITYTWIN_<NAME>) when the flag is not given on the command line.
func parseFlags(fs *flag.FlagSet, args []string) error { return parseFlagsEnv(fs, args, envValue) }

// parseFlagsEnv parses args, taking a flag's value from env when the flag is not given on the
// command line.
func parseFlagsEnv(fs *flag.FlagSet, args []string, env envLookup) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] || err != nil {
			return
		}
		if v, ok := env(f.Name); ok {
			if e := f.Value.Set(v); e != nil {
				err = fmt.Errorf("%s=%q: %w", envName(f.Name), v, e)
			}
		}
	})
	return err
}

// envValue is the value the environment gives the flag of that name: CITYTWIN_<NAME>, and for
// --database also DATABASE_URL.
func envValue(flagName string) (string, bool) {
	if v, ok := os.LookupEnv(envName(flagName)); ok {
		return v, true
	}
	if flagName == "database" {
		return os.LookupEnv("DATABASE_URL")
	}
	return "", false
}

func envName(flagName string) string {
	b := []byte("CITYTWIN_" + flagName)
	for i, c := range b {
		switch {
		case c == '-':
			b[i] = '_'
		case c >= 'a' && c <= 'z':
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

// newLogger returns the process's structured logger.
func newLogger(format string, w io.Writer) (*slog.Logger, error) {
	switch format {
	case "json":
		return slog.New(slog.NewJSONHandler(w, nil)), nil
	case "text":
		return slog.New(slog.NewTextHandler(w, nil)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want json or text", format)
}
