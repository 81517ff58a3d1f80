package ingest

import (
	"context"
	"io"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"

	"github.com/citytwin/citytwin/internal/pgtest"
)

func postgis(t *testing.T) *pgx.Conn {
	t.Helper()
	url, _, drop := pgtest.Create(t, "ingest")
	t.Cleanup(func() { drop() })
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// stTransform asks PostGIS for the WGS 84 position of (x, y) in srid.
func stTransform(t *testing.T, conn *pgx.Conn, p orb.Point, srid int) orb.Point {
	t.Helper()
	var q orb.Point
	err := conn.QueryRow(context.Background(),
		`SELECT ST_X(g), ST_Y(g) FROM ST_Transform(ST_SetSRID(ST_MakePoint($1, $2), $3::integer), 4326) AS g`,
		p[0], p[1], srid).Scan(&q[0], &q[1])
	if err != nil {
		t.Fatalf("ST_Transform from %d: %v", srid, err)
	}
	return q
}

func TestReprojectionAgreesWithPostGISForTheCityCRSs(t *testing.T) {
	conn := postgis(t)
	cases := []struct {
		name     string
		srid     int
		postgis  int // the SRID PostGIS is asked with
		lon, lat float64
	}{
		{"Stereo 70 in Bucharest", 3844, 3844, 26.10, 44.43},
		{"Stereo 70 in Cluj", 3844, 3844, 23.59, 46.77},
		{"the deprecated Stereo 70 code, read as its replacement", 31700, 3844, 26.10, 44.43},
		{"ETRS89 / UTM 34N in Timișoara", 25834, 25834, 21.23, 45.75},
		{"ETRS89 / UTM 35N in Bucharest", 25835, 25835, 26.10, 44.43},
		{"LAEA Europe in Bucharest", 3035, 3035, 26.10, 44.43},
		{"Monte Mario / Italy zone 1 in Milan", 3003, 3003, 9.19, 45.46},
		{"WGS 84 / UTM 32N in Milan", 32632, 32632, 9.19, 45.46},
		{"ETRS89 / UTM 32N in Munich", 25832, 25832, 11.58, 48.14},
		{"Web Mercator in Bucharest", 3857, 3857, 26.10, 44.43},
		{"WGS 84 itself", 4326, 4326, 26.10, 44.43},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// The projected position of (lon, lat), from PostGIS.
			var p orb.Point
			if err := conn.QueryRow(context.Background(),
				`SELECT ST_X(g), ST_Y(g) FROM ST_Transform(ST_SetSRID(ST_MakePoint($1, $2), 4326), $3::integer) AS g`,
				c.lon, c.lat, c.postgis).Scan(&p[0], &p[1]); err != nil {
				t.Fatal(err)
			}
			tr, _, err := newTransformer(crsSource{}, c.srid, c.name)
			if err != nil {
				t.Fatal(err)
			}
			ps := []orb.Point{p}
			if err := tr.transformPoints(ps); err != nil {
				t.Fatal(err)
			}
			got := ps[0]
			want := stTransform(t, conn, p, c.postgis)
			if d := metresApart(got, want); d > 0.01 {
				t.Errorf("(%.3f, %.3f) in EPSG:%d: ours %v, PostGIS %v: %.4f m apart, want within 0.01 m", p[0], p[1], c.srid, got, want, d)
			}
		})
	}
}

func TestImportedStereo70ShapefileAgreesWithPostGIS(t *testing.T) {
	conn := postgis(t)
	dir := t.TempDir()
	shp := stereo70Parcels(t, dir)
	fs, _, err := Import(context.Background(), shp, Options{Mapping: mustMapping(t, cadastreMapping, dir)})
	if err != nil {
		t.Fatal(err)
	}
	// The same records, unprojected.
	srcs, closeAll, err := Open(shp, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer closeAll()
	for i := 0; ; i++ {
		rec, err := srcs[0].Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		var want orb.MultiPoint
		for _, p := range allPoints(rec.Geometry) {
			want = append(want, stTransform(t, conn, p, 3844))
		}
		if d := maxDistanceToNearest(t, fs[i].Geometry, want); d > 0.01 {
			t.Errorf("parcel %d: a position is %.4f m from PostGIS's, want within 0.01 m", fs[i].ID, d)
		}
	}
}
