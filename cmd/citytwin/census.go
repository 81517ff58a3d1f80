package main

import (
	"context"
	"fmt"
	"io"

	"github.com/citytwin/citytwin/data"
	"github.com/citytwin/citytwin/layers"
	"github.com/citytwin/citytwin/scenarios"
)

// censusUsage documents import's --census flag.
const censusUsage = "a census CSV to store beside the layers, replacing any before: columns district (a district's " +
	"code or name, * for the whole city; also headed code or name), population, and optionally dwellings, households, " +
	"year, source (docs/domain.md, \"Census calibration\")"

// importCensus reads a census CSV and stores it in store, replacing the census there.
func importCensus(ctx context.Context, store layers.Store, path string, out io.Writer) error {
	cs, ok := store.(layers.CensusStore)
	if !ok {
		return fmt.Errorf("import census %s: this store keeps no census", path)
	}
	c, err := data.ReadCensusFile(path)
	if err != nil {
		return fmt.Errorf("import census: %w", err)
	}
	if err := cs.ImportCensus(ctx, c); err != nil {
		return fmt.Errorf("import census %s: %w (the census before is kept)", path, err)
	}
	var total int64
	for _, r := range c.Rows {
		if r.District != layers.CityTotal {
			total += r.Population
		}
	}
	fmt.Fprintf(out, "%s: census of %d rows stored (districts listed: %d residents)\n", path, len(c.Rows), total)
	for _, r := range c.Rows {
		if r.District == layers.CityTotal {
			fmt.Fprintf(out, "  city total: %d residents\n", r.Population)
		}
	}
	return nil
}

// calibrateToCensus has the engine read the census of the store the server runs on (the
// imported one, or the demo city's while the demo city is served).
func calibrateToCensus(engine *scenarios.Engine, store layers.Store) {
	if cs, ok := store.(scenarios.CensusSource); ok {
		engine.Census = cs
	}
}
