package glyphs

import "google.golang.org/protobuf/encoding/protowire"

// encode writes the glyphs message of the Mapbox GL glyphs format:
//
//	glyphs    { repeated fontstack stacks = 1; }
//	fontstack { string name = 1; string range = 2; repeated glyph glyphs = 3; }
//	glyph     { uint32 id = 1; bytes bitmap = 2; uint32 width = 3; uint32 height = 4;
//	            sint32 left = 5; sint32 top = 6; uint32 advance = 7; }
func encode(name, rng string, gs []glyph) []byte {
	var stack []byte
	stack = protowire.AppendTag(stack, 1, protowire.BytesType)
	stack = protowire.AppendString(stack, name)
	stack = protowire.AppendTag(stack, 2, protowire.BytesType)
	stack = protowire.AppendString(stack, rng)
	for _, g := range gs {
		stack = protowire.AppendTag(stack, 3, protowire.BytesType)
		stack = protowire.AppendBytes(stack, encodeGlyph(g))
	}
	var out []byte
	out = protowire.AppendTag(out, 1, protowire.BytesType)
	return protowire.AppendBytes(out, stack)
}

func encodeGlyph(g glyph) []byte {
	var b []byte
	uint := func(field protowire.Number, v int) {
		b = protowire.AppendTag(b, field, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(v))
	}
	sint := func(field protowire.Number, v int) {
		b = protowire.AppendTag(b, field, protowire.VarintType)
		b = protowire.AppendVarint(b, protowire.EncodeZigZag(int64(v)))
	}
	uint(1, int(g.id))
	if len(g.bitmap) > 0 {
		b = protowire.AppendTag(b, 2, protowire.BytesType)
		b = protowire.AppendBytes(b, g.bitmap)
	}
	uint(3, g.width)
	uint(4, g.height)
	sint(5, g.left)
	sint(6, g.top)
	uint(7, g.advance)
	return b
}
