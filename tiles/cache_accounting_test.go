package tiles

import (
	"context"
	"testing"

	"github.com/paulmach/orb/maptile"
)

// entryBytes is what one cache entry of key(i) holding tileOf(1000, …) costs:
// 1000 bytes of tile + 18 of ETag (a quoted 16-digit hex hash) + 6 ("memory") + 9
// ("buildings") of key names + 256 of bookkeeping = 1289.
const entryBytes = 1000 + 18 + 6 + 9 + entryOverhead // 1289

func TestCacheAccountsForEveryByteOfAnEntry(t *testing.T) {
	c := NewCache(1 << 20)
	if _, err := c.Get(context.Background(), key(1), tileOf(1000, 1)); err != nil {
		t.Fatalf("get: %v", err)
	}
	if s := c.Stats(); s.Bytes != 1289 || s.Entries != 1 {
		t.Fatalf("stats %+v, want 1 entry of 1289 bytes (1000 + 18 + 6 + 9 + 256)", s)
	}
}

func TestCacheBudgetIsReachedNotExceeded(t *testing.T) {
	tests := []struct {
		name       string
		budget     int64
		tiles      int
		entries    int
		evictions  int64
		bytesAfter int64
	}{
		{"a tile exactly the size of the budget is kept", entryBytes, 1, 1, 0, 1289},
		{"two tiles that fill the budget exactly are both kept", 2 * entryBytes, 2, 2, 0, 2578}, // 2 × 1289
		{"one byte short of two tiles, the older goes", 2*entryBytes - 1, 2, 1, 1, 1289},
		{"one byte short of one tile, nothing is kept", entryBytes - 1, 1, 0, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewCache(tt.budget)
			for i := range tt.tiles {
				if _, err := c.Get(context.Background(), key(i), tileOf(1000, byte(i))); err != nil {
					t.Fatalf("get tile %d: %v", i, err)
				}
			}
			s := c.Stats()
			if s.Entries != tt.entries || s.Evictions != tt.evictions || s.Bytes != tt.bytesAfter {
				t.Fatalf("budget %d after %d tiles: stats %+v, want %d entries, %d evictions, %d bytes",
					tt.budget, tt.tiles, s, tt.entries, tt.evictions, tt.bytesAfter)
			}
		})
	}
}

func TestCacheIsOnlyEnabledWithABudget(t *testing.T) {
	var none *Cache
	tests := []struct {
		name  string
		cache *Cache
		want  bool
	}{
		{"a budget of 0 turns it off", NewCache(0), false},
		{"a negative budget turns it off", NewCache(-5), false},
		{"a budget of one byte turns it on", NewCache(1), true},
		{"no cache at all is off", none, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.cache.Enabled(); got != tt.want {
				t.Fatalf("Enabled() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestKeyStringNamesEveryPart(t *testing.T) {
	tests := []struct {
		name string
		key  Key
		want string
	}{
		{"one layer", Key{Source: "memory", Layers: "buildings", Tile: maptile.New(18204, 11524, 15), Version: 7},
			"memory|buildings|15/18204/11524@7"},
		// Layer names far longer than the source's name (58 bytes against 6).
		{"every public layer", Key{Source: "memory", Layers: "buildings,parcels,zoning,facilities,green_spaces,broadband",
			Tile: maptile.New(0, 0, 0), Version: 0},
			"memory|buildings,parcels,zoning,facilities,green_spaces,broadband|0/0/0@0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.key.String(); got != tt.want {
				t.Fatalf("String() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestPurgeEmptiesTheCacheAndToleratesNoCache(t *testing.T) {
	c := NewCache(1 << 20)
	for i := range 3 {
		if _, err := c.Get(context.Background(), key(i), tileOf(1000, byte(i))); err != nil {
			t.Fatalf("get tile %d: %v", i, err)
		}
	}
	if s := c.Stats(); s.Entries != 3 || s.Bytes != 3*entryBytes {
		t.Fatalf("before the purge: stats %+v, want 3 entries of 3867 bytes (3 × 1289)", s)
	}
	c.Purge()
	if s := c.Stats(); s.Entries != 0 || s.Bytes != 0 {
		t.Fatalf("after the purge: stats %+v, want nothing held", s)
	}
	var none *Cache
	none.Purge() // must not panic
}
