package data

import (
	"math"
	"strings"

	"github.com/paulmach/orb"
	"github.com/paulmach/osm"

	"github.com/citytwin/citytwin/spatial"
)

// facilityDefault is the capacity a facility gets when OSM has no numeric capacity, and its
// unit. Zero means unknown.
var facilityDefault = map[string]struct {
	capacity int64
	unit     string
}{
	"kindergarten":   {100, "children"},
	"school":         {500, "pupils"},
	"high_school":    {800, "pupils"},
	"university":     {5000, "students"},
	"hospital":       {300, "beds"},
	"clinic":         {0, "patients"},
	"pharmacy":       {0, "customers"},
	"library":        {0, "seats"},
	"culture":        {0, "seats"},
	"sport":          {0, "places"},
	"citizen_center": {0, "visitors"},
	"public_wifi":    {0, "users"},
}

// facilityKind maps an element's tags to a facility kind, "" when it is none. amenity comes
// first, then healthcare, office and leisure.
func facilityKind(t osm.Tags) string {
	switch t.Find("amenity") {
	case "kindergarten", "childcare":
		return "kindergarten"
	case "school":
		if isHighSchool(t) {
			return "high_school"
		}
		return "school"
	case "university", "college":
		return "university"
	case "hospital":
		return "hospital"
	case "clinic", "doctors", "dentist":
		return "clinic"
	case "pharmacy":
		return "pharmacy"
	case "library":
		return "library"
	case "theatre", "arts_centre", "cinema", "community_centre":
		return "culture"
	case "townhall":
		return "citizen_center"
	}
	switch t.Find("healthcare") {
	case "hospital":
		return "hospital"
	case "clinic", "doctor", "dentist", "centre":
		return "clinic"
	case "pharmacy":
		return "pharmacy"
	}
	if t.Find("office") == "government" {
		return "citizen_center"
	}
	switch t.Find("leisure") {
	case "sports_centre", "stadium":
		return "sport"
	}
	return ""
}

// isHighSchool: ISCED level 3 or more among the levels listed, or a name that says so.
func isHighSchool(t osm.Tags) bool {
	for _, lvl := range strings.Split(t.Find("isced:level"), ";") {
		if x, ok := parseNumber(strings.TrimSpace(lvl)); ok && x >= 3 {
			return true
		}
	}
	name := strings.ToLower(t.Find("name"))
	for _, w := range []string{"lycée", "lycee", "liceu", "liceo", "high school", "colegiul național", "colegiul national"} {
		if strings.Contains(name, w) {
			return true
		}
	}
	return false
}

// isPublicWifi: internet_access=wlan or wifi, free (internet_access:fee absent or no).
func isPublicWifi(t osm.Tags) bool {
	switch t.Find("internet_access") {
	case "wlan", "wifi":
		fee := t.Find("internet_access:fee")
		return fee == "" || fee == "no"
	}
	return false
}

// facility is one facility before it is emitted.
type facility struct {
	id     int64
	kind   string
	tags   osm.Tags
	pt     orb.Point    // metric
	area   orb.Geometry // metric polygon of the element, nil for a node
	isNode bool
}

func (c *city) mapFacilities() {
	var fs []*facility
	for _, e := range c.elems {
		if e.area == nil && !e.isNode() {
			continue // an open way is no facility
		}
		if k := facilityKind(e.tags); k != "" {
			fs = append(fs, c.newFacility(e, e.id, k))
		}
		if isPublicWifi(e.tags) {
			fs = append(fs, c.newFacility(e, e.id+wifiIDOffset, "public_wifi"))
		}
	}
	for _, f := range fs {
		if f.isNode && insideSameKind(f, fs) {
			continue // the node marks a facility already mapped as an area
		}
		c.emit("facilities", f.id, c.wgs84(f.pt), facilityProps(f), nil)
	}
}

func (c *city) newFacility(e *element, id int64, kind string) *facility {
	f := &facility{id: id, kind: kind, tags: e.tags, isNode: e.isNode()}
	if f.isNode {
		f.pt = c.proj.ToMetric(e.pt)
		return f
	}
	f.area = c.metric(e.areaGeom())
	f.pt = representativePoint(f.area)
	return f
}

// insideSameKind reports whether the node facility f lies inside an area facility of its
// kind: OSM often maps a hospital both as a node and as its grounds.
func insideSameKind(f *facility, fs []*facility) bool {
	for _, g := range fs {
		if g.area != nil && g.kind == f.kind && g.area.Bound().Contains(f.pt) && spatial.Contains(g.area, f.pt) {
			return true
		}
	}
	return false
}

func facilityProps(f *facility) map[string]any {
	def := facilityDefault[f.kind]
	capacity, tagged := def.capacity, false
	if f.kind != "public_wifi" {
		if x, ok := parseNumber(f.tags.Find("capacity")); ok && x == math.Trunc(x) && x <= 1e6 {
			capacity, tagged = int64(x), true
		}
	}
	props := map[string]any{"kind": f.kind, "capacity": capacity, "capacity_unit": def.unit, "derived": false}
	if !tagged && capacity > 0 {
		props["estimated"] = []string{"capacity"} // the default of its kind, not a surveyed figure
	}
	if n := f.tags.Find("name"); n != "" {
		props["name"] = n
	}
	return props
}

// representativePoint is the area-weighted centroid when it lies inside the metric polygon,
// else the inside point of a 20 × 20 sample of the bound nearest to the centroid (a
// U-shaped building's centroid may lie in its courtyard).
func representativePoint(g orb.Geometry) orb.Point {
	ctr := spatial.Centroid(g)
	if spatial.Contains(g, ctr) {
		return ctr
	}
	b := g.Bound()
	best, bestD := ctr, math.Inf(1)
	const n = 20
	for i := range n {
		for j := range n {
			p := orb.Point{b.Min[0] + (float64(i)+0.5)*(b.Max[0]-b.Min[0])/n, b.Min[1] + (float64(j)+0.5)*(b.Max[1]-b.Min[1])/n}
			if d := math.Hypot(p[0]-ctr[0], p[1]-ctr[1]); d < bestD && spatial.Contains(g, p) {
				best, bestD = p, d
			}
		}
	}
	return best
}

// greenKind maps an area's tags to a green space kind, "" when it is none.
func greenKind(t osm.Tags) string {
	switch t.Find("leisure") {
	case "park":
		return "park"
	case "garden":
		return "garden"
	case "playground":
		return "playground"
	}
	switch t.Find("landuse") {
	case "recreation_ground", "village_green":
		return "park"
	case "forest":
		return "forest"
	case "grass":
		return "square"
	}
	if t.Find("natural") == "wood" {
		return "forest"
	}
	return ""
}

func (c *city) mapGreenSpaces() {
	for _, e := range c.elems {
		k := greenKind(e.tags)
		if k == "" || e.area == nil {
			continue
		}
		access := e.tags.Find("access")
		public := access != "private" && access != "no" && access != "customers"
		area := spatial.Area(c.metric(e.areaGeom()))
		c.emit("green_spaces", e.id, e.areaGeom(), map[string]any{
			"kind": k, "public": public, "area_m2": round1(area), "derived": false,
		}, nil)
	}
}
