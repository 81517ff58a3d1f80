package data

import (
	"math"

	"github.com/paulmach/orb"
	"github.com/paulmach/osm"

	"github.com/citytwin/citytwin/spatial"
)

// Raster resolutions and block sizes of the modelled environment layers.
const (
	envCellM        = 20.0  // noise and flood raster
	envBlockCells   = 50    // 1 km blocks
	broadbandCellM  = 100.0 // broadband raster
	broadbandBlocks = 10    // 1 km blocks
)

// noiseClass is a class of noise source with the distances (m) within which a cell reaches
// Lden 75, 70, 65, 60 and 55 dB; 0: never that loud.
type noiseClass struct {
	source string
	within [5]float64
	weight float64 // traffic weight of a road in the air-quality rule, 0 for rail
}

var (
	noiseMajor  = noiseClass{"road", [5]float64{15, 35, 70, 130, 250}, 1.0}
	noiseMedium = noiseClass{"road", [5]float64{0, 15, 35, 70, 130}, 0.6}
	noiseMinor  = noiseClass{"road", [5]float64{0, 0, 0, 10, 30}, 0.3}
	noiseRail   = noiseClass{"rail", [5]float64{0, 15, 40, 80, 150}, 0}
)

var noiseBands = [5]float64{75, 70, 65, 60, 55}

// inTunnel: the way runs in a tunnel (tunnel=* present and not "no").
func inTunnel(t osm.Tags) bool {
	tun := t.Find("tunnel")
	return tun != "" && tun != "no"
}

// noiseClassOf classifies a way as a noise source; ways in tunnels make no noise outside.
func noiseClassOf(t osm.Tags) (noiseClass, bool) {
	if inTunnel(t) {
		return noiseClass{}, false
	}
	switch t.Find("highway") {
	case "motorway", "motorway_link", "trunk", "trunk_link", "primary", "primary_link":
		return noiseMajor, true
	case "secondary", "secondary_link", "tertiary", "tertiary_link":
		return noiseMedium, true
	case "residential", "unclassified":
		return noiseMinor, true
	}
	switch t.Find("railway") {
	case "rail", "light_rail":
		return noiseRail, true
	}
	return noiseClass{}, false
}

// noiseLine is a metric line of a noise source.
type noiseLine struct {
	class noiseClass
	line  orb.LineString
}

func (c *city) noiseLines() []noiseLine {
	var out []noiseLine
	for _, e := range c.elems {
		if e.line == nil {
			continue
		}
		if cl, ok := noiseClassOf(e.tags); ok {
			out = append(out, noiseLine{cl, c.metric(e.line).(orb.LineString)})
		}
	}
	return out
}

// deriveNoise: every 20 m cell gets the loudest band any road or railway gives it by
// distance; cells of one source and band are traced into polygons, block by block.
func (c *city) deriveNoise() {
	g := newGrid(c.extent, noiseMajor.within[4], envCellM)
	band := make([]uint8, g.nx*g.ny) // band index+1 (1: 75 dB ... 5: 55 dB), 0: quieter
	rail := make([]bool, g.nx*g.ny)
	for _, nl := range c.noiseLines() {
		cl := nl.class
		g.stampLine(nl.line, cl.within[4], func(i, j int, d float64, _ int, _ float64) {
			for k, w := range cl.within {
				if w > 0 && d <= w {
					cell, b, isRail := j*g.nx+i, uint8(k+1), cl.source == "rail"
					// Louder wins; at the same band a road wins over rail.
					if band[cell] == 0 || b < band[cell] || (b == band[cell] && rail[cell] && !isRail) {
						band[cell], rail[cell] = b, isRail
					}
					return
				}
			}
		})
	}
	id := int64(0)
	for _, source := range []string{"road", "rail"} {
		for k := len(noiseBands) - 1; k >= 0; k-- {
			in := func(i, j int) bool {
				cell := j*g.nx + i
				return band[cell] == uint8(k+1) && rail[cell] == (source == "rail")
			}
			for _, b := range g.blocks(envBlockCells) {
				for _, p := range g.tracePolygons(b, in) {
					id++
					c.emit("noise", id, c.wgs84(p), map[string]any{
						"source": source, "lden_db": noiseBands[k], "lnight_db": noiseBands[k] - 10, "derived": true,
					}, nil)
				}
			}
		}
	}
}

// Flood rule: distances (m) from the coast or a river within which land floods at each
// return period; streams flood half as far; small ponds and basins not at all.
var (
	floodPeriods    = [3]int64{10, 100, 1000}
	floodWithin     = [3]float64{30, 80, 150}
	streamFactor    = 0.5
	minWaterAreaM2  = 10000.0
	floodRiverKinds = map[string]float64{"river": 1, "canal": 1, "stream": streamFactor}
)

// floodRaster holds, per cell, the effective distance to flooding water and whether the
// cell is water itself (sea or a lake). Distances are float32: 10 bytes a cell keep a
// 40 km × 40 km city's raster near 40 MB.
type floodRaster struct {
	g     grid
	dist  []float32
	water []bool
	coast []float32 // distance to the coastline, +Inf beyond reach
	land  []bool    // side of the nearest coastline: land (left of the way) or sea
}

func (c *city) deriveFlood() {
	maxD := floodWithin[2]
	g := newGrid(c.extent, maxD, envCellM)
	inf := float32(math.Inf(1))
	fr := &floodRaster{g: g, dist: filled(g, inf), water: make([]bool, g.nx*g.ny), coast: filled(g, inf), land: make([]bool, g.nx*g.ny)}
	c.stampCoast(fr, maxD)
	c.stampRivers(fr, maxD)
	c.stampWaterAreas(fr, maxD)
	id := int64(0)
	for k, rp := range floodPeriods {
		in := func(i, j int) bool {
			cell := j*g.nx + i
			seaSide := float64(fr.coast[cell]) <= maxD && !fr.land[cell]
			return !fr.water[cell] && !seaSide && float64(fr.dist[cell]) <= floodWithin[k]
		}
		for _, b := range g.blocks(envBlockCells) {
			for _, p := range g.tracePolygons(b, in) {
				id++
				c.emit("flood", id, c.wgs84(p), map[string]any{"return_period_years": rp, "derived": true}, nil)
			}
		}
	}
}

func filled(g grid, v float32) []float32 {
	out := make([]float32, g.nx*g.ny)
	for i := range out {
		out[i] = v
	}
	return out
}

// stampCoast measures each cell's distance to the coastline and which side of it the cell
// is on: OSM draws natural=coastline with the land on the left.
func (c *city) stampCoast(fr *floodRaster, maxD float64) {
	var parts [][]osm.NodeID
	for _, e := range c.elems {
		if e.refs != nil && e.tags.Find("natural") == "coastline" {
			parts = append(parts, e.refs)
		}
	}
	rings, open := chainWays(parts)
	for _, ids := range append(rings, open...) {
		l, ok := c.d.coords.line(ids)
		if !ok {
			continue
		}
		m := c.metric(l).(orb.LineString)
		closed := ids[0] == ids[len(ids)-1]
		fr.g.stampLine(m, maxD, func(i, j int, d float64, seg int, t float64) {
			cell := j*fr.g.nx + i
			if d32 := float32(d); d32 < fr.coast[cell] {
				fr.coast[cell] = d32
				fr.land[cell] = leftOfLine(m, closed, seg, t, fr.g.center(i, j))
				fr.dist[cell] = min(fr.dist[cell], d32)
			}
		})
	}
}

// leftOfLine reports whether p lies left of the line l, whose segment seg holds the point
// nearest to p at position t. When that point is a vertex, p is left of a left-turning
// corner only if left of both segments, of a right-turning corner if left of either.
func leftOfLine(l orb.LineString, closed bool, seg int, t float64, p orb.Point) bool {
	a, b := l[seg], l[seg+1]
	var u, v, w orb.Point
	switch {
	case t > 0 && t < 1:
		return cross(a, b, p) > 0
	case t == 0 && (seg > 0 || closed):
		prev := seg - 1
		if prev < 0 {
			prev = len(l) - 2
		}
		u, v, w = l[prev], a, b
	case t == 1 && (seg+2 < len(l) || closed):
		next := seg + 2
		if next >= len(l) {
			next = 1
		}
		u, v, w = a, b, l[next]
	default:
		return cross(a, b, p) > 0 // the end of an open coastline
	}
	left1, left2 := cross(u, v, p) > 0, cross(v, w, p) > 0
	if cross(u, v, w) > 0 {
		return left1 && left2
	}
	return left1 || left2
}

// cross is the z component of (b-a) × (p-a): positive when p is left of a→b.
func cross(a, b, p orb.Point) float64 {
	return (b[0]-a[0])*(p[1]-a[1]) - (b[1]-a[1])*(p[0]-a[0])
}

// stampRivers measures the distance to rivers and canals, and to streams at double weight.
func (c *city) stampRivers(fr *floodRaster, maxD float64) {
	for _, e := range c.elems {
		f, ok := floodRiverKinds[e.tags.Find("waterway")]
		if !ok || e.line == nil {
			continue
		}
		m := c.metric(e.line).(orb.LineString)
		fr.g.stampLine(m, maxD*f, func(i, j int, d float64, _ int, _ float64) {
			cell := j*fr.g.nx + i
			fr.dist[cell] = min(fr.dist[cell], float32(d/f))
		})
	}
}

// stampWaterAreas marks the cells inside lakes, rivers and reservoirs of 1 ha or more (and
// any water=river area) as water and measures the distance to their shores.
func (c *city) stampWaterAreas(fr *floodRaster, maxD float64) {
	for _, e := range c.elems {
		if e.area == nil || !(e.tags.Find("natural") == "water" || e.tags.Find("waterway") == "riverbank") {
			continue
		}
		m := c.metric(e.areaGeom())
		if spatial.Area(m) < minWaterAreaM2 && e.tags.Find("water") != "river" {
			continue
		}
		fr.g.cellsInside(m, func(p orb.Point) bool { return spatial.Contains(m, p) }, func(i, j int) {
			fr.water[j*fr.g.nx+i] = true
		})
		for _, poly := range polygonsOf(m) {
			for _, r := range poly {
				fr.g.stampLine(orb.LineString(r), maxD, func(i, j int, d float64, _ int, _ float64) {
					cell := j*fr.g.nx + i
					fr.dist[cell] = min(fr.dist[cell], float32(d))
				})
			}
		}
	}
}

func polygonsOf(g orb.Geometry) []orb.Polygon {
	switch t := g.(type) {
	case orb.Polygon:
		return []orb.Polygon{t}
	case orb.MultiPolygon:
		return t
	}
	return nil
}

// Air rule: a station per district; its annual means grow with the traffic-weighted length
// of road (km) within 500 m.
const (
	airRadiusM = 500.0
	airYear    = 2021
)

func airValues(roadKm float64) (pm25, pm10, no2 float64) {
	return round1(8 + 0.5*roadKm), round1(15 + 1.0*roadKm), round1(12 + 3.0*roadKm)
}

func (c *city) deriveAirStations() {
	segs := newSegmentBuckets(c.noiseLines(), airRadiusM)
	for k, d := range c.districts {
		p := representativePoint(d.metric)
		pm25, pm10, no2 := airValues(segs.weightedKmWithin(p, airRadiusM))
		c.emit("air_stations", int64(k+1), c.wgs84(p), map[string]any{
			"name": "Station " + d.name, "pm25": pm25, "pm10": pm10, "no2": no2, "year": int64(airYear), "derived": true,
		}, nil)
	}
}

// segmentBuckets holds road segments by the square of side size their midpoint lies in, so
// a station looks only at the roads around it.
type segmentBuckets struct {
	size float64
	m    map[[2]int][]weightedSegment
}

type weightedSegment struct {
	mid    orb.Point
	km     float64
	weight float64
}

func newSegmentBuckets(lines []noiseLine, size float64) segmentBuckets {
	sb := segmentBuckets{size: size, m: map[[2]int][]weightedSegment{}}
	for _, nl := range lines {
		for s := 1; s < len(nl.line); s++ {
			a, b := nl.line[s-1], nl.line[s]
			mid := orb.Point{(a[0] + b[0]) / 2, (a[1] + b[1]) / 2}
			k := sb.key(mid)
			sb.m[k] = append(sb.m[k], weightedSegment{mid, math.Hypot(b[0]-a[0], b[1]-a[1]) / 1000, nl.class.weight})
		}
	}
	return sb
}

func (sb segmentBuckets) key(p orb.Point) [2]int {
	return [2]int{int(math.Floor(p[0] / sb.size)), int(math.Floor(p[1] / sb.size))}
}

// weightedKmWithin sums weight × length (km) of the segments whose midpoint is within r of p
// (r no more than the bucket size).
func (sb segmentBuckets) weightedKmWithin(p orb.Point, r float64) float64 {
	k := sb.key(p)
	km := 0.0
	for dx := -1; dx <= 1; dx++ {
		for dy := -1; dy <= 1; dy++ {
			for _, s := range sb.m[[2]int{k[0] + dx, k[1] + dy}] {
				if math.Hypot(s.mid[0]-p[0], s.mid[1]-p[1]) <= r {
					km += s.weight * s.km
				}
			}
		}
	}
	return km
}

// Broadband rule: the best technology of a 100 m cell follows the share of the 300 m × 300 m
// around it that buildings cover.
var broadbandTiers = []struct {
	technology string
	mbps       float64
	minBuilt   float64 // built share of the 3 × 3 neighbourhood
}{
	{"fibre", 1000, 0.30},
	{"cable", 500, 0.15},
	{"dsl", 50, 0.03},
	{"4g", 40, 0}, // any other cell with a building in its 3 × 3 neighbourhood
}

func (c *city) deriveBroadband() {
	g := newGrid(c.extent, broadbandCellM, broadbandCellM)
	built := make([]float64, g.nx*g.ny)
	for _, b := range c.buildings {
		i, j := g.cellOf(b.centroid)
		built[j*g.nx+i] += b.footprint
	}
	tier := make([]int, g.nx*g.ny) // tier index+1, 0: no coverage
	for j := range g.ny {
		for i := range g.nx {
			share := neighbourhood(g, built, i, j, 1) / (9 * broadbandCellM * broadbandCellM)
			near := share > 0
			for k, t := range broadbandTiers {
				if (t.minBuilt > 0 && share >= t.minBuilt) || (t.minBuilt == 0 && near) {
					tier[j*g.nx+i] = k + 1
					break
				}
			}
		}
	}
	id := int64(0)
	for k, t := range broadbandTiers {
		for _, b := range g.blocks(broadbandBlocks) {
			for _, p := range g.tracePolygons(b, func(i, j int) bool { return tier[j*g.nx+i] == k+1 }) {
				id++
				c.emit("broadband", id, c.wgs84(p), map[string]any{"technology": t.technology, "max_down_mbps": t.mbps, "derived": true}, nil)
			}
		}
	}
}

// neighbourhood sums v over the (2r+1)² cells around (i, j).
func neighbourhood(g grid, v []float64, i, j, r int) float64 {
	s := 0.0
	for y := max(0, j-r); y <= min(g.ny-1, j+r); y++ {
		for x := max(0, i-r); x <= min(g.nx-1, i+r); x++ {
			s += v[y*g.nx+x]
		}
	}
	return s
}
