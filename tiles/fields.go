package tiles

import (
	"fmt"
	"math"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/citytwin/citytwin/layers"
	"github.com/citytwin/citytwin/spatial"
)

// fieldValue is one public field of a feature typed as the tile will hold it: the index of
// the field among the layer's public fields, and a string, double, uint, sint or bool value.
// Numbers of a Number field are doubles; whole numbers of an Integer field are uint (or sint
// when negative), as PostGIS writes float8 and int columns; lists are comma-joined strings.
type fieldValue struct {
	field uint16
	kind  uint8
	bits  uint64
	s     string
}

// appendFieldValues appends the public fields of a feature (its Props) as fieldValues, in
// field order, skipping absent and null ones.
func appendFieldValues(dst []fieldValue, fields []layers.Field, f *layers.Feature) ([]fieldValue, error) {
	for i := range fields {
		v, ok := f.Props[fields[i].Name]
		if !ok || v == nil {
			continue
		}
		fv, ok, err := typedValue(fields[i].Type, v)
		if err != nil {
			return dst, fmt.Errorf("feature %d field %s: %w", f.ID, fields[i].Name, err)
		}
		if ok {
			fv.field = uint16(i)
			dst = append(dst, fv)
		}
	}
	return dst, nil
}

// typedValue converts a property value; ok is false for a value a tile cannot hold (NaN).
func typedValue(typ layers.FieldType, v any) (fv fieldValue, ok bool, err error) {
	switch t := v.(type) {
	case string:
		return fieldValue{kind: kindString, s: t}, true, nil
	case bool:
		if t {
			return fieldValue{kind: kindBool, bits: 1}, true, nil
		}
		return fieldValue{kind: kindBool}, true, nil
	case float64:
		if typ == layers.Integer && t == math.Trunc(t) && math.Abs(t) < 1<<53 {
			return integerValue(int64(t)), true, nil
		}
		if math.IsNaN(t) || math.IsInf(t, 0) {
			return fv, false, nil
		}
		return fieldValue{kind: kindDouble, bits: math.Float64bits(t)}, true, nil
	case float32:
		return typedValue(typ, float64(t))
	case int64:
		return numberValue(typ, t), true, nil
	case int:
		return numberValue(typ, int64(t)), true, nil
	case int32:
		return numberValue(typ, int64(t)), true, nil
	case []string:
		return fieldValue{kind: kindString, s: strings.Join(t, ",")}, true, nil
	}
	return fv, false, fmt.Errorf("values of type %T cannot go into a tile", v)
}

func numberValue(typ layers.FieldType, n int64) fieldValue {
	if typ == layers.Number {
		return fieldValue{kind: kindDouble, bits: math.Float64bits(float64(n))}
	}
	return integerValue(n)
}

func integerValue(n int64) fieldValue {
	if n < 0 {
		return fieldValue{kind: kindSint, bits: uint64(n)}
	}
	return fieldValue{kind: kindUint, bits: uint64(n)}
}

// fieldCache holds the public fields of one model's features already typed (fieldValues),
// layer by layer, so that making a tile reads no property map. A layer's table is built in
// the background the first time a tile asks for the layer; tiles made meanwhile type the
// fields themselves, as they do for any feature the table does not know (one inserted into
// the model later). Features in the model are taken to be immutable: a changed feature is a
// new *layers.Feature (spatial.Index.Insert), which the table does not know.
type fieldCache struct {
	city   *spatial.City
	layers sync.Map // *layers.Layer → *fieldTable
}

// fieldTable is one layer's fields: the values of feature f are vals[start:end] of its slot.
// Slots are found by feature id in a dense array when the layer's ids are dense (the usual
// case, and tiles ask in id order, so the slots they read lie close together), else by
// pointer in a map. A slot keeps its feature's pointer: a feature replaced since (same id,
// new pointer) is not mistaken for the old one.
type fieldTable struct {
	ready atomic.Bool
	base  int64  // id of dense[0]
	dense []slot // by id − base; nil: use sparse
	spans map[*layers.Feature]span
	vals  []fieldValue
}

type slot struct {
	f *layers.Feature
	span
}

type span struct{ start, end uint32 }

// fieldsFor returns the field cache of model c, replacing the cache of an older model.
func (m *MemorySource) fieldsFor(c *spatial.City) *fieldCache {
	if fc := m.fields.Load(); fc != nil && fc.city == c {
		return fc
	}
	fc := &fieldCache{city: c}
	m.fields.Store(fc)
	return fc
}

// table returns the layer's table when it is built, else nil, starting to build it.
func (fc *fieldCache) table(l *layers.Layer) *fieldTable {
	v, loaded := fc.layers.Load(l)
	if !loaded {
		v, loaded = fc.layers.LoadOrStore(l, &fieldTable{})
		if !loaded {
			go v.(*fieldTable).build(fc.city.Layer(l.Name), publicFields(l))
		}
	}
	t := v.(*fieldTable)
	if !t.ready.Load() {
		return nil
	}
	return t
}

func (t *fieldTable) build(ix *spatial.Index, fields []layers.Field) {
	if ix == nil {
		return
	}
	items := ix.Items() // in id order
	vals := make([]fieldValue, 0, len(items)*len(fields))
	var dense []slot
	var base int64
	if n := len(items); n > 0 {
		base = items[0].Feature.ID
		if r := items[n-1].Feature.ID - base; r >= 0 && r < 2*int64(n)+1024 {
			dense = make([]slot, r+1)
		}
	}
	var spans map[*layers.Feature]span
	if dense == nil {
		spans = make(map[*layers.Feature]span, len(items))
	}
	for _, it := range items {
		start := len(vals)
		var err error
		if vals, err = appendFieldValues(vals, fields, it.Feature); err != nil {
			vals = vals[:start] // the encoder will report it
			continue
		}
		if len(vals) > math.MaxUint32 {
			return // far beyond any city; tiles type their fields themselves
		}
		sp := span{uint32(start), uint32(len(vals))}
		if dense != nil {
			dense[it.Feature.ID-base] = slot{it.Feature, sp}
		} else {
			spans[it.Feature] = sp
		}
	}
	t.base, t.dense, t.spans, t.vals = base, dense, spans, vals
	t.ready.Store(true)
}

// lookup returns the typed fields of f, or false when the table does not know it.
func (t *fieldTable) lookup(f *layers.Feature) ([]fieldValue, bool) {
	if t == nil {
		return nil, false
	}
	var sp span
	if t.dense != nil {
		i := f.ID - t.base
		if i < 0 || i >= int64(len(t.dense)) || t.dense[i].f != f {
			return nil, false
		}
		sp = t.dense[i].span
	} else {
		var ok bool
		if sp, ok = t.spans[f]; !ok {
			return nil, false
		}
	}
	return t.vals[sp.start:sp.end:sp.end], true
}
