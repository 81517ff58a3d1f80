package data

import (
	"math"
	"sort"

	"github.com/paulmach/orb"

	"github.com/citytwin/citytwin/layers"
	"github.com/citytwin/citytwin/spatial"
)

// overlapSliverM2 is the overlap two parcels may have without it being reported: what
// rounding coordinates to 1e-7 degrees (about 1 cm) leaves along a shared edge.
const overlapSliverM2 = 1.0

// ParcelOverlap is a pair of parcels whose areas overlap: a data issue of a cadastre, since
// land belongs to one parcel.
type ParcelOverlap struct {
	A, B   int64   // parcel ids, A < B
	AreaM2 float64 // area of the overlap
}

// ParcelOverlaps lists the pairs of parcels among fs that overlap by more than
// overlapSliverM2, in id order. The import reports them (an imported cadastre is never
// corrected: its parcels are kept as they are); the modelled parcels never overlap.
func ParcelOverlaps(fs []layers.Feature) []ParcelOverlap {
	var parcels []layers.Feature
	for _, f := range fs {
		if f.Layer == "parcels" {
			parcels = append(parcels, f)
		}
	}
	if len(parcels) == 0 {
		return nil
	}
	var b orb.Bound
	for i, f := range parcels {
		if i == 0 {
			b = f.Geometry.Bound()
		} else {
			b = b.Union(f.Geometry.Bound())
		}
	}
	ix := spatial.NewIndex("parcels", spatial.NewProjection(b.Center()))
	for i := range parcels {
		ix.Insert(&parcels[i])
	}
	var out []ParcelOverlap
	for _, it := range ix.Items() {
		ix.Search(it.Bound, func(o *spatial.Item) bool {
			if o.Feature.ID > it.Feature.ID {
				if a := intersectionArea(it.Geom, o.Geom); a > overlapSliverM2 {
					out = append(out, ParcelOverlap{A: it.Feature.ID, B: o.Feature.ID, AreaM2: a})
				}
			}
			return true
		})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].A != out[j].A {
			return out[i].A < out[j].A
		}
		return out[i].B < out[j].B
	})
	return out
}

// intersectionArea is the area common to two metric polygons or multipolygons. Each is a
// signed sum of rings (outer rings count +1, holes −1) and each ring of b a signed fan of
// triangles from its first position, so the area is a signed sum of the areas of rings of a
// clipped by triangles (Sutherland–Hodgman, exact for a convex clip polygon).
func intersectionArea(a, b orb.Geometry) float64 {
	total := 0.0
	for _, ra := range signedRings(a) {
		subject := openRing(ra.ring)
		if orb.Ring(ra.ring).Orientation() == orb.CW {
			for i, j := 0, len(subject)-1; i < j; i, j = i+1, j-1 {
				subject[i], subject[j] = subject[j], subject[i]
			}
		}
		for _, rb := range signedRings(b) {
			r := rb.ring
			orient := 1.0 // the fan's triangles carry the ring's orientation: make it count as +1
			if r.Orientation() == orb.CW {
				orient = -1
			}
			for k := 1; k+2 < len(r); k++ {
				tri := []orb.Point{r[0], r[k], r[k+1]}
				s := (tri[1][0]-tri[0][0])*(tri[2][1]-tri[0][1]) - (tri[1][1]-tri[0][1])*(tri[2][0]-tri[0][0])
				if s == 0 {
					continue
				}
				sign := 1.0
				if s < 0 {
					sign, tri[1], tri[2] = -1, tri[2], tri[1]
				}
				clipped := subject
				for e := 0; e < 3 && len(clipped) > 0; e++ {
					p, q := tri[e], tri[(e+1)%3]
					l := math.Hypot(q[0]-p[0], q[1]-p[1])
					n := orb.Point{(q[1] - p[1]) / l, -(q[0] - p[0]) / l} // outward for a CCW triangle
					clipped = clipConvex(clipped, halfPlane{n, dot(n, p)})
				}
				if len(clipped) >= 3 {
					area := math.Abs(spatial.RingArea2(append(orb.Ring(clipped), clipped[0]))) / 2
					total += ra.sign * rb.sign * orient * sign * area
				}
			}
		}
	}
	return math.Max(0, total)
}

type signedRing struct {
	ring orb.Ring
	sign float64
}

func signedRings(g orb.Geometry) []signedRing {
	var polys []orb.Polygon
	switch t := g.(type) {
	case orb.Polygon:
		polys = []orb.Polygon{t}
	case orb.MultiPolygon:
		polys = t
	}
	var out []signedRing
	for _, p := range polys {
		for i, r := range p {
			s := 1.0
			if i > 0 {
				s = -1
			}
			out = append(out, signedRing{r, s})
		}
	}
	return out
}
