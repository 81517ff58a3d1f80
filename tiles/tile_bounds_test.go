package tiles

import (
	"testing"

	"github.com/paulmach/orb/maptile"

	"github.com/citytwin/citytwin/layers"
	"github.com/citytwin/citytwin/spatial"
)

func TestALayerIsInTilesFromItsMinZoomToItsMaxZoomInclusive(t *testing.T) {
	buildings, err := layers.Lookup("buildings") // MinZoom 13, MaxZoom 22
	if err != nil {
		t.Fatalf("lookup buildings: %v", err)
	}
	tests := []struct {
		name string
		z    maptile.Zoom
		want bool
	}{
		{"one zoom below its min zoom it is out", 12, false},
		{"at its min zoom it is in", 13, true},
		{"at its max zoom it is in", 22, true},
		{"one zoom past its max zoom it is out", 23, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := InZoom(buildings, tt.z); got != tt.want {
				t.Fatalf("InZoom(buildings, %d) = %v, want %v", tt.z, got, tt.want)
			}
		})
	}
}

func TestLeadingZerosAreNamedWithTheNumberMeant(t *testing.T) {
	tests := []struct {
		name    string
		z, x, y string
		want    string
	}{
		{"two zeros mean 0", "3", "00", "0", `x: "00" has a leading zero; write 0`},
		{"three zeros before a digit mean that digit", "3", "0", "0007", `y: "0007" has a leading zero; write 7`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseTile(tt.z, tt.x, tt.y)
			if err == nil || err.Error() != tt.want {
				t.Fatalf("ParseTile(%s, %s, %s) error = %v, want %q", tt.z, tt.x, tt.y, err, tt.want)
			}
		})
	}
}

func TestMercatorBoundOfATileAwayFromTheOrigin(t *testing.T) {
	// ST_TileEnvelope(2, 1, 2): tiles of 2·20037508.342789244 / 4 = 10018754.171394622 m;
	// x 1 starts at −20037508.34 + 10018754.17 = −10018754.17 and ends at 0; y 2 (counted
	// from the north edge) ends 2 tiles down, at 20037508.34 − 2·10018754.17 = 0, and starts
	// one tile further south, at −10018754.17.
	b := MercatorBound(maptile.New(1, 2, 2))
	const size = 2 * spatial.MercatorHalf / 4 // 10018754.171394622
	if b.Min[0] != -size || b.Max[0] != 0 || b.Min[1] != -size || b.Max[1] != 0 {
		t.Fatalf("z2 x1 y2 envelope = %v, want [%v, %v] – [0, 0]", b, -size, -size)
	}
}
