package ingest

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/ianaindex"
	"golang.org/x/text/encoding/unicode"
)

// textDecoder turns a source's attribute bytes into UTF-8 strings.
type textDecoder struct {
	name string
	dec  *encoding.Decoder // nil: UTF-8, checked
}

// lookupEncoding resolves an encoding name as found in a .cpg file or given by the user:
// "CP1250", "1250", "ANSI 1250", "windows-1250", "UTF-8", "ISO-8859-2", "88592"...
func lookupEncoding(name string) (*textDecoder, error) {
	n := strings.ToUpper(strings.TrimSpace(name))
	n = strings.TrimPrefix(n, "ANSI ")
	n = strings.TrimPrefix(n, "ANSI_")
	switch {
	case n == "UTF-8" || n == "UTF8" || n == "65001":
		return &textDecoder{name: "UTF-8"}, nil
	case strings.HasPrefix(n, "CP") && len(n) == 6 && strings.HasPrefix(n[2:], "125"):
		n = "windows-" + n[2:]
	case len(n) == 4 && strings.HasPrefix(n, "125"):
		n = "windows-" + n
	case strings.HasPrefix(n, "8859") && len(n) > 4:
		n = "ISO-8859-" + strings.TrimLeft(n[4:], "-_")
	case strings.HasPrefix(n, "ISO8859") && len(n) > 7:
		n = "ISO-8859-" + strings.TrimLeft(n[7:], "-_")
	}
	enc, err := ianaindex.IANA.Encoding(n)
	if err != nil || enc == nil {
		return nil, fmt.Errorf("unknown text encoding %q (want e.g. CP1250, UTF-8, ISO-8859-2)", name)
	}
	canon, _ := ianaindex.IANA.Name(enc)
	if enc == unicode.UTF8 {
		return &textDecoder{name: "UTF-8"}, nil
	}
	return &textDecoder{name: canon, dec: enc.NewDecoder()}, nil
}

// dbfLanguageDrivers are the code pages of the DBF header's language driver byte that
// Central European data carries, as GDAL reads them.
var dbfLanguageDrivers = map[byte]encoding.Encoding{
	0x01: charmap.CodePage437,
	0x02: charmap.CodePage850,
	0x03: charmap.Windows1252,
	0x57: charmap.Windows1252,
	0x64: charmap.CodePage852,
	0xC8: charmap.Windows1250,
}

// decode returns the UTF-8 text of b; invalid UTF-8 in a UTF-8 source is an error, so a
// wrong .cpg shows instead of garbling names.
func (d *textDecoder) decode(b []byte) (string, error) {
	if d.dec == nil {
		if !utf8.Valid(b) {
			return "", fmt.Errorf("%q is not valid UTF-8; name the encoding (a .cpg file or --encoding CP1250)", b)
		}
		return string(b), nil
	}
	if isASCII(b) {
		return string(b), nil
	}
	out, err := d.dec.Bytes(b)
	if err != nil {
		return "", fmt.Errorf("decode %q as %s: %w", b, d.name, err)
	}
	return string(out), nil
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return false
		}
	}
	return true
}

// commaBelow replaces the cedilla forms of Ş and Ţ, the only ones code page 1250 and
// ISO-8859-2 have, with the comma-below letters Romanian spells with (Ș, Ț).
var commaBelow = strings.NewReplacer("Ş", "Ș", "ş", "ș", "Ţ", "Ț", "ţ", "ț")
