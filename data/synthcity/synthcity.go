// Package synthcity generates a synthetic city: a deterministic, realistic city of any size
// (districts, zoning, parcels, buildings, facilities, green spaces, noise, flood zones, air
// stations, broadband) streamed as catalog features, for demonstrations, tests and
// benchmarks without real data.
package synthcity

import (
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/paulmach/orb"

	"github.com/citytwin/citytwin/layers"
	"github.com/citytwin/citytwin/spatial"
)

// Options choose the synthetic city.
type Options struct {
	// Parcels is the number of parcels (about 0.75 buildings per parcel); 1,000,000 works.
	Parcels int
	// Seed selects the city: the same options always give the same features.
	Seed int64
	// Center is the city centre (lon, lat); the zero point means Cluj-Napoca (23.59, 46.77).
	Center orb.Point
}

// maxParcels bounds Parcels so a typo cannot ask for a planet-sized city.
const maxParcels = 20_000_000

// Generate streams a realistic, deterministic city to emit, layer by layer (districts, zoning,
// parcels, buildings, facilities, green_spaces, noise, flood, air_stations, broadband, streets,
// water, places). Same options → byte-identical output.
//
// The city is an orthogonal grid of blocks separated by 12 m streets and 30 m avenues (every
// eighth street line). Blocks are cut into two rows of rectangular parcels of 300–1500 m²;
// about 75 % of parcels carry one rectangular building set back at least 1 m from every parcel
// edge. Zones (UTR) are groups of 2–4 × 2–4 blocks: central mixed (P+6..P+12) in the middle,
// collective housing (P+4..P+10) around it, individual houses (P..P+2) at the edge, an
// industrial sector and some parks. Buildings respect their zone's POT, CUT, height, floors and
// uses except about 3 %, which break one limit on purpose so compliance indicators have
// something to find. A river crosses the city west to east with nested 10-, 100- and 1000-year
// flood zones; noise bands run along the avenues and a railway. The streets are the
// centrelines of the gaps between blocks (Streets), the river's channel is the water layer,
// and each district has a label point in the places layer.
//
// Only per-block summaries (a few tens of bytes per block) and the facility list are held in
// memory; parcels and buildings are recomputed block by block from hashes of the seed, so a
// million parcels need a few tens of megabytes. Every feature carries derived=true; parcel
// owners (Feature.Restricted) are synthetic ("Owner 123", "CF 100123").
func Generate(opts Options, emit func(layers.Feature) error) error {
	if opts.Parcels <= 0 {
		return fmt.Errorf("generate: parcels must be positive, got %d", opts.Parcels)
	}
	if opts.Parcels > maxParcels {
		return fmt.Errorf("generate: at most %d parcels, got %d", maxParcels, opts.Parcels)
	}
	c := genPlan(opts)
	steps := []func(func(layers.Feature) error) error{
		c.emitDistricts, c.emitZoning, c.emitParcels, c.emitBuildings, c.emitFacilities,
		c.emitGreen, c.emitNoise, c.emitFlood, c.emitAirStations, c.emitBroadband,
		c.emitStreets, c.emitRiver, c.emitPlaces,
	}
	for _, step := range steps {
		if err := step(emit); err != nil {
			return err
		}
	}
	return nil
}

// City geometry, in metres.
const (
	genStreet      = 12.0 // street width between blocks
	genAvenue      = 30.0 // avenue width
	genRailway     = 40.0 // railway corridor width
	genAvenueEvery = 8    // every eighth street line is an avenue
	genBlockWMin   = 90.0 // block width (east-west)
	genBlockWMax   = 170.0
	genBlockHMin   = 56.0 // block depth (north-south): two rows of parcels 28–45 m deep
	genBlockHMax   = 90.0
	genSetback     = 1.0  // smallest gap between a building and its parcel's edge
	genParcelMin   = 300. // parcel area bounds, m²
	genParcelMax   = 1500.
	genRiverHalf   = 35.0 // half width of the river channel; blocks this close hold no parcels
	genDwellingM2  = 70.0 // gross floor area per dwelling
	genPersons     = 2.5  // residents per dwelling (as the residents indicator counts them)
	genViolation   = 0.03 // share of buildings breaking a zone limit on purpose
	genFloodStepM  = 50.0 // flood polygon vertex spacing along the river
)

// Hash tags keep the random streams of different decisions independent.
const (
	genTagCol = iota + 1
	genTagRow
	genTagZoneCol
	genTagZoneRow
	genTagZone
	genTagBlock
	genTagLayout
	genTagParcel
	genTagCity
	genTagFacility
	genTagDistrict
)

// Zone kinds.
const (
	genCentral = iota
	genCollective
	genIndividual
	genIndustrial
	genGreen
)

type genUse struct {
	use string
	cum float64 // cumulative weight
}

// genZoneKind holds a zone type's regulation (the choices a zone of the type draws from) and
// how the generator builds in it.
type genZoneKind struct {
	prefix, name string
	allowed      []string
	pots, cuts   []float64 // max POT (fraction), max CUT
	maxFloors    []int
	minFloors    int
	fMin         float64 // smallest footprint share: floors are capped at CUT / fMin
	built        float64 // share of parcels with a building
	areaLo       float64 // parcel target area range, m²
	areaHi       float64
	uses         []genUse
	forbidden    string // the use a violating building takes
	yearLo       int
	yearHi       int
	green        string  // green space on some unbuilt parcels
	greenShare   float64 // share of unbuilt parcels that get it
	greenPublic  bool
	unbuiltUse   string // land use of unbuilt parcels
}

var genZoneKinds = [...]genZoneKind{
	genCentral: {
		prefix: "M1", name: "Zonă centrală mixtă",
		allowed: []string{"residential", "mixed", "commercial", "office", "education", "health", "culture", "other"},
		pots:    []float64{0.65, 0.70, 0.75, 0.80}, cuts: []float64{3.5, 4.0}, maxFloors: []int{11, 13},
		minFloors: 7, fMin: 0.30, built: 0.85, areaLo: 450, areaHi: 900,
		uses:      genCum("mixed", 0.45, "commercial", 0.2, "office", 0.25, "residential", 0.1),
		forbidden: "industrial", yearLo: 1900, yearHi: 2024,
		green: "garden", greenShare: 0.25, greenPublic: true, unbuiltUse: "curți-construcții",
	},
	genCollective: {
		prefix: "Lc", name: "Locuințe colective",
		allowed: []string{"residential", "mixed", "commercial", "office", "education", "health", "culture", "other"},
		pots:    []float64{0.35, 0.40}, cuts: []float64{2.2, 2.4, 2.5}, maxFloors: []int{5, 9, 11},
		minFloors: 5, fMin: 0.22, built: 0.75, areaLo: 800, areaHi: 1300,
		uses:      genCum("residential", 0.85, "mixed", 0.1, "commercial", 0.05),
		forbidden: "industrial", yearLo: 1960, yearHi: 2024,
		green: "playground", greenShare: 0.35, greenPublic: true, unbuiltUse: "curți-construcții",
	},
	genIndividual: {
		prefix: "Li", name: "Locuințe individuale",
		allowed: []string{"residential", "mixed", "commercial", "office", "education", "health", "culture", "other"},
		pots:    []float64{0.30, 0.35}, cuts: []float64{0.9, 1.0, 1.2}, maxFloors: []int{2, 3, 3},
		minFloors: 1, fMin: 0.28, built: 0.75, areaLo: 350, areaHi: 800,
		uses:      genCum("residential", 0.93, "mixed", 0.04, "commercial", 0.03),
		forbidden: "industrial", yearLo: 1920, yearHi: 2024,
		green: "garden", greenShare: 0.3, unbuiltUse: "arabil",
	},
	genIndustrial: {
		prefix: "A", name: "Activități economice și industrie",
		allowed: []string{"industrial", "commercial", "office", "other"},
		pots:    []float64{0.50, 0.60}, cuts: []float64{1.5, 2.0}, maxFloors: []int{3, 4},
		minFloors: 1, fMin: 0.35, built: 0.68, areaLo: 900, areaHi: 1400,
		uses:      genCum("industrial", 0.7, "commercial", 0.12, "office", 0.1, "other", 0.08),
		forbidden: "residential", yearLo: 1950, yearHi: 2015, unbuiltUse: "curți-construcții",
	},
	genGreen: {
		prefix: "V", name: "Spații verzi",
		allowed: []string{"culture", "other"},
		pots:    []float64{0.10}, cuts: []float64{0.2}, maxFloors: []int{2},
		minFloors: 1, fMin: 0.05, areaLo: 800, areaHi: 1200,
		uses: genCum("other", 1.0), forbidden: "residential", yearLo: 1950, yearHi: 2024,
		unbuiltUse: "curți-construcții",
	},
}

func genCum(pairs ...any) []genUse {
	var out []genUse
	sum := 0.0
	for i := 0; i < len(pairs); i += 2 {
		sum += pairs[i+1].(float64)
		out = append(out, genUse{pairs[i].(string), sum})
	}
	for i := range out {
		out[i].cum /= sum
	}
	return out
}

// genFacilityKind says how many facilities of a kind a city gets and what they look like.
type genFacilityKind struct {
	kind         string
	perResidents float64 // one per this many residents (0: placed otherwise)
	unit         string
	capLo, capHi int
	name         string // with %d for the number
	use          string // the use of the building it occupies; "" leaves the building alone
	maxFloors    int
	big          bool // takes the largest free parcel of its block
}

var genFacilityKinds = [...]genFacilityKind{
	{"kindergarten", 2500, "children", 60, 180, "Grădinița nr. %d", "education", 2, true},
	{"school", 5000, "pupils", 400, 1000, "Școala Gimnazială nr. %d", "education", 4, true},
	{"high_school", 15000, "pupils", 600, 1400, "Liceul Teoretic nr. %d", "education", 4, true},
	{"university", 150000, "students", 3000, 15000, "Universitatea nr. %d", "education", 6, true},
	{"hospital", 100000, "beds", 150, 700, "Spitalul nr. %d", "health", 9, true},
	{"clinic", 8000, "patients/day", 150, 600, "Policlinica nr. %d", "health", 4, false},
	{"pharmacy", 3000, "", 0, 0, "Farmacia nr. %d", "", 0, false},
	{"library", 20000, "seats", 40, 200, "Biblioteca nr. %d", "culture", 3, false},
	{"culture", 30000, "seats", 200, 900, "Casa de Cultură nr. %d", "culture", 3, true},
	{"sport", 20000, "seats", 200, 2000, "Sala de Sport nr. %d", "other", 2, true},
	{"public_wifi", 5000, "users", 50, 250, "Wi-Fi public nr. %d", "", 0, false},
	{"citizen_center", 0, "desks", 6, 20, "Centrul Cetățeanului %s", "office", 4, false},
}

const (
	genFacWifi    = 10
	genFacCitizen = 11
)

// Block kinds.
const (
	genBlockEmpty     = iota // beyond the last parcel: undeveloped
	genBlockBuilt            // cut into parcels
	genBlockPark             // a park filling the block
	genBlockSquare           // a paved public square
	genBlockRiver            // the river runs through it
	genBlockGreenZone        // inside a green zone (one park covers the zone)
)

type genZone struct {
	kind      uint8
	code      string
	zc, zr    int // zone column and row
	x0, y0    float64
	x1, y1    float64 // street centrelines around the zone
	r         float64 // normalised distance of its centre from the city centre
	pot, cut  float64
	maxFloors int
	maxHeight float64
}

type genBlock struct {
	kind      uint8
	zone      int32
	capacity  int32 // parcels the block's layout holds
	n         int32 // parcels generated (the last block may be cut short)
	first     int64 // ID of the block's first parcel
	residents float64
}

type genParcel struct {
	x0, y0, x1, y1 float64
	row            int // 0: faces the street to the south, 1: to the north
}

type genFacility struct {
	kind     int
	block    int
	parcel   int // -1 when not on a parcel
	x, y     float64
	capacity int64
	name     string
}

type genCity struct {
	parcels int
	base    uint64
	center  orb.Point
	kx, ky  float64 // metres per degree

	gx, gy       int
	colX0, colX1 []float64
	rowY0, rowY1 []float64
	lineX, lineY []float64 // street centrelines: lineX[i] west of column i, lineX[gx] east end
	aveX, aveY   []bool    // street line is an avenue
	railLine     int       // index into lineY of the railway, -1 without one
	halfX, halfY float64
	zcStart      []int // block column where each zone column starts (+ gx at the end)
	zrStart      []int
	colZone      []int
	rowZone      []int
	zones        []genZone
	blocks       []genBlock
	indAngle     float64 // direction of the industrial sector
	riv          [7]float64
	districtRank []int // rank by distance from the centre

	reach float64 // largest normalised distance of a block holding parcels

	facilities []genFacility
	facNumber  [len(genFacilityKinds)]int // facilities numbered so far, by kind
	facAt      map[int][]int              // block -> indices into facilities sitting on its parcels
}

func genPlan(opts Options) *genCity {
	c := &genCity{parcels: opts.Parcels, center: opts.Center}
	if c.center == (orb.Point{}) {
		c.center = orb.Point{23.59, 46.77}
	}
	// Same local equirectangular projection as spatial.NewProjection.
	c.ky = spatial.MetresPerDegree
	c.kx = c.ky * math.Cos(c.center[1]*math.Pi/180)
	c.base = genMix(uint64(opts.Seed) ^ 0x5ca1ab1e0ddba11)

	// Find the smallest grid whose blocks hold the parcels asked for.
	n := opts.Parcels
	gx := max(8, int(math.Sqrt(float64(n)/9/1.65)))
	capacity := c.layout(gx)
	for capacity < n {
		next := int(float64(gx) * math.Sqrt(float64(n)/float64(max(capacity, 1))))
		gx = max(gx+1, next)
		capacity = c.layout(gx)
	}
	for gx > 8 {
		if c.layout(gx-1) < n {
			break
		}
		gx--
	}
	c.layout(gx)
	c.fill()
	c.countResidents()
	c.placeFacilities()
	return c
}

// layout lays out a city gx blocks wide and returns how many parcels its blocks hold.
func (c *genCity) layout(gx int) int {
	c.gx = gx
	// Blocks are about 130 m wide and 73 m deep: more rows than columns keep the city square.
	c.gy = max(8, int(math.Round(float64(gx)*(130+15)/(73+15))))
	gy := c.gy
	c.colX0, c.colX1, c.lineX, c.aveX = genAxis(gx, c.base, genTagCol, genBlockWMin, genBlockWMax, -1)
	c.railLine = gy/2 - max(2, gy*3/10)
	if c.railLine >= 0 && (c.railLine-gy/2)%genAvenueEvery == 0 {
		c.railLine--
	}
	if c.railLine < 1 {
		c.railLine = -1
	}
	c.rowY0, c.rowY1, c.lineY, c.aveY = genAxis(gy, c.base, genTagRow, genBlockHMin, genBlockHMax, c.railLine)
	c.halfX = (c.lineX[gx] - c.lineX[0]) / 2
	c.halfY = (c.lineY[gy] - c.lineY[0]) / 2

	r := genRand{genHash(c.base, genTagCity, 0, 0)}
	c.indAngle = r.float() * 2 * math.Pi
	// River centreline y(x) = a + b sin(2πx/L1 + φ1) + d sin(2πx/L2 + φ2); flood widths vary
	// with sin(2πx/L3 + φ3).
	l1 := 2 * c.halfX * (0.6 + 0.3*r.float())
	c.riv = [7]float64{
		-c.halfY * (0.15 + 0.1*r.float()), 0.12 * c.halfY, l1, r.float() * 2 * math.Pi,
		0.04 * c.halfY, r.float() * 2 * math.Pi, r.float() * 2 * math.Pi,
	}

	c.zcStart = genGroups(gx, c.base, genTagZoneCol)
	c.zrStart = genGroups(gy, c.base, genTagZoneRow)
	c.colZone = genIndex(c.zcStart)
	c.rowZone = genIndex(c.zrStart)
	zcN, zrN := len(c.zcStart)-1, len(c.zrStart)-1
	c.zones = c.zones[:0]
	var counters [len(genZoneKinds)]int
	for zr := range zrN {
		for zc := range zcN {
			z := genZone{zc: zc, zr: zr,
				x0: c.lineX[c.zcStart[zc]], x1: c.lineX[c.zcStart[zc+1]],
				y0: c.lineY[c.zrStart[zr]], y1: c.lineY[c.zrStart[zr+1]]}
			z.r = math.Hypot((z.x0+z.x1)/2/c.halfX, (z.y0+z.y1)/2/c.halfY)
			zi := len(c.zones)
			c.zoneRegulation(&z, genRand{genHash(c.base, genTagZone, uint64(zi), uint64(gx))})
			counters[z.kind]++
			z.code = fmt.Sprintf("%s-%03d", genZoneKinds[z.kind].prefix, counters[z.kind])
			c.zones = append(c.zones, z)
		}
	}

	// The river channel (plus 5 m of bank) over each block column.
	riverLo, riverHi := make([]float64, gx), make([]float64, gx)
	for i := range gx {
		lo, hi := c.riverSpan(c.colX0[i], c.colX1[i])
		riverLo[i], riverHi[i] = lo-genRiverHalf-5, hi+genRiverHalf+5
	}
	c.blocks = slices.Grow(c.blocks[:0], gx*gy)[:gx*gy]
	var buf []genParcel
	total := 0
	for j := range gy {
		for i := range gx {
			bi := j*gx + i
			zi := c.rowZone[j]*zcN + c.colZone[i]
			b := genBlock{zone: int32(zi)}
			u := genUnit(genHash(c.base, genTagBlock, uint64(i), uint64(j)))
			switch kind := c.zones[zi].kind; {
			case kind == genGreen:
				b.kind = genBlockGreenZone
			case riverHi[i] > c.rowY0[j] && riverLo[i] < c.rowY1[j]:
				b.kind = genBlockRiver
			case kind == genCentral && u < 0.05:
				b.kind = genBlockSquare
			case kind == genCentral && u < 0.08, kind == genCollective && u < 0.05, kind == genIndividual && u < 0.025:
				b.kind = genBlockPark
			default:
				b.kind = genBlockBuilt
			}
			c.blocks[bi] = b
			if b.kind == genBlockBuilt {
				buf = c.blockParcels(bi, buf[:0])
				c.blocks[bi].capacity = int32(len(buf))
				total += len(buf)
			}
		}
	}
	return total
}

// zoneRegulation picks a zone's kind from its distance to the centre, and its limits.
func (c *genCity) zoneRegulation(z *genZone, r genRand) {
	u, v := (z.x0+z.x1)/2/c.halfX, (z.y0+z.y1)/2/c.halfY
	rr := z.r + (r.float()-0.5)*0.12
	a := math.Abs(math.Remainder(math.Atan2(v, u)-c.indAngle, 2*math.Pi))
	u1, u2 := r.float(), r.float()
	switch {
	case rr < 0.2:
		z.kind = genCentral
	case rr < 0.3:
		z.kind = genCentral
		if u1 < 0.5 {
			z.kind = genCollective
		}
	case z.r > 0.35 && z.r < 1.2 && a < 0.4:
		z.kind = genIndustrial
	case u2 < 0.05:
		z.kind = genGreen
	case u2 < 0.08 && rr > 0.35:
		z.kind = genIndustrial
	case rr < 0.5:
		z.kind = genCollective
		if u1 < 0.1 {
			z.kind = genIndividual
		}
	default:
		z.kind = genIndividual
		if rr < 0.65 && u1 < 0.1 {
			z.kind = genCollective
		}
	}
	k := &genZoneKinds[z.kind]
	z.pot = k.pots[r.intn(len(k.pots))]
	z.cut = k.cuts[r.intn(len(k.cuts))]
	z.maxFloors = k.maxFloors[r.intn(len(k.maxFloors))]
	// Height allows 3 m a floor plus 2 m for the roof and a taller ground floor.
	z.maxHeight = float64(z.maxFloors)*3 + 2
}

// genAxis lays out n blocks of random size between lo and hi along one axis, separated by
// streets (avenues every genAvenueEvery lines from the middle; a railway at line rail), centred
// on zero. It returns the block starts and ends, the street centrelines and the avenue flags.
func genAxis(n int, base uint64, tag uint64, lo, hi float64, rail int) (start, end, line []float64, avenue []bool) {
	start, end = make([]float64, n), make([]float64, n)
	line, avenue = make([]float64, n+1), make([]bool, n+1)
	cursor := 0.0
	for k := 0; k <= n; k++ {
		gap := genStreet
		if (k-n/2)%genAvenueEvery == 0 {
			gap = genAvenue
			avenue[k] = true
		}
		if k == rail {
			gap = genRailway
		}
		line[k] = cursor + gap/2
		if k == n {
			break
		}
		start[k] = cursor + gap
		end[k] = start[k] + lo + (hi-lo)*genUnit(genHash(base, tag, uint64(k), 0))
		cursor = end[k]
	}
	shift := (line[0] + line[n]) / 2
	for k := range n {
		start[k] -= shift
		end[k] -= shift
	}
	for k := range line {
		line[k] -= shift
	}
	return start, end, line, avenue
}

// genGroups cuts n blocks into groups of 2–4 and returns where each starts, plus n.
func genGroups(n int, base uint64, tag uint64) []int {
	starts := []int{0}
	for s := 0; s < n; {
		size := 2 + int(genHash(base, tag, uint64(len(starts)), 0)%3)
		if n-(s+size) < 2 {
			size = n - s
		}
		s += size
		starts = append(starts, s)
	}
	return starts
}

// genIndex maps each block to its group.
func genIndex(starts []int) []int {
	out := make([]int, starts[len(starts)-1])
	for g := 0; g+1 < len(starts); g++ {
		for k := starts[g]; k < starts[g+1]; k++ {
			out[k] = g
		}
	}
	return out
}

func (c *genCity) riverY(x float64) float64 {
	p := &c.riv
	return p[0] + p[1]*math.Sin(2*math.Pi*x/p[2]+p[3]) + p[4]*math.Sin(2*math.Pi*x*2.7/p[2]+p[5])
}

// floodHalf is the half width of the flood zone of a return period at x.
func (c *genCity) floodHalf(years int, x float64) float64 {
	w := 380.0
	switch years {
	case 10:
		w = 80
	case 100:
		w = 200
	}
	return w * (1 + 0.35*math.Sin(2*math.Pi*x*1.9/c.riv[2]+c.riv[6]))
}

// riverSpan returns the lowest and highest y of the river over [x0, x1].
func (c *genCity) riverSpan(x0, x1 float64) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for x := x0; ; x += 5 {
		x = min(x, x1)
		y := c.riverY(x)
		lo, hi = math.Min(lo, y), math.Max(hi, y)
		if x == x1 {
			return lo, hi
		}
	}
}

// blockParcels appends the parcels of a built block to buf: two rows back to back, each cut
// into parcels of the zone's size with jittered widths, all between 300 and 1500 m².
func (c *genCity) blockParcels(bi int, buf []genParcel) []genParcel {
	i, j := bi%c.gx, bi/c.gx
	k := &genZoneKinds[c.zones[c.blocks[bi].zone].kind]
	r := genRand{genHash(c.base, genTagLayout, uint64(i), uint64(j))}
	target := k.areaLo + r.float()*(k.areaHi-k.areaLo)
	x0, x1 := c.colX0[i], c.colX1[i]
	ym := c.rowY0[j] + (c.rowY1[j]-c.rowY0[j])*(0.45+0.1*r.float())
	rows := [2][2]float64{{c.rowY0[j], ym}, {ym, c.rowY1[j]}}
	w := x1 - x0
	for row, ys := range rows {
		a := w * (ys[1] - ys[0])
		// Widths vary by ±40 % around the mean (cuts jitter ±20 % of it), so keep the mean
		// between 1500/1.4 and 300/0.6 m² with a small margin.
		lo := int(math.Ceil(a * 1.4 / (genParcelMax - 10)))
		hi := int(math.Floor(a * 0.6 / (genParcelMin + 5)))
		n := min(max(int(math.Round(a/target)), lo, 1), max(hi, 1))
		step := w / float64(n)
		prev := x0
		for p := 1; p <= n; p++ {
			next := x1
			if p < n {
				next = x0 + float64(p)*step + (r.float()-0.5)*0.4*step
			}
			buf = append(buf, genParcel{prev, ys[0], next, ys[1], row})
			prev = next
		}
	}
	return buf
}

// fill assigns parcels to blocks from the centre outwards (by the larger of the normalised
// east and north distances, so the city stays square) until the requested number is reached,
// then numbers them in row-major order.
func (c *genCity) fill() {
	type keyed struct {
		b   int
		key float64
		ang float64
	}
	var order []keyed
	for bi := range c.blocks {
		if c.blocks[bi].kind != genBlockBuilt {
			continue
		}
		i, j := bi%c.gx, bi/c.gx
		u := (c.colX0[i] + c.colX1[i]) / 2 / c.halfX
		v := (c.rowY0[j] + c.rowY1[j]) / 2 / c.halfY
		order = append(order, keyed{bi, math.Max(math.Abs(u), math.Abs(v)), math.Atan2(v, u)})
	}
	slices.SortFunc(order, func(a, b keyed) int {
		if a.key != b.key {
			return genCmp(a.key, b.key)
		}
		if a.ang != b.ang {
			return genCmp(a.ang, b.ang)
		}
		return a.b - b.b
	})
	left := c.parcels
	c.reach = 0
	for _, o := range order {
		b := &c.blocks[o.b]
		b.n = int32(min(int(b.capacity), left))
		left -= int(b.n)
		if b.n > 0 {
			c.reach = o.key
		}
	}
	id := int64(1)
	for bi := range c.blocks {
		b := &c.blocks[bi]
		if b.kind == genBlockBuilt && b.n == 0 {
			b.kind = genBlockEmpty
		}
		b.first = id
		id += int64(b.n)
	}
}

func genCmp(a, b float64) int {
	if a < b {
		return -1
	}
	if a > b {
		return 1
	}
	return 0
}

// genParcelInfo holds the decisions about one parcel.
type genParcelInfo struct {
	built     bool
	fac       int // index into facilities, -1 for none
	green     bool
	ownership string
	owner     int
	bseed     uint64 // seed of its building
}

func (c *genCity) parcelInfo(bi, p int) genParcelInfo {
	k := &genZoneKinds[c.zones[c.blocks[bi].zone].kind]
	r := genRand{genHash(c.base, genTagParcel, uint64(bi), uint64(p))}
	in := genParcelInfo{fac: -1}
	in.built = r.float() < k.built
	in.green = !in.built && r.float() < k.greenShare
	uo := r.float()
	in.owner = 1 + int(r.next()%uint64(c.parcels*4/5+1))
	in.bseed = r.next()
	for _, f := range c.facAt[bi] {
		if c.facilities[f].parcel == p {
			in.fac = f
			in.built = true
			in.green = false
		}
	}
	switch {
	case in.fac >= 0 || (in.green && k.greenPublic):
		in.ownership = "public"
	case uo < 0.86:
		in.ownership = "private"
	case uo < 0.93:
		in.ownership = "public"
	default:
		in.ownership = "unknown"
	}
	return in
}

// genBuilding is one building in metres.
type genBuilding struct {
	x0, y0, x1, y1 float64
	use            string
	floors         int
	height, gfa    float64
	dwellings      int
	year           int
}

// building places the building of parcel p: floors from the zone's range, footprint share
// under the zone's POT and CUT (with a 3 % margin), a rectangle set back from every edge.
func (c *genCity) building(z *genZone, p genParcel, seed uint64, fac int) genBuilding {
	k := &genZoneKinds[z.kind]
	r := genRand{seed}
	uUse, uFloors, uF := r.float(), r.float(), r.float()
	uViol, uVKind, uVAmt := r.float(), r.float(), r.float()
	uAspect, uX, uY, uH, uYear, uEra := r.float(), r.float(), r.float(), r.float(), r.float(), r.float()

	b := genBuilding{use: k.uses[len(k.uses)-1].use}
	for _, u := range k.uses {
		if uUse < u.cum {
			b.use = u.use
			break
		}
	}
	top := max(k.minFloors, min(z.maxFloors, int(z.cut/k.fMin)))
	b.floors = k.minFloors + int(uFloors*float64(top-k.minFloors+1))
	if fac >= 0 {
		fk := &genFacilityKinds[c.facilities[fac].kind]
		if fk.use != "" {
			b.use = fk.use
			b.floors = min(b.floors, fk.maxFloors)
		}
	}
	hi := math.Min(math.Min(z.pot, z.cut/float64(b.floors)), 0.60) * 0.97
	lo := math.Min(0.30, hi*0.85)
	f := lo + uF*(hi-lo)
	if fac < 0 && uViol < genViolation {
		switch int(uVKind * 3) {
		case 0: // too tall
			b.floors = z.maxFloors + 1 + int(uVAmt*3)
		case 1: // too much of the parcel built
			f = z.pot + 0.05 + 0.1*uVAmt
		default: // a use the zone does not allow
			b.use = k.forbidden
		}
	}

	w, d := p.x1-p.x0, p.y1-p.y0
	rxMax, ryMax := 1-2*genSetback/w, 1-2*genSetback/d
	f = math.Min(f, rxMax*ryMax*0.98)
	rx := math.Min(math.Max(math.Sqrt(f)*(0.8+0.45*uAspect), f/ryMax), rxMax)
	bw, bd := rx*w, f/rx*d
	b.x0 = p.x0 + genSetback + uX*(w-bw-2*genSetback)
	b.y0 = p.y0 + genSetback + uY*(d-bd-2*genSetback)
	b.x1, b.y1 = b.x0+bw, b.y0+bd

	b.gfa = genRound(bw*bd*float64(b.floors), 10)
	b.height = genRound(float64(b.floors)*3+uH*1.5, 10)
	switch b.use {
	case "residential":
		b.dwellings = max(1, int(math.Round(b.gfa/genDwellingM2)))
	case "mixed":
		b.dwellings = max(1, int(math.Round(b.gfa/2/genDwellingM2)))
	}
	lo0, hi0 := k.yearLo, k.yearHi
	switch {
	case fac >= 0:
		lo0, hi0 = 1950, 2020
	case z.kind == genCollective && uEra < 0.65: // the large housing estates of 1960–1989
		lo0, hi0 = 1960, 1989
	case z.kind == genCollective:
		lo0 = 1990
	}
	b.year = lo0 + int(uYear*float64(hi0-lo0+1))
	return b
}

// countResidents sums the residents of every block (before facilities take their parcels).
func (c *genCity) countResidents() {
	var buf []genParcel
	for bi := range c.blocks {
		b := &c.blocks[bi]
		if b.n == 0 {
			continue
		}
		z := &c.zones[b.zone]
		buf = c.blockParcels(bi, buf[:0])
		for p := range int(b.n) {
			in := c.parcelInfo(bi, p)
			if in.built {
				b.residents += float64(c.building(z, buf[p], in.bseed, -1).dwellings) * genPersons
			}
		}
	}
}

// placeFacilities spreads each kind of facility in proportion to residents: blocks are walked
// along a Hilbert curve (neighbours stay close) and a facility is put every total/n residents.
func (c *genCity) placeFacilities() {
	c.facAt = map[int][]int{}
	side := 1
	for side < max(c.gx, c.gy) {
		side *= 2
	}
	type keyed struct{ b, h int }
	var order []keyed
	total := 0.0
	for bi, b := range c.blocks {
		if b.residents > 0 && c.zones[b.zone].kind != genIndustrial {
			order = append(order, keyed{bi, int(spatial.Hilbert(uint64(side), uint64(bi%c.gx), uint64(bi/c.gx)))})
			total += b.residents
		}
	}
	slices.SortFunc(order, func(a, b keyed) int { return a.h - b.h })
	if len(order) == 0 {
		return
	}
	for ki, fk := range genFacilityKinds {
		if fk.perResidents == 0 {
			continue
		}
		n := max(1, int(math.Round(total/fk.perResidents)))
		step := total / float64(n)
		phase := genUnit(genHash(c.base, genTagFacility, uint64(ki), 0))
		next, m, cum := phase*step, 0, 0.0
		for _, o := range order {
			cum += c.blocks[o.b].residents
			for m < n && cum >= next {
				c.addFacility(ki, o.b, "")
				m++
				next = (float64(m) + phase) * step
			}
		}
	}
	// A citizen centre per district, in the lived-in block nearest the district's centre.
	for di := range c.districtCount() {
		x0, y0, x1, y1 := c.districtRect(di)
		mx, my := (x0+x1)/2, (y0+y1)/2
		best, bestD := -1, math.Inf(1)
		for _, o := range order {
			i, j := o.b%c.gx, o.b/c.gx
			bx, by := (c.colX0[i]+c.colX1[i])/2, (c.rowY0[j]+c.rowY1[j])/2
			if bx < x0 || bx > x1 || by < y0 || by > y1 {
				continue
			}
			if d := math.Hypot(bx-mx, by-my); d < bestD {
				best, bestD = o.b, d
			}
		}
		if best >= 0 {
			c.addFacility(genFacCitizen, best, c.districtName(di))
		}
	}
	// Public Wi-Fi on every square and in every green zone's park.
	for bi, b := range c.blocks {
		if b.kind == genBlockSquare {
			i, j := bi%c.gx, bi/c.gx
			c.addPointFacility(genFacWifi, bi, (c.colX0[i]+c.colX1[i])/2, (c.rowY0[j]+c.rowY1[j])/2)
		}
	}
	for _, z := range c.zones {
		if z.kind == genGreen {
			bi := c.zrStart[z.zr]*c.gx + c.zcStart[z.zc]
			c.addPointFacility(genFacWifi, bi, (z.x0+z.x1)/2, (z.y0+z.y1)/2)
		}
	}
}

// addFacility puts a facility of kind ki on a free parcel of block bi (the largest for big
// facilities) and centres it on the parcel's building.
func (c *genCity) addFacility(ki, bi int, label string) {
	fk := &genFacilityKinds[ki]
	b := &c.blocks[bi]
	parcels := c.blockParcels(bi, nil)[:b.n]
	used := map[int]bool{}
	for _, f := range c.facAt[bi] {
		used[c.facilities[f].parcel] = true
	}
	r := genRand{genHash(c.base, genTagFacility, uint64(ki), uint64(len(c.facilities)))}
	pick := -1
	if fk.big {
		bestA := 0.0
		for p, q := range parcels {
			if a := (q.x1 - q.x0) * (q.y1 - q.y0); !used[p] && a > bestA {
				pick, bestA = p, a
			}
		}
	} else {
		start := r.intn(len(parcels))
		for k := range parcels {
			if p := (start + k) % len(parcels); !used[p] {
				pick = p
				break
			}
		}
	}
	if pick < 0 {
		i, j := bi%c.gx, bi/c.gx
		c.addPointFacility(ki, bi, (c.colX0[i]+c.colX1[i])/2, (c.rowY0[j]+c.rowY1[j])/2)
		return
	}
	f := c.newFacility(ki, label, r)
	f.block, f.parcel = bi, pick
	fi := len(c.facilities)
	c.facilities = append(c.facilities, f)
	c.facAt[bi] = append(c.facAt[bi], fi)
	in := c.parcelInfo(bi, pick)
	bld := c.building(&c.zones[b.zone], parcels[pick], in.bseed, fi)
	c.facilities[fi].x, c.facilities[fi].y = (bld.x0+bld.x1)/2, (bld.y0+bld.y1)/2
}

func (c *genCity) addPointFacility(ki, bi int, x, y float64) {
	r := genRand{genHash(c.base, genTagFacility, uint64(ki), uint64(len(c.facilities)))}
	f := c.newFacility(ki, "", r)
	f.block, f.parcel, f.x, f.y = bi, -1, x, y
	c.facilities = append(c.facilities, f)
}

func (c *genCity) newFacility(ki int, label string, r genRand) genFacility {
	fk := &genFacilityKinds[ki]
	c.facNumber[ki]++
	number := c.facNumber[ki]
	f := genFacility{kind: ki}
	if fk.capHi > 0 {
		f.capacity = int64(fk.capLo + r.intn(fk.capHi-fk.capLo+1))
	}
	if label != "" {
		f.name = fmt.Sprintf(fk.name, label)
	} else {
		f.name = fmt.Sprintf(fk.name, number)
	}
	return f
}

// Districts: a grid of about Parcels/25,000 (at least 4) districts whose edges follow zone
// edges, so every zone lies in one district.

func (c *genCity) districtGrid() (cols, rows int) {
	want := max(4, int(math.Round(float64(c.parcels)/25000)))
	rows = max(1, int(math.Round(math.Sqrt(float64(want)))))
	cols = (want + rows - 1) / rows
	return min(cols, len(c.zcStart)-1), min(rows, len(c.zrStart)-1)
}

func (c *genCity) districtCount() int {
	cols, rows := c.districtGrid()
	return cols * rows
}

func (c *genCity) districtRect(di int) (x0, y0, x1, y1 float64) {
	cols, rows := c.districtGrid()
	zc, zr := len(c.zcStart)-1, len(c.zrStart)-1
	dc, dr := di%cols, di/cols
	return c.lineX[c.zcStart[zc*dc/cols]], c.lineY[c.zrStart[zr*dr/rows]],
		c.lineX[c.zcStart[zc*(dc+1)/cols]], c.lineY[c.zrStart[zr*(dr+1)/rows]]
}

// districtRanks orders districts by the distance of their centre from the city centre.
func (c *genCity) districtRanks() []int {
	if c.districtRank != nil {
		return c.districtRank
	}
	n := c.districtCount()
	idx := make([]int, n)
	dist := make([]float64, n)
	for di := range n {
		idx[di] = di
		x0, y0, x1, y1 := c.districtRect(di)
		dist[di] = math.Hypot((x0+x1)/2, (y0+y1)/2)
	}
	slices.SortStableFunc(idx, func(a, b int) int { return genCmp(dist[a], dist[b]) })
	c.districtRank = make([]int, n)
	for rank, di := range idx {
		c.districtRank[di] = rank
	}
	return c.districtRank
}

var genDistrictNames = []string{"Centru", "Gheorgheni", "Mărăști", "Andrei Mureșanu", "Grigorescu",
	"Zorilor", "Gruia", "Iris", "Mănăștur", "Bulgaria", "Bună Ziua", "Europa", "Între Lacuri",
	"Someșeni", "Dâmbul Rotund", "Grădini Mănăștur", "Sopor", "Borhanci", "Făget", "Becaș",
	"Lomb", "Tineretului", "Muncii", "Florești"}

func (c *genCity) districtName(di int) string {
	rank := c.districtRanks()[di]
	if rank < len(genDistrictNames) {
		return genDistrictNames[rank]
	}
	return "Cartierul " + strconv.Itoa(rank+1)
}

var genStreetNames = []string{"Florilor", "Teilor", "Plopilor", "Stejarului", "Fagului", "Arțarului",
	"Castanilor", "Trandafirilor", "Libertății", "Unirii", "Republicii", "Independenței",
	"Mihai Viteazu", "Avram Iancu", "Horea", "Cloșca", "Crișan", "Eroilor", "Memorandumului",
	"Moților", "Observatorului", "Clinicilor", "Dorobanților", "Primăverii", "Zorilor", "Mărului",
	"Viilor", "Morii", "Fabricii", "Gării", "Păcii", "Speranței", "Lalelelor", "Brazilor",
	"Salcâmilor", "Mestecenilor", "Nucului", "Câmpului", "Lunii", "Soarelui", "Izvorului",
	"Someșului", "Crișului", "Mureșului", "Oltului", "Bradului", "Universității", "Academiei",
	"Muncii", "Toamnei"}

var genStreetKinds = []string{"Strada", "Aleea", "Calea", "Drumul"}

func (c *genCity) streetName(line int) string {
	n := len(genStreetNames)
	name := genStreetNames[line%n]
	kind := genStreetKinds[(line/n)%len(genStreetKinds)]
	if c.aveY[line] {
		kind = "Bulevardul"
	}
	if round := line / (n * len(genStreetKinds)); round > 0 {
		name += " " + strconv.Itoa(round+1)
	}
	return kind + " " + name
}

// Emission. Every layer numbers its features from 1.

func (c *genCity) pt(x, y float64) orb.Point {
	// 1e-7° is about a centimetre: enough for parcels, and it keeps the output short.
	return orb.Point{genRound(c.center[0]+x/c.kx, 1e7), genRound(c.center[1]+y/c.ky, 1e7)}
}

// rect is a counter-clockwise rectangle.
func (c *genCity) rect(x0, y0, x1, y1 float64) orb.Polygon {
	a, b, cc, d := c.pt(x0, y0), c.pt(x1, y0), c.pt(x1, y1), c.pt(x0, y1)
	return orb.Polygon{orb.Ring{a, b, cc, d, a}}
}

func (c *genCity) emitDistricts(emit func(layers.Feature) error) error {
	for di := range c.districtCount() {
		x0, y0, x1, y1 := c.districtRect(di)
		err := emit(layers.Feature{Layer: "districts", ID: int64(di + 1), Geometry: c.rect(x0, y0, x1, y1),
			Props: map[string]any{"name": c.districtName(di), "code": fmt.Sprintf("D%02d", di+1), "derived": true}})
		if err != nil {
			return err
		}
	}
	return nil
}

func (c *genCity) emitZoning(emit func(layers.Feature) error) error {
	for zi, z := range c.zones {
		k := &genZoneKinds[z.kind]
		err := emit(layers.Feature{Layer: "zoning", ID: int64(zi + 1), Geometry: c.rect(z.x0, z.y0, z.x1, z.y1),
			Props: map[string]any{
				"code": z.code, "name": k.name + " " + z.code, "allowed_uses": slices.Clone(k.allowed),
				"max_pot_pct": z.pot * 100, "max_cut": z.cut, "max_height_m": z.maxHeight,
				"max_floors": int64(z.maxFloors), "derived": true,
				"regulation_url": "https://example.org/citytwin/pug/rlu#" + z.code,
			}})
		if err != nil {
			return err
		}
	}
	return nil
}

func (c *genCity) emitParcels(emit func(layers.Feature) error) error {
	var buf []genParcel
	for bi := range c.blocks {
		b := &c.blocks[bi]
		if b.n == 0 {
			continue
		}
		k := &genZoneKinds[c.zones[b.zone].kind]
		j := bi / c.gx
		buf = c.blockParcels(bi, buf[:0])
		for p := range int(b.n) {
			q := buf[p]
			in := c.parcelInfo(bi, p)
			id := b.first + int64(p)
			// House numbers grow eastwards in 6 m steps (narrower than any parcel, so no two
			// parcels share one): odd on a street's north side, even on its south side.
			line, num := j, 2*int((q.x0-c.lineX[0])/6)+1
			if q.row == 1 {
				line, num = j+1, num+1
			}
			landUse := "curți-construcții"
			if !in.built {
				landUse = k.unbuiltUse
			}
			u := (q.x0 + q.x1) / 2 / c.halfX
			v := (q.y0 + q.y1) / 2 / c.halfY
			intravilan := in.built || math.Max(math.Abs(u), math.Abs(v)) < 0.93
			err := emit(layers.Feature{Layer: "parcels", ID: id, Geometry: c.rect(q.x0, q.y0, q.x1, q.y1),
				Props: map[string]any{
					"cad_number": genCad(id), "area_m2": genRound((q.x1-q.x0)*(q.y1-q.y0), 100),
					"land_use": landUse, "intravilan": intravilan, "ownership": in.ownership,
					"address": c.streetName(line) + " nr. " + strconv.Itoa(num), "derived": true,
				},
				Restricted: map[string]any{
					"owner_name": "Owner " + strconv.Itoa(in.owner),
					"land_book":  "CF " + strconv.FormatInt(100000+id, 10),
				}})
			if err != nil {
				return err
			}
		}
	}
	return nil
}

func genCad(parcelID int64) string { return strconv.FormatInt(200000+parcelID, 10) }

func (c *genCity) emitBuildings(emit func(layers.Feature) error) error {
	var buf []genParcel
	id := int64(0)
	for bi := range c.blocks {
		b := &c.blocks[bi]
		if b.n == 0 {
			continue
		}
		z := &c.zones[b.zone]
		buf = c.blockParcels(bi, buf[:0])
		for p := range int(b.n) {
			in := c.parcelInfo(bi, p)
			if !in.built {
				continue
			}
			bld := c.building(z, buf[p], in.bseed, in.fac)
			id++
			err := emit(layers.Feature{Layer: "buildings", ID: id, Geometry: c.rect(bld.x0, bld.y0, bld.x1, bld.y1),
				Props: map[string]any{
					"cad_number": genCad(b.first + int64(p)), "use": bld.use, "floors": int64(bld.floors),
					"height_m": bld.height, "dwellings": int64(bld.dwellings), "year_built": int64(bld.year),
					"gfa_m2": bld.gfa, "derived": true,
				}})
			if err != nil {
				return err
			}
		}
	}
	return nil
}

func (c *genCity) emitFacilities(emit func(layers.Feature) error) error {
	for fi, f := range c.facilities {
		fk := &genFacilityKinds[f.kind]
		err := emit(layers.Feature{Layer: "facilities", ID: int64(fi + 1), Geometry: c.pt(f.x, f.y),
			Props: map[string]any{"kind": fk.kind, "name": f.name, "capacity": f.capacity,
				"capacity_unit": fk.unit, "derived": true}})
		if err != nil {
			return err
		}
	}
	return nil
}

func (c *genCity) emitGreen(emit func(layers.Feature) error) error {
	id := int64(0)
	add := func(kind string, public bool, x0, y0, x1, y1 float64) error {
		id++
		return emit(layers.Feature{Layer: "green_spaces", ID: id, Geometry: c.rect(x0, y0, x1, y1),
			Props: map[string]any{"kind": kind, "public": public,
				"area_m2": genRound((x1-x0)*(y1-y0), 100), "derived": true}})
	}
	// Green zones: one park (a forest at the edge) over all the zone's blocks.
	for _, z := range c.zones {
		if z.kind != genGreen {
			continue
		}
		kind := "park"
		if z.r > 0.9 {
			kind = "forest"
		}
		i0, i1 := c.zcStart[z.zc], c.zcStart[z.zc+1]-1
		j0, j1 := c.zrStart[z.zr], c.zrStart[z.zr+1]-1
		if err := add(kind, true, c.colX0[i0], c.rowY0[j0], c.colX1[i1], c.rowY1[j1]); err != nil {
			return err
		}
	}
	var buf []genParcel
	for bi := range c.blocks {
		b := &c.blocks[bi]
		i, j := bi%c.gx, bi/c.gx
		switch b.kind {
		case genBlockPark, genBlockSquare:
			if !c.blockInCity(bi) {
				continue
			}
			kind := "park"
			if b.kind == genBlockSquare {
				kind = "square"
			}
			if err := add(kind, true, c.colX0[i], c.rowY0[j], c.colX1[i], c.rowY1[j]); err != nil {
				return err
			}
		case genBlockBuilt:
			k := &genZoneKinds[c.zones[b.zone].kind]
			if k.green == "" {
				continue
			}
			buf = c.blockParcels(bi, buf[:0])
			for p := range int(b.n) {
				if in := c.parcelInfo(bi, p); in.green {
					q := buf[p]
					if err := add(k.green, k.greenPublic, q.x0+genSetback, q.y0+genSetback, q.x1-genSetback, q.y1-genSetback); err != nil {
						return err
					}
				}
			}
		}
	}
	return nil
}

// blockInCity reports whether a block lies within the built-up square (not in the undeveloped
// outer ring left over when the parcels run out).
func (c *genCity) blockInCity(bi int) bool {
	i, j := bi%c.gx, bi/c.gx
	u := (c.colX0[i] + c.colX1[i]) / 2 / c.halfX
	v := (c.rowY0[j] + c.rowY1[j]) / 2 / c.halfY
	return math.Max(math.Abs(u), math.Abs(v)) <= c.reach
}

// emitNoise writes Lden bands along every avenue (road: 70/65/60/55 dB at 0–25, 25–50, 50–100
// and 100–180 m from its axis) and the railway (65/60/55 dB at 0–30, 30–80, 80–160 m). Bands
// are disjoint strips along one axis; where two axes cross their bands overlap.
func (c *genCity) emitNoise(emit func(layers.Feature) error) error {
	type band struct{ lden, from, to float64 }
	road := []band{{70, 0, 25}, {65, 25, 50}, {60, 50, 100}, {55, 100, 180}}
	rail := []band{{65, 0, 30}, {60, 30, 80}, {55, 80, 160}}
	x0, x1, y0, y1 := c.lineX[0], c.lineX[c.gx], c.lineY[0], c.lineY[c.gy]
	id := int64(0)
	strips := func(source string, bands []band, night float64, along bool, at float64) error {
		for _, b := range bands {
			var g orb.Geometry
			if along { // east-west axis at y = at
				if b.from == 0 {
					g = c.rect(x0, at-b.to, x1, at+b.to)
				} else {
					g = orb.MultiPolygon{c.rect(x0, at+b.from, x1, at+b.to), c.rect(x0, at-b.to, x1, at-b.from)}
				}
			} else {
				if b.from == 0 {
					g = c.rect(at-b.to, y0, at+b.to, y1)
				} else {
					g = orb.MultiPolygon{c.rect(at+b.from, y0, at+b.to, y1), c.rect(at-b.to, y0, at-b.from, y1)}
				}
			}
			id++
			err := emit(layers.Feature{Layer: "noise", ID: id, Geometry: g,
				Props: map[string]any{"source": source, "lden_db": b.lden, "lnight_db": b.lden - night, "derived": true}})
			if err != nil {
				return err
			}
		}
		return nil
	}
	for k, ave := range c.aveY {
		if ave && k > 0 && k < c.gy {
			if err := strips("road", road, 8, true, c.lineY[k]); err != nil {
				return err
			}
		}
	}
	for k, ave := range c.aveX {
		if ave && k > 0 && k < c.gx {
			if err := strips("road", road, 8, false, c.lineX[k]); err != nil {
				return err
			}
		}
	}
	if c.railLine >= 0 {
		return strips("rail", rail, 3, true, c.lineY[c.railLine])
	}
	return nil
}

// emitFlood writes nested flood zones along the river (the 100-year zone contains the 10-year
// one, and so on), from the city's west edge to its east edge.
func (c *genCity) emitFlood(emit func(layers.Feature) error) error {
	for id, years := range []int{10, 100, 1000} {
		ring := c.riverBand(func(x float64) float64 { return c.floodHalf(years, x) })
		err := emit(layers.Feature{Layer: "flood", ID: int64(id + 1), Geometry: orb.Polygon{ring},
			Props: map[string]any{"return_period_years": int64(years), "derived": true}})
		if err != nil {
			return err
		}
	}
	return nil
}

// riverBand is the counter-clockwise ring of the band half(x) either side of the river's
// centreline, from the city's west edge to its east edge, a vertex every genFloodStepM.
func (c *genCity) riverBand(half func(x float64) float64) orb.Ring {
	x0, x1 := c.lineX[0], c.lineX[c.gx]
	n := int(math.Ceil((x1 - x0) / genFloodStepM))
	ring := make(orb.Ring, 0, 2*n+3)
	for s := 0; s <= n; s++ { // south bank, west to east
		x := x0 + (x1-x0)*float64(s)/float64(n)
		ring = append(ring, c.pt(x, c.riverY(x)-half(x)))
	}
	for s := n; s >= 0; s-- { // north bank, east to west
		x := x0 + (x1-x0)*float64(s)/float64(n)
		ring = append(ring, c.pt(x, c.riverY(x)+half(x)))
	}
	return append(ring, ring[0])
}

// emitRiver writes the river's channel (genRiverHalf either side of its centreline) to the
// water layer.
func (c *genCity) emitRiver(emit func(layers.Feature) error) error {
	ring := c.riverBand(func(float64) float64 { return genRiverHalf })
	return emit(layers.Feature{Layer: "water", ID: 1, Geometry: orb.Polygon{ring},
		Props: map[string]any{"name": "Someșul Mic", "kind": "river", "derived": true}})
}

// emitPlaces writes a label point per district, at its centre, as a quarter of the places
// layer, in district order.
func (c *genCity) emitPlaces(emit func(layers.Feature) error) error {
	for di := range c.districtCount() {
		x0, y0, x1, y1 := c.districtRect(di)
		err := emit(layers.Feature{Layer: "places", ID: int64(di + 1), Geometry: c.pt((x0+x1)/2, (y0+y1)/2),
			Props: map[string]any{"name": c.districtName(di), "kind": "quarter", "derived": true}})
		if err != nil {
			return err
		}
	}
	return nil
}

// emitAirStations puts a station in every other district (by distance from the centre);
// pollution falls from the centre outwards, so central NO2 exceeds the EU limit.
func (c *genCity) emitAirStations(emit func(layers.Feature) error) error {
	ranks := c.districtRanks()
	byRank := make([]int, len(ranks))
	for di, r := range ranks {
		byRank[r] = di
	}
	id := int64(0)
	for rank := 0; rank < len(byRank); rank += 2 {
		di := byRank[rank]
		x0, y0, x1, y1 := c.districtRect(di)
		r := genRand{genHash(c.base, genTagDistrict, uint64(di), 1)}
		x := (x0+x1)/2 + (r.float()-0.5)*0.2*(x1-x0)
		y := (y0+y1)/2 + (r.float()-0.5)*0.2*(y1-y0)
		dist := math.Min(1, math.Hypot(x/c.halfX, y/c.halfY))
		pm25 := genRound(8+14*(1-dist)+4*r.float(), 10)
		id++
		err := emit(layers.Feature{Layer: "air_stations", ID: id, Geometry: c.pt(x, y),
			Props: map[string]any{
				"name": "Stația " + c.districtName(di), "pm25": pm25,
				"pm10": genRound(pm25*1.5+5*r.float(), 10), "no2": genRound(15+30*(1-dist)+6*r.float(), 10),
				"year": int64(2024), "derived": true,
			}})
		if err != nil {
			return err
		}
	}
	return nil
}

// emitBroadband writes one coverage polygon per district: fibre in the centre, cable or DSL in
// between, DSL or 4G at the edge.
func (c *genCity) emitBroadband(emit func(layers.Feature) error) error {
	for di := range c.districtCount() {
		x0, y0, x1, y1 := c.districtRect(di)
		dist := math.Hypot((x0+x1)/2/c.halfX, (y0+y1)/2/c.halfY)
		u := genUnit(genHash(c.base, genTagDistrict, uint64(di), 2))
		tech, mbps := "fibre", 1000.0
		switch {
		case dist < 0.35:
		case dist < 0.8 && u < 0.6:
			tech, mbps = "cable", 500
		case dist < 0.8:
			tech, mbps = "dsl", 50
		case u < 0.5:
			tech, mbps = "4g", 100
		default:
			tech, mbps = "dsl", 20
		}
		err := emit(layers.Feature{Layer: "broadband", ID: int64(di + 1), Geometry: c.rect(x0, y0, x1, y1),
			Props: map[string]any{"technology": tech, "max_down_mbps": mbps, "derived": true}})
		if err != nil {
			return err
		}
	}
	return nil
}

// Randomness: splitmix64, so the city does not depend on math/rand's algorithms.

type genRand struct{ s uint64 }

func (r *genRand) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	return genMix(r.s)
}

// float returns a number in [0, 1).
func (r *genRand) float() float64 { return genUnit(r.next()) }

// intn returns a number in [0, n); n > 0.
func (r *genRand) intn(n int) int { return int(r.next() % uint64(n)) }

func genMix(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func genHash(base, tag, a, b uint64) uint64 {
	h := genMix(base ^ tag*0x9e3779b97f4a7c15)
	h = genMix(h ^ (a + 0x632be59bd9b4e019))
	return genMix(h ^ (b + 0x85ebca6b27d4eb4f))
}

func genUnit(h uint64) float64 { return float64(h>>11) / (1 << 53) }

func genRound(v, scale float64) float64 { return math.Round(v*scale) / scale }
