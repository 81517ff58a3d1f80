package tiles

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"strings"
	"sync"

	"github.com/paulmach/orb/maptile"

	"github.com/citytwin/citytwin/cql2"
	"github.com/citytwin/citytwin/layers"
)

// Tile is a made tile: its bytes and their validators, as the cache keeps them.
type Tile struct {
	// Data is the uncompressed MVT; empty when no feature meets the tile.
	Data []byte
	// ETag is a strong validator of Data, quoted: a hash of the bytes (and of the canonical
	// text of the filter that selected the features, for a filtered tile), so every server
	// making the same bytes for the same filter gives the same tag.
	ETag string

	filter string // the canonical filter text hashed into the ETags; "" unfiltered

	gzipOnce sync.Once
	gzip     []byte
	gzipETag string
}

// minGzip is the size under which compressing a tile is not worth its header.
const minGzip = 256

// gzipLevel is the one compression level of every gzipped tile, so that a gzipped tile's
// strong ETag always stands for the same bytes.
const gzipLevel = gzip.BestSpeed

// NewTile wraps tile bytes with their ETag.
func NewTile(data []byte) *Tile {
	return &Tile{Data: data, ETag: etag(data, "", "")}
}

// newFilteredTile wraps the bytes of a tile made under a filter: its ETags hash the filter's
// canonical text (cql2.Filter.String) after the bytes, so that the tiles of two filters
// never share a validator, even when their bytes agree (two filters that select nothing in
// the tile), while two spellings of one filter share it.
func newFilteredTile(data []byte, filter string) *Tile {
	return &Tile{Data: data, ETag: etag(data, filter, ""), filter: filter}
}

// Gzip returns the tile compressed with gzip and the strong ETag of that representation
// (distinct from ETag, as content codings must be); nil and "" when the tile is too small to
// be worth compressing. It compresses at most once per Tile.
func (t *Tile) Gzip() ([]byte, string) {
	t.gzipOnce.Do(func() {
		if len(t.Data) < minGzip {
			return
		}
		t.gzip = Gzip(t.Data)
		t.gzipETag = etag(t.Data, t.filter, "-gzip")
	})
	return t.gzip, t.gzipETag
}

func (t *Tile) size() int64 {
	return int64(len(t.Data) + len(t.gzip) + len(t.ETag) + len(t.gzipETag) + len(t.filter))
}

var gzipWriters = sync.Pool{New: func() any {
	w, _ := gzip.NewWriterLevel(nil, gzipLevel)
	return w
}}

// Gzip compresses b.
func Gzip(b []byte) []byte {
	var buf bytes.Buffer
	buf.Grow(len(b)/2 + 64)
	w := gzipWriters.Get().(*gzip.Writer)
	w.Reset(&buf)
	_, _ = w.Write(b)
	_ = w.Close()
	gzipWriters.Put(w)
	return buf.Bytes()
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// etag hashes b, then salt, into a quoted strong entity tag: two CRC-32s of different
// polynomials (both computed in hardware) make 64 bits, plenty to tell apart the versions of
// one URL. An empty salt leaves the tag of b alone.
func etag(b []byte, salt, suffix string) string {
	var h [8]byte
	a, c := crc32.ChecksumIEEE(b), crc32.Checksum(b, castagnoli)
	if salt != "" {
		a = crc32.Update(a, crc32.IEEETable, []byte(salt))
		c = crc32.Update(c, castagnoli, []byte(salt))
	}
	for i := range 4 {
		h[i] = byte(a >> (24 - 8*i))
		h[4+i] = byte(c >> (24 - 8*i))
	}
	var s strings.Builder
	s.Grow(18 + len(suffix))
	s.WriteByte('"')
	var x [16]byte
	hex.Encode(x[:], h[:])
	s.Write(x[:])
	s.WriteString(suffix)
	s.WriteByte('"')
	return s.String()
}

// Service serves the tiles of one source through the cache, under a data version.
type Service struct {
	name    string
	source  layers.Source
	cache   *Cache
	version func() uint64
	abandon bool
}

// NewService returns a service for source, named in cache keys by name. cache may be nil (no
// caching); version returns the current data version (nil: always 0) — whoever changes the
// data bumps it, and tiles made from older data are no longer served.
func NewService(name string, source layers.Source, cache *Cache, version func() uint64) *Service {
	if version == nil {
		version = func() uint64 { return 0 }
	}
	return &Service{name: name, source: source, cache: cache, version: version}
}

// AbandonUnwanted makes the service stop making a tile once no request waits for it any more
// (Cache.GetOrAbandon), for a source whose work is costly, such as a scenario variant that
// must be built first. It returns s.
func (s *Service) AbandonUnwanted() *Service {
	s.abandon = true
	return s
}

// Name is the service's name in cache keys.
func (s *Service) Name() string { return s.name }

// Source is the source the service makes tiles with.
func (s *Service) Source() layers.Source { return s.source }

// Tile returns tile t of the given layers, from the cache when it holds it. Cached tiles
// carry their gzipped bytes too, so cache hits never compress.
func (s *Service) Tile(ctx context.Context, t maptile.Tile, ls []*layers.Layer) (*Tile, error) {
	key := Key{Source: s.name, Layers: joinNames(ls), Tile: t, Version: s.version()}
	cached := s.cache.Enabled()
	compute := func(ctx context.Context) (*Tile, error) {
		data, err := s.source.Tile(ctx, t, ls)
		if err != nil {
			return nil, err
		}
		tile := NewTile(data)
		if cached {
			tile.Gzip()
		}
		return tile, nil
	}
	if s.abandon {
		return s.cache.GetOrAbandon(ctx, key, compute)
	}
	return s.cache.Get(ctx, key, compute)
}

// FilteredSource makes tiles of one layer that keep only the features a CQL2 filter, checked
// against that layer's queryables (cql2.QueryablesOf), selects: the memory source and the
// PostGIS store implement it. The tile is otherwise the layer's tile of Source.Tile: a
// feature is in the filtered tile exactly when it is in the unfiltered one and the filter
// is true for it.
type FilteredSource interface {
	FilteredTile(ctx context.Context, t maptile.Tile, l *layers.Layer, f *cql2.Filter) ([]byte, error)
}

// ErrFilterUnsupported is the error of FilteredTile on a service whose source cannot filter.
var ErrFilterUnsupported = errors.New("this tile source does not filter features")

// FilteredTile returns tile t of the layer l with only the features the filter selects (f
// checked against l's queryables; nil: every feature, as Tile), from the cache when it holds
// it. The cache keys it by the filter's canonical text, so spellings of one filter that
// normalise to the same text share one entry, and its ETag hashes that text too.
func (s *Service) FilteredTile(ctx context.Context, t maptile.Tile, l *layers.Layer, f *cql2.Filter) (*Tile, error) {
	if f == nil {
		return s.Tile(ctx, t, []*layers.Layer{l})
	}
	fs, ok := s.source.(FilteredSource)
	if !ok {
		return nil, fmt.Errorf("tiles of %s: %w", s.name, ErrFilterUnsupported)
	}
	text := f.String()
	key := Key{Source: s.name, Layers: l.Name, Filter: text, Tile: t, Version: s.version()}
	cached := s.cache.Enabled()
	compute := func(ctx context.Context) (*Tile, error) {
		data, err := fs.FilteredTile(ctx, t, l, f)
		if err != nil {
			return nil, err
		}
		tile := newFilteredTile(data, text)
		if cached {
			tile.Gzip()
		}
		return tile, nil
	}
	if s.abandon {
		return s.cache.GetOrAbandon(ctx, key, compute)
	}
	return s.cache.Get(ctx, key, compute)
}

func joinNames(ls []*layers.Layer) string {
	if len(ls) == 1 {
		return ls[0].Name
	}
	n := 0
	for _, l := range ls {
		n += len(l.Name) + 1
	}
	var b strings.Builder
	b.Grow(n)
	for i, l := range ls {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(l.Name)
	}
	return b.String()
}
