package ingest

// Geometry decoders for the forms sources carry: WKB (in GeoPackage blobs) and WKT (in CSV
// columns), both with Z and M dimensions, which are dropped. orb's own decoders read only
// two dimensions.

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/paulmach/orb"
)

type wkbReader struct {
	b     []byte
	order binary.ByteOrder
}

// decodeWKB reads ISO or extended (PostGIS) WKB; Z and M are read and dropped.
func decodeWKB(b []byte) (orb.Geometry, error) {
	r := &wkbReader{b: b}
	g, err := r.geometry(0)
	if err != nil {
		return nil, fmt.Errorf("WKB: %w", err)
	}
	return g, nil
}

func (r *wkbReader) u32() (uint32, error) {
	if len(r.b) < 4 {
		return 0, fmt.Errorf("truncated")
	}
	v := r.order.Uint32(r.b)
	r.b = r.b[4:]
	return v, nil
}

func (r *wkbReader) geometry(depth int) (orb.Geometry, error) {
	if depth > 8 {
		return nil, fmt.Errorf("collections nested too deep")
	}
	if len(r.b) < 5 {
		return nil, fmt.Errorf("truncated")
	}
	switch r.b[0] {
	case 0:
		r.order = binary.BigEndian
	case 1:
		r.order = binary.LittleEndian
	default:
		return nil, fmt.Errorf("bad byte order %d", r.b[0])
	}
	r.b = r.b[1:]
	t, _ := r.u32()
	dims := 2
	if t&0x80000000 != 0 { // EWKB Z
		dims++
	}
	if t&0x40000000 != 0 { // EWKB M
		dims++
	}
	if t&0x20000000 != 0 { // EWKB SRID
		if _, err := r.u32(); err != nil {
			return nil, err
		}
	}
	t &= 0x0fffffff
	switch t / 1000 {
	case 1, 2:
		dims++
	case 3:
		dims += 2
	}
	t %= 1000
	switch t {
	case 1:
		p, err := r.points(dims, 1)
		if err != nil {
			return nil, err
		}
		return p[0], nil
	case 2:
		n, err := r.u32()
		if err != nil {
			return nil, err
		}
		p, err := r.points(dims, int(n))
		return orb.LineString(p), err
	case 3:
		return r.polygon(dims)
	case 4, 5, 6, 7:
		n, err := r.u32()
		if err != nil {
			return nil, err
		}
		if int(n) > len(r.b)/5 {
			return nil, fmt.Errorf("%d members do not fit", n)
		}
		var mp orb.MultiPoint
		var ml orb.MultiLineString
		var mpoly orb.MultiPolygon
		var coll orb.Collection
		for range n {
			g, err := r.geometry(depth + 1)
			if err != nil {
				return nil, err
			}
			switch m := g.(type) {
			case orb.Point:
				mp = append(mp, m)
			case orb.LineString:
				ml = append(ml, m)
			case orb.Polygon:
				mpoly = append(mpoly, m)
			}
			coll = append(coll, g)
		}
		switch t {
		case 4:
			return mp, nil
		case 5:
			return ml, nil
		case 6:
			return mpoly, nil
		}
		return coll, nil
	}
	return nil, fmt.Errorf("geometry type %d is not supported", t)
}

func (r *wkbReader) points(dims, n int) ([]orb.Point, error) {
	if n < 0 || n > len(r.b)/(8*dims) {
		return nil, fmt.Errorf("%d points do not fit", n)
	}
	pts := make([]orb.Point, n)
	for i := range pts {
		pts[i] = orb.Point{
			math.Float64frombits(r.order.Uint64(r.b)),
			math.Float64frombits(r.order.Uint64(r.b[8:])),
		}
		r.b = r.b[8*dims:]
	}
	return pts, nil
}

func (r *wkbReader) polygon(dims int) (orb.Polygon, error) {
	n, err := r.u32()
	if err != nil {
		return nil, err
	}
	if int(n) > len(r.b)/4 {
		return nil, fmt.Errorf("%d rings do not fit", n)
	}
	p := make(orb.Polygon, n)
	for i := range p {
		k, err := r.u32()
		if err != nil {
			return nil, err
		}
		pts, err := r.points(dims, int(k))
		if err != nil {
			return nil, err
		}
		p[i] = pts
	}
	return p, nil
}

// wktParser reads WKT and EWKT ("SRID=3844;POLYGON((...))"): 2D, Z, M and ZM, EMPTY.
type wktParser struct {
	s   string
	pos int
}

// decodeWKT returns the geometry and the SRID of an EWKT prefix (0 without one).
func decodeWKT(s string) (orb.Geometry, int, error) {
	srid := 0
	s = strings.TrimSpace(s)
	if head, rest, ok := strings.Cut(s, ";"); ok && strings.HasPrefix(strings.ToUpper(head), "SRID=") {
		n, err := strconv.Atoi(head[5:])
		if err != nil {
			return nil, 0, fmt.Errorf("WKT: bad SRID %q", head)
		}
		srid, s = n, rest
	}
	p := &wktParser{s: s}
	g, err := p.geometry(0)
	if err == nil {
		p.space()
		if p.pos != len(p.s) {
			err = fmt.Errorf("unexpected %q", p.rest())
		}
	}
	if err != nil {
		return nil, 0, fmt.Errorf("WKT: %w", err)
	}
	return g, srid, nil
}

func (p *wktParser) rest() string {
	r := p.s[p.pos:]
	if len(r) > 20 {
		r = r[:20] + "..."
	}
	return r
}

func (p *wktParser) space() {
	for p.pos < len(p.s) && (p.s[p.pos] == ' ' || p.s[p.pos] == '\t' || p.s[p.pos] == '\n' || p.s[p.pos] == '\r') {
		p.pos++
	}
}

func (p *wktParser) word() string {
	p.space()
	start := p.pos
	for p.pos < len(p.s) && (p.s[p.pos] >= 'A' && p.s[p.pos] <= 'Z' || p.s[p.pos] >= 'a' && p.s[p.pos] <= 'z') {
		p.pos++
	}
	return strings.ToUpper(p.s[start:p.pos])
}

func (p *wktParser) expect(c byte) error {
	p.space()
	if p.pos >= len(p.s) || p.s[p.pos] != c {
		return fmt.Errorf("want %q at %q", c, p.rest())
	}
	p.pos++
	return nil
}

func (p *wktParser) peek(c byte) bool {
	p.space()
	return p.pos < len(p.s) && p.s[p.pos] == c
}

// empty reads an EMPTY keyword when there is one.
func (p *wktParser) empty() bool {
	save := p.pos
	if p.word() == "EMPTY" {
		return true
	}
	p.pos = save
	return false
}

func (p *wktParser) geometry(depth int) (orb.Geometry, error) {
	if depth > 8 {
		return nil, fmt.Errorf("collections nested too deep")
	}
	typ := p.word()
	save := p.pos
	if m := p.word(); m != "Z" && m != "M" && m != "ZM" {
		p.pos = save
	}
	if p.empty() {
		switch typ {
		case "POINT":
			return nil, nil
		case "POLYGON":
			return orb.Polygon{}, nil
		case "MULTIPOLYGON":
			return orb.MultiPolygon{}, nil
		}
		return orb.Collection{}, nil
	}
	switch typ {
	case "POINT":
		if err := p.expect('('); err != nil {
			return nil, err
		}
		pt, err := p.point()
		if err != nil {
			return nil, err
		}
		return pt, p.expect(')')
	case "LINESTRING":
		pts, err := p.points()
		return orb.LineString(pts), err
	case "POLYGON":
		return p.polygon()
	case "MULTIPOINT":
		if err := p.expect('('); err != nil {
			return nil, err
		}
		var mp orb.MultiPoint
		for {
			paren := p.peek('(')
			if paren {
				p.pos++
			}
			pt, err := p.point()
			if err != nil {
				return nil, err
			}
			if paren {
				if err := p.expect(')'); err != nil {
					return nil, err
				}
			}
			mp = append(mp, pt)
			if !p.peek(',') {
				break
			}
			p.pos++
		}
		return mp, p.expect(')')
	case "MULTILINESTRING":
		var ml orb.MultiLineString
		err := p.list(func() error {
			pts, err := p.points()
			ml = append(ml, pts)
			return err
		})
		return ml, err
	case "MULTIPOLYGON":
		var mp orb.MultiPolygon
		err := p.list(func() error {
			poly, err := p.polygon()
			mp = append(mp, poly)
			return err
		})
		return mp, err
	case "GEOMETRYCOLLECTION":
		var c orb.Collection
		err := p.list(func() error {
			g, err := p.geometry(depth + 1)
			c = append(c, g)
			return err
		})
		return c, err
	}
	return nil, fmt.Errorf("unknown geometry type %q", typ)
}

func (p *wktParser) list(item func() error) error {
	if err := p.expect('('); err != nil {
		return err
	}
	for {
		if err := item(); err != nil {
			return err
		}
		if !p.peek(',') {
			break
		}
		p.pos++
	}
	return p.expect(')')
}

func (p *wktParser) number() (float64, error) {
	p.space()
	start := p.pos
	for p.pos < len(p.s) && strings.IndexByte("0123456789+-.eE", p.s[p.pos]) >= 0 {
		p.pos++
	}
	x, err := strconv.ParseFloat(p.s[start:p.pos], 64)
	if err != nil {
		return 0, fmt.Errorf("want a number at %q", p.s[start:min(len(p.s), start+20)])
	}
	return x, nil
}

// point reads x y and drops any further ordinates (z, m).
func (p *wktParser) point() (orb.Point, error) {
	x, err := p.number()
	if err != nil {
		return orb.Point{}, err
	}
	y, err := p.number()
	if err != nil {
		return orb.Point{}, err
	}
	for {
		p.space()
		if p.pos >= len(p.s) || p.s[p.pos] == ',' || p.s[p.pos] == ')' {
			return orb.Point{x, y}, nil
		}
		if _, err := p.number(); err != nil {
			return orb.Point{}, err
		}
	}
}

func (p *wktParser) points() ([]orb.Point, error) {
	var pts []orb.Point
	err := p.list(func() error {
		pt, err := p.point()
		pts = append(pts, pt)
		return err
	})
	return pts, err
}

func (p *wktParser) polygon() (orb.Polygon, error) {
	var poly orb.Polygon
	err := p.list(func() error {
		pts, err := p.points()
		poly = append(poly, pts)
		return err
	})
	return poly, err
}
