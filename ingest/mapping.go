package ingest

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/citytwin/citytwin/layers"
)

// ErrMapping marks a mapping that does not fit the catalog or the source it is used on.
var ErrMapping = errors.New("mapping")

// Mapping says how the tables of a city's files become catalog layers. It is read from
// TOML (docs/import-mapping-examples/ has worked examples):
//
//	encoding = "CP1250"        # optional: attribute encoding when the files do not say
//	srid = 3844                # optional: CRS when the files do not say
//
//	[[source]]
//	name = "parcele"           # the table: Shapefile base name, GeoPackage table; "" = any
//	layer = "parcels"          # the catalog layer it fills
//	id = "OBJECTID"            # source field holding the feature id; default: the record number
//	ignore = ["CNP"]           # source fields left out on purpose (not reported as unmapped)
//	[source.fields]
//	cad_number = "NR_CAD"                      # catalog field = source field
//	area_m2 = { from = "SUPRAFATA", unit = "ha" }
//	land_use = { from = "CATEGORIE", values = { "CC" = "curți construcții" } }
//	derived = { value = false }                # a constant
//	[source.join]              # rows of a CSV file joined by a key
//	file = "reguli.csv"        # relative to the mapping file
//	key = "UTR"                # the source field
//	column = "cod"             # the CSV column (default: the key's name); fields take
//	                           # its other columns as from = "join.COLUMN"
type Mapping struct {
	Encoding string          `toml:"encoding"`
	SRID     int             `toml:"srid"`
	Sources  []SourceMapping `toml:"source"`
}

// SourceMapping maps one source table to one layer.
type SourceMapping struct {
	Name   string               `toml:"name"`
	Layer  string               `toml:"layer"`
	ID     string               `toml:"id"`
	SRID   int                  `toml:"srid"`
	Ignore []string             `toml:"ignore"`
	Fields map[string]FieldRule `toml:"fields"`
	Join   *Join                `toml:"join"`
}

// FieldRule fills one catalog field.
type FieldRule struct {
	From  string // source field, or "join.COLUMN"
	Value any    // a constant instead of From
	// Unit of the source values, converted to the unit the catalog field's name ends in
	// (_m2, _m, _pct, _mbps); Scale multiplies instead.
	Unit  string
	Scale float64
	// Values maps source values (compared without case, trimmed) to catalog values; a value
	// not in the map takes Default, or rejects the feature when Default is unset.
	Values  map[string]any
	Default any
	// Split cuts a text value into a list (List fields) at any of these characters; default ",;".
	Split string

	values map[string]any // Values by normalised key
}

// UnmarshalTOML reads a rule as a table, or as a string naming the source field.
func (r *FieldRule) UnmarshalTOML(v any) error {
	switch x := v.(type) {
	case string:
		r.From = x
		return nil
	case map[string]any:
		for k, v := range x {
			var ok bool
			switch k {
			case "from":
				r.From, ok = v.(string)
			case "value":
				r.Value, ok = v, true
			case "unit":
				r.Unit, ok = v.(string)
			case "scale":
				r.Scale, ok = toFloat(v)
			case "values":
				r.Values, ok = v.(map[string]any)
			case "default":
				r.Default, ok = v, true
			case "split":
				r.Split, ok = v.(string)
			default:
				return fmt.Errorf("unknown key %q (want from, value, unit, scale, values, default, split)", k)
			}
			if !ok {
				return fmt.Errorf("%s: wrong type %T", k, v)
			}
		}
		return nil
	}
	return fmt.Errorf("want a source field name or a table, got %T", v)
}

func toFloat(v any) (float64, bool) {
	switch n := v.(type) {
	case int64:
		return float64(n), true
	case float64:
		return n, true
	}
	return 0, false
}

// Join joins the rows of a CSV file to the features by a key.
type Join struct {
	File   string `toml:"file"`
	Key    string `toml:"key"`
	Column string `toml:"column"`
	// Optional: a feature whose key has no row keeps the joined fields empty; otherwise it
	// is rejected.
	Optional bool `toml:"optional"`

	header []string
	rows   map[string][]string
	col    map[string]int
}

// LoadMapping reads a mapping file and checks it against the catalog; a join's CSV file is
// read now, relative to the mapping file's folder.
func LoadMapping(path string) (*Mapping, error) {
	var m Mapping
	md, err := toml.DecodeFile(path, &m)
	if err != nil {
		return nil, fmt.Errorf("%w %s: %v", ErrMapping, path, err)
	}
	if un := md.Undecoded(); len(un) > 0 {
		return nil, fmt.Errorf("%w %s: unknown key %s", ErrMapping, path, un[0])
	}
	if err := m.check(filepath.Dir(path)); err != nil {
		return nil, fmt.Errorf("%w %s: %v", ErrMapping, path, err)
	}
	return &m, nil
}

// ParseMapping reads a mapping from TOML text; join files are found relative to dir.
func ParseMapping(text, dir string) (*Mapping, error) {
	var m Mapping
	md, err := toml.Decode(text, &m)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMapping, err)
	}
	if un := md.Undecoded(); len(un) > 0 {
		return nil, fmt.Errorf("%w: unknown key %s", ErrMapping, un[0])
	}
	if err := m.check(dir); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMapping, err)
	}
	return &m, nil
}

func (m *Mapping) check(dir string) error {
	if len(m.Sources) == 0 {
		return fmt.Errorf("no [[source]] section")
	}
	if m.Encoding != "" {
		if _, err := lookupEncoding(m.Encoding); err != nil {
			return err
		}
	}
	for i := range m.Sources {
		s := &m.Sources[i]
		where := fmt.Sprintf("source %d", i+1)
		if s.Name != "" {
			where = fmt.Sprintf("source %q", s.Name)
		}
		l, err := layers.Lookup(s.Layer)
		if err != nil {
			return fmt.Errorf("%s: layer: %v", where, err)
		}
		for _, target := range sortedKeys(s.Fields) {
			r := s.Fields[target]
			f, ok := l.Field(target)
			if !ok {
				return fmt.Errorf("%s: fields.%s: layer %s has no field %s (it has: %s)", where, target, l.Name, target, strings.Join(fieldNames(l), ", "))
			}
			if err := r.check(f, s.Join); err != nil {
				return fmt.Errorf("%s: fields.%s: %v", where, target, err)
			}
			s.Fields[target] = r
		}
		if s.Join != nil {
			if err := s.Join.load(dir); err != nil {
				return fmt.Errorf("%s: join: %v", where, err)
			}
			for _, target := range sortedKeys(s.Fields) {
				if col, ok := strings.CutPrefix(s.Fields[target].From, "join."); ok {
					if _, ok := s.Join.col[col]; !ok {
						return fmt.Errorf("%s: fields.%s: %s has no column %q (it has: %s)", where, target, s.Join.File, col, strings.Join(s.Join.header, ", "))
					}
				}
			}
		}
	}
	return nil
}

func fieldNames(l *layers.Layer) []string {
	out := make([]string, len(l.Fields))
	for i, f := range l.Fields {
		out[i] = f.Name
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// units: each unit's dimension and factor to the dimension's catalog unit.
var units = map[string]struct {
	dim    string
	factor float64
}{
	"m2": {"area", 1}, "ar": {"area", 100}, "ha": {"area", 1e4}, "km2": {"area", 1e6},
	"m": {"length", 1}, "mm": {"length", 0.001}, "cm": {"length", 0.01}, "dm": {"length", 0.1}, "km": {"length", 1000}, "ft": {"length", 0.3048},
	"pct": {"ratio", 1}, "%": {"ratio", 1}, "fraction": {"ratio", 100},
	"mbps": {"rate", 1}, "kbps": {"rate", 0.001}, "gbps": {"rate", 1000},
}

// fieldDimension reads the unit a catalog field's name ends in.
func fieldDimension(name string) string {
	switch {
	case strings.HasSuffix(name, "_m2"):
		return "area"
	case strings.HasSuffix(name, "_m"):
		return "length"
	case strings.HasSuffix(name, "_pct"):
		return "ratio"
	case strings.HasSuffix(name, "_mbps"):
		return "rate"
	}
	return ""
}

func (r *FieldRule) check(f layers.Field, join *Join) error {
	switch {
	case r.From == "" && r.Value == nil:
		return fmt.Errorf("want from (a source field) or value (a constant)")
	case r.From != "" && r.Value != nil:
		return fmt.Errorf("from and value exclude each other")
	case strings.HasPrefix(r.From, "join.") && join == nil:
		return fmt.Errorf("%q names a joined column but there is no [source.join]", r.From)
	}
	if r.Unit != "" {
		u, ok := units[strings.ToLower(r.Unit)]
		if !ok {
			return fmt.Errorf("unknown unit %q (known: %s)", r.Unit, strings.Join(sortedKeys(units), ", "))
		}
		dim := fieldDimension(f.Name)
		if dim == "" {
			return fmt.Errorf("unit %q: the field's unit is not known from its name; use scale", r.Unit)
		}
		if u.dim != dim {
			return fmt.Errorf("unit %q is a unit of %s; the field holds %s", r.Unit, u.dim, dim)
		}
		if r.Scale != 0 {
			return fmt.Errorf("unit and scale exclude each other")
		}
		r.Scale = u.factor
	}
	if r.Scale != 0 && f.Type != layers.Number && f.Type != layers.Integer {
		return fmt.Errorf("unit or scale on a %s field", f.Type)
	}
	if r.Values != nil {
		r.values = make(map[string]any, len(r.Values))
		for k, v := range r.Values {
			nk := valueKey(k)
			if _, dup := r.values[nk]; dup {
				return fmt.Errorf("values: %q is given twice (keys compare without case)", k)
			}
			r.values[nk] = v
		}
	}
	if r.Value != nil {
		if _, err := convert(r.Value, f, *r); err != nil {
			return fmt.Errorf("value: %v", err)
		}
	}
	return nil
}

// valueKey is how value-map keys and source values are compared: trimmed, without case,
// with the cedilla Ş/Ţ of old code pages equal to the comma-below letters.
func valueKey(s string) string {
	return strings.ToLower(commaBelow.Replace(strings.TrimSpace(s)))
}

func (j *Join) load(dir string) error {
	if j.File == "" || j.Key == "" {
		return fmt.Errorf("want file and key")
	}
	if j.Column == "" {
		j.Column = j.Key
	}
	path := j.File
	if !filepath.IsAbs(path) {
		path = filepath.Join(dir, path)
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	head := make([]byte, 4096)
	n, _ := io.ReadFull(f, head)
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	r := csv.NewReader(f)
	r.Comma = detectDelimiter(head[:n])
	rows, err := r.ReadAll()
	if err != nil {
		return fmt.Errorf("%s: %v", j.File, err)
	}
	if len(rows) == 0 {
		return fmt.Errorf("%s is empty", j.File)
	}
	j.header = rows[0]
	if len(j.header) > 0 {
		j.header[0] = strings.TrimPrefix(j.header[0], "\ufeff")
	}
	j.col = map[string]int{}
	for i, h := range j.header {
		j.col[strings.TrimSpace(h)] = i
	}
	k, ok := j.col[j.Column]
	if !ok {
		return fmt.Errorf("%s has no column %q (it has: %s)", j.File, j.Column, strings.Join(j.header, ", "))
	}
	j.rows = make(map[string][]string, len(rows)-1)
	for i, row := range rows[1:] {
		key := strings.TrimSpace(row[k])
		if _, dup := j.rows[key]; dup {
			return fmt.Errorf("%s: line %d: key %q appears twice", j.File, i+2, key)
		}
		j.rows[key] = row
	}
	return nil
}

// plan is a mapping applied to one source: which field fills which, checked against the
// source's fields.
type plan struct {
	layer    *layers.Layer
	id       string
	rules    []boundRule
	join     *Join
	joinKey  string
	mapped   []FieldMapping
	unmapped []string
	ignored  []string
}

type boundRule struct {
	field layers.Field
	rule  FieldRule
	from  string // the source field's own spelling
}

// FieldMapping is one line of the report: which source field fills which catalog field.
type FieldMapping struct {
	Source     string // source field, "join.COLUMN", or "" for a constant
	Target     string
	Rule       string // "", "unit ha", "values (4)", "constant false"...
	Restricted bool   // the catalog keeps the field as personal data
}

// sourceField finds a source field by name, exactly or else without case.
func sourceField(fields []string, name string) (string, bool) {
	if slices.Contains(fields, name) {
		return name, true
	}
	for _, f := range fields {
		if strings.EqualFold(f, name) {
			return f, true
		}
	}
	return "", false
}

// compile binds a source mapping to a source's fields; a mapping naming a field the source
// lacks is an error listing those it has.
func compile(sm *SourceMapping, info SourceInfo, l *layers.Layer) (*plan, error) {
	p := &plan{layer: l, join: sm.Join}
	used := map[string]bool{}
	missing := func(what, name string) error {
		return fmt.Errorf("%w: %s: %s names the field %q, which %s lacks (its fields: %s)", ErrMapping, info.Name, what, name, info.Name, strings.Join(info.Fields, ", "))
	}
	if sm.ID != "" {
		f, ok := sourceField(info.Fields, sm.ID)
		switch {
		case ok:
			p.id, used[f] = f, true
		case info.FIDColumn == "" || !strings.EqualFold(sm.ID, info.FIDColumn):
			return nil, missing("id", sm.ID)
		} // else the record ids are that column's
	}
	if sm.Join != nil {
		f, ok := sourceField(info.Fields, sm.Join.Key)
		if !ok {
			return nil, missing("join.key", sm.Join.Key)
		}
		p.joinKey, used[f] = f, true
	}
	for _, target := range sortedKeys(sm.Fields) {
		r := sm.Fields[target]
		f, _ := l.Field(target)
		b := boundRule{field: f, rule: r}
		fm := FieldMapping{Target: target, Restricted: f.Restricted}
		switch {
		case r.Value != nil:
			fm.Rule = fmt.Sprintf("constant %v", r.Value)
		case strings.HasPrefix(r.From, "join."):
			b.from, fm.Source = r.From, r.From
		default:
			name, ok := sourceField(info.Fields, r.From)
			if !ok {
				return nil, missing("fields."+target, r.From)
			}
			b.from, fm.Source, used[name] = name, name, true
		}
		var rules []string
		if r.Unit != "" {
			rules = append(rules, "unit "+r.Unit)
		} else if r.Scale != 0 {
			rules = append(rules, fmt.Sprintf("scale %g", r.Scale))
		}
		if r.Values != nil {
			rules = append(rules, fmt.Sprintf("values (%d)", len(r.Values)))
		}
		if fm.Rule == "" {
			fm.Rule = strings.Join(rules, ", ")
		}
		p.rules = append(p.rules, b)
		p.mapped = append(p.mapped, fm)
	}
	for _, ig := range sm.Ignore {
		name, ok := sourceField(info.Fields, ig)
		if !ok {
			return nil, missing("ignore", ig)
		}
		used[name] = true
		p.ignored = append(p.ignored, name)
	}
	for _, f := range info.Fields {
		if !used[f] {
			p.unmapped = append(p.unmapped, f)
		}
	}
	return p, nil
}

// identityPlan maps the source fields named like the layer's fields (without case) to
// them, an "id" field to the id, and reports the rest.
func identityPlan(info SourceInfo, l *layers.Layer) *plan {
	p := &plan{layer: l}
	for _, name := range info.Fields {
		lower := strings.ToLower(name)
		if lower == "id" && p.id == "" {
			p.id = name
			continue
		}
		if f, ok := l.Field(lower); ok {
			p.rules = append(p.rules, boundRule{field: f, from: name})
			p.mapped = append(p.mapped, FieldMapping{Source: name, Target: f.Name, Restricted: f.Restricted})
			continue
		}
		p.unmapped = append(p.unmapped, name)
	}
	return p
}

// apply turns a record's attributes into raw catalog properties for layers.Normalize.
func (p *plan) apply(attrs map[string]any) (map[string]any, error) {
	var row []string
	if p.join != nil {
		key := strings.TrimSpace(valueString(attrs[p.joinKey]))
		var ok bool
		if row, ok = p.join.rows[key]; !ok && !p.join.Optional {
			return nil, &fieldError{field: p.joinKey, msg: fmt.Sprintf("no row of %s has %s = %q", p.join.File, p.join.Column, key), kind: "join"}
		}
	}
	raw := make(map[string]any, len(p.rules))
	for _, b := range p.rules {
		var v any
		switch {
		case b.rule.Value != nil:
			v = b.rule.Value
		case strings.HasPrefix(b.from, "join."):
			if row != nil {
				if c := p.join.col[b.from[len("join."):]]; c < len(row) && strings.TrimSpace(row[c]) != "" {
					v = strings.TrimSpace(row[c])
				}
			}
		default:
			v = attrs[b.from]
		}
		tv, err := convert(v, b.field, b.rule)
		if err != nil {
			return nil, &fieldError{field: b.field.Name, msg: fmt.Sprintf("%s: %v", describeFrom(b), err), kind: "value"}
		}
		if tv != nil {
			raw[b.field.Name] = tv
		}
	}
	return raw, nil
}

func describeFrom(b boundRule) string {
	if b.from == "" {
		return "constant"
	}
	return "from " + b.from
}

// fieldError is a feature's attribute problem; kind sorts them in the report.
type fieldError struct {
	field, msg, kind string
}

func (e *fieldError) Error() string { return e.field + ": " + e.msg }

func valueString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	}
	return fmt.Sprint(v)
}

// convert makes a source value the catalog field's type: value map first, then the type,
// then the unit. Range and list checks are layers.Normalize's.
func convert(v any, f layers.Field, r FieldRule) (any, error) {
	if v == nil {
		return nil, nil
	}
	if s, ok := v.(string); ok && strings.TrimSpace(s) == "" {
		return nil, nil
	}
	if f.Type == layers.List {
		return convertList(v, f, r)
	}
	if r.values != nil {
		mv, err := r.lookup(v)
		if err != nil {
			return nil, err
		}
		if s, ok := mv.(string); ok && s == "" {
			return nil, nil // mapped to nothing: the field is left out
		}
		v = mv
	}
	switch f.Type {
	case layers.String:
		if _, ok := v.(bool); ok {
			return nil, fmt.Errorf("want text, got %v", v)
		}
		return valueString(v), nil
	case layers.Boolean:
		switch x := v.(type) {
		case bool:
			return x, nil
		case int64:
			if x == 0 || x == 1 {
				return x == 1, nil
			}
		case float64:
			if x == 0 || x == 1 {
				return x == 1, nil
			}
		case string:
			switch strings.ToLower(strings.TrimSpace(x)) {
			case "true", "t", "yes", "y", "da", "1":
				return true, nil
			case "false", "f", "no", "n", "nu", "0":
				return false, nil
			}
		}
		return nil, fmt.Errorf("%q is not true or false (map it with values)", valueString(v))
	case layers.Number, layers.Integer:
		var x float64
		switch n := v.(type) {
		case int64:
			x = float64(n)
		case float64:
			x = n
		case string:
			t := strings.ReplaceAll(strings.TrimSpace(n), " ", "")
			if strings.Count(t, ",") == 1 && !strings.Contains(t, ".") {
				t = strings.Replace(t, ",", ".", 1) // decimal comma
			}
			var err error
			if x, err = strconv.ParseFloat(t, 64); err != nil {
				return nil, fmt.Errorf("%q is not a number", n)
			}
		default:
			return nil, fmt.Errorf("want a number, got %v", v)
		}
		if r.Scale != 0 {
			x *= r.Scale
			if f.Type == layers.Integer {
				x = math.Round(x*1e6) / 1e6 // 2.9999999999 from a unit factor is 3
			}
		}
		return x, nil
	}
	return nil, fmt.Errorf("field type %s", f.Type)
}

func (r FieldRule) lookup(v any) (any, error) {
	if mv, ok := r.values[valueKey(valueString(v))]; ok {
		return mv, nil
	}
	if r.Default != nil {
		return r.Default, nil
	}
	return nil, fmt.Errorf("%q is not in the value map (%s)", valueString(v), strings.Join(sortedKeys(r.Values), ", "))
}

func convertList(v any, f layers.Field, r FieldRule) (any, error) {
	var items []string
	switch x := v.(type) {
	case []string:
		items = x
	case []any:
		for _, e := range x {
			items = append(items, valueString(e))
		}
	default:
		sep := r.Split
		if sep == "" {
			sep = ",;"
		}
		items = strings.FieldsFunc(valueString(v), func(c rune) bool { return strings.ContainsRune(sep, c) })
	}
	var out []string
	add := func(s string) {
		if s = strings.TrimSpace(s); s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	for _, it := range items {
		if r.values == nil {
			add(it)
			continue
		}
		mv, err := r.lookup(it)
		if err != nil {
			return nil, err
		}
		switch m := mv.(type) {
		case string:
			add(m)
		case []any:
			for _, e := range m {
				add(valueString(e))
			}
		default:
			return nil, fmt.Errorf("value map gives %v for a list field", mv)
		}
	}
	if out == nil {
		out = []string{}
	}
	return out, nil
}
