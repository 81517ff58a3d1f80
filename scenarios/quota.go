package scenarios

import (
	"errors"
	"fmt"

	"github.com/paulmach/orb"
)

// ErrQuota: a write would take a scenario (or its owner) over a count quota.
var ErrQuota = errors.New("quota exceeded")

// Defaults of Quotas.
const (
	// DefaultMaxScenarioVertices bounds the positions of all of a scenario's geometries
	// together: ten polygons of the largest size allowed, 20 × 10,000 positions.
	DefaultMaxScenarioVertices = 200_000
	// DefaultKeepRuns is how many runs of a scenario are kept, the oldest dropped first.
	DefaultKeepRuns = 20
)

// Quotas bound what one scenario holds and how many of its runs are kept. A value of 0 or
// less takes the default.
type Quotas struct {
	// MaxChanges is the number of changes one scenario may hold (MaxChangesPerScenario).
	MaxChanges int
	// MaxVertices is the number of positions of all of a scenario's geometries together
	// (DefaultMaxScenarioVertices).
	MaxVertices int
	// KeepRuns is the number of runs kept per scenario (DefaultKeepRuns).
	KeepRuns int
	// MaxScenarios is the number of scenarios one token may own (DefaultMaxScenariosPerOwner).
	MaxScenarios int
}

// withDefaults returns q with every unset quota at its default.
func (q Quotas) withDefaults() Quotas {
	if q.MaxChanges <= 0 {
		q.MaxChanges = MaxChangesPerScenario
	}
	if q.MaxVertices <= 0 {
		q.MaxVertices = DefaultMaxScenarioVertices
	}
	if q.KeepRuns <= 0 {
		q.KeepRuns = DefaultKeepRuns
	}
	if q.MaxScenarios <= 0 {
		q.MaxScenarios = DefaultMaxScenariosPerOwner
	}
	return q
}

// QuotaError says which quota a write would exceed: its name (as the API reports it), its
// value and what the write would have made. It is ErrTooLarge for a size (vertices) and
// ErrQuota for a count.
type QuotaError struct {
	Limit string
	Value int
	Would int
	Size  bool
}

func (e *QuotaError) Error() string {
	return fmt.Sprintf("the write would make %d where %s is %d", e.Would, e.Limit, e.Value)
}

// Unwrap makes a QuotaError ErrTooLarge or ErrQuota.
func (e *QuotaError) Unwrap() error {
	if e.Size {
		return ErrTooLarge
	}
	return ErrQuota
}

// positions counts the positions of a change's geometry (0 without one).
func positions(c *Change) int {
	if c.Geometry == nil {
		return 0
	}
	n := 0
	switch g := c.Geometry.Coordinates.(type) {
	case orb.Point:
		n = 1
	case orb.LineString:
		n = len(g)
	case orb.Polygon:
		for _, r := range g {
			n += len(r)
		}
	case orb.MultiPolygon:
		for _, p := range g {
			for _, r := range p {
				n += len(r)
			}
		}
	}
	return n
}

// checkQuotas refuses changes that would take a scenario holding existing over q.
func checkQuotas(q Quotas, existing, added []Change) error {
	if n := len(existing) + len(added); n > q.MaxChanges {
		return &QuotaError{Limit: "max_changes_per_scenario", Value: q.MaxChanges, Would: n}
	}
	n := 0
	for _, cs := range [][]Change{existing, added} {
		for i := range cs {
			n += positions(&cs[i])
		}
	}
	if n > q.MaxVertices {
		return &QuotaError{Limit: "max_vertices_per_scenario", Value: q.MaxVertices, Would: n, Size: true}
	}
	return nil
}
