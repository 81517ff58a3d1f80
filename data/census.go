package data

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/citytwin/citytwin/internal/atomicfile"
	"github.com/citytwin/citytwin/layers"
)

// The census of the demo city: Monaco's resident population at the 2016 census (IMSEE,
// Monaco census 2016; see demo/LICENSE.md), one city-total row.
//
//go:embed demo/monaco-census.csv
var demoCensusCSV []byte

// DemoCensus returns the census of the embedded demo city.
func DemoCensus() (*layers.Census, error) {
	c, err := ReadCensusCSV(bytes.NewReader(demoCensusCSV))
	if err != nil {
		return nil, fmt.Errorf("demo census: %w", err)
	}
	return c, nil
}

// Census CSV columns (docs/domain.md, "Census calibration"): the header names them, in any order,
// case-insensitive. district (also accepted as code or name) and population are required.
var censusColumns = []string{"district", "population", "dwellings", "households", "year", "source"}

// MaxCensusRows bounds a census file.
const MaxCensusRows = 100000

// ReadCensusCSV reads a census table: a header row, then one row per district with its code
// or name (or "*" for the whole city) and its population, optionally its dwellings,
// households, the census year and the source. Empty optional cells are "not given". A
// district named twice, a negative or fractional count, or an unknown column is an error
// naming the line.
func ReadCensusCSV(r io.Reader) (*layers.Census, error) {
	cr := csv.NewReader(r)
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("census header: %w", err)
	}
	col := map[string]int{}
	for i, h := range header {
		name := strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		if name == "code" || name == "name" {
			name = "district"
		}
		if !slices.Contains(censusColumns, name) {
			return nil, fmt.Errorf("census header: unknown column %q (known: %s; code or name stand for district)", h, strings.Join(censusColumns, ", "))
		}
		if _, dup := col[name]; dup {
			return nil, fmt.Errorf("census header: column %q given twice", name)
		}
		col[name] = i
	}
	for _, need := range []string{"district", "population"} {
		if _, ok := col[need]; !ok {
			return nil, fmt.Errorf("census header: missing column %q", need)
		}
	}
	c := &layers.Census{}
	seen := map[string]int{}
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("census: %w", err)
		}
		if len(c.Rows) >= MaxCensusRows {
			return nil, fmt.Errorf("census: more than %d rows", MaxCensusRows)
		}
		cell := func(name string) string {
			if i, ok := col[name]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		row := layers.CensusRow{District: cell("district"), Source: cell("source")}
		if row.District == "" {
			return nil, fmt.Errorf("census line %d: district: empty", line)
		}
		key := strings.ToLower(row.District)
		if prev, dup := seen[key]; dup {
			return nil, fmt.Errorf("census line %d: district %q already given on line %d", line, row.District, prev)
		}
		seen[key] = line
		if row.Population, err = censusCount(cell("population")); err != nil {
			return nil, fmt.Errorf("census line %d: population: %w", line, err)
		}
		for _, opt := range []struct {
			name string
			dst  **int64
		}{{"dwellings", &row.Dwellings}, {"households", &row.Households}} {
			if s := cell(opt.name); s != "" {
				n, err := censusCount(s)
				if err != nil {
					return nil, fmt.Errorf("census line %d: %s: %w", line, opt.name, err)
				}
				*opt.dst = &n
			}
		}
		if s := cell("year"); s != "" {
			y, err := strconv.Atoi(s)
			if err != nil || y < 1800 || y > 2200 {
				return nil, fmt.Errorf("census line %d: year: %q is not a year", line, s)
			}
			row.Year = y
		}
		c.Rows = append(c.Rows, row)
	}
	if len(c.Rows) == 0 {
		return nil, errors.New("census: no rows")
	}
	return c, nil
}

// censusCount reads a whole, non-negative count ("38350", "38 350" and "38,350" too).
func censusCount(s string) (int64, error) {
	clean := strings.NewReplacer(" ", "", "\u00a0", "", "\u202f", "", ",", "", "_", "").Replace(s)
	if clean == "" {
		return 0, errors.New("empty")
	}
	n, err := strconv.ParseInt(clean, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not a whole number of at least 0", s)
	}
	return n, nil
}

// WriteCensusCSV writes a census in the form ReadCensusCSV reads.
func WriteCensusCSV(w io.Writer, c *layers.Census) error {
	cw := csv.NewWriter(w)
	_ = cw.Write(censusColumns)
	opt := func(p *int64) string {
		if p == nil {
			return ""
		}
		return strconv.FormatInt(*p, 10)
	}
	for _, r := range c.Rows {
		year := ""
		if r.Year != 0 {
			year = strconv.Itoa(r.Year)
		}
		_ = cw.Write([]string{r.District, strconv.FormatInt(r.Population, 10), opt(r.Dwellings), opt(r.Households), year, r.Source})
	}
	cw.Flush()
	return cw.Error()
}

// ReadCensusFile reads a census CSV file.
func ReadCensusFile(path string) (*layers.Census, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	c, err := ReadCensusCSV(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

func (s *FileStore) censusPath() string { return filepath.Join(s.Dir, "census.csv") }

// Census implements layers.CensusStore: the census imported into the data directory
// (census.csv beside layers.ndjson); with none there, the demo city's census while the
// demo city is served, else nil.
func (s *FileStore) Census(ctx context.Context) (*layers.Census, error) {
	c, err := ReadCensusFile(s.censusPath())
	if err == nil || !errors.Is(err, os.ErrNotExist) {
		return c, err
	}
	if _, err := os.Stat(s.path()); errors.Is(err, os.ErrNotExist) {
		return DemoCensus()
	}
	return nil, nil
}

// ImportCensus implements layers.CensusStore: census.csv is replaced (written beside the old
// one, synced and renamed over it).
func (s *FileStore) ImportCensus(ctx context.Context, c *layers.Census) error {
	if err := atomicfile.Write(s.censusPath(), func(w io.Writer) error { return WriteCensusCSV(w, c) }); err != nil {
		return fmt.Errorf("write %s: %w", s.censusPath(), err)
	}
	return nil
}
