package scenarios

import (
	"fmt"
	"slices"
	"strings"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"

	"github.com/citytwin/citytwin/network"
)

// Changes of the walking network (docs/domain.md, "Scenario changes"): add_footpath joins a
// new path or footbridge to the streets at its ends; close_street closes a street to
// pedestrians. They change the variant's network (Variant.walkNet), a copy-on-write edit of
// the city's (network/edit.go), which the access indicators walk when the parameter
// distance is "network".

// StreetsLayer names the walkable ways a close_street targets (spatial.City.Streets, by
// feature id) and the footpaths add_footpath makes; it is not a catalog layer.
const StreetsLayer = "streets"

// FootpathJoinM is how near the network, in metres, each end of an added footpath must be:
// it joins the network at its nearest point, walking the straight stub from its end.
const FootpathJoinM = 5.0

// walkEdit is a validated change of the walking network and the network it makes.
type walkEdit struct {
	kind  Kind
	id    int64 // the footpath's feature id, or the street closed
	graph *network.Graph
}

// walkNetwork is the variant's walking network so far: the city's streets with the earlier
// walk changes applied; nil when the city has no streets.
func (v *Variant) walkNetwork() (*network.Graph, error) {
	if v.walkNet != nil {
		return v.walkNet, nil
	}
	return StreetNetwork(v.City)
}

// WalkNetwork returns the network the variant walks: the city's streets with the scenario's
// footpaths and closures; nil when the city has no streets.
func (v *Variant) WalkNetwork() (*network.Graph, error) { return v.walkNetwork() }

func (v *Variant) applyWalk(w *walkEdit) {
	v.walkNet = w.graph
	v.walkKeys = append(v.walkKeys, fmt.Sprintf("%s/%d", w.kind, w.id))
	if w.kind == CloseStreet {
		if v.closed == nil {
			v.closed = map[int64]bool{}
		}
		v.closed[w.id] = true
	}
}

// prepareWalk validates an add_footpath or close_street against the variant's network and
// returns the edit; c's kind, target and geometry presence are checked already.
func prepareWalk(v *Variant, c *Change, r rule) (op, error) {
	for name, val := range c.Properties {
		if !slices.Contains(r.allowed, name) {
			if len(r.allowed) == 0 {
				return op{}, fieldErr("properties."+name, "%s takes no properties", c.Kind)
			}
			return op{}, fieldErr("properties."+name, "%s may set only %s", c.Kind, strings.Join(r.allowed, ", "))
		}
		if s, ok := val.(string); !ok || len(s) > MaxNameLength {
			return op{}, fieldErr("properties."+name, "want a string of at most %d bytes", MaxNameLength)
		}
	}
	g, err := v.walkNetwork()
	if err != nil {
		return op{}, err
	}
	if g == nil {
		return op{}, fieldErr("kind", "%s changes the street network, and this city has none", c.Kind)
	}
	if c.Kind == CloseStreet {
		id, err := parseTarget(c.Target)
		if err != nil {
			return op{}, err
		}
		edges := g.SourceEdges(id)
		if len(edges) == 0 {
			if v.closed[id] {
				return op{}, fieldErr("target", "street %d was closed by an earlier change of this scenario", id)
			}
			return op{}, fieldErr("target", "no street %d in the city's walking network, nor a footpath added by an earlier change", id)
		}
		return op{layer: StreetsLayer, id: id, walk: &walkEdit{kind: CloseStreet, id: id, graph: g.WithoutEdges(edges...)}}, nil
	}

	line, ok := c.Geometry.Coordinates.(orb.LineString)
	if !ok {
		return op{}, fieldErr("geometry", "%s needs a LineString, got a %s", c.Kind, c.Geometry.Type)
	}
	if len(line) > MaxVerticesPerPolygon {
		return op{}, fieldErr("geometry.coordinates", "the line has %d positions; at most %d are allowed", len(line), MaxVerticesPerPolygon)
	}
	for i, p := range line {
		if !v.City.Bound.Contains(p) {
			return op{}, fieldErr(fmt.Sprintf("geometry.coordinates[%d]", i), "(%g, %g) is outside the city's extent %s", p[0], p[1], boundString(v.City.Bound))
		}
	}
	if len(line) < 2 || planar.Length(v.City.Proj.Geometry(line)) < network.SnapTolerance {
		return op{}, fieldErr("geometry.coordinates", "a footpath needs two positions apart")
	}
	for _, end := range []struct {
		i    int
		name string
	}{{0, "start"}, {len(line) - 1, "end"}} {
		if _, ok := g.Attach(line[end.i], FootpathJoinM); ok {
			continue
		}
		msg := fmt.Sprintf("the footpath's %s touches no street: each end must be within %g m of a walkable way", end.name, FootpathJoinM)
		if a, ok := g.Attach(line[end.i], 0); ok {
			msg += fmt.Sprintf(", the nearest is %.1f m away", a.Stub)
		}
		return op{}, fieldErr(fmt.Sprintf("geometry.coordinates[%d]", end.i), "%s", msg)
	}
	if c.FeatureID < AddedIDBase {
		return op{}, fmt.Errorf("change %s has no feature id", c.ID)
	}
	ng, _, err := g.WithLine(line, c.FeatureID, FootpathJoinM)
	if err != nil {
		return op{}, fmt.Errorf("add the footpath of change %s: %w", c.ID, err)
	}
	return op{layer: StreetsLayer, id: c.FeatureID, walk: &walkEdit{kind: AddFootpath, id: c.FeatureID, graph: ng}}, nil
}
