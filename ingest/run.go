package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/citytwin/citytwin/data"
	"github.com/citytwin/citytwin/layers"
)

// Mode says how an import's features meet the layers already stored.
type Mode string

const (
	// Append adds the features; an id already stored in the layer fails the import.
	Append Mode = "append"
	// Replace swaps every layer the file fills for the file's features.
	Replace Mode = "replace"
	// Upsert updates the stored features whose key field matches and adds the others.
	Upsert Mode = "upsert"
)

// ParseMode reads a mode's name; "" is Append.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(s); m {
	case "":
		return Append, nil
	case Append, Replace, Upsert:
		return m, nil
	}
	return "", fmt.Errorf("mode %q: want append, replace or upsert", s)
}

// Writer is a store an import writes to in every mode: PostGIS (layers/postgis) and the
// data directory (data.FileStore). Each call is one transaction or one atomic rewrite.
type Writer interface {
	layers.Store
	// Replace swaps every feature of the named layers for features.
	Replace(ctx context.Context, names []string, features []layers.Feature) (layers.Counts, error)
	// Upsert updates the stored features whose key matches and adds the others.
	Upsert(ctx context.Context, key string, features []layers.Feature) (layers.Upsert, error)
}

// Job is one file to import, as `citytwin import` and the admin upload page describe it.
type Job struct {
	Path    string
	Options Options
	Mode    Mode
	Key     string // the key field of Upsert: "id" or a public text or integer field
	DryRun  bool   // read, check and report; write nothing
}

// Result is what became of a Job.
type Result struct {
	Report *Report `json:"report"`
	// Layers are the layers the file fills (every source mapped to one), which Replace swaps.
	Layers []string `json:"layers"`
	Mode   Mode     `json:"mode"`
	DryRun bool     `json:"dry_run"`
	// Written counts the features written per layer (nothing on a dry run); Updated and
	// Inserted split them for Upsert.
	Written  layers.Counts `json:"written"`
	Updated  layers.Counts `json:"updated,omitempty"`
	Inserted layers.Counts `json:"inserted,omitempty"`
	// Overlaps are the pairs of imported parcels that overlap: a data issue, kept as imported.
	Overlaps     []data.ParcelOverlap `json:"overlaps,omitempty"`
	ReadSeconds  float64              `json:"read_seconds"`
	TotalSeconds float64              `json:"total_seconds"`
}

// Run reads a job's file and, unless it is a dry run, writes its features to w in the job's
// mode, all or nothing: a file that cannot be read, more rejects than MaxErrors, an upsert
// key that does not match one to one, or a store error leave the stored layers as they were.
// The result carries the report whenever reading started, with the error.
func Run(ctx context.Context, w Writer, job Job) (*Result, error) {
	start := time.Now()
	res := &Result{Mode: job.Mode, DryRun: job.DryRun, Written: layers.Counts{}}
	if res.Mode == "" {
		res.Mode = Append
	}
	if res.Mode == Upsert && job.Key == "" {
		return res, errors.New("upsert needs a key field")
	}
	if !job.DryRun && w == nil {
		return res, errors.New("no store to write to")
	}
	var features []layers.Feature
	rep, err := Read(ctx, job.Path, job.Options, func(f layers.Feature) error {
		features = append(features, f)
		return nil
	})
	res.Report = rep
	if rep != nil {
		for _, s := range rep.Sources {
			if s.Layer != "" && !slices.Contains(res.Layers, s.Layer) {
				res.Layers = append(res.Layers, s.Layer)
			}
		}
	}
	res.ReadSeconds = time.Since(start).Seconds()
	if err != nil {
		return res, err
	}
	res.Overlaps = data.ParcelOverlaps(features)
	if res.Mode == Upsert {
		// The key must name a field of every layer filled, and every feature must hold a
		// key of its own: checked before anything is written, on a dry run too.
		if _, err := layers.PlanUpsert(job.Key, nil, slices.Clone(features)); err != nil {
			return res, err
		}
	}
	if !job.DryRun {
		if res.Written, res.Updated, res.Inserted, err = Write(ctx, w, res.Mode, job.Key, res.Layers, features); err != nil {
			return res, err
		}
	}
	res.TotalSeconds = time.Since(start).Seconds()
	return res, nil
}

// Write writes features to w in a mode: appended, replacing the named layers, or upserted
// by key (updated and inserted then split written).
func Write(ctx context.Context, w Writer, mode Mode, key string, names []string, features []layers.Feature) (written, updated, inserted layers.Counts, err error) {
	switch mode {
	case Append, "":
		written, err = w.Import(ctx, features)
	case Replace:
		written, err = w.Replace(ctx, names, features)
	case Upsert:
		var plan layers.Upsert
		if plan, err = w.Upsert(ctx, key, features); err != nil {
			return nil, nil, nil, err
		}
		written = layers.Counts{}
		for l, n := range plan.Updated {
			written[l] += n
		}
		for l, n := range plan.Inserted {
			written[l] += n
		}
		return written, plan.Updated, plan.Inserted, nil
	default:
		err = fmt.Errorf("mode %q: want append, replace or upsert", mode)
	}
	return written, nil, nil, err
}

// WriteText writes what a result says after its report: the overlapping parcels, and what
// was written (or that nothing was, on a dry run).
func (r *Result) WriteText(out io.Writer) error {
	var err error
	p := func(format string, a ...any) {
		if err == nil {
			_, err = fmt.Fprintf(out, format, a...)
		}
	}
	if len(r.Overlaps) > 0 {
		p("data issue: %d pairs of parcels overlap (kept as imported)\n", len(r.Overlaps))
		for _, o := range r.Overlaps[:min(len(r.Overlaps), 20)] {
			p("  parcels %d and %d overlap by %.1f m²\n", o.A, o.B, o.AreaM2)
		}
	}
	if r.DryRun {
		p("\ndry run (%s): nothing was written (read in %.2fs)\n", r.Mode, r.ReadSeconds)
		return err
	}
	total := 0
	for _, n := range r.Written {
		total += n
	}
	p("\n%s: %d features written (%s) in %.2fs (read %.2fs, %.0f features/s)\n", r.Report.File, total, r.Mode,
		r.TotalSeconds, r.ReadSeconds, float64(total)/max(r.TotalSeconds, 1e-9))
	for _, l := range sortedKeys(r.Written) {
		switch {
		case r.Mode == Upsert:
			p("  %-13s %9d (%d updated, %d inserted)\n", l, r.Written[l], r.Updated[l], r.Inserted[l])
		default:
			p("  %-13s %9d\n", l, r.Written[l])
		}
	}
	if r.Mode == Replace {
		for _, l := range r.Layers {
			if r.Written[l] == 0 {
				p("  %-13s %9d (emptied)\n", l, 0)
			}
		}
	}
	return err
}
