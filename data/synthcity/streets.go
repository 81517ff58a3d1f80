package synthcity

import (
	"fmt"

	"github.com/paulmach/orb"

	"github.com/citytwin/citytwin/layers"
)

// StreetsLayer names the layer of the street features Streets emits: the catalog's streets.
const StreetsLayer = layers.StreetsLayer

// Streets streams the walkable street centrelines of the city Generate makes with the same
// options (Generate emits them too, as its streets layer): the gaps between blocks, one
// feature per stretch between two crossings, with the fields name, kind (primary for avenues,
// residential otherwise), foot (true) and derived (true). Stretches meet at the
// crossings, so they form one network, except where the city has no street:
//
//   - the river: a north-south street stops at the river channel (genRiverHalf each side of
//     its centreline) and only avenues cross it, on bridges; an east-west street line inside
//     the channel is left out;
//   - the railway: the line it runs along has no street (north-south streets cross it).
//
// Same options → byte-identical output. Ids number the stretches from 1.
func Streets(opts Options, emit func(layers.Feature) error) error {
	if opts.Parcels <= 0 {
		return fmt.Errorf("generate streets: parcels must be positive, got %d", opts.Parcels)
	}
	if opts.Parcels > maxParcels {
		return fmt.Errorf("generate streets: at most %d parcels, got %d", maxParcels, opts.Parcels)
	}
	return genPlan(opts).emitStreets(emit)
}

func (c *genCity) emitStreets(emit func(layers.Feature) error) error {
	id := int64(0)
	street := func(name, kind string, a, b orb.Point) error {
		id++
		return emit(layers.Feature{Layer: StreetsLayer, ID: id, Geometry: orb.LineString{a, b},
			Props: map[string]any{"name": name, "kind": kind, "foot": true, "derived": true}})
	}
	kind := func(avenue bool) string {
		if avenue {
			return "primary"
		}
		return "residential"
	}
	// East-west stretches along each street line, between consecutive north-south lines.
	for j, y := range c.lineY {
		if j == c.railLine {
			continue
		}
		for i := 0; i < c.gx; i++ {
			x0, x1 := c.lineX[i], c.lineX[i+1]
			if lo, hi := c.riverSpan(x0, x1); y > lo-genRiverHalf && y < hi+genRiverHalf {
				continue // in the river
			}
			if err := street(c.streetName(j), kind(c.aveY[j]), c.pt(x0, y), c.pt(x1, y)); err != nil {
				return err
			}
		}
	}
	// North-south stretches along each line, between consecutive east-west lines.
	n := len(genStreetNames)
	for i, x := range c.lineX {
		name := "Strada " + genStreetNames[(i+n/2)%n]
		if c.aveX[i] {
			name = "Bulevardul " + genStreetNames[(i+n/2)%n]
		}
		ry := c.riverY(x)
		for j := 0; j < c.gy; j++ {
			y0, y1 := c.lineY[j], c.lineY[j+1]
			if !c.aveX[i] && y0 < ry+genRiverHalf && y1 > ry-genRiverHalf {
				continue // no bridge
			}
			if err := street(name, kind(c.aveX[i]), c.pt(x, y0), c.pt(x, y1)); err != nil {
				return err
			}
		}
	}
	return nil
}
