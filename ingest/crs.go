package ingest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os/exec"
	"strconv"
	"strings"

	"github.com/paulmach/orb"
)

// ErrCRS marks a source whose coordinate reference system is missing, unknown to PROJ, or
// has no datum transformation to WGS 84.
var ErrCRS = errors.New("coordinate reference system")

// replacedBy maps deprecated EPSG codes still found in cities' files to the code EPSG
// replaced them with (PROJ's proj.db, table deprecation). EPSG:31700 "Dealul Piscului 1970 /
// Stereo 70" has no transformation to WGS 84 of its own — PROJ offers a ballpark one, 100 m
// off, or ESRI's approximation — because its datum was found to be Pulkovo 1942(58): EPSG:3844.
var replacedBy = map[int]int{31700: 3844}

// PROJ runs as child processes of Debian's proj-bin: projinfo describes a CRS and lists
// its transformations to WGS 84, cs2cs transforms positions streamed through its standard
// input and output.
var (
	projinfoCommand = "projinfo"
	cs2csCommand    = "cs2cs"
)

// transformer reprojects a source's coordinates to WGS 84 longitude/latitude with PROJ.
type transformer struct {
	identity bool   // source already lon/lat WGS 84: coordinates are left as they are
	name     string // the CRS as reported: "EPSG:3844 (Pulkovo 1942(58) / Stereo70)"
	def      string // the CRS as given to PROJ
	// swap: the CRS's first axis points north or south (EPSG:3844 is northing, easting;
	// EPSG:4258 latitude, longitude), so positions, kept x (east) first, are given to PROJ
	// swapped.
	swap bool
}

// crsSource names where a source's CRS came from, for messages.
type crsSource struct {
	def  string // "EPSG:n", a WKT, or "" when the source has none
	from string // ".prj", "gpkg_spatial_ref_sys", "--srid", ...
}

// newTransformer resolves the CRS of a source: an explicit SRID wins over the source's own
// definition; neither is an error that asks for --srid.
func newTransformer(src crsSource, srid int, what string) (*transformer, string, error) {
	def, from := src.def, src.from
	note := ""
	if srid > 0 {
		def, from = "EPSG:"+strconv.Itoa(srid), "--srid"
	}
	if def == "" {
		return nil, "", fmt.Errorf("%w: %s has no coordinate reference system (%s); pass --srid, e.g. --srid 3844 for Stereo 70", ErrCRS, what, src.from)
	}
	if code, ok := epsgCode(def); ok {
		if to, ok := replacedBy[code]; ok {
			note = fmt.Sprintf("EPSG:%d is deprecated; read as EPSG:%d, its replacement", code, to)
			def = "EPSG:" + strconv.Itoa(to)
		}
	}
	if isWGS84(def) {
		name := "WGS 84"
		if strings.HasPrefix(strings.ToUpper(def), "EPSG:") {
			name = def + " (WGS 84)"
		}
		return &transformer{identity: true, name: name + " from " + from, def: def}, note, nil
	}
	crs, err := describeCRS(def)
	if err != nil {
		if errors.Is(err, errNoPROJ) {
			return nil, "", fmt.Errorf("%w: %s is in %s, not WGS 84: %v", ErrCRS, what, shorten(def), err)
		}
		return nil, "", fmt.Errorf("%w: %s: PROJ does not know the CRS %s from %s: %v", ErrCRS, what, shorten(def), from, err)
	}
	name := crs.Name
	if strings.HasPrefix(def, "EPSG:") {
		name = def + " (" + name + ")"
	}
	name += " from " + from
	t := &transformer{name: name, def: def, swap: crs.northFirst()}
	if err := t.checkDatumShift(); err != nil {
		return nil, "", fmt.Errorf("%w: %s: %v", ErrCRS, what, err)
	}
	return t, note, nil
}

// errNoPROJ marks a missing PROJ command.
var errNoPROJ = errors.New("PROJ's command-line programs are missing")

// runPROJ runs one of PROJ's programs and returns its standard output; its standard error
// is the error's text when it fails.
func runPROJ(name string, args ...string) ([]byte, error) {
	path, err := exec.LookPath(name)
	if err != nil {
		return nil, fmt.Errorf("%w: %s not found; install Debian's proj-bin (apt-get install proj-bin)", errNoPROJ, name)
	}
	var stderr bytes.Buffer
	cmd := exec.Command(path, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			return nil, fmt.Errorf("%s: %s", name, msg)
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return out, nil
}

// projCRS is what a CRS's PROJJSON says that matters here.
type projCRS struct {
	Type             string `json:"type"`
	Name             string `json:"name"`
	CoordinateSystem *struct {
		Axis []struct {
			Direction string `json:"direction"`
		} `json:"axis"`
	} `json:"coordinate_system"`
}

// describeCRS asks projinfo for a CRS's name and axes.
func describeCRS(def string) (*projCRS, error) {
	out, err := runPROJ(projinfoCommand, "-o", "PROJJSON", "-q", def)
	if err != nil {
		return nil, err
	}
	var c projCRS
	if err := json.Unmarshal(out, &c); err != nil {
		return nil, fmt.Errorf("projinfo's PROJJSON: %w", err)
	}
	if !strings.HasSuffix(c.Type, "CRS") {
		return nil, fmt.Errorf("it is a %s, not a coordinate reference system", c.Type)
	}
	return &c, nil
}

// northFirst says whether the CRS's first axis points north or south.
func (c *projCRS) northFirst() bool {
	if c.CoordinateSystem == nil || len(c.CoordinateSystem.Axis) < 2 {
		return false
	}
	d := c.CoordinateSystem.Axis[0].Direction
	return d == "north" || d == "south"
}

// checkDatumShift refuses a CRS whose every transformation to WGS 84 PROJ knows is a
// ballpark one (datums assumed equal, up to 100 m off): projinfo's summary marks them
// "has ballpark transformation".
func (t *transformer) checkDatumShift() error {
	out, err := runPROJ(projinfoCommand, "--summary", "-s", t.def, "-t", "OGC:CRS84")
	if err != nil {
		return fmt.Errorf("no transformation from %s to WGS 84: %v", t.name, err)
	}
	known := 0
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, "Candidate operations found") || strings.TrimSpace(line) == "" {
			continue
		}
		if !strings.Contains(line, "ballpark") {
			known++
		}
	}
	if known == 0 {
		return fmt.Errorf("PROJ knows no datum transformation from %s to WGS 84 (only a ballpark one, up to 100 m off); name the CRS with --srid (EPSG:3844 for Stereo 70)", t.name)
	}
	return nil
}

// epsgCode reads "EPSG:n".
func epsgCode(def string) (int, bool) {
	s, ok := strings.CutPrefix(strings.ToUpper(def), "EPSG:")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}

func isWGS84(def string) bool {
	switch strings.ToUpper(def) {
	case "EPSG:4326", "OGC:CRS84", "CRS84":
		return true
	}
	return false
}

func shorten(s string) string {
	if len(s) > 80 {
		return s[:77] + "..."
	}
	return s
}

// eachLine calls fn on every run of positions of g — a ring, a line, the points of a
// MultiPoint, a lone point — in a fixed order, and returns g with a lone point (a value)
// replaced by what fn left in it.
func eachLine(g orb.Geometry, fn func([]orb.Point) error) (orb.Geometry, error) {
	switch g := g.(type) {
	case orb.Point:
		ps := []orb.Point{g}
		err := fn(ps)
		return ps[0], err
	case orb.MultiPoint:
		return g, fn(g)
	case orb.LineString:
		return g, fn(g)
	case orb.MultiLineString:
		for _, l := range g {
			if err := fn(l); err != nil {
				return g, err
			}
		}
	case orb.Polygon:
		for _, r := range g {
			if err := fn(r); err != nil {
				return g, err
			}
		}
	case orb.MultiPolygon:
		for _, p := range g {
			for _, r := range p {
				if err := fn(r); err != nil {
					return g, err
				}
			}
		}
	case orb.Collection:
		for i, m := range g {
			q, err := eachLine(m, fn)
			g[i] = q
			if err != nil {
				return g, err
			}
		}
	}
	return g, nil
}

// flushPadding follows every batch of positions given to cs2cs: cs2cs copies lines that
// start with # to its output, and 8 KiB of them push the batch's last positions out of its
// output buffer (a pipe's is 4 KiB) without waiting for the next batch or the end of the
// input; the padding is skipped when read back. cs2cs reads lines of at most 1000
// characters.
var flushPadding = strings.Repeat("#"+strings.Repeat(".", 510)+"\n", 16)

// projector is a cs2cs process transforming the positions written to it, in order.
type projector struct {
	t      *transformer
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	in     *bufio.Writer
	out    *bufio.Reader
	stderr bytes.Buffer
	buf    []byte
}

// start runs cs2cs from the transformer's CRS to WGS 84 longitude, latitude; ctx's end
// kills it.
func (t *transformer) start(ctx context.Context) (*projector, error) {
	path, err := exec.LookPath(cs2csCommand)
	if err != nil {
		return nil, fmt.Errorf("%w: %s not found; install Debian's proj-bin (apt-get install proj-bin)", errNoPROJ, cs2csCommand)
	}
	pr := &projector{t: t}
	pr.cmd = exec.CommandContext(ctx, path, "--no-ballpark", "-f", "%.9f", t.def, "OGC:CRS84")
	pr.cmd.Stderr = &pr.stderr
	if pr.stdin, err = pr.cmd.StdinPipe(); err != nil {
		return nil, err
	}
	stdout, err := pr.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := pr.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", cs2csCommand, err)
	}
	pr.in = bufio.NewWriterSize(pr.stdin, 64<<10)
	pr.out = bufio.NewReaderSize(stdout, 64<<10)
	return pr, nil
}

// write gives cs2cs positions, x (east) first unless the CRS wants them swapped.
func (pr *projector) write(ps []orb.Point) error {
	for _, p := range ps {
		a, b := p[0], p[1]
		if pr.t.swap {
			a, b = b, a
		}
		pr.buf = strconv.AppendFloat(pr.buf[:0], a, 'f', -1, 64)
		pr.buf = append(pr.buf, ' ')
		pr.buf = strconv.AppendFloat(pr.buf, b, 'f', -1, 64)
		pr.buf = append(pr.buf, '\n')
		if _, err := pr.in.Write(pr.buf); err != nil {
			return pr.failed(err)
		}
	}
	return nil
}

// endBatch pushes the batch written so far through cs2cs.
func (pr *projector) endBatch() error {
	if _, err := pr.in.WriteString(flushPadding); err != nil {
		return pr.failed(err)
	}
	if err := pr.in.Flush(); err != nil {
		return pr.failed(err)
	}
	return nil
}

// errPosition marks a position PROJ could not transform: the feature's fault, not the
// import's.
var errPosition = errors.New("reprojection")

// read replaces ps by the next positions cs2cs wrote, longitude first. A position cs2cs
// could not transform ("*") is an errPosition, after all of ps were read.
func (pr *projector) read(ps []orb.Point) error {
	var bad error
	for i := range ps {
		line, err := pr.line()
		if err != nil {
			return err
		}
		f := strings.Fields(line)
		if len(f) < 2 {
			return pr.failed(fmt.Errorf("unexpected output %q", line))
		}
		lon, err1 := strconv.ParseFloat(f[0], 64)
		lat, err2 := strconv.ParseFloat(f[1], 64)
		switch {
		case f[0] == "*" || f[1] == "*" || math.IsInf(lon, 0) || math.IsInf(lat, 0):
			if bad == nil {
				bad = fmt.Errorf("%w: (%g, %g) is outside the CRS's domain", errPosition, ps[i][0], ps[i][1])
			}
		case err1 != nil || err2 != nil:
			return pr.failed(fmt.Errorf("unexpected output %q", line))
		default:
			ps[i] = orb.Point{lon, lat}
		}
	}
	return bad
}

// line reads cs2cs's next line of positions, skipping the padding.
func (pr *projector) line() (string, error) {
	for {
		line, err := pr.out.ReadString('\n')
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return "", pr.failed(err)
		}
		if !strings.HasPrefix(line, "#") {
			return line, nil
		}
	}
}

// close ends cs2cs's input and waits for it.
func (pr *projector) close() error {
	pr.stdin.Close()
	if err := pr.cmd.Wait(); err != nil {
		return pr.failed(err)
	}
	return nil
}

// failed makes an I/O error with cs2cs the error cs2cs reported, when it said why.
func (pr *projector) failed(err error) error {
	if msg := strings.TrimSpace(pr.stderr.String()); msg != "" {
		return fmt.Errorf("%s from %s to WGS 84: %s", cs2csCommand, pr.t.name, msg)
	}
	return fmt.Errorf("%s from %s to WGS 84: %w", cs2csCommand, pr.t.name, err)
}

// transformPoints reprojects ps in place with a cs2cs of their own.
func (t *transformer) transformPoints(ps []orb.Point) error {
	if t.identity || len(ps) == 0 {
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, err := t.start(ctx)
	if err != nil {
		return err
	}
	if err := pr.write(ps); err != nil {
		return err
	}
	if err := pr.in.Flush(); err != nil {
		return pr.failed(err)
	}
	pr.stdin.Close()
	rerr := pr.read(ps)
	if err := pr.close(); err != nil && rerr == nil {
		rerr = err
	}
	return rerr
}
