package data

import (
	"fmt"
	"slices"
	"sort"
	"strconv"

	"github.com/paulmach/orb"
	"github.com/paulmach/osm"
)

// Grid sizes of the areas made where OSM has none (docs/import-rules.md).
const (
	fillCellM          = 25.0 // resolution of the gap-filling raster
	districtBlockCells = 40   // 1 km districts
	zoneBlockCells     = 10   // 250 m default zones
	fillReachM         = 100  // filled areas reach this far from buildings
)

// district is a district polygon, mapped from an administrative boundary or made from the
// 1 km grid.
type district struct {
	id         int64
	name, code string
	metric     orb.Geometry
	wgs        orb.Geometry
	derived    bool
}

// adminLevel reads admin_level (1 to 12), false when it is missing or not a level.
func adminLevel(t osm.Tags) (int, bool) {
	n, err := strconv.Atoi(t.Find("admin_level"))
	return n, err == nil && n >= 1 && n <= 12
}

// primaryLevelShare: the finest administrative level whose boundaries hold at least this
// share of the buildings that the best-covering level holds is the city's district level.
const primaryLevelShare = 0.5

// mapDistricts reads the administrative boundaries as districts. The district level is the
// finest level with at least two boundaries holding buildings that covers at least half as
// many buildings as the level covering the most (Monaco's quartiers at 10, parishes at 7,
// boroughs at 9); all its boundaries become districts. Buildings outside them take the
// boundaries of the other levels (coarser ones first, nearest the district level first)
// that hold only such buildings, so no two districts overlap; grid squares cover the rest.
func (c *city) mapDistricts() {
	byLevel := map[int][]*element{}
	var levels []int
	for _, e := range c.elems {
		lvl, ok := adminLevel(e.tags)
		if e.area == nil || e.tags.Find("boundary") != "administrative" || !ok {
			continue
		}
		if byLevel[lvl] == nil {
			levels = append(levels, lvl)
		}
		byLevel[lvl] = append(byLevel[lvl], e)
	}
	sort.Ints(levels)
	// Which boundaries of each level hold which buildings (by centroid).
	holds := map[*element][]int{}
	covered := map[int]int{}
	for _, lvl := range levels {
		ix := newAreaIndex(c.proj)
		for _, e := range byLevel[lvl] {
			ix.add(e.areaGeom())
		}
		nonEmpty := 0
		for bi, b := range c.buildings {
			if in := ix.containing(b.centroid); len(in) > 0 {
				covered[lvl]++
				for _, k := range in {
					e := byLevel[lvl][k]
					if len(holds[e]) == 0 {
						nonEmpty++
					}
					holds[e] = append(holds[e], bi)
				}
			}
		}
		if nonEmpty < 2 {
			delete(covered, lvl) // one boundary (the city itself) is no set of districts
		}
	}
	most := 0
	for _, n := range covered {
		most = max(most, n)
	}
	primary := 0
	for _, lvl := range levels {
		if covered[lvl] > 0 && float64(covered[lvl]) >= primaryLevelShare*float64(most) {
			primary = lvl // levels ascend: the last that qualifies is the finest
		}
	}
	index := newAreaIndex(c.proj)
	inDistrict := make([]bool, len(c.buildings))
	add := func(e *element) {
		d := &district{id: e.id, name: e.tags.Find("name"), code: districtCode(e, len(c.districts)+1), wgs: e.areaGeom()}
		if d.name == "" {
			d.name = d.code
		}
		d.metric = index.add(d.wgs).Geom
		c.districts = append(c.districts, d)
		for _, bi := range holds[e] {
			inDistrict[bi] = true
		}
	}
	if primary > 0 {
		for _, e := range byLevel[primary] {
			add(e)
		}
		var others []int
		for i := len(levels) - 1; i >= 0; i-- {
			if levels[i] < primary {
				others = append(others, levels[i])
			}
		}
		for _, lvl := range levels {
			if lvl > primary {
				others = append(others, lvl)
			}
		}
		for _, lvl := range others {
			for _, e := range byLevel[lvl] {
				if len(holds[e]) > 0 && !slices.ContainsFunc(holds[e], func(bi int) bool { return inDistrict[bi] }) {
					add(e)
				}
			}
		}
	}
	c.fillDistricts(index)
	for _, d := range c.districts {
		c.emit("districts", d.id, d.wgs, map[string]any{"name": d.name, "code": d.code, "derived": d.derived}, nil)
	}
}

// districtCode is the boundary's ISO 3166-2 code, else its ref, else D and its number.
func districtCode(e *element, n int) string {
	for _, k := range []string{"ISO3166-2", "ref"} {
		if v := e.tags.Find(k); v != "" {
			return v
		}
	}
	return fmt.Sprintf("D%d", n)
}

// fillDistricts adds a district for every 1 km grid square that holds buildings outside the
// mapped districts (every building, when OSM has no districts): the square less the mapped
// districts, at 25 m resolution. Grid districts are numbered 1, 2… in square order (the
// mapped ones keep their relation ids).
func (c *city) fillDistricts(index *areaIndex) {
	g := newGrid(c.extent, 0, fillCellM)
	nextID := int64(1)
	for _, gb := range c.fillGaps(g, districtBlockCells, index) {
		name := gridName(g, gb.b, districtBlockCells)
		d := &district{id: nextID, name: "Grid " + name, code: "G-" + name, derived: true, metric: polygonsGeometry(gb.polys)}
		d.wgs = c.wgs84(polygonsGeometry(gb.polys))
		c.districts = append(c.districts, d)
		nextID++
	}
}

// gridName names a block by column letter (A from the west) and row number (1 from the
// north), like a map grid: "A1", "B3", "AA12".
func gridName(g grid, b block, n int) string {
	col := b.i0 / n
	rows := (g.ny + n - 1) / n
	row := rows - b.j0/n
	letters := ""
	for col >= 0 {
		letters = string(rune('A'+col%26)) + letters
		col = col/26 - 1
	}
	return fmt.Sprintf("%s%d", letters, row)
}

// gapBlock is a grid block that holds buildings no existing area covers, with the cells
// that fill it and the buildings it takes.
type gapBlock struct {
	b     block
	polys []orb.Polygon // metric
	bldgs []*building
}

// fillGaps finds the buildings whose centroid no polygon of index contains and returns, per
// block of n × n cells that holds any, the polygons covering the block's cells that index does
// not cover and that lie within 100 m of a building (so no area spreads over the sea or empty
// hills). A cell holding an uncovered centroid is always taken, a cell holding a covered one
// never, so every building ends up in exactly one of the old and new areas.
func (c *city) fillGaps(g grid, n int, index *areaIndex) []gapBlock {
	const (
		near  = 1 << iota // within fillReachM of a building
		must              // holds an uncovered centroid
		avoid             // holds a covered centroid
	)
	cells := make([]uint8, g.nx*g.ny)
	byBlock := map[[2]int][]*building{}
	for _, b := range c.buildings {
		box := orb.Bound{Min: orb.Point{b.bound.Min[0] - fillReachM, b.bound.Min[1] - fillReachM}, Max: orb.Point{b.bound.Max[0] + fillReachM, b.bound.Max[1] + fillReachM}}
		i0, j0, i1, j1 := g.cellRange(box)
		for j := j0; j <= j1; j++ {
			for i := i0; i <= i1; i++ {
				cells[j*g.nx+i] |= near
			}
		}
		i, j := g.cellOf(b.centroid)
		if len(index.containing(b.centroid)) > 0 {
			cells[j*g.nx+i] |= avoid
			continue
		}
		cells[j*g.nx+i] |= must
		byBlock[[2]int{i / n, j / n}] = append(byBlock[[2]int{i / n, j / n}], b)
	}
	var out []gapBlock
	for _, b := range g.blocks(n) {
		bldgs := byBlock[[2]int{b.i0 / n, b.j0 / n}]
		if len(bldgs) == 0 {
			continue
		}
		take := func(i, j int) bool {
			s := cells[j*g.nx+i]
			return s&must != 0 || (s&near != 0 && s&avoid == 0 && len(index.containing(g.center(i, j))) == 0)
		}
		w := b.i1 - b.i0
		taken := make([]bool, w*(b.j1-b.j0))
		for j := b.j0; j < b.j1; j++ {
			for i := b.i0; i < b.i1; i++ {
				taken[(j-b.j0)*w+i-b.i0] = take(i, j)
			}
		}
		polys := g.tracePolygons(b, func(i, j int) bool { return taken[(j-b.j0)*w+i-b.i0] })
		out = append(out, gapBlock{b: b, polys: polys, bldgs: bldgs})
	}
	return out
}

// polygonsGeometry is a Polygon when there is one, else a MultiPolygon.
func polygonsGeometry(ps []orb.Polygon) orb.Geometry {
	if len(ps) == 1 {
		return ps[0]
	}
	return orb.MultiPolygon(ps)
}

// zoneType is a kind of zoning unit (UTR) with its rules, from domain.md's typical values.
type zoneType struct {
	prefix, title string
	potPct, cut   float64
	heightM       float64
	floors        int64
	uses          []string
}

var (
	zoneCollective = zoneType{"LC", "Collective housing", 40, 2.5, 32, 10, []string{"residential", "mixed", "commercial", "education", "health", "culture"}}
	zoneIndividual = zoneType{"LI", "Individual housing", 35, 1.2, 12, 3, []string{"residential", "education", "culture"}}
	zoneMixed      = zoneType{"M", "Central mixed", 80, 4.0, 50, 15, []string{"residential", "mixed", "commercial", "office", "education", "health", "culture", "other"}}
	zoneCommercial = zoneType{"C", "Commercial", 70, 3.0, 35, 10, []string{"commercial", "office", "mixed", "culture", "other"}}
	zoneIndustrial = zoneType{"I", "Industrial and logistics", 60, 1.5, 20, 5, []string{"industrial", "commercial", "office", "other"}}
	zonePublic     = zoneType{"IS", "Public institutions", 50, 2.0, 24, 6, []string{"education", "health", "culture", "office", "other"}}
	zoneGreen      = zoneType{"V", "Green and leisure", 10, 0.2, 8, 2, []string{"culture", "other"}}
	zoneDevelop    = zoneType{"D", "Development area", 60, 3.0, 40, 12, []string{"residential", "mixed", "commercial", "office", "education", "health", "culture", "other"}}
)

// zoneByLanduse maps landuse=* values to zone types; other values make no zone.
var zoneByLanduse = map[string]zoneType{
	"residential": zoneCollective,
	"commercial":  zoneCommercial, "retail": zoneCommercial,
	"industrial": zoneIndustrial, "port": zoneIndustrial, "railway": zoneIndustrial,
	"education": zonePublic, "religious": zonePublic, "institutional": zonePublic, "military": zonePublic,
	"cemetery": zoneGreen, "forest": zoneGreen, "grass": zoneGreen, "meadow": zoneGreen,
	"recreation_ground": zoneGreen, "village_green": zoneGreen, "allotments": zoneGreen,
	"construction": zoneDevelop, "brownfield": zoneDevelop, "greenfield": zoneDevelop,
}

// deriveZoning makes a zone of every land-use area of a zoning kind, then a default zone for
// every 250 m block holding buildings outside them, typed by those buildings.
func (c *city) deriveZoning() {
	index := newAreaIndex(c.proj)
	seq := map[string]int{}
	id := int64(0)
	emit := func(t zoneType, name string, g orb.Geometry) {
		seq[t.prefix]++
		id++
		if name == "" {
			name = fmt.Sprintf("%s %d", t.title, seq[t.prefix])
		}
		c.emit("zoning", id, g, map[string]any{
			"code": fmt.Sprintf("UTR-%s%d", t.prefix, seq[t.prefix]), "name": name,
			"allowed_uses": append([]string(nil), t.uses...), "max_pot_pct": t.potPct, "max_cut": t.cut,
			"max_height_m": t.heightM, "max_floors": t.floors, "derived": true,
		}, nil)
	}
	for _, a := range c.landuse {
		if t, ok := zoneByLanduse[a.value]; ok {
			index.add(a.e.areaGeom())
			emit(t, a.e.tags.Find("name"), a.e.areaGeom())
		}
	}
	g := newGrid(c.extent, 0, fillCellM)
	for _, gb := range c.fillGaps(g, zoneBlockCells, index) {
		emit(defaultZone(gb.bldgs), "", c.wgs84(polygonsGeometry(gb.polys)))
	}
}

// houseTypes are the building=* values of individual houses.
var houseTypes = map[string]bool{"house": true, "detached": true, "semidetached_house": true, "terrace": true, "bungalow": true, "farm": true, "cabin": true}

// defaultZone types a block by its buildings' floor area: residential (mixed counts half)
// at least 70 % makes housing, individual when at least half of it is in houses, else
// collective; industrial at least half makes industrial, education, health and culture at
// least half public institutions; anything else central mixed.
func defaultZone(bs []*building) zoneType {
	var total, res, ind, pub, houses float64
	for _, b := range bs {
		gfa := max(b.gfa, b.footprint) // a roof still counts by its footprint
		total += gfa
		if houseTypes[b.e.tags.Find("building")] {
			houses += gfa
		}
		switch b.use {
		case "residential":
			res += gfa
		case "mixed":
			res += gfa * mixedResidential
		case "industrial":
			ind += gfa
		case "education", "health", "culture":
			pub += gfa
		}
	}
	switch {
	case total == 0:
		return zoneMixed
	case res >= 0.7*total && houses >= 0.5*res:
		return zoneIndividual
	case res >= 0.7*total:
		return zoneCollective
	case ind >= 0.5*total:
		return zoneIndustrial
	case pub >= 0.5*total:
		return zonePublic
	}
	return zoneMixed
}
