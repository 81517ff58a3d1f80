// Package glyphs serves the map's fonts the way MapLibre reads them: signed-distance-field
// glyphs in ranges of 256 code points, as Protocol Buffers (the "glyphs" format of Mapbox GL
// styles). The glyphs are drawn on demand from an open font embedded in the binary, so labels
// need no third-party font server and cover Romanian's ă â î ș ț.
package glyphs

import (
	_ "embed"
	"errors"
	"fmt"
	"strings"
	"sync"

	"golang.org/x/image/font/sfnt"
)

// DefaultFont is the font stack the city style names.
const DefaultFont = "DejaVu Sans"

//go:embed fonts/DejaVuSans.ttf
var dejaVuSans []byte

// ErrUnknownFont is returned for a font stack naming no font this package holds.
var ErrUnknownFont = errors.New("unknown font")

// ErrBadRange is returned for a range that is not 256 code points starting at a multiple of 256.
var ErrBadRange = errors.New("bad glyph range")

// Set holds the fonts and the ranges already drawn, which never change while the process runs.
type Set struct {
	fonts map[string]*sfnt.Font

	mu     sync.Mutex
	ranges map[rangeKey]*drawnRange
}

type rangeKey struct {
	font  string
	start int
}

// drawnRange is one range's encoded glyphs, drawn once even when asked for concurrently.
type drawnRange struct {
	once sync.Once
	pbf  []byte
	err  error
}

// NewSet parses the embedded fonts.
func NewSet() (*Set, error) {
	f, err := sfnt.Parse(dejaVuSans)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", DefaultFont, err)
	}
	return &Set{fonts: map[string]*sfnt.Font{DefaultFont: f}, ranges: map[rangeKey]*drawnRange{}}, nil
}

// Fonts lists the font names the set holds.
func (s *Set) Fonts() []string {
	names := make([]string, 0, len(s.fonts))
	for n := range s.fonts {
		names = append(names, n)
	}
	return names
}

// Resolve picks the first font of a comma-separated font stack that the set holds.
func (s *Set) Resolve(stack string) (string, error) {
	for name := range strings.SplitSeq(stack, ",") {
		name = strings.TrimSpace(name)
		if _, ok := s.fonts[name]; ok {
			return name, nil
		}
	}
	return "", fmt.Errorf("%w: %q (fonts served: %s)", ErrUnknownFont, stack, strings.Join(s.Fonts(), ", "))
}

// ParseRange reads "START-END" as MapLibre requests it: 256 code points from a multiple of 256,
// within the Basic Multilingual Plane.
func ParseRange(text string) (int, error) {
	var start, end int
	if _, err := fmt.Sscanf(text, "%d-%d", &start, &end); err != nil || fmt.Sprintf("%d-%d", start, end) != text {
		return 0, fmt.Errorf("%w: %q, want START-END such as 0-255", ErrBadRange, text)
	}
	if start < 0 || start%256 != 0 || end != start+255 || end > 0xFFFF {
		return 0, fmt.Errorf("%w: %q, want 256 code points from a multiple of 256 up to 65280-65535", ErrBadRange, text)
	}
	return start, nil
}

// Range returns the encoded glyphs of the font stack's first known font for the 256 code
// points from start, drawing them on the first request.
func (s *Set) Range(stack string, start int) ([]byte, error) {
	name, err := s.Resolve(stack)
	if err != nil {
		return nil, err
	}
	if start < 0 || start%256 != 0 || start > 0xFF00 {
		return nil, fmt.Errorf("%w: start %d", ErrBadRange, start)
	}
	key := rangeKey{name, start}
	s.mu.Lock()
	d := s.ranges[key]
	if d == nil {
		d = &drawnRange{}
		s.ranges[key] = d
	}
	s.mu.Unlock()
	d.once.Do(func() {
		d.pbf, d.err = drawRange(s.fonts[name], name, start)
	})
	return d.pbf, d.err
}

// drawRange draws every code point of the range the font has and encodes them.
func drawRange(f *sfnt.Font, name string, start int) ([]byte, error) {
	var buf sfnt.Buffer
	var drawn []glyph
	for r := rune(start); r < rune(start+256); r++ {
		g, ok, err := draw(f, &buf, r)
		if err != nil {
			return nil, fmt.Errorf("draw %U of %s: %w", r, name, err)
		}
		if ok {
			drawn = append(drawn, g)
		}
	}
	return encode(name, fmt.Sprintf("%d-%d", start, start+255), drawn), nil
}
