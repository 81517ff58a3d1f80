package tiles

import (
	"strconv"
	"testing"
)

// FuzzParseTile: any z/x/y text either is refused with a CoordError, or is a tile inside
// its zoom whose one URL spelling is the text itself.
func FuzzParseTile(f *testing.F) {
	for _, s := range [][3]string{{"0", "0", "0"}, {"14", "9265", "5743"}, {"24", "16777215", "0"}, {"25", "0", "0"},
		{"2", "4", "0"}, {"02", "1", "1"}, {"3", "-1", "2"}, {"3", "+1", "2"}, {"", "", ""}, {"99999999999999999999", "1", "1"}} {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, z, x, y string) {
		tile, err := ParseTile(z, x, y)
		if err != nil {
			if _, ok := err.(*CoordError); !ok {
				t.Fatalf("ParseTile(%q, %q, %q): error %T %v, want a *CoordError", z, x, y, err, err)
			}
			return
		}
		n := uint64(1) << tile.Z
		if tile.Z > MaxZoom || uint64(tile.X) >= n || uint64(tile.Y) >= n {
			t.Fatalf("ParseTile(%q, %q, %q) = %v: outside its zoom", z, x, y, tile)
		}
		back := [3]string{strconv.Itoa(int(tile.Z)), strconv.FormatUint(uint64(tile.X), 10), strconv.FormatUint(uint64(tile.Y), 10)}
		if back != [3]string{z, x, y} {
			t.Fatalf("ParseTile(%q, %q, %q) = %v, which is written %v", z, x, y, tile, back)
		}
	})
}
