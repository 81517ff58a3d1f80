package main

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/citytwin/citytwin/layers"
)

func writeConfig(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "citytwin.toml")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func checkConfig(path string) error {
	return runConfig(context.Background(), []string{"check", path})
}

func TestTheExampleConfigurationIsAccepted(t *testing.T) {
	if err := checkConfig(filepath.Join("..", "..", "docs", "citytwin.example.toml")); err != nil {
		t.Fatalf("docs/citytwin.example.toml: %v", err)
	}
}

func TestConfigCheckNamesLineKeyAndProblem(t *testing.T) {
	cases := []struct {
		name, text string
		want       []string
	}{
		{"a syntax error", "[serve]\naddr = \n", []string{":2: serve.addr: expected value"}},
		{"an unknown table", "[sever]\naddr = \":80\"\n", []string{":2: sever.addr: unknown key"}},
		{"an unknown serve key", "[serve]\ncolour = \"red\"\n", []string{":2: serve.colour: unknown key (known: addr,"}},
		{"the config key cannot name another file", "[serve]\nconfig = \"x.toml\"\n", []string{":2: serve.config: unknown key"}},
		{"a serve value its flag refuses", "[serve]\n\ntile_cache_mb = \"lots\"\n", []string{":3: serve.tile_cache_mb: invalid value \"lots\""}},
		{"a duration that is not one", "[serve]\nshutdown_timeout = \"soon\"\n", []string{":2: serve.shutdown_timeout: invalid value"}},
		{"a list of numbers as origins", "[serve]\ncors_origins = [1, 2]\n", []string{":2: serve.cors_origins: want a list of strings"}},
		{"a zoom of the wrong type", "[layers.parcels]\nminzoom = \"x\"\n", []string{":2: layers.parcels.minzoom: incompatible types"}},
		{"a zoom out of range", "[layers.parcels]\nmaxzoom = 30\n", []string{":2: layers.parcels.maxzoom: 30 is outside 0..24"}},
		{"minzoom above the layer's maxzoom", "[layers.zoning]\nminzoom = 23\n", []string{":2: layers.zoning.minzoom: minzoom 23 is above maxzoom 22"}},
		{"an unknown layer", "[layers.treez]\nminzoom = 3\n", []string{":1: layers.treez: unknown layer"}},
		{"an unknown indicator parameter", "[indicators]\ndetour_factr = 1.2\n", []string{":2: indicators.detour_factr: unknown parameter"}},
		{"an unknown kind in a parameter table", "[indicators.m2_per_job]\noffce = 20\n", []string{":2: indicators.m2_per_job.offce: unknown key (known: commercial,"}},
		{"a parameter of the wrong type", "[indicators]\npersons_per_dwelling = \"two\"\n", []string{":2: indicators.persons_per_dwelling: want a number, got a string"}},
		{"a parameter the engine refuses", "[indicators]\nnoise_lden_bands_db = [60, 55]\n", []string{":1: indicators: parameter noise_lden_bands_db must be ascending"}},
		{"an extra layer without a table", "[[extra_layers]]\nname = \"trees\"\ngeometry_column = \"geom\"\n", []string{":1: extra_layers[0]: table is missing"}},
		{"an extra layer's unknown key, in the second layer", "[[extra_layers]]\nname = \"a\"\ntable = \"s.a\"\ngeometry_column = \"g\"\n\n[[extra_layers]]\nname = \"b\"\ntable = \"s.b\"\ngeometry_column = \"g\"\nfieldz = [\"x\"]\n",
			[]string{":10: extra_layers[1].fieldz: unknown key"}},
		{"an extra layer named like a base layer", "[[extra_layers]]\nname = \"buildings\"\ntable = \"s.b\"\ngeometry_column = \"g\"\n", []string{":2: extra_layers[0].name: \"buildings\" is a base layer's name"}},
		{"two extra layers of one name", "[[extra_layers]]\nname = \"a\"\ntable = \"s.a\"\ngeometry_column = \"g\"\n[[extra_layers]]\nname = \"a\"\ntable = \"s.b\"\ngeometry_column = \"g\"\n", []string{":6: extra_layers[1].name: \"a\" is also extra_layers[0]'s name"}},
		{"a table without its schema", "[[extra_layers]]\nname = \"a\"\ntable = \"trees\"\ngeometry_column = \"g\"\n", []string{":3: extra_layers[0].table: \"trees\": want schema.table"}},
		{"every problem at once, in line order", "[serve]\ncolour = 1\n[layers.parcels]\nminzoom = 99\n", []string{"2 problem(s)", ":2: serve.colour", ":4: layers.parcels.minzoom"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := writeConfig(t, c.text)
			err := checkConfig(p)
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\nshould contain %q", err, w)
				}
			}
			if !strings.Contains(err.Error(), p) {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
}

func TestSettingsPrecedenceFlagEnvFileDefault(t *testing.T) {
	p := writeConfig(t, `
[serve]
addr = ":7000"
tile_cache_mb = 64
cors_origins = ["https://a.example", "https://b.example"]

[indicators]
persons_per_dwelling = 2.7

[indicators.m2_per_job]
office = 18
`)
	t.Setenv("CITYTWIN_TILE_CACHE_MB", "128")
	c, err := loadServeConfig([]string{"--config", p, "--addr", ":9000"}, envValue)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct{ name, got, want string }{
		{"a flag beats the file", c.addr, ":9000"},
		{"the environment beats the file", strconv.Itoa(c.tileCacheMB), "128"},
		{"the file beats the default", c.corsOrigins, "https://a.example,https://b.example"},
		{"the default stands when nothing sets it", c.shutdown.String(), "20s"},
	}
	for _, cs := range cases {
		if cs.got != cs.want {
			t.Errorf("%s: got %q, want %q", cs.name, cs.got, cs.want)
		}
	}
	if c.params.PersonsPerDwelling != 2.7 || c.params.M2PerJob["office"] != 18 || c.params.M2PerJob["industrial"] != 80 {
		t.Errorf("parameters: %v persons per dwelling, m2 per job %v; want 2.7, office 18 and the other defaults", c.params.PersonsPerDwelling, c.params.M2PerJob)
	}
}

func TestConfigSetsZoomRangesAndExtraLayers(t *testing.T) {
	catalogAir, err := layers.Lookup("air_stations")
	if err != nil {
		t.Fatal(err)
	}
	minZoom, maxZoom := catalogAir.MinZoom, catalogAir.MaxZoom
	p := writeConfig(t, `
[layers.air_stations]
minzoom = 11

[[extra_layers]]
name = "trees"
table = "city.trees"
geometry_column = "geom"
fields = ["species"]
maxzoom = 20
`)
	c, err := loadServeConfig([]string{"--config", p}, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if want := []layers.ZoomRange{{Layer: "air_stations", MinZoom: 11, MaxZoom: maxZoom}}; !reflect.DeepEqual(c.zooms, want) {
		t.Errorf("zoom ranges %+v, want %+v", c.zooms, want)
	}
	if catalogAir.MinZoom != minZoom || catalogAir.MaxZoom != maxZoom {
		t.Errorf("the catalog's air_stations zoom became %d..%d, want it left at %d..%d", catalogAir.MinZoom, catalogAir.MaxZoom, minZoom, maxZoom)
	}
	ex := c.extras
	if len(ex) != 1 || ex[0].Name != "trees" || ex[0].MinZoom != extraMinZoom || ex[0].MaxZoom != 20 || ex[0].Title != "trees" {
		t.Errorf("extras %+v", ex)
	}
	if _, err := publishLayers(context.Background(), c, nil); err == nil || !strings.Contains(err.Error(), "--database") {
		t.Errorf("extra layers without a database: %v, want an error asking for --database", err)
	}
	// Without extra layers, the zoom range reaches the tile sources through the published
	// layers.
	c.extras = nil
	pub, err := publishLayers(context.Background(), c, nil)
	if err != nil {
		t.Fatal(err)
	}
	if l, err := pub.Lookup("air_stations"); err != nil || l.MinZoom != 11 || l.MaxZoom != maxZoom {
		t.Errorf("published air_stations: %+v, %v; want zoom 11..%d", l, err, maxZoom)
	}
}

func TestServeRefusesABadFileBeforeStarting(t *testing.T) {
	p := writeConfig(t, "[serve]\nadr = \":1\"\n")
	err := runServe(context.Background(), []string{"--config", p})
	if err == nil || !strings.Contains(err.Error(), ":2: serve.adr: unknown key") {
		t.Fatalf("serve with a bad file: %v", err)
	}
}

func TestConfigCheckValidatesTheSettingsAsTheServerWould(t *testing.T) {
	cases := []struct {
		name, text, want string
	}{
		{"a negative tile cache", "[serve]\ntile_cache_mb = -1\n", "--tile-cache-mb and --tile-max-age cannot be negative"},
		{"an unknown log format", "[serve]\nlog_format = \"xml\"\n", `--log-format "xml": want json or text`},
		{"a rate limit without a burst", "[serve]\nrate_limit = 5\nrate_burst = 0\n", "--rate-burst and --tile-rate-burst must be at least 1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := checkConfig(writeConfig(t, c.text))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("config check: %v, want an error saying %q", err, c.want)
			}
		})
	}
}
