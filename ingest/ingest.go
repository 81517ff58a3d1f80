// Package ingest imports a city's own GIS files into catalog layers: Shapefiles (loose or
// zipped, with .prj and .cpg), GeoPackages, CSV files with WKT or coordinate columns, and
// every other format GDAL reads (through ogr2ogr). Attributes are decoded from the file's
// encoding and mapped to catalog fields by a TOML mapping; geometry is reprojected to WGS 84
// by PROJ; every feature is checked with the catalog's own rules (layers.Normalize,
// layers.CheckGeometry). A Report says what was read, how, and what was repaired or
// rejected; a dry run is a Read whose features are dropped.
package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"

	"github.com/paulmach/orb"

	"github.com/citytwin/citytwin/layers"
)

// ErrTooManyErrors is returned when more features are rejected than Options.MaxErrors allows.
var ErrTooManyErrors = errors.New("too many rejected features")

// ErrGeometryType marks a source whose geometry type the target layer cannot hold.
var ErrGeometryType = errors.New("wrong geometry type")

// Options control an import.
type Options struct {
	OpenOptions
	// Mapping maps source tables to layers; nil: each source goes to Layer (or to the layer
	// named like it) and fields named like catalog fields map to themselves.
	Mapping *Mapping
	// Layer is the target layer of every source when there is no mapping.
	Layer string
	// SRID is the source CRS (EPSG code), over the file's own (.prj, GeoPackage).
	SRID int
	// Extent, when set, rejects features whose WGS 84 bounds do not meet it.
	Extent *orb.Bound
	// MaxErrors is how many features may be rejected before the import fails (0: none).
	MaxErrors int
	// Rejects receives the rejected features as a GeoJSON FeatureCollection: their source
	// attributes, WGS 84 geometry when it could be reprojected, and _source, _index and
	// _reason properties.
	Rejects io.Writer
	// CommaBelow writes Ş, ş, Ţ, ţ (cedilla, all that code page 1250 has) as the Romanian
	// comma-below letters Ș, ș, Ț, ț.
	CommaBelow bool
	// Progress, when set, is called from Read's goroutine after every batch of records:
	// the source, the records read of it, and how many it announced (0: unknown).
	Progress func(source string, read, records int)
}

// Report says what an import read and what became of it.
type Report struct {
	File     string
	Sources  []*SourceReport
	Layers   map[string]int // features accepted per layer
	Read     int
	Accepted int
	Rejected int
	// Rejects lists the first MaxListedRejects rejected features.
	Rejects   []Reject
	MaxErrors int
}

// MaxListedRejects bounds Report.Rejects; Options.Rejects receives them all.
const MaxListedRejects = 1000

// SourceReport describes one source table.
type SourceReport struct {
	Name, Format, Encoding, Geometry string
	CRS                              string
	Layer                            string // target layer; "" when the source was skipped
	Skipped                          string // why the source was not imported
	Notes                            []string
	Read, Accepted, Rejected         int
	Records                          int // announced by the source; 0: unknown
	Mapped                           []FieldMapping
	Unmapped                         []string       // source fields no rule uses
	Ignored                          []string       // source fields the mapping leaves out on purpose
	OutOfRange                       map[string]int // catalog field → values outside its range or list
	OutsideExtent                    int
	Repairs                          map[string]int // repair rule → features repaired
	Rejections                       map[string]int // kind (geometry, value, id, join, extent) → features
}

// Reject is a feature left out, and why.
type Reject struct {
	Source string
	Index  int   // 0-based position in the source
	ID     int64 // the feature id it would have had; 0 when unknown
	Kind   string
	Reason string
}

// Import reads every feature of a file, all or nothing: when more features are rejected
// than opt.MaxErrors allows, or the file cannot be read, no feature is returned. The report
// is returned whenever reading started, with the error.
func Import(ctx context.Context, path string, opt Options) ([]layers.Feature, *Report, error) {
	var out []layers.Feature
	rep, err := Read(ctx, path, opt, func(f layers.Feature) error {
		out = append(out, f)
		return nil
	})
	if err != nil {
		return nil, rep, err
	}
	return out, rep, nil
}

// Read streams the accepted features of a file to fn, in source order. It stops at the
// first error: a file that cannot be read, a mapping that does not fit, more rejects than
// opt.MaxErrors, or fn's own error.
func Read(ctx context.Context, path string, opt Options, fn func(layers.Feature) error) (*Report, error) {
	rep := &Report{File: path, Layers: map[string]int{}, MaxErrors: opt.MaxErrors}
	if opt.Mapping != nil && opt.Encoding == "" {
		opt.Encoding = opt.Mapping.Encoding
	}
	srcs, closeAll, err := Open(path, opt.OpenOptions)
	if err != nil {
		return rep, err
	}
	defer closeAll()
	var rw *rejectWriter
	if opt.Rejects != nil {
		rw = newRejectWriter(opt.Rejects)
	}
	im := &importer{opt: opt, rep: rep, fn: fn, rejects: rw, ids: map[string]map[int64]int{}}
	for _, s := range srcs {
		if err := im.source(ctx, s); err != nil {
			if rw != nil {
				rw.close()
			}
			return rep, err
		}
	}
	if rw != nil {
		if err := rw.close(); err != nil {
			return rep, fmt.Errorf("write rejects: %w", err)
		}
	}
	if rep.Accepted == 0 && rep.Rejected == 0 {
		for _, s := range rep.Sources {
			if s.Layer != "" {
				return rep, nil
			}
		}
		return rep, fmt.Errorf("%w: %s: no source table was mapped to a layer (%s)", ErrMapping, path, skippedReasons(rep))
	}
	return rep, nil
}

func skippedReasons(rep *Report) string {
	var out []string
	for _, s := range rep.Sources {
		out = append(out, s.Name+": "+s.Skipped)
	}
	return strings.Join(out, "; ")
}

type importer struct {
	opt     Options
	rep     *Report
	fn      func(layers.Feature) error
	rejects *rejectWriter
	ids     map[string]map[int64]int // layer → id → source index that has it
}

// sourceMapping finds the mapping section of a source: the one naming it, else one
// without a name.
func (im *importer) sourceMapping(name string) *SourceMapping {
	var any *SourceMapping
	for i := range im.opt.Mapping.Sources {
		sm := &im.opt.Mapping.Sources[i]
		if sm.Name == name {
			return sm
		}
		if sm.Name == "" && any == nil {
			any = sm
		}
	}
	return any
}

func (im *importer) source(ctx context.Context, s Source) error {
	info := s.Info()
	sr := &SourceReport{
		Name: info.Name, Format: info.Format, Encoding: info.Encoding, Geometry: info.Geometry, Records: info.Records,
		OutOfRange: map[string]int{}, Repairs: map[string]int{}, Rejections: map[string]int{},
	}
	im.rep.Sources = append(im.rep.Sources, sr)
	what := fmt.Sprintf("%s (%s)", info.Name, info.Format)

	// The layer, and the plan of fields.
	var p *plan
	srid := im.opt.SRID
	switch {
	case im.opt.Mapping != nil:
		sm := im.sourceMapping(info.Name)
		if sm == nil {
			sr.Skipped = "no [[source]] of the mapping names it"
			return nil
		}
		l, err := layers.Lookup(sm.Layer)
		if err != nil {
			return fmt.Errorf("%w: %v", ErrMapping, err)
		}
		if err := checkGeometryType(info, l); err != nil {
			return err
		}
		if p, err = compile(sm, info, l); err != nil {
			return err
		}
		if srid == 0 {
			srid = sm.SRID
		}
		if srid == 0 {
			srid = im.opt.Mapping.SRID
		}
		sr.Ignored = p.ignored
	default:
		name := im.opt.Layer
		if name == "" {
			name = info.Name
		}
		l, err := layers.Lookup(name)
		if err != nil {
			if im.opt.Layer == "" {
				return fmt.Errorf("%w: %s: no mapping, and the source is not named like a layer: pass --layer or a mapping (%v)", ErrMapping, info.Name, err)
			}
			return fmt.Errorf("%w: %v", ErrMapping, err)
		}
		if err := checkGeometryType(info, l); err != nil {
			return err
		}
		p = identityPlan(info, l)
	}
	sr.Layer, sr.Mapped, sr.Unmapped = p.layer.Name, p.mapped, p.unmapped

	tr, note, err := newTransformer(info.crs, srid, what)
	if err != nil {
		return err
	}
	sr.CRS = tr.name
	if note != "" {
		sr.Notes = append(sr.Notes, note)
	}
	return im.stream(ctx, s, p, tr, sr)
}

// checkGeometryType refuses, before reading, a source whose declared geometry the layer
// cannot hold.
func checkGeometryType(info SourceInfo, l *layers.Layer) error {
	ok := info.Geometry == "Geometry"
	switch l.Geometry {
	case layers.Point:
		ok = ok || info.Geometry == "Point" || info.Geometry == "MultiPoint"
	case layers.LineString:
		ok = ok || info.Geometry == "LineString" || info.Geometry == "MultiLineString"
	case layers.Polygon:
		ok = ok || info.Geometry == "Polygon" || info.Geometry == "MultiPolygon"
	}
	if !ok {
		return fmt.Errorf("%w: %s holds %s geometries; layer %s holds %ss", ErrGeometryType, info.Name, info.Geometry, l.Name, l.Geometry)
	}
	return nil
}

func featureID(v any) (int64, error) {
	switch x := v.(type) {
	case int64:
		return x, nil
	case float64:
		if x == math.Trunc(x) && math.Abs(x) <= 1<<53 {
			return int64(x), nil
		}
	case string:
		var n int64
		if _, err := fmt.Sscan(strings.TrimSpace(x), &n); err == nil {
			return n, nil
		}
	case nil:
		return 0, fmt.Errorf("empty")
	}
	return 0, fmt.Errorf("%v is not a whole number", v)
}

// Summary lists the layers a report filled, in name order, for one line of output.
func (r *Report) Summary() string {
	var parts []string
	for _, l := range sortedKeys(r.Layers) {
		parts = append(parts, fmt.Sprintf("%s %d", l, r.Layers[l]))
	}
	sort.Strings(parts)
	return fmt.Sprintf("%s: read %d, accepted %d (%s), rejected %d", r.File, r.Read, r.Accepted, strings.Join(parts, ", "), r.Rejected)
}
