package data

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/paulmach/orb"
	"github.com/paulmach/osm"

	"github.com/citytwin/citytwin/spatial"
)

// Building rules (docs/import-rules.md, "Buildings").
const (
	storeyHeightM     = 3.0  // metres per floor, both ways: floors -> height and height -> floors
	dwellingSizeM2    = 70.0 // gross floor area of one dwelling
	dwellingNetShare  = 0.8  // share of residential GFA that is dwellings (the rest: walls, stairs)
	mixedResidential  = 0.5  // share of a mixed building's GFA that is residential
	defaultFloorsElse = 3
)

// useByBuildingTag maps building=* values to a use; "yes" and values not listed are decided by
// buildingUse.
var useByBuildingTag = map[string]string{
	"apartments": "residential", "residential": "residential", "house": "residential",
	"detached": "residential", "semidetached_house": "residential", "terrace": "residential",
	"dormitory": "residential", "bungalow": "residential", "cabin": "residential",
	"farm": "residential", "houseboat": "residential",
	"commercial": "commercial", "retail": "commercial", "supermarket": "commercial",
	"kiosk": "commercial", "hotel": "commercial", "shop": "commercial", "mall": "commercial",
	"office": "office", "civic": "office", "public": "office", "government": "office",
	"townhall": "office", "fire_station": "office", "police": "office",
	"industrial": "industrial", "warehouse": "industrial", "factory": "industrial",
	"manufacture": "industrial",
	"school":      "education", "kindergarten": "education", "university": "education",
	"college":  "education",
	"hospital": "health", "clinic": "health",
	"church": "culture", "chapel": "culture", "cathedral": "culture", "mosque": "culture",
	"synagogue": "culture", "temple": "culture", "shrine": "culture", "religious": "culture",
	"monastery": "culture", "museum": "culture", "castle": "culture", "palace": "culture",
	"theatre": "culture",
}

// defaultFloors is the number of floors of a building without building:levels or height.
var defaultFloors = map[string]int64{
	"house": 2, "detached": 2, "semidetached_house": 2, "terrace": 2, "bungalow": 1,
	"farm": 2, "cabin": 1,
	"apartments": 5, "residential": 5, "dormitory": 5,
	"garage": 1, "garages": 1, "shed": 1, "kiosk": 1, "hut": 1, "service": 1,
	"greenhouse": 1, "construction": 1,
	"roof": 0, "carport": 0,
}

// building is one building footprint with the attributes the import gives it.
type building struct {
	e          *element
	geom       orb.Geometry // WGS84 Polygon or MultiPolygon
	metric     orb.Geometry
	bound      orb.Bound // metric
	centroid   orb.Point // metric
	footprint  float64   // m²
	use        string
	floors     int64
	heightM    float64
	gfa        float64
	dwellings  int64
	year       int64
	landuse    string // landuse=* of the land-use area the centroid lies in, "" when none
	evidence   useEvidence
	cadNumber  string
	parcelID   int64
	parcelArea float64
}

func isBuilding(e *element) bool {
	v := e.tags.Find("building")
	return e.area != nil && v != "" && v != "no"
}

// landArea is a landuse=* polygon.
type landArea struct {
	e      *element
	value  string
	metric orb.Geometry
}

func (c *city) collectLandUse() {
	c.landIndex = newAreaIndex(c.proj)
	for _, e := range c.elems {
		if v := e.tags.Find("landuse"); v != "" && e.area != nil {
			a := &landArea{e: e, value: v}
			a.metric = c.landIndex.add(e.areaGeom()).Geom
			c.landuse = append(c.landuse, a)
		}
	}
}

// landUseAt is the landuse=* value of the smallest land-use area containing p (metric): the
// most specific one where areas nest.
func (c *city) landUseAt(p orb.Point) string {
	if i := c.landIndex.smallestContaining(p); i >= 0 {
		return c.landuse[i].value
	}
	return ""
}

func (c *city) mapBuildings() {
	for _, e := range c.elems {
		if !isBuilding(e) {
			continue
		}
		b := &building{e: e, geom: e.areaGeom()}
		b.metric = c.metric(b.geom)
		b.bound = b.metric.Bound()
		b.centroid = spatial.Centroid(b.metric)
		b.footprint = spatial.Area(b.metric)
		b.landuse = c.landUseAt(b.centroid)
		b.floors, b.heightM = floorsAndHeight(e.tags)
		c.buildings = append(c.buildings, b)
	}
	pois := c.poisOnBuildings()
	for i, b := range c.buildings {
		b.evidence = useEvidence{landuse: b.landuse, pois: pois[i], footprint: b.footprint, floors: b.floors}
		b.use = buildingUse(b.e.tags, b.evidence)
		b.gfa = b.footprint * float64(b.floors)
		b.dwellings = estimateDwellings(b.use, b.gfa)
		b.year = yearBuilt(b.e.tags.Find("start_date"))
	}
	// Parcels are numbered in building id order (ways, then relations).
	sort.Slice(c.buildings, func(i, j int) bool { return c.buildings[i].e.id < c.buildings[j].e.id })
	prefix := c.cadastrePrefix()
	for i, b := range c.buildings {
		b.parcelID = int64(i + 1)
		b.cadNumber = fmt.Sprintf("%s-%06d", prefix, b.parcelID)
		c.emit("buildings", b.e.id, b.geom, map[string]any{
			"cad_number": b.cadNumber,
			"use":        b.use,
			"floors":     b.floors,
			"height_m":   round1(b.heightM),
			"dwellings":  b.dwellings,
			"year_built": b.year,
			"gfa_m2":     round1(b.gfa),
			"estimated":  estimatedAttributes(b.e.tags),
			"derived":    false,
		}, nil)
	}
}

// Evidence thresholds for buildings whose tags name no use (docs/import-rules.md,
// "Buildings"), measured on the buildings of the Monaco extract that do name one.
const (
	poiReachM        = 2.0    // a point of interest this close to a footprint is on it
	largeFootprintM2 = 2500.0 // a building=yes this large is a hall, mall or garage, not housing
	smallFootprintM2 = 50.0   // a building=yes this small is a shed, kiosk or technical room
	mixedMinFloors   = 2      // shops on a building of this many floors make it mixed
	housingMinFloors = 3      // ...and from this many, housing above ground-floor shops
)

// useEvidence is what a building's surroundings say about its use when its own tags do not:
// the land-use area it stands in, the points of interest on it, its size.
type useEvidence struct {
	landuse   string     // landuse=* of the smallest land-use area holding the centroid
	pois      []osm.Tags // tags of the points of interest inside or on the footprint
	footprint float64    // m²
	floors    int64
}

// useByLanduse is the use of an untagged building standing in a land-use area of this kind.
var useByLanduse = map[string]string{
	"retail": "commercial", "commercial": "office", "industrial": "industrial", "port": "industrial",
	"railway": "other", "garages": "other", "military": "office", "institutional": "office",
	"education": "education", "religious": "culture", "cemetery": "other", "farmyard": "other",
	"allotments": "other", "residential": "residential",
}

// isPOI: a point of interest that tells what a building is used for.
func isPOI(t osm.Tags) bool {
	return anyKey(t, "shop", "office", "tourism", "amenity", "healthcare", "craft")
}

// poisOnBuildings lists, for each building (in c.buildings order), the tags of the points of
// interest on it: the nodes inside its footprint or within poiReachM of it (a node beside
// several buildings goes to the nearest), and the areas that are not buildings themselves
// (a hotel's grounds) holding its centroid.
func (c *city) poisOnBuildings() [][]osm.Tags {
	out := make([][]osm.Tags, len(c.buildings))
	index := newAreaIndex(c.proj)
	for _, b := range c.buildings {
		index.add(b.geom)
	}
	areas := newAreaIndex(c.proj)
	var areaTags []osm.Tags
	for _, e := range c.elems {
		switch {
		case !isPOI(e.tags) || isBuilding(e):
		case e.isNode():
			if hits := index.ix.Within(c.proj.ToMetric(e.pt), poiReachM, nil); len(hits) > 0 {
				i := hits[0].Feature.ID - 1
				out[i] = append(out[i], e.tags)
			}
		case e.area != nil:
			areas.add(e.areaGeom())
			areaTags = append(areaTags, e.tags)
		}
	}
	for i, b := range c.buildings {
		for _, k := range areas.containing(b.centroid) {
			out[i] = append(out[i], areaTags[k])
		}
	}
	return out
}

// buildingUse decides a building's use from its building=* value, else from the other tags
// on it, else (for building=yes) from the evidence around it: the points of interest on it,
// the land-use area it stands in, its size; housing only when nothing says otherwise.
func buildingUse(t osm.Tags, ev useEvidence) string {
	if u, ok := useByBuildingTag[t.Find("building")]; ok {
		return u
	}
	if u := useFromTags(t); u != "" {
		return u
	}
	if t.Find("building") != "yes" {
		return "other" // garages, sheds, roofs, stadiums, hangars, ruins...
	}
	if u := useFromPOIs(ev.pois, ev.floors); u != "" {
		return u
	}
	if u, ok := useByLanduse[ev.landuse]; ok {
		return u
	}
	switch {
	case ev.footprint >= largeFootprintM2:
		return "other"
	case ev.footprint > 0 && ev.footprint < smallFootprintM2:
		return "other"
	}
	return "residential"
}

// useFromPOIs reads a building's use from the points of interest on it: a hotel makes it
// commercial; otherwise the use most of them name (education, health, culture, office) when
// they outnumber the shops and restaurants; shops and restaurants alone make it mixed (shops
// below, housing above), or commercial when it has a single floor. "" when none says anything.
func useFromPOIs(pois []osm.Tags, floors int64) string {
	votes := map[string]int{}
	for _, p := range pois {
		switch p.Find("tourism") {
		case "hotel", "hostel", "motel":
			return "commercial"
		}
		if u := useFromTags(p); u != "" {
			votes[u]++
		}
	}
	best := ""
	for _, u := range []string{"education", "health", "culture", "office"} {
		if votes[u] > votes[best] {
			best = u
		}
	}
	switch {
	case best != "" && votes[best] >= votes["commercial"]:
		return best
	case votes["commercial"] == 0:
		return ""
	case floors < mixedMinFloors:
		return "commercial"
	case floors < housingMinFloors:
		return "mixed"
	}
	return ""
}

// useFromTags reads a use from amenity, healthcare, office, shop and tourism tags.
func useFromTags(t osm.Tags) string {
	switch t.Find("amenity") {
	case "school", "kindergarten", "childcare", "university", "college":
		return "education"
	case "hospital", "clinic", "doctors", "dentist":
		return "health"
	case "theatre", "cinema", "library", "arts_centre", "community_centre", "place_of_worship":
		return "culture"
	case "townhall", "courthouse", "police", "fire_station":
		return "office"
	case "restaurant", "cafe", "bank", "bar", "pub", "fast_food", "marketplace", "casino", "nightclub":
		return "commercial"
	}
	switch {
	case t.Find("healthcare") != "":
		return "health"
	case t.Find("tourism") == "museum":
		return "culture"
	case t.Find("office") != "":
		return "office"
	case t.Find("shop") != "", t.Find("tourism") == "hotel":
		return "commercial"
	}
	return ""
}

// estimatedAttributes lists the key attributes of a building with tags t that the import
// estimates rather than reads (the field "estimated"): its use when its own tags name none
// (a building=yes classified by the evidence around it), its floors without a readable
// building:levels, its height without a readable height, and its dwellings always.
func estimatedAttributes(t osm.Tags) []string {
	var out []string
	_, named := useByBuildingTag[t.Find("building")]
	if !named && useFromTags(t) == "" && t.Find("building") == "yes" {
		out = append(out, "use")
	}
	if _, ok := parseLevels(t.Find("building:levels")); !ok {
		out = append(out, "floors")
	}
	if _, ok := parseHeight(t.Find("height")); !ok {
		out = append(out, "height_m")
	}
	return append(out, "dwellings")
}

// floorsAndHeight reads building:levels and height, each filling in for the other at 3 m a
// floor, with a default number of floors by building type when both are missing.
func floorsAndHeight(t osm.Tags) (int64, float64) {
	floors, hasFloors := parseLevels(t.Find("building:levels"))
	height, hasHeight := parseHeight(t.Find("height"))
	switch {
	case hasFloors && hasHeight:
	case hasFloors:
		height = float64(floors) * storeyHeightM
	case hasHeight:
		// At most the 200 floors the catalog allows (and parseLevels reads): a tower over
		// 600 m tall must not fail the whole import.
		floors = min(200, max(1, int64(math.Round(height/storeyHeightM))))
	default:
		f, ok := defaultFloors[t.Find("building")]
		if !ok {
			f = defaultFloorsElse
		}
		floors, height = f, float64(f)*storeyHeightM
	}
	if height == 0 {
		height = storeyHeightM // a roof or carport: one storey high, no floor area
	}
	return floors, height
}

func parseLevels(s string) (int64, bool) {
	x, ok := parseNumber(s)
	if !ok || x > 200 {
		return 0, false
	}
	return int64(math.Round(x)), true
}

// parseHeight reads "12", "12 m", "12.5", "40 ft" or "40'" as metres.
func parseHeight(s string) (float64, bool) {
	x, ok := parseNumber(strings.TrimSpace(s))
	if !ok || x <= 0 {
		return 0, false
	}
	if strings.HasSuffix(s, "ft") || strings.HasSuffix(s, "'") {
		x *= 0.3048
	}
	return x, x <= 1000
}

// estimateDwellings: residential floor area (all of a residential building's, half of a
// mixed one's) × 80 % / 70 m² a dwelling.
func estimateDwellings(use string, gfa float64) int64 {
	res := 0.0
	switch use {
	case "residential":
		res = gfa
	case "mixed":
		res = gfa * mixedResidential
	}
	return int64(math.Round(res * dwellingNetShare / dwellingSizeM2))
}

// yearBuilt reads the first four-digit year of start_date ("1995", "1995-04-01", "~1900",
// "before 1930"); 0 when there is none (e.g. "C19").
func yearBuilt(s string) int64 {
	for i := 0; i+4 <= len(s); i++ {
		if isDigits(s[i:i+4]) && (i+4 == len(s) || !isDigit(s[i+4])) && (i == 0 || !isDigit(s[i-1])) {
			y := int64(s[i]-'0')*1000 + int64(s[i+1]-'0')*100 + int64(s[i+2]-'0')*10 + int64(s[i+3]-'0')
			if y >= 1000 && y <= 2100 {
				return y
			}
		}
	}
	return 0
}

func isDigit(b byte) bool { return b >= '0' && b <= '9' }

func isDigits(s string) bool {
	for i := range len(s) {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// cadastrePrefix is the country code most buildings carry in addr:country, "XX" when none
// does; it starts every derived cadastral number.
func (c *city) cadastrePrefix() string {
	count := map[string]int{}
	for _, b := range c.buildings {
		if v := strings.ToUpper(b.e.tags.Find("addr:country")); len(v) == 2 {
			count[v]++
		}
	}
	best := "XX"
	for k, n := range count {
		if n > count[best] || (n == count[best] && k < best) {
			best = k
		}
	}
	return best
}

// parcelLandUse is the land-use area's landuse=* value, else the building's use.
func parcelLandUse(b *building) string {
	if b.landuse != "" {
		return b.landuse
	}
	return b.use
}

// ownership: parcels of education, health and culture buildings are public; the others are
// drawn from a hash of the parcel id: 10 % public, 87 % private, 3 % unknown.
func ownership(b *building) string {
	switch b.use {
	case "education", "health", "culture":
		return "public"
	}
	switch h := hash01("ownership", b.parcelID); {
	case h < 0.10:
		return "public"
	case h < 0.97:
		return "private"
	}
	return "unknown"
}

// address is "street housenumber" from addr:street (or addr:place) and addr:housenumber.
func address(t osm.Tags) string {
	street := t.Find("addr:street")
	if street == "" {
		street = t.Find("addr:place")
	}
	if street == "" {
		return ""
	}
	return strings.TrimSpace(street + " " + t.Find("addr:housenumber"))
}
