package data

import (
	"bytes"
	"errors"
	"slices"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/osm"

	"github.com/citytwin/citytwin/layers"
)

// FuzzReadGeoJSON: any input is either refused with an error that marks it invalid, or
// read into features that pass the catalog's checks and survive a write and a read
// unchanged.
func FuzzReadGeoJSON(f *testing.F) {
	f.Add([]byte(collection(buildingFeature("1", "[[23.59,46.77],[23.591,46.77],[23.591,46.771],[23.59,46.771],[23.59,46.77]]", ""))))
	f.Add([]byte(pointFeature("7", "") + "\n" + pointFeature("8", "")))
	f.Add([]byte(`{"type":"FeatureCollection","features":[]}`))
	f.Add([]byte("\x1e" + pointFeature("3", "")))
	f.Fuzz(func(t *testing.T, in []byte) {
		fs, err := ReadGeoJSON(bytes.NewReader(in))
		if err != nil {
			if !errors.Is(err, layers.ErrInvalid) {
				t.Fatalf("an error that does not mark the input invalid: %v", err)
			}
			return
		}
		if err := checkFeatures(fs); err != nil {
			t.Fatalf("read a feature the catalog refuses: %v", err)
		}
		var buf bytes.Buffer
		if err := WriteGeoJSON(&buf, fs); err != nil {
			t.Fatalf("write what was read: %v", err)
		}
		again, err := ReadGeoJSON(&buf)
		if err != nil {
			t.Fatalf("read what was written: %v\n%s", err, buf.Bytes())
		}
		if len(again) != len(fs) {
			t.Fatalf("%d features written, %d read back", len(fs), len(again))
		}
		for i := range fs {
			a, b := fs[i], again[i]
			if a.Layer != b.Layer || a.ID != b.ID || !orb.Equal(a.Geometry, b.Geometry) {
				t.Fatalf("feature %d changed in a round trip: %+v became %+v", i, a, b)
			}
		}
	})
}

// FuzzOSMTagMapping: whatever tags an OpenStreetMap element carries, the importer's tag
// mappers give values the catalog accepts, so one odd element can never fail an import.
func FuzzOSMTagMapping(f *testing.F) {
	f.Add("yes", "5", "16 m", "", "", "", "", "1995-04-01", "", "", "")
	f.Add("apartments", "", "40 ft", "school", "", "", "", "~1900", "2;3", "Lycée Albert 1er", "")
	f.Add("yes", "3,5", "12,5", "", "clinic", "", "", "before 1930", "", "", "commercial")
	f.Add("garage", "0", "0", "pharmacy", "", "park", "grass", "C19", "x", "", "industrial")
	f.Add("yes", "", "", "", "", "sports_centre", "forest", "2101", "", "", "retail")
	f.Fuzz(func(t *testing.T, building, levels, height, amenity, healthcare, leisure, landuse, startDate, isced, name, around string) {
		tags := osm.Tags{{Key: "building", Value: building}, {Key: "building:levels", Value: levels}, {Key: "height", Value: height},
			{Key: "amenity", Value: amenity}, {Key: "healthcare", Value: healthcare}, {Key: "leisure", Value: leisure},
			{Key: "landuse", Value: landuse}, {Key: "start_date", Value: startDate}, {Key: "isced:level", Value: isced}, {Key: "name", Value: name}}
		floors, heightM := floorsAndHeight(tags)
		buildings, _ := layers.Lookup("buildings")
		props := map[string]any{"use": buildingUse(tags, useEvidence{landuse: around, pois: []osm.Tags{tags}, footprint: float64(len(name)), floors: floors}), "floors": floors, "height_m": round1(heightM),
			"year_built": yearBuilt(startDate), "dwellings": int64(0)}
		if _, _, err := buildings.Normalize(props); err != nil {
			t.Fatalf("tags %v make a building the catalog refuses: %v (%v)", tags, err, props)
		}
		if k := facilityKind(tags); k != "" && !slices.Contains(layers.FacilityKinds, k) {
			t.Fatalf("tags %v make facility kind %q, which the catalog does not know", tags, k)
		}
		if k := greenKind(tags); k != "" {
			green, _ := layers.Lookup("green_spaces")
			if _, _, err := green.Normalize(map[string]any{"kind": k}); err != nil {
				t.Fatalf("tags %v make green space kind %q: %v", tags, k, err)
			}
		}
	})
}
