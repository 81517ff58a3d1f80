package ingest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
)

// rejectWriter writes rejected features as one GeoJSON FeatureCollection, a feature a line.
type rejectWriter struct {
	w     *bufio.Writer
	n     int
	err   error
	ended bool
}

func newRejectWriter(w io.Writer) *rejectWriter {
	rw := &rejectWriter{w: bufio.NewWriter(w)}
	_, rw.err = rw.w.WriteString(`{"type":"FeatureCollection","features":[` + "\n")
	return rw
}

func (rw *rejectWriter) write(r Reject, g orb.Geometry, attrs map[string]any) error {
	if rw.err != nil {
		return rw.err
	}
	f := geojson.NewFeature(g)
	if r.ID != 0 {
		f.ID = r.ID
	}
	for k, v := range attrs {
		f.Properties[k] = v
	}
	f.Properties["_source"] = r.Source
	f.Properties["_index"] = r.Index
	f.Properties["_reason"] = r.Reason
	b, err := json.Marshal(f)
	if err != nil {
		rw.err = err
		return err
	}
	if rw.n > 0 {
		rw.w.WriteString(",\n")
	}
	rw.n++
	_, rw.err = rw.w.Write(b)
	return rw.err
}

func (rw *rejectWriter) close() error {
	if rw.ended {
		return rw.err
	}
	rw.ended = true
	if rw.err == nil {
		_, rw.err = rw.w.WriteString("\n]}\n")
	}
	if rw.err == nil {
		rw.err = rw.w.Flush()
	}
	return rw.err
}

// WriteText writes the report for a person: per source, the format, encoding and CRS
// detected, the layer filled, the field mapping, and what was repaired and rejected.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n", r.Summary())
	for _, s := range r.Sources {
		fmt.Fprintf(&b, "\nsource %s\n  format:   %s\n  encoding: %s\n  geometry: %s\n", s.Name, s.Format, s.Encoding, s.Geometry)
		if s.Skipped != "" {
			fmt.Fprintf(&b, "  skipped:  %s\n", s.Skipped)
			continue
		}
		fmt.Fprintf(&b, "  CRS:      %s\n", s.CRS)
		for _, n := range s.Notes {
			fmt.Fprintf(&b, "  note:     %s\n", n)
		}
		fmt.Fprintf(&b, "  layer:    %s: read %d, accepted %d, rejected %d\n", s.Layer, s.Read, s.Accepted, s.Rejected)
		for _, m := range s.Mapped {
			src := m.Source
			if src == "" {
				src = "-"
			}
			line := fmt.Sprintf("  field:    %s <- %s", m.Target, src)
			if m.Rule != "" {
				line += " (" + m.Rule + ")"
			}
			if m.Restricted {
				line += " [restricted]"
			}
			b.WriteString(line + "\n")
		}
		if len(s.Unmapped) > 0 {
			fmt.Fprintf(&b, "  unmapped: %s\n", strings.Join(s.Unmapped, ", "))
		}
		if len(s.Ignored) > 0 {
			fmt.Fprintf(&b, "  ignored:  %s\n", strings.Join(s.Ignored, ", "))
		}
		for _, f := range sortedKeys(s.OutOfRange) {
			fmt.Fprintf(&b, "  out of range: %s: %d features\n", f, s.OutOfRange[f])
		}
		if s.OutsideExtent > 0 {
			fmt.Fprintf(&b, "  outside the extent: %d features\n", s.OutsideExtent)
		}
		for _, k := range sortedKeys(s.Repairs) {
			fmt.Fprintf(&b, "  repaired: %s: %d features\n", k, s.Repairs[k])
		}
		for _, k := range sortedKeys(s.Rejections) {
			fmt.Fprintf(&b, "  rejected: %s: %d features\n", k, s.Rejections[k])
		}
	}
	if len(r.Rejects) > 0 {
		b.WriteString("\nrejected features:\n")
		for _, x := range r.Rejects {
			fmt.Fprintf(&b, "  %s feature %d (id %d): %s\n", x.Source, x.Index, x.ID, x.Reason)
		}
		if r.Rejected > len(r.Rejects) {
			fmt.Fprintf(&b, "  ... and %d more\n", r.Rejected-len(r.Rejects))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
