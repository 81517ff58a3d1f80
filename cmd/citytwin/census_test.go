package main

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/citytwin/citytwin/citymodel"
	"github.com/citytwin/citytwin/data"
	"github.com/citytwin/citytwin/internal/democity"
	"github.com/citytwin/citytwin/layers"
	"github.com/citytwin/citytwin/scenarios"
	"github.com/citytwin/citytwin/web"
)

// import --census stores the file's census in the data directory, alone or beside layer
// files.
func TestImportCensusIntoTheDataDirectory(t *testing.T) {
	t.Setenv("DATABASE_URL", "") // the data directory, even under scripts/with-postgis.sh
	dir := t.TempDir()
	csvPath := filepath.Join(t.TempDir(), "census.csv")
	if err := os.WriteFile(csvPath, []byte("code,population,year,source\nW,90,2021,INS\n*,190,2021,INS\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := runImport(context.Background(), []string{"--data-dir", dir, "--census", csvPath}); err != nil {
		t.Fatal(err)
	}
	c, err := data.NewFileStore(dir).Census(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []layers.CensusRow{{District: "W", Population: 90, Year: 2021, Source: "INS"}, {District: "*", Population: 190, Year: 2021, Source: "INS"}}
	if c == nil || len(c.Rows) != 2 || c.Rows[0] != want[0] || c.Rows[1] != want[1] {
		t.Fatalf("stored census = %+v, want %+v", c, want)
	}
	if err := runImport(context.Background(), []string{"--data-dir", dir, "--census", filepath.Join(dir, "missing.csv")}); err == nil {
		t.Error("a missing census file was accepted")
	}
}

// A server on the embedded demo city calibrates it to Monaco's 2016 census: 38,350
// residents, where the model alone houses about 56,000 (docs/domain.md).
func TestTheDemoCityIsCalibratedToMonacosCensus(t *testing.T) {
	city := democity.City(t)
	// serve's own wiring, on a data directory without layers: the demo city.
	cfg := &Config{params: scenarios.DefaultParameters()}
	cfg.dataDir = t.TempDir()
	svc, err := newScenarioService(cfg, data.NewFileStore(cfg.dataDir), citymodel.Fixed(city), web.NewMetrics())
	if err != nil {
		t.Fatal(err)
	}
	engine := svc.Engine
	run, err := engine.Baseline(context.Background(), city)
	if err != nil {
		t.Fatal(err)
	}
	if got := run.Indicators["residents"].Baseline; math.Abs(got-38350) > 1e-6 {
		t.Errorf("demo residents = %v, want the census's 38,350", got)
	}
	cal, err := engine.Calibration(context.Background(), city)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("demo residents: %.1f modelled, %.1f calibrated", cal.ModelledResidents, cal.CalibratedResidents)
	if !cal.Complete || len(cal.Sources) != 1 || cal.Sources[0] != "IMSEE, Monaco census 2016" || len(cal.Years) != 1 || cal.Years[0] != 2016 {
		t.Errorf("calibration = %+v, want complete, IMSEE 2016", cal)
	}
	if run.Sources["residents"] != scenarios.SourceCensus {
		t.Errorf("residents source = %q, want %q", run.Sources["residents"], scenarios.SourceCensus)
	}
}
