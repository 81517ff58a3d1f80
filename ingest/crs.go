package ingest

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unsafe"

	"github.com/paulmach/orb"
	"github.com/twpayne/go-proj/v11"
)

// ErrCRS marks a source whose coordinate reference system is missing, unknown to PROJ, or
// has no datum transformation to WGS 84.
var ErrCRS = errors.New("coordinate reference system")

// replacedBy maps deprecated EPSG codes still found in cities' files to the code EPSG
// replaced them with (PROJ's proj.db, table deprecation). EPSG:31700 "Dealul Piscului 1970 /
// Stereo 70" has no transformation to WGS 84 — PROJ would only offer a ballpark one, 100 m
// off — because its datum was found to be Pulkovo 1942(58): EPSG:3844.
var replacedBy = map[int]int{31700: 3844}

// transformer reprojects a source's coordinates to WGS 84 longitude/latitude with PROJ.
type transformer struct {
	pj       *proj.PJ
	identity bool   // source already lon/lat WGS 84: coordinates are left as they are
	name     string // the CRS as reported: "EPSG:3844 (Pulkovo 1942(58) / Stereo70)"
	def      string // the CRS as given to PROJ
}

// crsSource names where a source's CRS came from, for messages.
type crsSource struct {
	def  string // "EPSG:n", a WKT, or "" when the source has none
	from string // ".prj", "gpkg_spatial_ref_sys", "--srid", ...
}

// newTransformer resolves the CRS of a source: an explicit SRID wins over the source's own
// definition; neither is an error that asks for --srid.
func newTransformer(src crsSource, srid int, what string) (*transformer, string, error) {
	def, from := src.def, src.from
	note := ""
	if srid > 0 {
		def, from = "EPSG:"+strconv.Itoa(srid), "--srid"
	}
	if def == "" {
		return nil, "", fmt.Errorf("%w: %s has no coordinate reference system (%s); pass --srid, e.g. --srid 3844 for Stereo 70", ErrCRS, what, src.from)
	}
	if code, ok := epsgCode(def); ok {
		if to, ok := replacedBy[code]; ok {
			note = fmt.Sprintf("EPSG:%d is deprecated; read as EPSG:%d, its replacement", code, to)
			def = "EPSG:" + strconv.Itoa(to)
		}
	}
	crs, err := proj.New(def)
	if err != nil || !crs.IsCRS() {
		return nil, "", fmt.Errorf("%w: %s: PROJ does not know the CRS %s from %s: %v", ErrCRS, what, shorten(def), from, err)
	}
	name := crs.Info().Description
	if strings.HasPrefix(def, "EPSG:") {
		name = def + " (" + name + ")"
	}
	name += " from " + from
	if isWGS84(def) {
		return &transformer{identity: true, name: name, def: def}, note, nil
	}
	t := &transformer{name: name, def: def}
	if err := t.create(proj.NewContext()); err != nil {
		return nil, "", fmt.Errorf("%w: %s: %v", ErrCRS, what, err)
	}
	return t, note, nil
}

// create makes the PROJ transformation in a context of its own: a context serialises the
// calls made through it, so each goroutine transforming coordinates has one.
func (t *transformer) create(ctx *proj.Context) error {
	pj, err := ctx.NewCRSToCRS(t.def, "EPSG:4326", nil)
	if err != nil {
		return fmt.Errorf("no transformation from %s to WGS 84: %v", t.name, err)
	}
	if pj.HasBallparkTransformation() {
		return fmt.Errorf("PROJ knows no datum transformation from %s to WGS 84 (only a ballpark one, up to 100 m off); name the CRS with --srid (EPSG:3844 for Stereo 70)", t.name)
	}
	if t.pj, err = pj.NormalizeForVisualization(); err != nil {
		return err
	}
	return nil
}

// clone returns a transformer of the same CRS for another goroutine.
func (t *transformer) clone() (*transformer, error) {
	c := &transformer{identity: t.identity, name: t.name, def: t.def}
	if t.identity {
		return c, nil
	}
	return c, c.create(proj.NewContext())
}

// epsgCode reads "EPSG:n".
func epsgCode(def string) (int, bool) {
	s, ok := strings.CutPrefix(strings.ToUpper(def), "EPSG:")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}

func isWGS84(def string) bool {
	switch strings.ToUpper(def) {
	case "EPSG:4326", "OGC:CRS84", "CRS84":
		return true
	}
	return false
}

func shorten(s string) string {
	if len(s) > 80 {
		return s[:77] + "..."
	}
	return s
}

// transform reprojects g in place, one PROJ call per ring or line; a coordinate PROJ cannot
// transform is an error.
func (t *transformer) transform(g orb.Geometry) error {
	if t.identity {
		return nil
	}
	switch g := g.(type) {
	case orb.Point:
		return fmt.Errorf("internal: points are transformed with transformPoint")
	case orb.MultiPoint:
		return t.points(g)
	case orb.LineString:
		return t.points(g)
	case orb.MultiLineString:
		for _, l := range g {
			if err := t.points(l); err != nil {
				return err
			}
		}
	case orb.Polygon:
		for _, r := range g {
			if err := t.points(r); err != nil {
				return err
			}
		}
	case orb.MultiPolygon:
		for _, p := range g {
			for _, r := range p {
				if err := t.points(r); err != nil {
					return err
				}
			}
		}
	case orb.Collection:
		for i, m := range g {
			if p, ok := m.(orb.Point); ok {
				q, err := t.transformPoint(p)
				if err != nil {
					return err
				}
				g[i] = q
				continue
			}
			if err := t.transform(m); err != nil {
				return err
			}
		}
	}
	return nil
}

func (t *transformer) transformPoint(p orb.Point) (orb.Point, error) {
	if t.identity {
		return p, nil
	}
	ps := []orb.Point{p}
	err := t.points(ps)
	return ps[0], err
}

// points transforms a slice of orb.Point ([2]float64, laid out as flat x, y pairs) in place.
func (t *transformer) points(ps []orb.Point) error {
	if len(ps) == 0 {
		return nil
	}
	flat := unsafe.Slice(&ps[0][0], 2*len(ps))
	if err := t.pj.TransFlatCoords(proj.DirectionFwd, flat, 2, -1, -1); err != nil {
		return fmt.Errorf("reprojection: %w", err)
	}
	for _, p := range ps {
		if math.IsInf(p[0], 0) || math.IsInf(p[1], 0) {
			return fmt.Errorf("reprojection: (%g, %g) is outside the CRS's domain", p[0], p[1])
		}
	}
	return nil
}
