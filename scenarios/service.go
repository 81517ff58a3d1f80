package scenarios

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/citytwin/citytwin/citymodel"
	"github.com/citytwin/citytwin/internal/flight"
	"github.com/citytwin/citytwin/layers"
	"github.com/citytwin/citytwin/spatial"
)

// Service is what the API does with scenarios: it validates, versions and stores them, and
// runs them on the live city model.
type Service struct {
	Store  Store
	Engine *Engine
	// Model is the live city model; while it loads, what needs it returns
	// citymodel.ErrNotReady.
	Model *citymodel.Model
	// Quotas bound each scenario and its kept runs; zero values take the defaults.
	Quotas Quotas

	mu       sync.Mutex
	variants map[string]cachedVariant // by scenario id: its last variant built
	builds   flight.Group[variantKey, *Variant]
	built    atomic.Int64 // variants built (or started) since the service was made
	// builtHook, when set (by tests), is called at the end of every variant build with its
	// outcome.
	builtHook func(err error)
}

// variantKey names one variant: a scenario at a version over one model.
type variantKey struct {
	id      string
	version int64
	city    *spatial.City
}

type cachedVariant struct {
	key  variantKey
	v    *Variant
	used time.Time
}

// maxVariants is how many scenarios' variants are kept, the least recently used dropped first.
const maxVariants = 64

// NewService returns a service over a store, an engine and the live model.
func NewService(store Store, engine *Engine, model *citymodel.Model) *Service {
	return &Service{Store: store, Engine: engine, Model: model, variants: map[string]cachedVariant{}}
}

func (s *Service) city() (*spatial.City, error) { return s.Model.Current() }

// checkVersion compares a client's If-Match version (nil: none sent) with the scenario's.
func checkVersion(sc Scenario, ifMatch *int64) error {
	if ifMatch != nil && *ifMatch != sc.Version {
		return fmt.Errorf("scenario %s is at version %d, If-Match says %d: %w", sc.ID, sc.Version, *ifMatch, ErrPrecondition)
	}
	return nil
}

func checkMeta(name, description string) error {
	if strings.TrimSpace(name) == "" {
		return &layers.FieldError{Field: "name", Message: "missing"}
	}
	if utf8.RuneCountInString(name) > MaxNameLength {
		return &layers.FieldError{Field: "name", Message: fmt.Sprintf("longer than %d characters", MaxNameLength)}
	}
	if utf8.RuneCountInString(description) > MaxDescriptionLength {
		return &layers.FieldError{Field: "description", Message: fmt.Sprintf("longer than %d characters", MaxDescriptionLength)}
	}
	return nil
}

func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// Create makes a new, empty scenario at version 1.
// The caller (WithCaller) owns it; a caller may own at most Quotas.MaxScenarios.
func (s *Service) Create(ctx context.Context, name, description string) (Scenario, error) {
	if err := checkMeta(name, description); err != nil {
		return Scenario{}, err
	}
	owner, err := s.checkOwnerQuota(ctx)
	if err != nil {
		return Scenario{}, err
	}
	t := now()
	sc := Scenario{ID: NewID(), Name: strings.TrimSpace(name), Description: description, Version: 1, CreatedAt: t, UpdatedAt: t, Owner: owner, Visibility: Team}
	if err := s.Store.CreateScenario(ctx, sc, nil); err != nil {
		return Scenario{}, err
	}
	if err := s.audit(ctx, "create", sc.ID, sc.Version); err != nil {
		return Scenario{}, err
	}
	return sc, nil
}

// checkOwnerQuota returns the caller's id and refuses a new scenario beyond
// Quotas.MaxScenarios of theirs.
func (s *Service) checkOwnerQuota(ctx context.Context) (string, error) {
	c, ok := callerOf(ctx)
	if !ok || c.ID == "" {
		return "", nil
	}
	all, err := s.Store.Scenarios(ctx)
	if err != nil {
		return "", err
	}
	n, max := 0, s.Quotas.withDefaults().MaxScenarios
	for _, sc := range all {
		if sc.Owner == c.ID {
			n++
		}
	}
	if n >= max {
		return "", &QuotaError{Limit: "max_scenarios_per_token", Value: max, Would: n + 1}
	}
	return c.ID, nil
}

// List returns every scenario the caller may read.
func (s *Service) List(ctx context.Context) ([]Scenario, error) {
	all, err := s.Store.Scenarios(ctx)
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, sc := range all {
		if canRead(ctx, sc) {
			out = append(out, shown(ctx, sc))
		}
	}
	return out, nil
}

// shown is a scenario as the caller sees it: to the public, without its owner (the id of a
// planner's token, which would tell the scenarios of one planner).
func shown(ctx context.Context, sc Scenario) Scenario {
	if c, ok := callerOf(ctx); ok && c.Public {
		sc.Owner = ""
	}
	return sc
}

// scenario reads a scenario the caller may read (others are ErrNotFound).
func (s *Service) scenario(ctx context.Context, id string) (Scenario, []Change, error) {
	sc, changes, err := s.Store.Scenario(ctx, id)
	if err != nil {
		return Scenario{}, nil, err
	}
	if err := checkRead(ctx, sc); err != nil {
		return Scenario{}, nil, err
	}
	return sc, changes, nil
}

// writable reads a scenario the caller may change.
func (s *Service) writable(ctx context.Context, id string) (Scenario, []Change, error) {
	sc, changes, err := s.Store.Scenario(ctx, id)
	if err != nil {
		return Scenario{}, nil, err
	}
	if err := checkWrite(ctx, sc); err != nil {
		return Scenario{}, nil, err
	}
	return sc, changes, nil
}

// Get returns a scenario and its changes.
func (s *Service) Get(ctx context.Context, id string) (Scenario, []Change, error) {
	sc, changes, err := s.scenario(ctx, id)
	return shown(ctx, sc), changes, err
}

// Patch holds the metadata fields a PATCH may set; nil leaves a field as it is.
type Patch struct {
	Name        *string `json:"name"`
	Description *string `json:"description"`
	// Visibility may be changed by the owner and admins only.
	Visibility *Visibility `json:"visibility"`
}

// Update changes a scenario's name or description.
func (s *Service) Update(ctx context.Context, id string, ifMatch *int64, p Patch) (Scenario, error) {
	sc, _, err := s.writable(ctx, id)
	if err != nil {
		return Scenario{}, err
	}
	if err := checkVersion(sc, ifMatch); err != nil {
		return Scenario{}, err
	}
	next := sc
	if p.Name != nil {
		next.Name = strings.TrimSpace(*p.Name)
	}
	if p.Description != nil {
		next.Description = *p.Description
	}
	if p.Visibility != nil {
		if err := CheckVisibility(*p.Visibility); err != nil {
			return Scenario{}, err
		}
		if c, ok := callerOf(ctx); ok && !c.Admin && sc.Owner != "" && c.ID != sc.Owner {
			return Scenario{}, fmt.Errorf("only the owner of scenario %s changes its visibility: %w", id, ErrForbidden)
		}
		next.Visibility = *p.Visibility
	}
	if err := checkMeta(next.Name, next.Description); err != nil {
		return Scenario{}, err
	}
	next.Version, next.UpdatedAt = sc.Version+1, now()
	if err := s.Store.UpdateScenario(ctx, next, sc.Version); err != nil {
		return Scenario{}, err
	}
	if err := s.audit(ctx, "update", id, next.Version); err != nil {
		return Scenario{}, err
	}
	return next, nil
}

// Delete removes a scenario, its changes and runs.
func (s *Service) Delete(ctx context.Context, id string, ifMatch *int64) error {
	sc, _, err := s.writable(ctx, id)
	if err != nil {
		return err
	}
	if err := checkVersion(sc, ifMatch); err != nil {
		return err
	}
	if err := s.Store.DeleteScenario(ctx, id, sc.Version); err != nil {
		return err
	}
	if err := s.audit(ctx, "delete", id, sc.Version); err != nil {
		return err
	}
	s.Engine.Forget(id)
	s.mu.Lock()
	delete(s.variants, id)
	s.mu.Unlock()
	return nil
}

// Clone makes a new scenario with a copy of another's changes (a variant of a variant); the
// copies keep their ids, so targets of later changes still resolve.
func (s *Service) Clone(ctx context.Context, id string, name, description *string) (Scenario, error) {
	sc, changes, err := s.scenario(ctx, id)
	if err != nil {
		return Scenario{}, err
	}
	owner, err := s.checkOwnerQuota(ctx)
	if err != nil {
		return Scenario{}, err
	}
	t := now()
	c := Scenario{ID: NewID(), Name: sc.Name + " (copy)", Description: sc.Description, Version: 1, Parent: sc.ID,
		CreatedAt: t, UpdatedAt: t, Changes: len(changes), ChangeSeq: sc.ChangeSeq, Owner: owner, Visibility: Team}
	if name != nil {
		c.Name = strings.TrimSpace(*name)
	}
	if description != nil {
		c.Description = *description
	}
	if err := checkMeta(c.Name, c.Description); err != nil {
		return Scenario{}, err
	}
	if err := s.Store.CreateScenario(ctx, c, changes); err != nil {
		return Scenario{}, err
	}
	if err := s.audit(ctx, "clone of "+id, c.ID, c.Version); err != nil {
		return Scenario{}, err
	}
	return c, nil
}

// makesFeature reports whether a change makes a new feature (and so gets a feature id).
func makesFeature(c *Change) bool {
	switch c.Kind {
	case AddBuilding, AddFacility, AddGreenSpace:
		return true
	case Rezone, SetBroadband:
		return c.Target == ""
	}
	return false
}

// AddChanges validates and appends changes, all or nothing, and bumps the version once.
func (s *Service) AddChanges(ctx context.Context, id string, ifMatch *int64, in []ChangeInput) (Scenario, []Change, error) {
	if len(in) == 0 {
		return Scenario{}, nil, &layers.FieldError{Field: "changes", Message: "no change given"}
	}
	if len(in) > MaxChangesPerRequest {
		return Scenario{}, nil, fmt.Errorf("%d changes in one request; at most %d: %w", len(in), MaxChangesPerRequest, ErrTooLarge)
	}
	city, err := s.city()
	if err != nil {
		return Scenario{}, nil, err
	}
	sc, existing, err := s.writable(ctx, id)
	if err != nil {
		return Scenario{}, nil, err
	}
	if err := checkVersion(sc, ifMatch); err != nil {
		return Scenario{}, nil, err
	}
	t := now()
	added := make([]Change, len(in))
	for i, ci := range in {
		c, err := DecodeChange(ci)
		if err != nil {
			if len(in) > 1 {
				err = prefixField(err, fmt.Sprintf("changes[%d].", i))
			}
			return Scenario{}, nil, err
		}
		c.Seq = sc.ChangeSeq + int64(i) + 1
		c.ID = fmt.Sprintf("c%d", c.Seq)
		c.CreatedAt = t
		if makesFeature(&c) {
			c.FeatureID = AddedIDBase + c.Seq
		}
		added[i] = c
	}
	if err := checkQuotas(s.Quotas.withDefaults(), existing, added); err != nil {
		return Scenario{}, nil, fmt.Errorf("scenario %s: %w", id, err)
	}
	if _, err := Validate(ctx, city, s.Engine.Parameters(), existing, added); err != nil {
		return Scenario{}, nil, err
	}
	next := sc
	next.Version, next.UpdatedAt = sc.Version+1, t
	next.ChangeSeq += int64(len(added))
	next.Changes = len(existing) + len(added)
	if err := s.Store.AddChanges(ctx, next, sc.Version, added); err != nil {
		return Scenario{}, nil, err
	}
	if err := s.audit(ctx, fmt.Sprintf("add %d changes", len(added)), id, next.Version); err != nil {
		return Scenario{}, nil, err
	}
	return next, added, nil
}

// Warnings lists the plan conflicts of changes (warnings.go) against the live city; none
// while it loads.
func (s *Service) Warnings(changes []Change) []Warning {
	city, err := s.city()
	if err != nil {
		return []Warning{}
	}
	return Warnings(city, changes)
}

// RemoveChange removes a change unless a later change depends on it (ErrInUse).
func (s *Service) RemoveChange(ctx context.Context, id, changeID string, ifMatch *int64) (Scenario, error) {
	city, err := s.city()
	if err != nil {
		return Scenario{}, err
	}
	sc, changes, err := s.writable(ctx, id)
	if err != nil {
		return Scenario{}, err
	}
	if err := checkVersion(sc, ifMatch); err != nil {
		return Scenario{}, err
	}
	var rest []Change
	found := false
	for _, c := range changes {
		if c.ID == changeID {
			found = true
			continue
		}
		rest = append(rest, c)
	}
	if !found {
		return Scenario{}, fmt.Errorf("change %s of scenario %s: %w", changeID, id, ErrNotFound)
	}
	if _, err := BuildContext(ctx, city, s.Engine.Parameters(), rest); err != nil {
		if ctx.Err() != nil {
			return Scenario{}, err
		}
		return Scenario{}, fmt.Errorf("a later change depends on %s (%v): %w", changeID, err, ErrInUse)
	}
	next := sc
	next.Version, next.UpdatedAt, next.Changes = sc.Version+1, now(), len(rest)
	if err := s.Store.RemoveChange(ctx, next, sc.Version, changeID); err != nil {
		return Scenario{}, err
	}
	if err := s.audit(ctx, "remove change "+changeID, id, next.Version); err != nil {
		return Scenario{}, err
	}
	return next, nil
}

// Run runs a scenario at its current version and stores the run.
func (s *Service) Run(ctx context.Context, id string, ifMatch *int64, opt RunOptions) (*Run, error) {
	city, err := s.city()
	if err != nil {
		return nil, err
	}
	sc, changes, err := s.scenario(ctx, id)
	if err != nil {
		return nil, err
	}
	if c, ok := callerOf(ctx); ok && c.Public { // every reader runs but the public, who writes nothing
		return nil, fmt.Errorf("a run of scenario %s is stored: it needs a planner token: %w", id, ErrForbidden)
	}
	if err := checkVersion(sc, ifMatch); err != nil {
		return nil, err
	}
	r, err := s.Engine.Run(ctx, city, sc, changes, opt)
	if err != nil {
		return nil, err
	}
	if err := s.Store.SaveRun(ctx, r); err != nil {
		return nil, err
	}
	if err := s.Store.PruneRuns(ctx, id, s.Quotas.withDefaults().KeepRuns); err != nil {
		return nil, fmt.Errorf("drop the oldest runs of scenario %s: %w", id, err)
	}
	if err := s.audit(ctx, "run "+r.ID, id, sc.Version); err != nil {
		return nil, err
	}
	return r, nil
}

// Runs lists a scenario's stored runs, most recent first.
func (s *Service) Runs(ctx context.Context, id string) ([]RunSummary, error) {
	if _, _, err := s.scenario(ctx, id); err != nil {
		return nil, err
	}
	return s.Store.Runs(ctx, id)
}

// GetRun returns a stored run.
func (s *Service) GetRun(ctx context.Context, id, runID string) (*Run, error) {
	if _, _, err := s.scenario(ctx, id); err != nil {
		return nil, err
	}
	return s.Store.Run(ctx, id, runID)
}

// MaxCompare bounds the scenarios one comparison may hold.
const MaxCompare = 10

// Comparison sets scenarios side by side: each indicator's baseline and its value in each
// scenario (keyed by scenario id), for the city and per district.
type Comparison struct {
	Scenarios  []ComparedScenario            `json:"scenarios"`
	Indicators map[string]map[string]float64 `json:"indicators"`
	Districts  []ComparedDistrict            `json:"districts"`
}

// ComparedScenario names a scenario of a comparison.
type ComparedScenario struct {
	ID         string  `json:"id"`
	Name       string  `json:"name"`
	Version    int64   `json:"version"`
	Violations int     `json:"violations"`
	DurationMS float64 `json:"duration_ms"`
}

// ComparedDistrict is one district of a comparison.
type ComparedDistrict struct {
	ID         int64                         `json:"id"`
	Name       string                        `json:"name"`
	Indicators map[string]map[string]float64 `json:"indicators"`
}

// Compare runs each scenario at its current version (without storing runs) and sets the
// results side by side.
func (s *Service) Compare(ctx context.Context, ids []string) (*Comparison, error) {
	if len(ids) == 0 {
		return nil, &layers.FieldError{Field: "ids", Message: "give scenario ids separated by commas"}
	}
	if len(ids) > MaxCompare {
		return nil, &layers.FieldError{Field: "ids", Message: fmt.Sprintf("at most %d scenarios can be compared", MaxCompare)}
	}
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			return nil, &layers.FieldError{Field: "ids", Message: fmt.Sprintf("scenario %s is listed twice", id)}
		}
		seen[id] = true
	}
	city, err := s.city()
	if err != nil {
		return nil, err
	}
	cmp := &Comparison{Indicators: map[string]map[string]float64{}}
	for i, id := range ids {
		sc, changes, err := s.scenario(ctx, id)
		if err != nil {
			return nil, err
		}
		r, err := s.Engine.Run(ctx, city, sc, changes, RunOptions{})
		if err != nil {
			return nil, err
		}
		cmp.Scenarios = append(cmp.Scenarios, ComparedScenario{ID: sc.ID, Name: sc.Name, Version: sc.Version, Violations: len(r.Violations), DurationMS: r.DurationMS})
		put := func(m map[string]map[string]float64, ind map[string]Value) {
			for k, v := range ind {
				if m[k] == nil {
					m[k] = map[string]float64{"baseline": v.Baseline}
				}
				m[k][sc.ID] = v.Variant
			}
		}
		put(cmp.Indicators, r.Indicators)
		if i == 0 {
			for _, d := range r.Districts {
				cmp.Districts = append(cmp.Districts, ComparedDistrict{ID: d.ID, Name: d.Name, Indicators: map[string]map[string]float64{}})
			}
		}
		for j, d := range r.Districts {
			put(cmp.Districts[j].Indicators, d.Indicators)
		}
	}
	if cmp.Districts == nil {
		cmp.Districts = []ComparedDistrict{}
	}
	return cmp, nil
}

// Variant returns a scenario's variant at its current version and the scenario.
func (s *Service) Variant(ctx context.Context, id string) (*Variant, Scenario, error) {
	city, err := s.city()
	if err != nil {
		return nil, Scenario{}, err
	}
	sc, changes, err := s.scenario(ctx, id)
	if err != nil {
		return nil, Scenario{}, err
	}
	v, err := s.variant(ctx, city, sc, changes)
	if err != nil {
		return nil, Scenario{}, err
	}
	return v, sc, nil
}

// VariantBuilds is the number of variants built (or started and cancelled) so far.
func (s *Service) VariantBuilds() int64 { return s.built.Load() }

// variant returns the variant of scenario sc (whose changes are given) over city: kept per
// scenario, version and model, else built once however many callers ask for it at the same
// time. The build stops when every caller waiting for it has gone (their contexts ended).
func (s *Service) variant(ctx context.Context, city *spatial.City, sc Scenario, changes []Change) (*Variant, error) {
	key := variantKey{id: sc.ID, version: sc.Version, city: city}
	if v, ok := s.keptVariant(key); ok {
		return v, nil
	}
	return s.builds.Do(ctx, key, false, func(ctx context.Context) (*Variant, error) {
		// A build that ended between the look-up above and this call kept its variant.
		if v, ok := s.keptVariant(key); ok {
			return v, nil
		}
		s.built.Add(1)
		v, err := BuildContext(ctx, city, s.Engine.Parameters(), changes)
		if s.builtHook != nil {
			s.builtHook(err)
		}
		if err != nil {
			return nil, err
		}
		s.keepVariant(key, v)
		return v, nil
	})
}

func (s *Service) keptVariant(key variantKey) (*Variant, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cv, ok := s.variants[key.id]
	if !ok || cv.key != key {
		return nil, false
	}
	cv.used = time.Now()
	s.variants[key.id] = cv
	return cv.v, true
}

func (s *Service) keepVariant(key variantKey, v *Variant) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.variants[key.id] = cachedVariant{key: key, v: v, used: time.Now()}
	for len(s.variants) > maxVariants {
		var oldest string
		var at time.Time
		for k, c := range s.variants {
			if oldest == "" || c.used.Before(at) {
				oldest, at = k, c.used
			}
		}
		delete(s.variants, oldest)
	}
}

// IsNotFound reports whether err is ErrNotFound (a convenience for callers).
func IsNotFound(err error) bool { return errors.Is(err, ErrNotFound) }
