package tiles

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paulmach/orb/maptile"

	"github.com/citytwin/citytwin/layers"
)

func key(i int) Key {
	return Key{Source: "memory", Layers: "buildings", Tile: maptile.New(uint32(i), 0, 16)}
}

func tileOf(size int, fill byte) func(context.Context) (*Tile, error) {
	return func(context.Context) (*Tile, error) { return NewTile(bytes.Repeat([]byte{fill}, size)), nil }
}

func TestCacheKeepsToItsBudget(t *testing.T) {
	// Each entry: 1000 bytes of tile + 18 of ETag + 15 of key names + 256 of bookkeeping =
	// 1289 bytes, so a 10,000-byte budget holds 7 of them.
	c := NewCache(10000)
	ctx := context.Background()
	for i := range 20 {
		if _, err := c.Get(ctx, key(i), tileOf(1000, byte(i))); err != nil {
			t.Fatal(err)
		}
		// Keep key 0 recently used: it must survive.
		if _, err := c.Get(ctx, key(0), tileOf(1000, 0)); err != nil {
			t.Fatal(err)
		}
		if s := c.Stats(); s.Bytes > s.Budget {
			t.Fatalf("after %d tiles the cache holds %d bytes, over its %d budget", i+1, s.Bytes, s.Budget)
		}
	}
	s := c.Stats()
	if s.Entries != 7 || s.Evictions != 13 {
		t.Fatalf("stats %+v, want 7 entries and 13 evictions", s)
	}
	before := s.Computations
	if _, err := c.Get(ctx, key(0), tileOf(1000, 0)); err != nil || c.Stats().Computations != before {
		t.Fatal("the most recently used tile was evicted")
	}
	if _, err := c.Get(ctx, key(1), tileOf(1000, 1)); err != nil || c.Stats().Computations != before+1 {
		t.Fatal("the least recently used tile was kept")
	}
}

func TestCacheSkipsTilesLargerThanItsBudget(t *testing.T) {
	c := NewCache(1000)
	if _, err := c.Get(context.Background(), key(1), tileOf(5000, 1)); err != nil {
		t.Fatal(err)
	}
	if s := c.Stats(); s.Entries != 0 || s.Bytes != 0 {
		t.Fatalf("stats %+v, want nothing kept", s)
	}
}

func TestConcurrentMissesComputeOnce(t *testing.T) {
	c := NewCache(1 << 20)
	var calls atomic.Int32
	release := make(chan struct{})
	compute := func(context.Context) (*Tile, error) {
		calls.Add(1)
		<-release
		return NewTile([]byte("tile")), nil
	}
	const n = 64
	var wg sync.WaitGroup
	got := make([]*Tile, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tl, err := c.Get(context.Background(), key(1), compute)
			if err != nil {
				t.Error(err)
			}
			got[i] = tl
		}()
	}
	// Let every goroutine reach the cache before the computation ends.
	for c.Stats().Misses < n {
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()
	if calls.Load() != 1 {
		t.Fatalf("%d computations for %d concurrent misses, want 1", calls.Load(), n)
	}
	for _, tl := range got {
		if tl != got[0] {
			t.Fatal("callers got different tiles")
		}
	}
}

func TestAWaiterLeavingDoesNotCancelTheComputation(t *testing.T) {
	c := NewCache(1 << 20)
	release := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() {
		_, err := c.Get(ctx, key(1), func(ctx context.Context) (*Tile, error) {
			<-release
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return NewTile([]byte("kept")), nil
		})
		done <- err
	}()
	for c.Stats().Misses < 1 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	close(release)
	for c.Stats().Entries < 1 {
		time.Sleep(time.Millisecond)
	}
	tl, err := c.Get(context.Background(), key(1), tileOf(1, 0))
	if err != nil || string(tl.Data) != "kept" {
		t.Fatalf("after the caller left, the cache has %v, %v", tl, err)
	}
}

func TestCacheOffComputesEveryTime(t *testing.T) {
	c := NewCache(0)
	for range 3 {
		if _, err := c.Get(context.Background(), key(1), tileOf(10, 1)); err != nil {
			t.Fatal(err)
		}
	}
	if s := c.Stats(); s.Computations != 3 || s.Entries != 0 {
		t.Fatalf("stats %+v, want 3 computations and nothing kept", s)
	}
}

// countingSource makes a tile whose bytes name the version of its data.
type countingSource struct {
	calls   atomic.Int32
	version *atomic.Uint64
}

func (s *countingSource) Tile(ctx context.Context, t maptile.Tile, ls []*layers.Layer) ([]byte, error) {
	s.calls.Add(1)
	return []byte(strings.Repeat("v", 300) + string(rune('0'+s.version.Load()))), nil
}

func TestServiceVersionBumpInvalidates(t *testing.T) {
	var version atomic.Uint64
	src := &countingSource{version: &version}
	svc := NewService("memory", src, NewCache(1<<20), version.Load)
	ctx := context.Background()
	ls := []*layers.Layer{mustLayer(t, "buildings")}
	tile := maptile.New(1, 2, 14)

	a, err := svc.Tile(ctx, tile, ls)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := svc.Tile(ctx, tile, ls)
	if src.calls.Load() != 1 || a != b {
		t.Fatalf("a repeated request made the tile again (%d calls)", src.calls.Load())
	}
	version.Add(1)
	c, _ := svc.Tile(ctx, tile, ls)
	if src.calls.Load() != 2 || c.ETag == a.ETag {
		t.Fatalf("after a version bump: %d calls, ETag %s (was %s)", src.calls.Load(), c.ETag, a.ETag)
	}
	// A composite is another entry.
	if _, err := svc.Tile(ctx, tile, []*layers.Layer{mustLayer(t, "buildings"), mustLayer(t, "parcels")}); err != nil || src.calls.Load() != 3 {
		t.Fatalf("composite: %d calls, err %v", src.calls.Load(), err)
	}
}

func TestCachedTilesCarryTheirGzip(t *testing.T) {
	var version atomic.Uint64
	svc := NewService("memory", &countingSource{version: &version}, NewCache(1<<20), nil)
	tl, err := svc.Tile(context.Background(), maptile.New(0, 0, 0), []*layers.Layer{mustLayer(t, "buildings")})
	if err != nil {
		t.Fatal(err)
	}
	if tl.gzip == nil {
		t.Fatal("a cached tile was stored without its gzip bytes")
	}
	gz, tag := tl.Gzip()
	if tag == tl.ETag || !strings.HasPrefix(tag, `"`) || !strings.HasSuffix(tag, `-gzip"`) {
		t.Fatalf("gzip ETag %s (identity %s)", tag, tl.ETag)
	}
	r, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(r)
	if !bytes.Equal(raw, tl.Data) {
		t.Fatal("gzip bytes do not inflate to the tile")
	}
}

func TestETagIsAStrongHashOfTheBytes(t *testing.T) {
	a, b, c := NewTile([]byte("one")), NewTile([]byte("one")), NewTile([]byte("two"))
	if a.ETag != b.ETag || a.ETag == c.ETag {
		t.Fatalf("ETags %s %s %s", a.ETag, b.ETag, c.ETag)
	}
	if len(a.ETag) != 18 || a.ETag[0] != '"' || a.ETag[17] != '"' {
		t.Fatalf("ETag %s is not a quoted 16-digit hash", a.ETag)
	}
}
