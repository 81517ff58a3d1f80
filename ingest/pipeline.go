package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"

	"github.com/paulmach/orb"

	"github.com/citytwin/citytwin/layers"
)

// Records are read by one goroutine, made features in batches by one worker a core (PROJ
// dominates the time, ~1–3 µs a position for Stereo 70), and committed in source order by
// the caller's goroutine, which alone touches the report, the ids and fn.
const batchSize = 256

// outcome is a record made a feature, or the reason it was not.
type outcome struct {
	rec     Record
	feature layers.Feature
	reject  *rejection
	repairs []string
}

type rejection struct {
	kind, reason  string
	id            int64
	geom          orb.Geometry // WGS 84, when reprojection got that far
	outOfRange    string       // the catalog field whose value is out of range or list
	outsideExtent bool
}

type batch struct {
	recs []Record
	out  []outcome
	err  error      // the source's error after recs
	done chan error // closed (or sent the worker's error) when out is filled
}

// stream reads a source through the workers and commits each outcome in order.
func (im *importer) stream(ctx context.Context, s Source, p *plan, tr *transformer, sr *SourceReport) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	workers := runtime.GOMAXPROCS(0)
	trs := []*transformer{tr}
	for len(trs) < workers {
		c, err := tr.clone()
		if err != nil {
			return fmt.Errorf("%w: %v", ErrCRS, err)
		}
		trs = append(trs, c)
	}
	jobs := make(chan *batch, workers)
	ordered := make(chan *batch, 2*workers)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // the reader
		defer wg.Done()
		defer close(jobs)
		defer close(ordered)
		for {
			b := &batch{done: make(chan error, 1)}
			for len(b.recs) < batchSize {
				rec, err := s.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					b.err = err
					break
				}
				b.recs = append(b.recs, rec)
			}
			last := len(b.recs) < batchSize
			select {
			case ordered <- b:
			case <-ctx.Done():
				return
			}
			select {
			case jobs <- b:
			case <-ctx.Done():
				return
			}
			if last || b.err != nil {
				return
			}
		}
	}()
	for _, wtr := range trs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range jobs {
				b.out = make([]outcome, len(b.recs))
				for i, rec := range b.recs {
					b.out[i] = im.prepare(rec, p, wtr)
				}
				close(b.done)
			}
		}()
	}
	err := im.commitAll(ctx, ordered, p, sr)
	cancel()
	for range ordered { // let the reader finish
	}
	wg.Wait()
	return err
}

func (im *importer) commitAll(ctx context.Context, ordered <-chan *batch, p *plan, sr *SourceReport) error {
	for b := range ordered {
		select {
		case <-b.done:
		case <-ctx.Done():
			return ctx.Err()
		}
		for _, o := range b.out {
			sr.Read++
			im.rep.Read++
			if err := im.commit(o, p, sr); err != nil {
				return err
			}
		}
		if b.err != nil {
			return b.err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	return nil
}

// prepare makes one feature of a record: id, geometry (of the layer's type, reprojected,
// repaired, checked), attributes (mapped, then checked by the catalog). It touches nothing
// shared.
func (im *importer) prepare(rec Record, p *plan, tr *transformer) (o outcome) {
	o.rec = rec
	reject := func(kind, reason string, id int64, g orb.Geometry) outcome {
		o.reject = &rejection{kind: kind, reason: reason, id: id, geom: g}
		return o
	}
	// The id first, so that every later reject can name it.
	id := rec.FID
	if p.id != "" {
		n, err := featureID(rec.Attrs[p.id])
		if err != nil {
			return reject("id", fmt.Sprintf("id field %s: %v", p.id, err), 0, nil)
		}
		id = n
	}
	if id < 1 || id > 1<<53 {
		return reject("id", fmt.Sprintf("id %d is not between 1 and 2^53", id), id, nil)
	}
	if im.opt.CommaBelow {
		for k, v := range rec.Attrs {
			if s, ok := v.(string); ok {
				rec.Attrs[k] = commaBelow.Replace(s)
			}
		}
	}

	if rec.GeometryErr != nil {
		return reject("geometry", rec.GeometryErr.Error(), id, nil)
	}
	note := func(rule string) {
		for _, r := range o.repairs {
			if r == rule {
				return
			}
		}
		o.repairs = append(o.repairs, rule)
	}
	g, err := layerGeometry(rec.Geometry, p.layer, note)
	if err != nil {
		return reject("geometry", err.Error(), id, nil)
	}
	if pt, ok := g.(orb.Point); ok {
		if g, err = tr.transformPoint(pt); err != nil {
			return reject("geometry", err.Error(), id, nil)
		}
	} else if err := tr.transform(g); err != nil {
		return reject("geometry", err.Error(), id, nil)
	}
	if g, err = repair(g, note); err != nil {
		return reject("geometry", err.Error(), id, g)
	}
	if err := p.layer.CheckGeometry(g); err != nil {
		return reject("geometry", err.Error(), id, g)
	}
	if ext := im.opt.Extent; ext != nil && !ext.Intersects(g.Bound()) {
		o = reject("extent", fmt.Sprintf("outside the extent %v–%v", ext.Min, ext.Max), id, g)
		o.reject.outsideExtent = true
		return o
	}

	raw, err := p.apply(rec.Attrs)
	if err != nil {
		var fe *fieldError
		kind := "value"
		if errors.As(err, &fe) {
			kind = fe.kind
		}
		return reject(kind, err.Error(), id, g)
	}
	pub, restricted, err := p.layer.Normalize(raw)
	if err != nil {
		o = reject("value", err.Error(), id, g)
		var fe *layers.FieldError
		if errors.As(err, &fe) && (strings.Contains(fe.Message, " is outside ") || strings.Contains(fe.Message, " is not one of ")) {
			o.reject.outOfRange = strings.TrimPrefix(fe.Field, "properties.")
		}
		return o
	}
	o.feature = layers.Feature{Layer: p.layer.Name, ID: id, Geometry: g, Props: pub, Restricted: restricted}
	return o
}

// commit counts an outcome, checks its id is new in its layer, and hands the feature to fn
// or the reject to the report.
func (im *importer) commit(o outcome, p *plan, sr *SourceReport) error {
	if o.reject == nil {
		seen := im.ids[p.layer.Name]
		if seen == nil {
			seen = map[int64]int{}
			im.ids[p.layer.Name] = seen
		}
		id := o.feature.ID
		if first, dup := seen[id]; dup {
			o.reject = &rejection{kind: "id", reason: fmt.Sprintf("id %d is taken in layer %s by feature %d", id, p.layer.Name, first), id: id, geom: o.feature.Geometry}
		} else {
			seen[id] = o.rec.Index
		}
	}
	for _, r := range o.repairs {
		sr.Repairs[r]++
	}
	if o.reject != nil {
		return im.reject(sr, o)
	}
	sr.Accepted++
	im.rep.Accepted++
	im.rep.Layers[p.layer.Name]++
	return im.fn(o.feature)
}

func (im *importer) reject(sr *SourceReport, o outcome) error {
	x := o.reject
	sr.Rejected++
	sr.Rejections[x.kind]++
	if x.outOfRange != "" {
		sr.OutOfRange[x.outOfRange]++
	}
	if x.outsideExtent {
		sr.OutsideExtent++
	}
	im.rep.Rejected++
	r := Reject{Source: sr.Name, Index: o.rec.Index, ID: x.id, Kind: x.kind, Reason: x.reason}
	if len(im.rep.Rejects) < MaxListedRejects {
		im.rep.Rejects = append(im.rep.Rejects, r)
	}
	if im.rejects != nil {
		if err := im.rejects.write(r, x.geom, o.rec.Attrs); err != nil {
			return fmt.Errorf("write rejects: %w", err)
		}
	}
	if im.rep.Rejected > im.opt.MaxErrors {
		first := im.rep.Rejects[0]
		return fmt.Errorf("%w: %d rejected, at most %d allowed; first: %s feature %d (id %d): %s",
			ErrTooManyErrors, im.rep.Rejected, im.opt.MaxErrors, first.Source, first.Index, first.ID, first.Reason)
	}
	return nil
}
