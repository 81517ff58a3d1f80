package tiles

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/paulmach/orb/maptile"

	"github.com/citytwin/citytwin/internal/flight"
)

// Key identifies a tile in the cache. Version is the data version the tile was made from:
// bumping it makes every older entry unreachable (they age out of the LRU).
type Key struct {
	Source  string // which source made it: "postgis", "memory", "scenario:{id}@{version}"...
	Layers  string // the layer names, comma-joined, in canonical order (catalog, then extra layers), whatever the order requested
	Filter  string // the canonical text of the filter of a filtered tile (cql2.Filter.String); "" for none
	Tile    maptile.Tile
	Version uint64
}

func (k Key) String() string {
	b := make([]byte, 0, len(k.Source)+len(k.Layers)+len(k.Filter)+41)
	b = append(b, k.Source...)
	b = append(b, '|')
	b = append(b, k.Layers...)
	if k.Filter != "" {
		b = append(b, '?')
		b = append(b, k.Filter...)
	}
	b = append(b, '|')
	b = strconv.AppendUint(b, uint64(k.Tile.Z), 10)
	b = append(b, '/')
	b = strconv.AppendUint(b, uint64(k.Tile.X), 10)
	b = append(b, '/')
	b = strconv.AppendUint(b, uint64(k.Tile.Y), 10)
	b = append(b, '@')
	b = strconv.AppendUint(b, k.Version, 10)
	return string(b)
}

// Cache keeps made tiles in memory within a byte budget, least recently used out first, and
// lets concurrent misses of one key share a single computation. A budget of 0 turns it off:
// every Get computes.
type Cache struct {
	budget int64
	flight flight.Group[Key, *Tile]

	mu    sync.Mutex
	used  int64
	items map[Key]*entry
	lru   entry // sentinel: lru.next is the most recent, lru.prev the least

	hits, misses, computed, evictions atomic.Int64
}

type entry struct {
	key        Key
	tile       *Tile
	size       int64
	prev, next *entry
}

// entryOverhead approximates the bookkeeping bytes of one entry beyond its tile's bytes.
const entryOverhead = 256

// NewCache returns a cache holding at most budget bytes of tiles; 0 turns caching off.
func NewCache(budget int64) *Cache {
	c := &Cache{budget: max(budget, 0), items: map[Key]*entry{}}
	c.lru.next, c.lru.prev = &c.lru, &c.lru
	return c
}

// Enabled reports whether the cache keeps anything.
func (c *Cache) Enabled() bool { return c != nil && c.budget > 0 }

// Get returns the tile under key, calling compute on a miss. While one computation of a key runs, other
// callers of that key wait for its result instead of making their own. compute runs with a
// context that is not cancelled when the first caller goes away (the result is still worth
// keeping); a waiter whose own context ends stops waiting.
func (c *Cache) Get(ctx context.Context, key Key, compute func(ctx context.Context) (*Tile, error)) (*Tile, error) {
	return c.get(ctx, key, true, compute)
}

// GetOrAbandon is Get, except that compute's context is cancelled once no caller waits for
// its result any more: for tiles whose making is costly and not worth finishing for nobody.
func (c *Cache) GetOrAbandon(ctx context.Context, key Key, compute func(ctx context.Context) (*Tile, error)) (*Tile, error) {
	return c.get(ctx, key, false, compute)
}

func (c *Cache) get(ctx context.Context, key Key, detached bool, compute func(ctx context.Context) (*Tile, error)) (*Tile, error) {
	if c == nil {
		return compute(ctx)
	}
	if c.budget == 0 {
		c.computed.Add(1)
		return compute(ctx)
	}
	if t, ok := c.lookup(key); ok {
		c.hits.Add(1)
		return t, nil
	}
	c.misses.Add(1)
	return c.flight.Do(ctx, key, detached, func(ctx context.Context) (*Tile, error) {
		// Another flight may have stored it between our lookup and this call.
		if t, ok := c.lookup(key); ok {
			return t, nil
		}
		c.computed.Add(1)
		t, err := compute(ctx)
		if err != nil {
			return nil, err
		}
		c.add(key, t)
		return t, nil
	})
}

func (c *Cache) lookup(key Key) (*Tile, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.items[key]
	if !ok {
		return nil, false
	}
	c.unlink(e)
	c.pushFront(e)
	return e.tile, true
}

func (c *Cache) add(key Key, t *Tile) {
	size := t.size() + int64(len(key.Source)+len(key.Layers)+len(key.Filter)) + entryOverhead
	if size > c.budget {
		return // would push out everything else
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.items[key]; ok {
		c.remove(old)
	}
	for c.used+size > c.budget && c.lru.prev != &c.lru {
		c.remove(c.lru.prev)
		c.evictions.Add(1)
	}
	e := &entry{key: key, tile: t, size: size}
	c.items[key] = e
	c.pushFront(e)
	c.used += size
}

func (c *Cache) remove(e *entry) {
	c.unlink(e)
	delete(c.items, e.key)
	c.used -= e.size
}

func (c *Cache) unlink(e *entry) {
	e.prev.next, e.next.prev = e.next, e.prev
	e.prev, e.next = nil, nil
}

func (c *Cache) pushFront(e *entry) {
	e.prev, e.next = &c.lru, c.lru.next
	c.lru.next.prev = e
	c.lru.next = e
}

// Purge empties the cache.
func (c *Cache) Purge() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.items)
	c.lru.next, c.lru.prev = &c.lru, &c.lru
	c.used = 0
}

// CacheStats are the cache's counters since it was made.
type CacheStats struct {
	Budget, Bytes                         int64 // bytes allowed and held
	Entries                               int
	Hits, Misses, Computations, Evictions int64
}

// Stats returns the cache's counters.
func (c *Cache) Stats() CacheStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return CacheStats{
		Budget: c.budget, Bytes: c.used, Entries: len(c.items),
		Hits: c.hits.Load(), Misses: c.misses.Load(), Computations: c.computed.Load(), Evictions: c.evictions.Load(),
	}
}
