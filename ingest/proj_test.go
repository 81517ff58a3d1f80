package ingest

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

func TestWithoutPROJOnlyNonWGS84SourcesFailNamingDebiansPackage(t *testing.T) {
	dir := t.TempDir()
	shp := stereo70Parcels(t, dir)
	csvPath := writeFile(t, filepath.Join(dir, "statii.csv"), "name;lon;lat;pm25;year\nStația Berceni;26.1250;44.3900;21.5;2024\n")
	t.Setenv("PATH", t.TempDir()) // no cs2cs, no projinfo

	_, _, err := Import(context.Background(), shp, Options{Mapping: mustMapping(t, cadastreMapping, dir)})
	if !errors.Is(err, ErrCRS) || !strings.Contains(err.Error(), "install Debian's proj-bin") {
		t.Errorf("Stereo 70 without PROJ's programs: %v; want an ErrCRS naming proj-bin", err)
	}
	if _, _, err := Import(context.Background(), shp, Options{Mapping: mustMapping(t, cadastreMapping, dir), SRID: 3844}); err == nil || !strings.Contains(err.Error(), "proj-bin") {
		t.Errorf("--srid 3844 without PROJ's programs: %v; want an error naming proj-bin", err)
	}
	fs, _, err := Import(context.Background(), csvPath, Options{Layer: "air_stations"})
	if err != nil || len(fs) != 1 {
		t.Errorf("a WGS 84 CSV without PROJ's programs: %d features, %v; want 1, no error", len(fs), err)
	}
}
