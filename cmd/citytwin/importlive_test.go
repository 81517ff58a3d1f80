package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// buildingsFile writes a GeoJSON file of buildings "id:floors", each a 20 m square a step
// east of Cluj's centre.
func buildingsFile(t *testing.T, specs ...string) string {
	t.Helper()
	var feats []any
	for _, s := range specs {
		var id, floors int
		if _, err := fmt.Sscanf(s, "%d:%d", &id, &floors); err != nil {
			t.Fatal(err)
		}
		x, y, d := 23.59+float64(id)*0.0004, 46.77, 0.0002
		ring := [][2]float64{{x, y}, {x + d, y}, {x + d, y + d}, {x, y + d}, {x, y}}
		feats = append(feats, map[string]any{
			"type": "Feature", "id": id,
			"geometry":   map[string]any{"type": "Polygon", "coordinates": [][][2]float64{ring}},
			"properties": map[string]any{"layer": "buildings", "use": "residential", "floors": floors},
		})
	}
	b, _ := json.Marshal(map[string]any{"type": "FeatureCollection", "features": feats})
	path := filepath.Join(t.TempDir(), "buildings.geojson")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// servedBuildings lists the buildings a server serves near Cluj as "id:floors", sorted.
func servedBuildings(t *testing.T, in *instance) []string {
	t.Helper()
	code, _, body := in.get(t, "/api/features/buildings?bbox=23.5,46.7,23.7,46.8", nil)
	if code != 200 {
		t.Fatalf("features: %d %s", code, body)
	}
	var fc struct {
		Features []struct {
			ID         int64
			Properties struct{ Floors int }
		}
	}
	if err := json.Unmarshal(body, &fc); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range fc.Features {
		out = append(out, fmt.Sprintf("%d:%d", f.ID, f.Properties.Floors))
	}
	slices.Sort(out)
	return out
}

// liveWindow is how soon a running server serves what an import wrote: a notification in
// PostGIS, the data directory looked at every dataDirPoll, then a model load.
const liveWindow = 5 * time.Second

func TestARunningServerServesWhatReplaceAndUpsertWrite(t *testing.T) {
	bin := buildBinary(t)
	dbURL, _ := testSchema(t)
	stores := []struct {
		name  string
		where []string
	}{
		{"on PostGIS, told by a notification", []string{"--database", dbURL}},
		{"on a data directory, which it watches", []string{"--data-dir", t.TempDir()}},
	}
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			if st.where[0] == "--data-dir" {
				t.Setenv("DATABASE_URL", "") // which --database reads, and the servers' environment passes on
			}
			importCLI := func(args ...string) {
				t.Helper()
				runCLI(t, bin, append(append([]string{"import"}, st.where...), args...)...)
			}
			importCLI(buildingsFile(t, "1:2", "2:2"))
			in := startInstance(t, bin, st.where...)
			if got := servedBuildings(t, in); !slices.Equal(got, []string{"1:2", "2:2"}) {
				t.Fatalf("served at start: %q", got)
			}
			steps := []struct {
				what string
				args []string
				want []string
			}{
				{"a replace by buildings 3 and 4", []string{"--replace", buildingsFile(t, "3:5", "4:5")}, []string{"3:5", "4:5"}},
				{"an upsert by id updating 4 and adding 5", []string{"--upsert", "id", buildingsFile(t, "4:9", "5:1")}, []string{"3:5", "4:9", "5:1"}},
			}
			for _, s := range steps {
				importCLI(s.args...)
				withinWindow(t, time.Now(), liveWindow, fmt.Sprintf("%s served as %q", s.what, s.want), func() bool {
					return slices.Equal(servedBuildings(t, in), s.want)
				})
			}
			if !strings.Contains(in.logs.String(), "layers changed") {
				t.Errorf("the server's log does not say the layers changed:\n%s", in.logs)
			}
		})
	}
}
