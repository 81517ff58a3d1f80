// Package exporttest reads exported PMTiles archives with an independent reader, the npm
// package pmtiles run by e2e/read-pmtiles.mjs, for the tests that compare an export with the
// live server.
package exporttest

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paulmach/orb/maptile"
)

// Archive is what the reader found: its header and metadata as the reader printed them
// (JSON), the bytes of each wanted tile it holds, and each wanted tile's PMTiles tile id.
type Archive struct {
	Head  json.RawMessage
	Tiles map[maptile.Tile][]byte
	IDs   map[maptile.Tile]uint64
}

// ReadPMTiles reads the wanted tiles of the archive at path; root is the repository's root
// (where e2e/ is). It fails the test when Node.js or the module is missing.
func ReadPMTiles(t testing.TB, root, path string, want []maptile.Tile) Archive {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatal("node is not installed: the reference PMTiles reader runs on Node.js 20+ (and `npm ci --prefix e2e`)")
	}
	if _, err := os.Stat(filepath.Join(root, "e2e", "node_modules", "pmtiles", "package.json")); err != nil {
		t.Fatal("the Node module pmtiles is missing: run `npm ci --prefix e2e`")
	}
	var in strings.Builder
	for _, tile := range want {
		fmt.Fprintf(&in, "%d/%d/%d\n", tile.Z, tile.X, tile.Y)
	}
	cmd := exec.Command("node", filepath.Join(root, "e2e", "read-pmtiles.mjs"), path)
	cmd.Stdin = strings.NewReader(in.String())
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("read-pmtiles.mjs: %v\n%s", err, stderr.String())
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 64<<20)
	if !sc.Scan() || !json.Valid(sc.Bytes()) {
		t.Fatalf("read-pmtiles.mjs printed no header: %s", out)
	}
	a := Archive{Head: append(json.RawMessage(nil), sc.Bytes()...), Tiles: map[maptile.Tile][]byte{}, IDs: map[maptile.Tile]uint64{}}
	for sc.Scan() {
		var r struct {
			Z, X, Y uint32
			ID      uint64
			Data    *string
		}
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		tile := maptile.New(r.X, r.Y, maptile.Zoom(r.Z))
		a.IDs[tile] = r.ID
		if r.Data != nil {
			b, err := base64.StdEncoding.DecodeString(*r.Data)
			if err != nil {
				t.Fatal(err)
			}
			a.Tiles[tile] = b
		}
	}
	return a
}
