package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/citytwin/citytwin/layers"
	"github.com/citytwin/citytwin/layers/postgis"
	"github.com/citytwin/citytwin/scenarios"
	"github.com/citytwin/citytwin/tiles"
	"github.com/citytwin/citytwin/web"
)

// Config is the configuration of `citytwin serve`: the settings of its flags and what only its
// configuration file sets (layers' zoom ranges, the indicators' parameters, extra layers). A
// setting is taken from, first to last: the command line, the environment (CITYTWIN_*), the
// file, the default. It is a value: what needs a setting is handed it (the zoom ranges and
// extra layers reach the tile sources as a layers.Published); nothing is written into another
// package's variables.
type Config struct {
	serveConfig              // the settings with a flag (serve.go)
	limits       *limitFlags // request limits (limits.go)
	plannerToken string
	file         string // --config: the file's path; "": none

	zooms  []layers.ZoomRange   // [layers.NAME]
	params scenarios.Parameters // [indicators] over the defaults
	extras []*layers.Extra      // [[extra_layers]], not yet resolved against the database
}

// envLookup is where a flag not on the command line takes its value: envValue reads the
// process's environment; noEnv nothing.
type envLookup func(flagName string) (string, bool)

func noEnv(string) (string, bool) { return "", false }

// flags declares the serve command's flags on a new flag set, with c's fields as targets.
func (c *Config) flags() *flag.FlagSet {
	fs := newFlagSet("serve", "serve [flags]")
	fs.StringVar(&c.addr, "addr", ":8080", "address to listen on")
	fs.StringVar(&c.database, "database", "", "PostgreSQL/PostGIS URL (also DATABASE_URL); empty: the embedded demo city in memory")
	fs.StringVar(&c.dataDir, "data-dir", "citytwin-data", "directory of the memory mode's files: imported layers and scenarios")
	fs.StringVar(&c.logFormat, "log-format", "json", "log format: json or text")
	fs.DurationVar(&c.shutdown, "shutdown-timeout", 20*time.Second, "how long in-flight requests may take to finish on SIGTERM")
	fs.DurationVar(&c.statementTimeout, "statement-timeout", 0, "how long one SQL statement may run before PostgreSQL cancels it (0: the database URL's statement_timeout, else 30s)")
	fs.IntVar(&c.tileCacheMB, "tile-cache-mb", 256, "memory for cached tiles, in MiB; 0 turns the tile cache off")
	fs.IntVar(&c.tileMaxAge, "tile-max-age", 3600, "how long browsers and CDNs may keep a tile without revalidating, in seconds (Cache-Control max-age)")
	fs.StringVar(&c.corsOrigins, "cors-origins", "*", `origins whose web pages may call the server, comma-separated ("*": any; empty: no CORS headers)`)
	fs.StringVar(&c.backgroundTiles, "background-tiles", "", "an XYZ raster tile URL (https://…/{z}/{x}/{y}.png) the map draws under the city's layers, e.g. an aerial photograph; empty: none")
	fs.StringVar(&c.backgroundAttribution, "background-attribution", "", "the attribution the --background-tiles provider requires, shown on the map")
	fs.Var(&c.tileFiles, "tiles-file", "NAME=PATH: serve a PMTiles or MBTiles file at /tiles/NAME/{z}/{x}/{y}.mvt (repeatable)")
	c.limits = addLimitFlags(fs)
	fs.IntVar(&c.quotas.MaxChanges, "scenario-max-changes", 0, "changes one scenario may hold (0: 10000)")
	fs.IntVar(&c.quotas.MaxVertices, "scenario-max-vertices", 0, "positions of all of one scenario's geometries together (0: 200000)")
	fs.IntVar(&c.quotas.MaxScenarios, "scenario-max-per-token", 0, "scenarios one token may own (0: 100)")
	fs.IntVar(&c.quotas.KeepRuns, "scenario-keep-runs", 0, "runs kept per scenario, the oldest dropped first (0: 20)")
	fs.StringVar(&c.plannerToken, "planner-token", "", "a bearer token of the planner role (the /planner workspace, /api/scenarios), besides those made with \"citytwin token create\"")
	fs.StringVar(&c.file, "config", "", "configuration file (TOML; see docs/citytwin.example.toml). Command-line flags and CITYTWIN_* variables override it")
	usage := fs.Usage
	fs.Usage = func() {
		usage()
		fmt.Fprint(fs.Output(), `
Each setting is taken from, first to last: the command line; the environment variable
CITYTWIN_<FLAG> (upper case, dashes as underscores; --database also reads DATABASE_URL); the
[serve] table of the --config file, whose keys are the flags' names with dashes as underscores
(tile_cache_mb = 512); the default. The file also sets layers' zoom ranges, the indicators'
parameters and extra layers published from the city's own PostGIS tables: see
docs/operating.md, and check a file with "citytwin config check FILE".
`)
	}
	return fs
}

// loadServeConfig builds the serve command's configuration from args, then env for the flags
// args does not give, then the --config file for the flags neither gives, then the defaults,
// and validates it.
func loadServeConfig(args []string, env envLookup) (*Config, error) {
	c := &Config{params: scenarios.DefaultParameters()}
	fs := c.flags()
	if err := parseFlagsEnv(fs, args, env); err != nil {
		return nil, err
	}
	if c.file != "" {
		f, err := loadConfig(c.file, fs)
		if err != nil {
			return nil, err
		}
		given := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
		p := &configProblems{c: f}
		f.checkServe(p, fs, func(name string) bool {
			_, inEnv := env(name)
			return !given[name] && !inEnv
		})
		if err := p.err(); err != nil {
			return nil, err
		}
		c.zooms, c.params, c.extras = f.zoomRanges(), f.params, f.extras()
	}
	return c, c.Validate()
}

// Validate reports the first setting that is wrong, as far as can be told without the
// database (extra layers' tables are checked against it when the server starts).
func (c *Config) Validate() error {
	if _, err := newLogger(c.logFormat, io.Discard); err != nil {
		return err
	}
	if c.tileCacheMB < 0 || c.tileMaxAge < 0 {
		return fmt.Errorf("--tile-cache-mb and --tile-max-age cannot be negative")
	}
	if c.limits != nil {
		if err := c.limits.apply(&web.Options{}); err != nil {
			return err
		}
	}
	if err := web.CheckRasterTilesURL(c.backgroundTiles); c.backgroundTiles != "" && err != nil {
		return fmt.Errorf("--background-tiles: %w", err)
	}
	if err := c.params.Validate(); err != nil {
		return fmt.Errorf("indicators: %w", err)
	}
	if _, err := layers.NewPublished(c.extras, c.zooms...); err != nil {
		return fmt.Errorf("layers: %w", err)
	}
	return nil
}

// The configuration file of `citytwin serve --config FILE` (TOML). Its [serve] table sets
// the serve command's flags by name (dashes as underscores); the other tables set what has no
// flag: layers' zoom ranges, the indicators' parameters and extra layers. A setting is taken
// from, first to last: the command line, the environment (CITYTWIN_*), the file, the default.
// Every key is checked: an unknown key, a value of the wrong type or out of range is an error
// naming the file, the line and the key. docs/operating.md is the reference.

// fileConfig is a decoded configuration file.
type fileConfig struct {
	Serve       map[string]any       `toml:"serve"`
	Layers      map[string]zoomRange `toml:"layers"`
	Indicators  map[string]any       `toml:"indicators"`
	ExtraLayers []extraLayerConfig   `toml:"extra_layers"`

	path   string
	lines  map[string]int       // key path -> line (keyLines)
	params scenarios.Parameters // the indicators' parameters: the defaults with the file's
}

type zoomRange struct {
	MinZoom *int `toml:"minzoom"`
	MaxZoom *int `toml:"maxzoom"`
}

type extraLayerConfig struct {
	Name           string   `toml:"name"`
	Title          string   `toml:"title"`
	Description    string   `toml:"description"`
	Attribution    string   `toml:"attribution"`
	Table          string   `toml:"table"`
	GeometryColumn string   `toml:"geometry_column"`
	IDColumn       string   `toml:"id_column"`
	SRID           int      `toml:"srid"`
	Fields         []string `toml:"fields"`
	MinZoom        *int     `toml:"minzoom"`
	MaxZoom        *int     `toml:"maxzoom"`
}

// Default zoom range of an extra layer, as the base layers' deepest.
const (
	extraMinZoom = 0
	extraMaxZoom = 22
)

// configProblems collects the problems of a file, each located at a key.
type configProblems struct {
	c    *fileConfig
	list []configProblem
}

type configProblem struct {
	line int
	text string
}

func (p *configProblems) add(path, format string, args ...any) {
	loc, line := p.c.path, p.c.line(path)
	if line > 0 {
		loc += ":" + strconv.Itoa(line)
	}
	p.list = append(p.list, configProblem{line, fmt.Sprintf("%s: %s: %s", loc, path, fmt.Sprintf(format, args...))})
}

// err lists the problems in the order of the file's lines.
func (p *configProblems) err() error {
	if len(p.list) == 0 {
		return nil
	}
	sort.SliceStable(p.list, func(i, j int) bool { return p.list[i].line < p.list[j].line })
	texts := make([]string, len(p.list))
	for i, q := range p.list {
		texts[i] = q.text
	}
	return fmt.Errorf("configuration file has %d problem(s):\n  %s", len(texts), strings.Join(texts, "\n  "))
}

// line is the line of a key path, or of the nearest enclosing table that has one; 0: unknown.
func (c *fileConfig) line(path string) int {
	for p := path; p != ""; {
		if l, ok := c.lines[p]; ok {
			return l
		}
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			break
		}
		p = p[:i]
	}
	return 0
}

// decodeErrorAt picks the line, key and message out of the TOML decoder's type errors.
var decodeErrorAt = regexp.MustCompile(`^line (\d+) \(last key "([^"]*)"\): (.*)$`)

// loadConfig reads and checks a configuration file against the serve command's flags fs
// (setting nothing).
func loadConfig(path string, fs *flag.FlagSet) (*fileConfig, error) {
	text, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("configuration file: %w", err)
	}
	c := &fileConfig{path: path, lines: keyLines(string(text)), params: scenarios.DefaultParameters()}
	md, err := toml.NewDecoder(bytes.NewReader(text)).Decode(c)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) && pe.LastKey != "" {
			return nil, fmt.Errorf("%s:%d: %s: %s", path, pe.Position.Line, pe.LastKey, pe.Message)
		}
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("%s:%d: %s", path, pe.Position.Line, pe.Message)
		}
		msg := strings.TrimPrefix(err.Error(), "toml: ")
		if m := decodeErrorAt.FindStringSubmatch(msg); m != nil {
			return nil, fmt.Errorf("%s:%s: %s: %s", path, m[1], m[2], m[3])
		}
		return nil, fmt.Errorf("%s: %s", path, msg)
	}
	p := &configProblems{c: c}
	c.checkUndecoded(p, md.Undecoded())
	c.checkServe(p, fs, nil)
	c.checkLayers(p)
	c.checkIndicators(p)
	c.checkExtras(p)
	return c, p.err()
}

// checkUndecoded reports the keys the file has and the configuration does not know. The keys
// of [serve] and [indicators] are checked by checkServe and checkIndicators.
func (c *fileConfig) checkUndecoded(p *configProblems, keys []toml.Key) {
	seen := map[string]bool{}
	for _, k := range keys {
		if k[0] == "serve" || k[0] == "indicators" {
			continue
		}
		for _, path := range c.locate(k) {
			if !seen[path] {
				seen[path] = true
				p.add(path, "unknown key")
			}
		}
	}
}

// locate turns a decoder's key (which has no array indexes) into the key paths of the file
// it stands for.
func (c *fileConfig) locate(k toml.Key) []string {
	want := strings.Join(k, ".")
	var out []string
	for path := range c.lines {
		if stripIndexes(path) == want {
			out = append(out, path)
		}
	}
	if len(out) == 0 {
		return []string{want}
	}
	sort.Slice(out, func(i, j int) bool { return c.lines[out[i]] < c.lines[out[j]] })
	return out
}

func stripIndexes(path string) string {
	var b strings.Builder
	skip := false
	for _, r := range path {
		switch {
		case r == '[':
			skip = true
		case r == ']':
			skip = false
		case !skip:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// checkServe checks each [serve] key against the flag of its name, by setting it on a copy of
// fs; when apply is not nil, it sets the flags apply allows on fs itself.
func (c *fileConfig) checkServe(p *configProblems, fs *flag.FlagSet, apply func(name string) bool) {
	keys := make([]string, 0, len(c.Serve))
	for k := range c.Serve {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, key := range keys {
		path := "serve." + key
		name := strings.ReplaceAll(key, "_", "-")
		f := fs.Lookup(name)
		if f == nil || name == "config" || strings.Contains(key, "-") {
			p.add(path, "unknown key (known: %s)", strings.Join(serveKeys(fs), ", "))
			continue
		}
		v, err := flagText(c.Serve[key])
		if err != nil {
			p.add(path, "%v", err)
			continue
		}
		target := f.Value
		if apply == nil || !apply(name) {
			target = copyValue(f)
		}
		if target == nil {
			continue // a flag type that cannot be checked apart: the server checks it
		}
		if err := target.Set(v); err != nil {
			p.add(path, "invalid value %q: %v", v, err)
		}
	}
}

// copyValue returns a fresh value of a flag's type, to check a setting without applying it.
func copyValue(f *flag.Flag) flag.Value {
	t := reflect.TypeOf(f.Value)
	if t.Kind() != reflect.Pointer {
		return nil
	}
	return reflect.New(t.Elem()).Interface().(flag.Value)
}

// serveKeys are the [serve] keys: the serve command's flags but --config.
func serveKeys(fs *flag.FlagSet) []string {
	var out []string
	fs.VisitAll(func(f *flag.Flag) {
		if f.Name != "config" {
			out = append(out, strings.ReplaceAll(f.Name, "-", "_"))
		}
	})
	return out
}

// flagText is a TOML value as a flag's text: lists are comma-joined (as --cors-origins).
func flagText(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	case bool:
		return strconv.FormatBool(x), nil
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			s, ok := e.(string)
			if !ok || strings.Contains(s, ",") {
				return "", fmt.Errorf("want a list of strings without commas, item %d is %v", i, e)
			}
			parts[i] = s
		}
		return strings.Join(parts, ","), nil
	}
	return "", fmt.Errorf("want a string, number, boolean or list of strings, got %T", v)
}

// checkLayers checks the [layers.NAME] zoom ranges: base layers only, within 0..tiles.MaxZoom.
func (c *fileConfig) checkLayers(p *configProblems) {
	for _, name := range sortedKeys(c.Layers) {
		path := "layers." + name
		l, err := layers.Lookup(name)
		if err != nil {
			p.add(path, "unknown layer (base layers: %s; extra layers set their zoom range in [[extra_layers]])", strings.Join(layers.Names(), ", "))
			continue
		}
		z := c.Layers[name]
		checkZoom(p, path, deref(z.MinZoom, l.MinZoom), deref(z.MaxZoom, l.MaxZoom))
	}
}

func checkZoom(p *configProblems, path string, minZoom, maxZoom int) {
	switch {
	case minZoom < 0 || minZoom > tiles.MaxZoom:
		p.add(path+".minzoom", "%d is outside 0..%d", minZoom, tiles.MaxZoom)
	case maxZoom < 0 || maxZoom > tiles.MaxZoom:
		p.add(path+".maxzoom", "%d is outside 0..%d", maxZoom, tiles.MaxZoom)
	case minZoom > maxZoom:
		p.add(path+".minzoom", "minzoom %d is above maxzoom %d", minZoom, maxZoom)
	}
}

// zoomRanges returns the base layers' zoom ranges the file gives (checked by checkLayers),
// each bound it leaves out being the catalog's.
func (c *fileConfig) zoomRanges() []layers.ZoomRange {
	var out []layers.ZoomRange
	for _, name := range sortedKeys(c.Layers) {
		l, err := layers.Lookup(name)
		if err != nil {
			continue
		}
		z := c.Layers[name]
		out = append(out, layers.ZoomRange{Layer: name, MinZoom: deref(z.MinZoom, l.MinZoom), MaxZoom: deref(z.MaxZoom, l.MaxZoom)})
	}
	return out
}

// checkIndicators decodes [indicators] over the default parameters, by their names in runs'
// "parameters" (scenarios.Parameters' JSON names), and validates the result.
func (c *fileConfig) checkIndicators(p *configProblems) {
	if len(c.Indicators) == 0 {
		return
	}
	defaults := map[string]any{}
	b, _ := json.Marshal(scenarios.DefaultParameters())
	_ = json.Unmarshal(b, &defaults)
	ok := true
	known := map[string]any{} // the file's known parameters, decoded below
	for _, k := range sortedKeys(c.Indicators) {
		def, isKnown := defaults[k]
		if !isKnown {
			p.add("indicators."+k, "unknown parameter (known: %s)", strings.Join(sortedKeys(defaults), ", "))
			ok = false
			continue
		}
		known[k] = c.Indicators[k]
		// A table of values per kind or use (m2_per_job...) takes only the kinds it knows.
		dm, isMap := def.(map[string]any)
		um, _ := c.Indicators[k].(map[string]any)
		if !isMap || um == nil {
			continue
		}
		sub := map[string]any{}
		for _, s := range sortedKeys(um) {
			if _, isKnown := dm[s]; !isKnown {
				p.add("indicators."+k+"."+s, "unknown key (known: %s)", strings.Join(sortedKeys(dm), ", "))
				ok = false
				continue
			}
			sub[s] = um[s]
		}
		known[k] = sub
	}
	b, err := json.Marshal(known)
	if err != nil {
		p.add("indicators", "%v", err)
		return
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	params := scenarios.DefaultParameters()
	if err := dec.Decode(&params); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			p.add("indicators."+te.Field, "want %s, got a %s", jsonKind(te.Type.Kind().String()), te.Value)
		} else {
			p.add("indicators", "%v", err)
		}
		return
	}
	if !ok {
		return
	}
	if err := params.Validate(); err != nil {
		p.add("indicators", "%v", err)
		return
	}
	c.params = params
}

func jsonKind(goKind string) string {
	switch goKind {
	case "float64", "int", "int64":
		return "a number"
	case "slice":
		return "a list"
	case "map":
		return "a table"
	}
	return "a " + goKind
}

// checkExtras checks the extra layers as far as can be done without the database.
func (c *fileConfig) checkExtras(p *configProblems) {
	names := map[string]int{}
	for i, e := range c.ExtraLayers {
		path := fmt.Sprintf("extra_layers[%d]", i)
		switch {
		case e.Name == "":
			p.add(path, "name is missing")
			continue
		case e.Table == "":
			p.add(path, "table is missing")
			continue
		case e.GeometryColumn == "":
			p.add(path, "geometry_column is missing")
			continue
		}
		if j, dup := names[e.Name]; dup {
			p.add(path+".name", "%q is also extra_layers[%d]'s name", e.Name, j)
			continue
		}
		names[e.Name] = i
		x := e.extra()
		checkZoom(p, path, x.MinZoom, x.MaxZoom)
		if err := x.Check(); err != nil {
			var fe *layers.FieldError
			if errors.As(err, &fe) {
				p.add(path+"."+fe.Field, "%s", fe.Message)
			} else {
				p.add(path, "%v", err)
			}
		}
	}
}

func (e extraLayerConfig) extra() *layers.Extra {
	return &layers.Extra{
		Layer: layers.Layer{Name: e.Name, Title: cmpOr(e.Title, e.Name), Description: e.Description,
			MinZoom: deref(e.MinZoom, extraMinZoom), MaxZoom: deref(e.MaxZoom, extraMaxZoom)},
		Table: e.Table, GeometryColumn: e.GeometryColumn, IDColumn: e.IDColumn, SRID: e.SRID,
		Columns: slices.Clone(e.Fields), Attribution: e.Attribution,
	}
}

// extras returns the file's extra layers, not yet resolved against the database.
func (c *fileConfig) extras() []*layers.Extra {
	var out []*layers.Extra
	for _, e := range c.ExtraLayers {
		out = append(out, e.extra())
	}
	return out
}

// keyLines maps every key path of a TOML text ("serve.addr", "extra_layers[1].table") and
// every table header to its line. It reads the common layout — one key or header a line —
// which is enough to point at a line in error messages.
func keyLines(text string) map[string]int {
	lines := map[string]int{}
	prefix := ""
	count := map[string]int{}
	for i, raw := range strings.Split(text, "\n") {
		l := strings.TrimSpace(raw)
		switch {
		case l == "" || l[0] == '#':
		case strings.HasPrefix(l, "[["):
			name := headerName(l)
			prefix = fmt.Sprintf("%s[%d]", name, count[name])
			count[name]++
			lines[prefix] = i + 1
		case l[0] == '[':
			prefix = headerName(l)
			lines[prefix] = i + 1
		default:
			key, _, ok := strings.Cut(l, "=")
			if !ok {
				continue
			}
			full := strings.Trim(strings.TrimSpace(key), `"'`)
			if prefix != "" {
				full = prefix + "." + full
			}
			if _, seen := lines[full]; !seen {
				lines[full] = i + 1
			}
		}
	}
	return lines
}

func headerName(l string) string {
	l, _, _ = strings.Cut(l, "#")
	return strings.TrimSpace(strings.Trim(strings.TrimSpace(l), "[]"))
}

func deref(p *int, def int) int {
	if p == nil {
		return def
	}
	return *p
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// runConfig is `citytwin config check FILE`.
func runConfig(ctx context.Context, args []string) error {
	fs := newFlagSet("config", "config check FILE")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: citytwin config check FILE

Checks a configuration file of "citytwin serve --config FILE" without starting anything: TOML
syntax, unknown keys, each [serve] value against its flag, [layers.NAME] zoom ranges,
[indicators] parameters and [[extra_layers]] definitions (their tables are checked against
the database when the server starts). Prints every problem as FILE:LINE: KEY: WHAT and exits
with status 1 when there is any. docs/citytwin.example.toml is a complete example.
`)
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 2 || fs.Arg(0) != "check" {
		fs.Usage()
		return fmt.Errorf("usage: citytwin config check FILE")
	}
	// The file alone, over the flags' defaults: the environment of this shell need not be the
	// server's.
	if _, err := loadServeConfig([]string{"--config", fs.Arg(1)}, noEnv); err != nil {
		return err
	}
	fmt.Printf("%s: ok\n", fs.Arg(1))
	return nil
}

// publishLayers returns the layers to publish as tiles: the base layers with the file's zoom
// ranges, and its extra layers resolved against the database; nil when the file sets
// neither. Extra layers are PostGIS tables: without a database they are an error.
func publishLayers(ctx context.Context, c *Config, pg *postgis.Store) (*layers.Published, error) {
	if len(c.extras) == 0 && len(c.zooms) == 0 {
		return nil, nil
	}
	if len(c.extras) > 0 {
		if pg == nil {
			return nil, fmt.Errorf("%s: extra_layers are tables of a PostGIS database: give --database", c.file)
		}
		if err := pg.ResolveExtras(ctx, c.extras); err != nil {
			return nil, fmt.Errorf("%s: %w", c.file, err)
		}
	}
	return layers.NewPublished(c.extras, c.zooms...)
}
