package cql2

import (
	"testing"
)

// fuzzQueryables names the properties the seeds use, so that fuzzed filters get through
// Check often enough to exercise Match and SQL.
var fuzzQueryables = func() Queryables {
	q := QueryablesOf(featsLayer)
	for _, n := range []string{"city", "owner", "avg_wind", "balance", "area_m2", "swimming_pool", "a", "b", "c", "land use", "depth", "cityName", "category"} {
		q[n] = TypeString
	}
	for _, n := range []string{"avg_wind", "balance", "area_m2", "a", "b", "c", "depth", "category"} {
		q[n] = TypeNumber
	}
	q["swimming_pool"] = TypeBoolean
	return q
}()

// exercise checks what must hold for any input: no panic, the canonical text parses back
// to itself, and a checked filter translates to SQL and matches features.
func exercise(t *testing.T, e Expr) {
	text := Format(e)
	again, err := Parse(text)
	if err != nil {
		t.Fatalf("canonical text %q does not parse: %v", text, err)
	}
	if got := Format(again); got != text {
		t.Fatalf("canonical text is not stable:\n%q\n%q", text, got)
	}
	f, err := Check(e, fuzzQueryables)
	if err != nil {
		return
	}
	if _, _, err := f.SQL(1, SQLOptions{}); err != nil {
		t.Fatalf("SQL of checked filter %s: %v", f, err)
	}
	for _, ft := range feats {
		f.Match(ft)
	}
}

func FuzzParse(f *testing.F) {
	for _, c := range conformanceExamples {
		f.Add(c.text)
	}
	for _, c := range selections {
		f.Add(c.filter)
	}
	f.Add(`name = 'a'; DROP TABLE buildings`)
	f.Add(`"a""b" NOT BETWEEN -1.5e3 AND .5 OR x IS NOT NULL`)
	f.Fuzz(func(t *testing.T, s string) {
		e, err := Parse(s)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("Parse(%q) error %v is not an *Error", s, err)
			}
			return
		}
		exercise(t, e)
	})
}

func FuzzParseJSON(f *testing.F) {
	for _, c := range conformanceExamples {
		f.Add(c.json)
	}
	f.Add(`{"op": "in", "args": [{"property": "a"}, [1, "x", true]]}`)
	f.Fuzz(func(t *testing.T, s string) {
		e, err := ParseJSON([]byte(s))
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("ParseJSON(%q) error %v is not an *Error", s, err)
			}
			return
		}
		exercise(t, e)
	})
}
