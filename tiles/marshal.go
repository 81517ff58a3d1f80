package tiles

import (
	"fmt"
	"slices"
	"sync"

	"github.com/paulmach/orb"

	"github.com/citytwin/citytwin/layers"
	"github.com/citytwin/citytwin/spatial"
)

// The marshal step writes the Mapbox Vector Tile protobuf (vector-tile-spec 2.1) straight
// into a byte buffer: no intermediate message structs and no reflection, because this is the
// hot path of the memory source. Field numbers are those of vector_tile.proto.
const (
	tagTileLayer = 3<<3 | 2

	tagLayerName    = 1<<3 | 2
	tagLayerFeature = 2<<3 | 2
	tagLayerKey     = 3<<3 | 2
	tagLayerValue   = 4<<3 | 2
	tagLayerExtent  = 5<<3 | 0
	tagLayerVersion = 15<<3 | 0
	tagFeatureID    = 1<<3 | 0
	tagFeatureTags  = 2<<3 | 2
	tagFeatureType  = 3<<3 | 0
	tagFeatureGeom  = 4<<3 | 2
	tagValueString  = 1<<3 | 2
	tagValueDouble  = 3<<3 | 1
	tagValueUint    = 5<<3 | 0
	tagValueSint    = 6<<3 | 0
	tagValueBool    = 7<<3 | 0
	geomTypePoint   = 1
	geomTypeLine    = 2
	geomTypePolygon = 3
	cmdMoveTo       = 1
	cmdLineTo       = 2
	cmdClosePath    = 7
	mvtVersion      = 2
)

// value kinds of the layer's value table.
const (
	kindString = iota
	kindDouble
	kindUint
	kindSint
	kindBool
)

type value struct {
	kind uint8
	s    string
	bits uint64
}

// encoder holds the buffers and dictionaries of the marshal step, reused tile after tile.
type encoder struct {
	body  []byte       // the layers written so far, back to back, without their headers
	ends  []int        // where each layer ends in body
	geom  []uint32     // a feature's geometry commands
	tags  []uint32     // a feature's tags
	vals  []fieldValue // a feature's fields, when the caller did not type them
	keyOf []int32      // index in the layer's keys of each public field, -1 until used

	keys   []string
	extras map[string]uint32 // keys of extra fields
	strs   map[string]uint32
	nums   [kindBool + 1]map[uint64]uint32 // by kind; strings are in strs
	values []value
	sorted []string // extra keys in order
}

func (e *encoder) reset(nfields int) {
	e.keys = e.keys[:0]
	e.values = e.values[:0]
	e.keyOf = slices.Grow(e.keyOf[:0], nfields)[:nfields]
	for i := range e.keyOf {
		e.keyOf[i] = -1
	}
	if e.strs == nil {
		e.strs = make(map[string]uint32, 256)
		e.extras = make(map[string]uint32)
		for k := kindDouble; k <= kindBool; k++ {
			e.nums[k] = make(map[uint64]uint32, 64)
		}
	} else {
		clear(e.strs)
		clear(e.extras)
		for k := kindDouble; k <= kindBool; k++ {
			clear(e.nums[k])
		}
	}
}

// layer appends one MVT layer with tl's features.
func (e *encoder) layer(tl *tileLayer) error {
	fields := publicFields(tl.layer)
	e.reset(len(fields))
	e.body = appendTag(e.body, tagLayerVersion)
	e.body = appendVarint(e.body, mvtVersion)
	e.body = appendBytesField(e.body, tagLayerName, tl.layer.Name)
	e.body = appendTag(e.body, tagLayerExtent)
	e.body = appendVarint(e.body, Extent)
	for i := range tl.features {
		if err := e.feature(tl.layer, fields, &tl.features[i]); err != nil {
			return err
		}
	}
	for _, k := range e.keys {
		e.body = appendBytesField(e.body, tagLayerKey, k)
	}
	for _, v := range e.values {
		e.body = appendValue(e.body, v)
	}
	e.ends = append(e.ends, len(e.body))
	return nil
}

// tile returns the layers written as one tile, in a new slice of exactly its size; nil when
// no layer was written. (Writing into a fresh buffer of a guessed size and handing it out
// saves this copy but allocates more, as tile sizes vary widely.)
func (e *encoder) tile() []byte {
	size, start := 0, 0
	for _, end := range e.ends {
		size += 1 + varintLen(uint64(end-start)) + end - start
		start = end
	}
	if size == 0 {
		return nil
	}
	out := make([]byte, 0, size)
	start = 0
	for _, end := range e.ends {
		out = appendTag(out, tagTileLayer)
		out = appendVarint(out, uint64(end-start))
		out = append(out, e.body[start:end]...)
		start = end
	}
	return out
}

func (e *encoder) feature(l *layers.Layer, fields []layers.Field, f *feature) error {
	vals := f.vals
	if vals == nil {
		var err error
		if e.vals, err = appendFieldValues(e.vals[:0], fields, f.src); err != nil {
			return err
		}
		vals = e.vals
	}
	e.tags = e.tags[:0]
	for _, fv := range vals {
		if f.extra != nil {
			if _, replaced := f.extra[fields[fv.field].Name]; replaced {
				continue
			}
		}
		if e.keyOf[fv.field] < 0 {
			e.keyOf[fv.field] = int32(len(e.keys))
			e.keys = append(e.keys, fields[fv.field].Name)
		}
		e.tags = append(e.tags, uint32(e.keyOf[fv.field]), e.index(fv))
	}
	if len(f.extra) > 0 {
		if err := e.extraTags(l, f); err != nil {
			return err
		}
	}

	e.geom = e.geom[:0]
	typ := uint64(geomTypePolygon)
	if f.point {
		typ = geomTypePoint
		e.geom = append(e.geom, command(cmdMoveTo, 1), zigzag(int32(f.pt[0])), zigzag(int32(f.pt[1])))
	} else if f.lines != nil {
		typ = geomTypeLine
		e.lineStrings(f.lines)
	} else {
		e.polygons(f.polys)
	}

	id := uint64(f.src.ID)
	size := 1 + varintLen(id) + 1 + 1
	tagsLen := packedLen(e.tags)
	if len(e.tags) > 0 {
		size += 1 + varintLen(uint64(tagsLen)) + tagsLen
	}
	geomLen := packedLen(e.geom)
	size += 1 + varintLen(uint64(geomLen)) + geomLen

	b := e.body
	b = appendTag(b, tagLayerFeature)
	b = appendVarint(b, uint64(size))
	b = appendTag(b, tagFeatureID)
	b = appendVarint(b, id)
	if len(e.tags) > 0 {
		b = appendTag(b, tagFeatureTags)
		b = appendVarint(b, uint64(tagsLen))
		b = appendPacked(b, e.tags)
	}
	b = appendTag(b, tagFeatureType)
	b = appendVarint(b, typ)
	b = appendTag(b, tagFeatureGeom)
	b = appendVarint(b, uint64(geomLen))
	b = appendPacked(b, e.geom)
	e.body = b
	return nil
}

func (e *encoder) extraTags(l *layers.Layer, f *feature) error {
	e.sorted = e.sorted[:0]
	for k := range f.extra {
		if fd, ok := l.Field(k); ok && fd.Restricted {
			continue // never, whatever the caller asks
		}
		e.sorted = append(e.sorted, k)
	}
	slices.Sort(e.sorted)
	for _, k := range e.sorted {
		v := f.extra[k]
		if v == nil {
			continue
		}
		typ := layers.String
		if fd, ok := l.Field(k); ok {
			typ = fd.Type
		}
		fv, ok, err := typedValue(typ, v)
		if err != nil {
			return fmt.Errorf("feature %d extra field %s: %w", f.src.ID, k, err)
		}
		if !ok {
			continue
		}
		vi := e.index(fv)
		ki, seen := e.extras[k]
		if !seen {
			ki = uint32(len(e.keys))
			e.keys = append(e.keys, k)
			e.extras[k] = ki
		}
		e.tags = append(e.tags, ki, vi)
	}
	return nil
}

// index returns the index of a value in the layer's value table, adding it when new.
func (e *encoder) index(fv fieldValue) uint32 {
	if fv.kind == kindString {
		if i, ok := e.strs[fv.s]; ok {
			return i
		}
		i := uint32(len(e.values))
		e.values = append(e.values, value{kind: kindString, s: fv.s})
		e.strs[fv.s] = i
		return i
	}
	m := e.nums[fv.kind]
	if i, ok := m[fv.bits]; ok {
		return i
	}
	i := uint32(len(e.values))
	e.values = append(e.values, value{kind: fv.kind, bits: fv.bits})
	m[fv.bits] = i
	return i
}

// polygons appends the geometry commands of a multipolygon: each outer ring turning clockwise
// on screen, followed by its holes turning the other way, as the MVT spec requires.
func (e *encoder) polygons(mp orb.MultiPolygon) {
	var cx, cy int32
	for _, p := range mp {
		for k, r := range p {
			// r is closed with at least 4 points; the closing point is implied by ClosePath.
			reverse := (spatial.RingArea2(r) > 0) != (k == 0)
			n := len(r) - 1
			at := func(i int) orb.Point {
				if reverse {
					return r[n-1-i]
				}
				return r[i]
			}
			q := at(0)
			x, y := int32(q[0]), int32(q[1])
			e.geom = append(e.geom, command(cmdMoveTo, 1), zigzag(x-cx), zigzag(y-cy))
			cx, cy = x, y
			e.geom = append(e.geom, command(cmdLineTo, uint32(n-1)))
			for i := 1; i < n; i++ {
				q := at(i)
				x, y := int32(q[0]), int32(q[1])
				e.geom = append(e.geom, zigzag(x-cx), zigzag(y-cy))
				cx, cy = x, y
			}
			e.geom = append(e.geom, command(cmdClosePath, 1))
		}
	}
}

func command(id, count uint32) uint32 { return id&7 | count<<3 }

func zigzag(v int32) uint32 { return uint32(v<<1) ^ uint32(v>>31) }

func appendTag(b []byte, tag byte) []byte { return append(b, tag) }

func appendVarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

func varintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

func packedLen(vs []uint32) int {
	n := 0
	for _, v := range vs {
		switch {
		case v < 1<<7:
			n++
		case v < 1<<14:
			n += 2
		case v < 1<<21:
			n += 3
		case v < 1<<28:
			n += 4
		default:
			n += 5
		}
	}
	return n
}

func appendPacked(b []byte, vs []uint32) []byte {
	for _, v := range vs {
		if v < 0x80 {
			b = append(b, byte(v))
			continue
		}
		b = appendVarint(b, uint64(v))
	}
	return b
}

func appendBytesField(b []byte, tag byte, s string) []byte {
	b = append(b, tag)
	b = appendVarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendValue(b []byte, v value) []byte {
	var body [10 + 1]byte
	m := body[:0]
	switch v.kind {
	case kindString:
		n := len(v.s)
		b = append(b, tagLayerValue)
		b = appendVarint(b, uint64(1+varintLen(uint64(n))+n))
		return appendBytesField(b, tagValueString, v.s)
	case kindDouble:
		m = append(m, tagValueDouble)
		for i := range 8 {
			m = append(m, byte(v.bits>>(8*i)))
		}
	case kindUint:
		m = append(m, tagValueUint)
		m = appendVarint(m, v.bits)
	case kindSint:
		n := int64(v.bits)
		m = append(m, tagValueSint)
		m = appendVarint(m, uint64(n<<1)^uint64(n>>63))
	case kindBool:
		m = append(m, tagValueBool)
		m = appendVarint(m, v.bits)
	}
	b = append(b, tagLayerValue)
	b = appendVarint(b, uint64(len(m)))
	return append(b, m...)
}

// publicFields caches each catalog layer's public fields.
var publicFieldCache sync.Map // *layers.Layer → []layers.Field

func publicFields(l *layers.Layer) []layers.Field {
	if v, ok := publicFieldCache.Load(l); ok {
		return v.([]layers.Field)
	}
	fs := l.PublicFields()
	publicFieldCache.Store(l, fs)
	return fs
}
