package ingest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/citytwin/citytwin/layers"
)

// TestBatchesLargerThanAPipeGoThroughCs2cs reprojects 4,000 Stereo 70 squares: a batch of
// 2,048 features (10,240 positions, some 300 KiB of cs2cs output) is more than a pipe holds,
// so it must be read back while it is written; read back after, cs2cs would stop with a
// full pipe and the import would hang.
func TestBatchesLargerThanAPipeGoThroughCs2cs(t *testing.T) {
	var b strings.Builder
	b.WriteString("id,wkt\n")
	for i := range 4000 {
		x, y := 580000.0+float64(i%100)*30, 330000.0+float64(i/100)*30 // Bucharest, 20 m squares
		fmt.Fprintf(&b, "%d,\"POLYGON((%g %g,%g %g,%g %g,%g %g,%g %g))\"\n", i+1, x, y, x+20, y, x+20, y+20, x, y+20, x, y)
	}
	path := writeFile(t, t.TempDir()+"/cladiri.csv", b.String())
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	n := 0
	_, err := Read(ctx, path, Options{Layer: "buildings", SRID: 3844}, func(f layers.Feature) error {
		n++
		if p := f.Geometry.Bound().Min; p[0] < 26 || p[0] > 26.3 || p[1] < 44.3 || p[1] > 44.6 {
			return fmt.Errorf("feature %d at %v, not in Bucharest", f.ID, p)
		}
		return nil
	})
	if err != nil || n != 4000 {
		t.Fatalf("read %d of 4000 features: %v", n, err)
	}
}
