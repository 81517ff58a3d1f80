package ingest

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// copyShapefile copies the parts of a Shapefile into a new folder, leaving out the
// extensions named, and returns the new .shp.
func copyShapefile(t *testing.T, shp string, without ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, p := range shapefileParts(shp) {
		if ext := filepath.Ext(p); strings.Contains(strings.Join(without, " "), ext) {
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, filepath.Base(p)), string(b))
	}
	return filepath.Join(dir, filepath.Base(shp))
}

func editFile(t *testing.T, path string, edit func([]byte) []byte) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, edit(b), 0o644); err != nil {
		t.Fatal(err)
	}
}

// setDBFRows rewrites the row count of a .dbf header (bytes 4–7, little-endian).
func setDBFRows(n uint32) func([]byte) []byte {
	return func(b []byte) []byte {
		binary.LittleEndian.PutUint32(b[4:], n)
		return b
	}
}

func zipEntries(t *testing.T, archive string, entries map[string][]byte) string {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, b := range entries {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(b)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return writeFile(t, archive, buf.String())
}

func TestBadInputFailsWithAClearError(t *testing.T) {
	dir := t.TempDir()
	shp := stereo70Parcels(t, dir)
	mapping := mustMapping(t, cadastreMapping, dir)
	shpBytes, _ := os.ReadFile(shp)

	cases := []struct {
		name    string
		path    func(t *testing.T) string
		opt     Options
		is      error
		message string
	}{
		{
			name: "a truncated .shp is named truncated, with both sizes",
			path: func(t *testing.T) string {
				p := copyShapefile(t, shp)
				editFile(t, p, func(b []byte) []byte { return b[:len(b)-20] })
				return p
			},
			opt: Options{Mapping: mapping}, is: ErrFormat,
			message: "parcele.shp is truncated: its header says",
		},
		{
			name: "a .dbf with fewer rows than the .shx indexes",
			path: func(t *testing.T) string {
				p := copyShapefile(t, shp)
				editFile(t, strings.TrimSuffix(p, ".shp")+".dbf", setDBFRows(3))
				return p
			},
			opt: Options{Mapping: mapping}, is: ErrFormat,
			message: "the .shx indexes 4 shapes but the .dbf has 3 rows",
		},
		{
			name: "a .dbf with fewer rows than the .shp has shapes, without a .shx",
			path: func(t *testing.T) string {
				p := copyShapefile(t, shp, ".shx")
				editFile(t, strings.TrimSuffix(p, ".shp")+".dbf", setDBFRows(3))
				return p
			},
			opt: Options{Mapping: mapping}, is: ErrFormat,
			message: "the .shp has more shapes than the 3 rows of the .dbf",
		},
		{
			name: "a .dbf with more rows than the .shp has shapes, without a .shx",
			path: func(t *testing.T) string {
				p := copyShapefile(t, shp, ".shx")
				// 5 rows announced and a fifth row of blanks appended.
				editFile(t, strings.TrimSuffix(p, ".shp")+".dbf", func(b []byte) []byte {
					recLen := int(binary.LittleEndian.Uint16(b[10:]))
					b = setDBFRows(5)(b)
					return append(b, bytes.Repeat([]byte(" "), recLen)...)
				})
				return p
			},
			opt: Options{Mapping: mapping}, is: ErrFormat,
			message: "the .shp has 4 shapes but the .dbf has 5 rows",
		},
		{
			name: "a Shapefile without .prj and no SRID asks for --srid",
			path: func(t *testing.T) string { return copyShapefile(t, shp, ".prj") },
			opt:  Options{Mapping: mapping}, is: ErrCRS,
			message: "has no coordinate reference system (no .prj file beside parcele.shp); pass --srid",
		},
		{
			name: "a .prj PROJ cannot read is an unknown CRS",
			path: func(t *testing.T) string {
				p := copyShapefile(t, shp)
				writeFile(t, strings.TrimSuffix(p, ".shp")+".prj", `PROJCS["Local_Grid",GEOGCS["nowhere"]]`)
				return p
			},
			opt: Options{Mapping: mapping}, is: ErrCRS,
			message: "PROJ does not know the CRS PROJCS[\"Local_Grid\"",
		},
		{
			name: "a datum with no known shift to WGS 84 is refused, not moved 100 m",
			path: func(t *testing.T) string {
				p := copyShapefile(t, shp)
				prj := strings.TrimSuffix(p, ".shp") + ".prj"
				editFile(t, prj, func(b []byte) []byte {
					return bytes.ReplaceAll(bytes.ReplaceAll(b, []byte("D_Pulkovo_1942_Adj_1958"), []byte("D_Local_Survey")), []byte("GCS_Pulkovo_1942_Adj_1958"), []byte("GCS_Local_Survey"))
				})
				return p
			},
			opt: Options{Mapping: mapping}, is: ErrCRS,
			message: "PROJ knows no datum transformation from Pulkovo 1942(58) / Stereo70 from parcele.prj to WGS 84 (only a ballpark one",
		},
		{
			name:    "an EPSG code PROJ does not have is an unknown CRS",
			path:    func(t *testing.T) string { return copyShapefile(t, shp, ".prj") },
			opt:     Options{Mapping: mapping, SRID: 999999},
			is:      ErrCRS,
			message: "PROJ does not know the CRS EPSG:999999 from --srid",
		},
		{
			name: "a zip member climbing out with ../ is refused",
			path: func(t *testing.T) string {
				return zipEntries(t, filepath.Join(t.TempDir(), "evil.zip"), map[string][]byte{"data/../../parcele.shp": shpBytes})
			},
			is:      ErrUnsafeZip,
			message: `member "data/../../parcele.shp" climbs out of the archive's folder with ..`,
		},
		{
			name: "a zip member with an absolute path is refused",
			path: func(t *testing.T) string {
				return zipEntries(t, filepath.Join(t.TempDir(), "evil.zip"), map[string][]byte{"/tmp/parcele.shp": shpBytes})
			},
			is:      ErrUnsafeZip,
			message: `member "/tmp/parcele.shp" has an absolute path`,
		},
		{
			name: "a zip bomb is stopped by the ratio limit",
			path: func(t *testing.T) string {
				// 64 MiB of zeros deflate to about 64 KiB: a ratio near 1000, over 200.
				return zipEntries(t, filepath.Join(t.TempDir(), "bomb.zip"), map[string][]byte{"parcele.dbf": make([]byte, 64<<20)})
			},
			is:      ErrUnsafeZip,
			message: "unpacks to more than 200 times its packed size",
		},
		{
			name: "an archive over the total size limit is stopped",
			path: func(t *testing.T) string {
				return zipFiles(t, filepath.Join(t.TempDir(), "cadastru.zip"), shapefileParts(shp)...)
			},
			opt:     Options{OpenOptions: OpenOptions{Unzip: UnzipLimits{MaxBytes: 1000}}},
			is:      ErrUnsafeZip,
			message: "unpacked size passes the limit",
		},
		{
			name: "a mapping naming a field the source lacks lists the fields it has",
			path: func(t *testing.T) string { return shp },
			opt: Options{Mapping: mustMapping(t, `
[[source]]
layer = "parcels"
[source.fields]
cad_number = "NR_CADASTRAL"
`, dir)},
			is:      ErrMapping,
			message: `fields.cad_number names the field "NR_CADASTRAL", which parcele lacks (its fields: NR_CAD, SUPRAFATA`,
		},
		{
			name:    "polygons for a point layer are the wrong geometry type",
			path:    func(t *testing.T) string { return shp },
			opt:     Options{Layer: "facilities"},
			is:      ErrGeometryType,
			message: "parcele holds Polygon geometries; layer facilities holds Points",
		},
		{
			name: "lines for a polygon layer are the wrong geometry type",
			path: func(t *testing.T) string {
				d := t.TempDir()
				src := writeFile(t, filepath.Join(d, "l.geojson"), `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":{"type":"LineString","coordinates":[[26.1,44.4],[26.2,44.5]]}}]}`)
				out := filepath.Join(d, "strazi.shp")
				ogr2ogr(t, "-f", "ESRI Shapefile", "-t_srs", "EPSG:3844", out, src)
				return out
			},
			opt:     Options{Layer: "buildings"},
			is:      ErrGeometryType,
			message: "strazi holds LineString geometries; layer buildings holds Polygons",
		},
		{
			name:    "a source not named like a layer, without a mapping or layer, asks for one",
			path:    func(t *testing.T) string { return shp },
			is:      ErrMapping,
			message: "parcele: no mapping, and the source is not named like a layer: pass --layer or a mapping",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fs, _, err := Import(context.Background(), c.path(t), c.opt)
			if err == nil {
				t.Fatalf("imported %d features, want an error", len(fs))
			}
			if !errors.Is(err, c.is) || !strings.Contains(err.Error(), c.message) {
				t.Errorf("error %q\nwant %v containing %q", err, c.is, c.message)
			}
			if fs != nil {
				t.Errorf("%d features returned with the error, want none", len(fs))
			}
		})
	}
}

func TestMissingPrjIsReadWithAnExplicitSRID(t *testing.T) {
	dir := t.TempDir()
	shp := copyShapefile(t, stereo70Parcels(t, dir), ".prj")
	fs, rep, err := Import(context.Background(), shp, Options{Mapping: mustMapping(t, cadastreMapping, dir), SRID: 3844})
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 4 || !strings.HasPrefix(rep.Sources[0].CRS, "EPSG:3844") {
		t.Errorf("%d features in %q; want 4 in EPSG:3844 from --srid", len(fs), rep.Sources[0].CRS)
	}
}

func TestUnsafeZipWritesNothingOutsideItsFolder(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "in")
	os.Mkdir(dir, 0o755)
	archive := zipEntries(t, filepath.Join(root, "evil.zip"), map[string][]byte{"a.txt": []byte("a"), "../escaped.txt": []byte("x")})
	if _, err := unzip(archive, dir, UnzipLimits{}); !errors.Is(err, ErrUnsafeZip) {
		t.Fatalf("unzip: %v, want ErrUnsafeZip", err)
	}
	for _, p := range []string{filepath.Join(root, "escaped.txt"), filepath.Join(dir, "a.txt")} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s was written; the archive is refused before any member is written", p)
		}
	}
}

func TestMappingErrorsNameTheSetting(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "rules.csv"), "utr,pot\nL1,35\n")
	cases := []struct{ name, text, message string }{
		{"an unknown layer", "[[source]]\nlayer = \"roads\"\n", `layer: unknown layer "roads"`},
		{"a field the layer lacks", "[[source]]\nlayer = \"parcels\"\n[source.fields]\nsurface = \"S\"\n", "fields.surface: layer parcels has no field surface"},
		{"a unit of the wrong dimension", "[[source]]\nlayer = \"parcels\"\n[source.fields]\narea_m2 = { from = \"S\", unit = \"cm\" }\n", `unit "cm" is a unit of length; the field holds area`},
		{"an unknown unit", "[[source]]\nlayer = \"buildings\"\n[source.fields]\nheight_m = { from = \"H\", unit = \"storeys\" }\n", `unknown unit "storeys"`},
		{"a constant outside the field's type", "[[source]]\nlayer = \"parcels\"\n[source.fields]\nintravilan = { value = \"maybe\" }\n", `value: "maybe" is not true or false`},
		{"a joined column the CSV lacks", "[[source]]\nlayer = \"zoning\"\n[source.fields]\nmax_cut = \"join.cut\"\n[source.join]\nfile = \"rules.csv\"\nkey = \"UTR\"\ncolumn = \"utr\"\n", `fields.max_cut: rules.csv has no column "cut" (it has: utr, pot)`},
		{"a join without its section", "[[source]]\nlayer = \"zoning\"\n[source.fields]\nmax_cut = \"join.cut\"\n", `"join.cut" names a joined column but there is no [source.join]`},
		{"an unknown key", "[[source]]\nlayer = \"zoning\"\nlayr = \"x\"\n", "unknown key source.layr"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseMapping(c.text, dir)
			if !errors.Is(err, ErrMapping) || !strings.Contains(err.Error(), c.message) {
				t.Errorf("error %v\nwant ErrMapping containing %q", err, c.message)
			}
		})
	}
}
