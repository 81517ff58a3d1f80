package web

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"testing"
)

func TestFontGlyphsAreServedWithCachingHeaders(t *testing.T) {
	f := newTileFixture(t)
	w := f.do("GET", "/fonts/DejaVu%20Sans/512-767.pbf")
	if w.Code != 200 || w.Header().Get("Content-Type") != "application/x-protobuf" {
		t.Fatalf("status %d, type %q: %s", w.Code, w.Header().Get("Content-Type"), w.Body)
	}
	etag := w.Header().Get("ETag")
	if etag == "" || w.Header().Get("Cache-Control") != fontsCacheControl {
		t.Errorf("ETag %q, Cache-Control %q", etag, w.Header().Get("Cache-Control"))
	}
	// The range holds ș (U+0219): its glyph's id field is the varint 0x219 = 0x99 0x04.
	if !bytes.Contains(w.Body.Bytes(), []byte{0x08, 0x99, 0x04}) {
		t.Error("range 512-767 has no glyph for ș")
	}
	if again := f.do("GET", "/fonts/DejaVu%20Sans/512-767.pbf", "If-None-Match", etag); again.Code != 304 {
		t.Errorf("revalidation: %d, want 304", again.Code)
	}
	gz := f.do("GET", "/fonts/DejaVu%20Sans/512-767.pbf", "Accept-Encoding", "gzip")
	r, err := gzip.NewReader(gz.Body)
	if err != nil {
		t.Fatalf("gzip answer: %v", err)
	}
	if b, _ := io.ReadAll(r); !bytes.Equal(b, w.Body.Bytes()) {
		t.Error("the gzip coding holds other glyphs")
	}
	// A stack whose first font is unknown falls back to the next, as MapLibre expects.
	if fb := f.do("GET", "/fonts/Open%20Sans%20Regular,DejaVu%20Sans/0-255.pbf"); fb.Code != 200 {
		t.Errorf("fallback stack: %d", fb.Code)
	}
}

func TestFontGlyphsRefuseWhatTheyCannotServe(t *testing.T) {
	f := newTileFixture(t)
	cases := []struct {
		path   string
		status int
		field  string
	}{
		{"/fonts/DejaVu%20Sans/1-256.pbf", 400, "range"},
		{"/fonts/DejaVu%20Sans/0-65535.pbf", 400, "range"},
		{"/fonts/DejaVu%20Sans/65536-65791.pbf", 400, "range"},
		{"/fonts/Comic%20Sans/0-255.pbf", 404, "fontstack"},
	}
	for _, c := range cases {
		w := f.do("GET", c.path)
		var e struct {
			Error struct{ Code, Message, Field string }
		}
		if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || w.Code != c.status || e.Error.Field != c.field || e.Error.Message == "" {
			t.Errorf("%s: %d %s, want %d naming %s", c.path, w.Code, w.Body, c.status, c.field)
		}
	}
}
