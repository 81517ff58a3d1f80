package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/paulmach/orb"

	"github.com/citytwin/citytwin/layers"
)

// Records are read by one goroutine and made features in batches by one worker a core, in
// two halves: before reprojection (id, geometry of the layer's type) and after it (repairs,
// checks, attributes). Between them, each batch's positions go through one of the cs2cs
// processes (one a core, batches dealt in turn; PROJ dominates the time, ~1–3 µs a position
// for Stereo 70); a batch is read back from cs2cs while it is written, so that cs2cs never
// waits for its reader and a batch may hold more than a pipe's worth of positions. The
// caller's goroutine commits the outcomes in source order and alone touches the report, the
// ids and fn.
const batchSize = 2048

// outcome is a record made a feature, or the reason it was not.
type outcome struct {
	rec     Record
	id      int64
	geom    orb.Geometry // the layer's geometry, until the feature is made
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
	recs    []Record
	out     []outcome
	err     error         // the source's error after recs
	prepped chan struct{} // closed when out holds the records' geometries, unprojected
	fed     chan struct{} // closed when every position of out is written to cs2cs
	done    chan struct{} // closed when out is final
}

// stream reads a source through the workers and commits each outcome in order.
func (im *importer) stream(parent context.Context, s Source, p *plan, tr *transformer, sr *SourceReport) error {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	var failOnce sync.Once
	var failErr error
	fail := func(err error) {
		failOnce.Do(func() {
			failErr = err
			cancel()
		})
	}
	workers := runtime.GOMAXPROCS(0)
	var prs []*projector
	if !tr.identity {
		for range workers {
			pr, err := tr.start(ctx)
			if err != nil {
				cancel()
				for _, pr := range prs {
					pr.close()
				}
				return fmt.Errorf("%w: %v", ErrCRS, err)
			}
			prs = append(prs, pr)
		}
	}
	jobs := make(chan *batch, workers)
	ordered := make(chan *batch, 2*workers)
	feeds := make([]chan *batch, len(prs))
	for i := range feeds {
		feeds[i] = make(chan *batch, 2)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // the reader
		defer wg.Done()
		defer close(jobs)
		defer close(ordered)
		defer func() {
			for _, f := range feeds {
				close(f)
			}
		}()
		for n := 0; ; n++ {
			b := &batch{prepped: make(chan struct{}), fed: make(chan struct{}), done: make(chan struct{})}
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
			for _, ch := range []chan *batch{ordered, jobs} {
				select {
				case ch <- b:
				case <-ctx.Done():
					return
				}
			}
			if len(feeds) > 0 {
				select {
				case feeds[n%len(feeds)] <- b:
				case <-ctx.Done():
					return
				}
			}
			if last || b.err != nil {
				return
			}
		}
	}()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range jobs {
				b.out = make([]outcome, len(b.recs))
				for i, rec := range b.recs {
					b.out[i] = im.prepare(rec, p)
				}
				close(b.prepped)
				if tr.identity {
					im.finishBatch(b, p)
				}
			}
		}()
	}
	finishing := make(chan *batch, workers)
	var drainers sync.WaitGroup
	for i, pr := range prs {
		drain := make(chan *batch, 2)
		wg.Add(2)
		drainers.Add(1)
		go func() { // the feeder: positions to cs2cs
			defer wg.Done()
			defer close(drain)
			defer pr.stdin.Close()
			for b := range feeds[i] {
				select {
				case <-b.prepped:
				case <-ctx.Done():
					return
				}
				// The drainer reads the batch back while it is written: a batch may hold
				// more output than a pipe, which cs2cs could not write otherwise.
				select {
				case drain <- b:
				case <-ctx.Done():
					return
				}
				if err := pr.feed(b); err != nil {
					fail(err)
					return
				}
				close(b.fed)
			}
		}()
		go func() { // the drainer: WGS 84 positions back from cs2cs
			defer wg.Done()
			defer drainers.Done()
			for b := range drain {
				if err := pr.drain(ctx, b); err != nil {
					fail(err)
					return
				}
				select {
				case finishing <- b:
				case <-ctx.Done():
					return
				}
			}
			if err := pr.close(); err != nil {
				fail(err)
			}
		}()
	}
	go func() {
		drainers.Wait()
		close(finishing)
	}()
	if !tr.identity {
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for b := range finishing {
					im.finishBatch(b, p)
				}
			}()
		}
	}
	err := im.commitAll(ctx, ordered, p, sr)
	if err != nil {
		cancel()
		for range ordered { // let the reader finish
		}
	}
	wg.Wait()
	if err == nil || errors.Is(err, context.Canceled) && parent.Err() == nil {
		if failErr != nil {
			return fmt.Errorf("reprojection: %w", failErr)
		}
	}
	return err
}

// feed writes the positions of a batch's features to cs2cs.
func (pr *projector) feed(b *batch) error {
	for _, o := range b.out {
		if o.reject != nil {
			continue
		}
		if _, err := eachLine(o.geom, pr.write); err != nil {
			return err
		}
	}
	return pr.endBatch()
}

// drain reads a batch's positions back from cs2cs, while the feeder may still be writing
// them, into a buffer of its own; once the batch is all written they replace its features'
// positions. A feature with a position PROJ could not transform is rejected.
func (pr *projector) drain(ctx context.Context, b *batch) error {
	var flat []orb.Point
	bad := make([]error, len(b.out))
	for i := range b.out {
		o := &b.out[i]
		if o.reject != nil {
			continue
		}
		n := 0
		eachLine(o.geom, func(ps []orb.Point) error { n += len(ps); return nil }) // reads only
		start := len(flat)
		flat = slices.Grow(flat, n)[:start+n]
		err := pr.read(flat[start:])
		if errors.Is(err, errPosition) {
			bad[i] = err
		} else if err != nil {
			return err
		}
	}
	select {
	case <-b.fed:
	case <-ctx.Done():
		return ctx.Err()
	}
	k := 0
	for i := range b.out {
		o := &b.out[i]
		if o.reject != nil {
			continue
		}
		o.geom, _ = eachLine(o.geom, func(ps []orb.Point) error {
			k += copy(ps, flat[k:k+len(ps)])
			return nil
		})
		if bad[i] != nil {
			o.rejectAs("geometry", bad[i].Error(), nil)
		}
	}
	return nil
}

func (im *importer) finishBatch(b *batch, p *plan) {
	for i := range b.out {
		if b.out[i].reject == nil {
			im.finish(&b.out[i], p)
		}
	}
	close(b.done)
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
		if im.opt.Progress != nil {
			im.opt.Progress(sr.Name, sr.Read, sr.Records)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	return nil
}

// prepare begins a feature of a record: its id and its geometry of the layer's type, still
// in the source's CRS. It touches nothing shared.
func (im *importer) prepare(rec Record, p *plan) (o outcome) {
	o.rec = rec
	// The id first, so that every later reject can name it.
	id := rec.FID
	if p.id != "" {
		n, err := featureID(rec.Attrs[p.id])
		if err != nil {
			o.reject = &rejection{kind: "id", reason: fmt.Sprintf("id field %s: %v", p.id, err)}
			return o
		}
		id = n
	}
	o.id = id
	if id < 1 || id > 1<<53 {
		o.rejectAs("id", fmt.Sprintf("id %d is not between 1 and 2^53", id), nil)
		return o
	}
	if im.opt.CommaBelow {
		for k, v := range rec.Attrs {
			if s, ok := v.(string); ok {
				rec.Attrs[k] = commaBelow.Replace(s)
			}
		}
	}
	if rec.GeometryErr != nil {
		o.rejectAs("geometry", rec.GeometryErr.Error(), nil)
		return o
	}
	g, err := layerGeometry(rec.Geometry, p.layer, o.note)
	if err != nil {
		o.rejectAs("geometry", err.Error(), nil)
		return o
	}
	o.geom = g
	return o
}

// finish makes the feature of a prepared outcome whose geometry is now WGS 84: geometry
// repaired and checked, attributes mapped, then checked by the catalog. It touches nothing
// shared.
func (im *importer) finish(o *outcome, p *plan) {
	g, err := repair(o.geom, o.note)
	if err != nil {
		o.rejectAs("geometry", err.Error(), g)
		return
	}
	if err := p.layer.CheckGeometry(g); err != nil {
		o.rejectAs("geometry", err.Error(), g)
		return
	}
	if err := checkSimple(g); err != nil {
		o.rejectAs(RejectSelfIntersection, "geometry: "+err.Error(), g)
		return
	}
	if ext := im.opt.Extent; ext != nil && !ext.Intersects(g.Bound()) {
		o.rejectAs("extent", fmt.Sprintf("outside the extent %v–%v", ext.Min, ext.Max), g)
		o.reject.outsideExtent = true
		return
	}
	raw, err := p.apply(o.rec.Attrs)
	if err != nil {
		var fe *fieldError
		kind := "value"
		if errors.As(err, &fe) {
			kind = fe.kind
		}
		o.rejectAs(kind, err.Error(), g)
		return
	}
	pub, restricted, err := p.layer.Normalize(raw)
	if err != nil {
		o.rejectAs("value", err.Error(), g)
		var fe *layers.FieldError
		if errors.As(err, &fe) && (strings.Contains(fe.Message, " is outside ") || strings.Contains(fe.Message, " is not one of ")) {
			o.reject.outOfRange = strings.TrimPrefix(fe.Field, "properties.")
		}
		return
	}
	o.feature = layers.Feature{Layer: p.layer.Name, ID: o.id, Geometry: g, Props: pub, Restricted: restricted}
}

// rejectAs rejects the outcome's feature; g is its WGS 84 geometry when known.
func (o *outcome) rejectAs(kind, reason string, g orb.Geometry) {
	o.reject = &rejection{kind: kind, reason: reason, id: o.id, geom: g}
}

// note records a repair rule applied to the feature, once.
func (o *outcome) note(rule string) {
	if !slices.Contains(o.repairs, rule) {
		o.repairs = append(o.repairs, rule)
	}
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
