package ingest

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/paulmach/orb"

	"github.com/citytwin/citytwin/data"
	"github.com/citytwin/citytwin/internal/pgtest"
	"github.com/citytwin/citytwin/layers"
	pgstore "github.com/citytwin/citytwin/layers/postgis"
)

// writers are the two stores an import writes to, each fresh: a data directory and a
// PostGIS schema of its own.
func writers(t *testing.T) map[string]func(t *testing.T) Writer {
	return map[string]func(t *testing.T) Writer{
		"data directory": func(t *testing.T) Writer { return data.NewFileStore(t.TempDir()) },
		"PostGIS": func(t *testing.T) Writer {
			ctx := context.Background()
			url, _, drop := pgtest.Create(t, "ingest_modes")
			t.Cleanup(func() { drop() })
			s, err := pgstore.Open(ctx, url)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(s.Close)
			if err := pgstore.Migrate(ctx, s.Pool()); err != nil {
				t.Fatal(err)
			}
			return s
		},
	}
}

// parcel is a stored parcel: a 0.001° square at (i/100°) east of Cluj, with its cadastral
// number and owner.
func parcel(t *testing.T, id int64, cad, owner string) layers.Feature {
	t.Helper()
	l, _ := layers.Lookup("parcels")
	pub, restricted, err := l.Normalize(map[string]any{"cad_number": cad, "owner_name": owner, "area_m2": 100.0})
	if err != nil {
		t.Fatal(err)
	}
	return layers.Feature{Layer: "parcels", ID: id, Geometry: cell(id), Props: pub, Restricted: restricted}
}

func cell(id int64) orb.Polygon {
	x, y := 23.5+float64(id)/100, 46.7
	return orb.Polygon{{{x, y}, {x + 0.001, y}, {x + 0.001, y + 0.001}, {x, y + 0.001}, {x, y}}}
}

// parcelsCSV writes a CSV of parcels, one row "id,cad_number,area_m2,owner_name" each, the
// geometry that of parcel(id); a row whose area is "-1" is out of the field's range and is
// rejected.
func parcelsCSV(t *testing.T, rows ...string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("id,cad_number,area_m2,owner_name,wkt\n")
	for _, r := range rows {
		var id int64
		fmt.Sscan(strings.Split(r, ",")[0], &id)
		ring := cell(id)[0]
		var pts []string
		for _, p := range ring {
			pts = append(pts, fmt.Sprintf("%g %g", p[0], p[1]))
		}
		fmt.Fprintf(&b, "%s,\"POLYGON((%s))\"\n", r, strings.Join(pts, ","))
	}
	return writeFile(t, filepath.Join(t.TempDir(), "parcele.csv"), b.String())
}

// stored lists the stored features of a layer as "id cad owner", sorted.
func stored(t *testing.T, w Writer, layer string) []string {
	t.Helper()
	var out []string
	if err := w.Load(context.Background(), func(f layers.Feature) error {
		if f.Layer == layer {
			out = append(out, fmt.Sprintf("%d %v %v", f.ID, f.Props["cad_number"], f.Restricted["owner_name"]))
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

// seed stores parcels 1 A, 2 B, 3 C and building 10, which no parcels import touches.
func seed(t *testing.T, w Writer) {
	t.Helper()
	b := layers.Feature{Layer: "buildings", ID: 10, Geometry: cell(10), Props: map[string]any{}}
	fs := []layers.Feature{parcel(t, 1, "A", "Ana"), parcel(t, 2, "B", "Bogdan"), parcel(t, 3, "C", "Cezar"), b}
	if _, err := w.Import(context.Background(), fs); err != nil {
		t.Fatal(err)
	}
}

func parcelsJob(path string, mode Mode, key string) Job {
	return Job{Path: path, Mode: mode, Key: key, Options: Options{Layer: "parcels", SRID: 4326}}
}

var seeded = []string{"1 A Ana", "2 B Bogdan", "3 C Cezar"}

func TestReplaceLeavesExactlyTheNewFeaturesOfTheLayer(t *testing.T) {
	for name, open := range writers(t) {
		t.Run(name, func(t *testing.T) {
			w := open(t)
			seed(t, w)
			res, err := Run(context.Background(), w, parcelsJob(parcelsCSV(t, "4,D,10,Dana", "5,E,20,"), Replace, ""))
			if err != nil {
				t.Fatal(err)
			}
			if got, want := stored(t, w, "parcels"), []string{"4 D Dana", "5 E <nil>"}; !slices.Equal(got, want) {
				t.Errorf("parcels after the replace: %q, want %q (the old ones and their owners gone)", got, want)
			}
			if got := stored(t, w, "buildings"); !slices.Equal(got, []string{"10 <nil> <nil>"}) {
				t.Errorf("buildings after a replace of parcels: %q, want building 10 untouched", got)
			}
			if res.Written["parcels"] != 2 || !slices.Equal(res.Layers, []string{"parcels"}) {
				t.Errorf("result: written %v, layers %v; want 2 parcels written, parcels replaced", res.Written, res.Layers)
			}
		})
	}
}

func TestAFailedImportLeavesTheOldLayerIntact(t *testing.T) {
	cases := []struct {
		name string
		job  func(t *testing.T) Job
		want error // nil: any error
	}{
		{"a replace with more rejects than --max-errors", func(t *testing.T) Job {
			return parcelsJob(parcelsCSV(t, "4,D,10,Dana", "5,E,-1,Elena"), Replace, "")
		}, ErrTooManyErrors},
		{"a replace of a file that is not CSV", func(t *testing.T) Job {
			return parcelsJob(writeFile(t, filepath.Join(t.TempDir(), "parcele.csv"), "\x00\x01 not a CSV \"\n"), Replace, "")
		}, nil},
		{"a replace with an id twice in the file", func(t *testing.T) Job {
			return parcelsJob(parcelsCSV(t, "4,D,10,Dana", "4,E,10,Elena"), Replace, "")
		}, ErrTooManyErrors},
		{"an upsert with more rejects than --max-errors", func(t *testing.T) Job {
			return parcelsJob(parcelsCSV(t, "2,B,10,Bianca", "5,E,-1,Elena"), Upsert, "cad_number")
		}, ErrTooManyErrors},
		{"an upsert with a key twice in the file", func(t *testing.T) Job {
			return parcelsJob(parcelsCSV(t, "4,B,10,Bianca", "5,B,20,Bogdan"), Upsert, "cad_number")
		}, layers.ErrUpsertKey},
		{"an upsert with a feature without a key", func(t *testing.T) Job {
			return parcelsJob(parcelsCSV(t, "4,B,10,Bianca", "5,,20,Elena"), Upsert, "cad_number")
		}, layers.ErrUpsertKey},
		{"an upsert by a restricted field", func(t *testing.T) Job {
			return parcelsJob(parcelsCSV(t, "4,B,10,Bianca"), Upsert, "owner_name")
		}, layers.ErrUpsertKey},
		{"an upsert inserting an id another parcel holds", func(t *testing.T) Job {
			return parcelsJob(parcelsCSV(t, "2,B,10,Bianca", "3,Z,20,Zoe"), Upsert, "cad_number")
		}, nil},
	}
	for name, open := range writers(t) {
		t.Run(name, func(t *testing.T) {
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					w := open(t)
					seed(t, w)
					_, err := Run(context.Background(), w, c.job(t))
					if err == nil || c.want != nil && !errors.Is(err, c.want) {
						t.Fatalf("err %v, want %v", err, c.want)
					}
					if got := stored(t, w, "parcels"); !slices.Equal(got, seeded) {
						t.Errorf("parcels after the failed import: %q, want them as they were, %q", got, seeded)
					}
				})
			}
		})
	}
}

func TestUpsertUpdatesMatchingFeaturesAndInsertsTheOthers(t *testing.T) {
	for name, open := range writers(t) {
		t.Run(name, func(t *testing.T) {
			w := open(t)
			seed(t, w)
			// B and C are stored (ids 2, 3): updated, keeping their ids; D and E are new.
			res, err := Run(context.Background(), w, parcelsJob(parcelsCSV(t, "7,B,10,Bianca", "8,D,20,Dana", "3,C,30,", "9,E,40,Elena"), Upsert, "cad_number"))
			if err != nil {
				t.Fatal(err)
			}
			if res.Updated["parcels"] != 2 || res.Inserted["parcels"] != 2 || res.Written["parcels"] != 4 {
				t.Errorf("updated %v, inserted %v, written %v; want 2 updated, 2 inserted, 4 written", res.Updated, res.Inserted, res.Written)
			}
			want := []string{"1 A Ana", "2 B Bianca", "3 C <nil>", "8 D Dana", "9 E Elena"}
			if got := stored(t, w, "parcels"); !slices.Equal(got, want) {
				t.Errorf("parcels after the upsert: %q, want %q", got, want)
			}
			if got := stored(t, w, "buildings"); len(got) != 1 {
				t.Errorf("buildings after an upsert of parcels: %q, want building 10 untouched", got)
			}
		})
	}
}

func TestADryRunUpsertChecksTheKeyAndWritesNothing(t *testing.T) {
	path := parcelsCSV(t, "4,B,10,Bianca", "5,B,20,Bogdan")
	job := parcelsJob(path, Upsert, "cad_number")
	job.DryRun = true
	res, err := Run(context.Background(), nil, job)
	if !errors.Is(err, layers.ErrUpsertKey) {
		t.Fatalf("err %v, want the key B held twice (ErrUpsertKey)", err)
	}
	if res.Report == nil || res.Report.Accepted != 2 {
		t.Errorf("report %+v, want it with 2 features accepted", res.Report)
	}
}

func TestAReplaceTheStoreRefusesLeavesTheOldLayer(t *testing.T) {
	for name, open := range writers(t) {
		t.Run(name, func(t *testing.T) {
			w := open(t)
			seed(t, w)
			twice := []layers.Feature{parcel(t, 4, "D", "Dana"), parcel(t, 4, "E", "Elena")}
			if _, err := w.Replace(context.Background(), []string{"parcels"}, twice); err == nil {
				t.Fatal("a replace with id 4 twice was accepted")
			}
			if got := stored(t, w, "parcels"); !slices.Equal(got, seeded) {
				t.Errorf("parcels after the refused replace: %q, want them as they were, %q", got, seeded)
			}
		})
	}
}
