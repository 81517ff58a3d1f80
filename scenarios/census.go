package scenarios

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/citytwin/citytwin/layers"
	"github.com/citytwin/citytwin/spatial"
)

// CensusSource is where the engine reads the census it calibrates residents to
// (data.FileStore and postgis.Store are ones). Census returns nil when none was imported.
type CensusSource interface {
	Census(ctx context.Context) (*layers.Census, error)
}

// The basis of a group's calibration factor (DistrictCalibration.Basis).
const (
	BasisDistrict  = "district"   // the census row of the district
	BasisCityTotal = "city_total" // the city-total row, shared by every group not listed
	BasisNone      = "none"       // not calibrated: residents as modelled
)

// Calibration says how the baseline's residents were calibrated to the census
// (docs/domain.md, "Census calibration").
type Calibration struct {
	// Loaded is true when a census is loaded.
	Loaded bool `json:"loaded"`
	// Years and Sources are the distinct census years and sources of its rows.
	Years   []int    `json:"years"`
	Sources []string `json:"sources"`
	// Complete is true when a census is loaded and every resident of the baseline lives in a
	// group whose residents were scaled to it, every row naming a district met.
	Complete            bool                  `json:"complete"`
	ModelledResidents   float64               `json:"modelled_residents"`
	CalibratedResidents float64               `json:"calibrated_residents"`
	Districts           []DistrictCalibration `json:"districts"`
	// UnmatchedRows are the rows whose district names no district of the city (by code, then
	// by name).
	UnmatchedRows []string `json:"unmatched_rows"`
}

// DistrictCalibration is the calibration of one district, or of the buildings outside every
// district (Outside, ID 0).
type DistrictCalibration struct {
	ID      int64  `json:"id"`
	Code    string `json:"code,omitempty"`
	Name    string `json:"name,omitempty"`
	Outside bool   `json:"outside,omitempty"`
	// Census is the population the residents are scaled to: the district's row, or its share
	// of the city total; nil when not calibrated.
	Census            *float64 `json:"census"`
	ModelledResidents float64  `json:"modelled_residents"`
	// Factor multiplies the residents of every residential building of the group, in the
	// baseline and in every variant (1 when not calibrated).
	Factor float64 `json:"factor"`
	Basis  string  `json:"basis"`
}

// censusFit is what the engine keeps of the census per baseline: the factor of each group
// (the districts, then outside every district), the report, and the indicators' sources.
type censusFit struct {
	factor  []float64
	info    Calibration
	sources map[string]string
}

// apply scales a building record's residents by the factor of its group. A nil fit (no
// calibration decided yet, or none) leaves the record as it is.
func (c *censusFit) apply(r *bRec) {
	if c == nil || r.residents == 0 {
		return
	}
	if f := c.factor[groupIndex(r.district, len(c.factor))]; f != 1 {
		r.residents *= f
	}
}

// calibrate reads the census, fits a factor per group to the baseline's modelled residents
// (b.recs, not yet calibrated), scales those records, and decides every indicator's source.
func (e *Engine) calibrate(ctx context.Context, b *baseline) error {
	var census *layers.Census
	if e.Census != nil {
		var err error
		if census, err = e.Census.Census(ctx); err != nil {
			return fmt.Errorf("read census: %w", err)
		}
	}
	fit := fitCensus(b, census)
	for i := range b.recs {
		fit.apply(&b.recs[i])
	}
	fit.sources = e.indicatorSources(b, fit.info)
	b.census = fit
	return nil
}

// fitCensus computes each group's factor: a district with a census row gets row population /
// modelled residents; with a city-total row, every group not listed (outside every district
// too) gets (total − Σ listed rows) / Σ their modelled residents. A group with no modelled
// residents, or without a census figure, keeps factor 1.
func fitCensus(b *baseline, c *layers.Census) *censusFit {
	n := len(b.districts) + 1
	fit := &censusFit{factor: make([]float64, n), info: Calibration{Years: []int{}, Sources: []string{}, UnmatchedRows: []string{}, Districts: []DistrictCalibration{}}}
	modelled := make([]float64, n)
	for i := range b.recs {
		modelled[groupIndex(b.recs[i].district, n)] += b.recs[i].residents
	}
	census := make([]*float64, n)
	basis := make([]string, n)
	for g := range basis {
		basis[g], fit.factor[g] = BasisNone, 1
	}
	complete := c != nil
	if c != nil {
		fit.info.Loaded = true
		byCode, byName := map[string]int{}, map[string]int{}
		for i, d := range b.districts {
			if code := strings.ToLower(strings.TrimSpace(str(d.Feature.Props, "code"))); code != "" {
				if _, dup := byCode[code]; !dup {
					byCode[code] = i
				}
			}
			if name := strings.ToLower(strings.TrimSpace(str(d.Feature.Props, "name"))); name != "" {
				if _, dup := byName[name]; !dup {
					byName[name] = i
				}
			}
		}
		var total *layers.CensusRow
		listed := 0.0
		for i := range c.Rows {
			row := &c.Rows[i]
			if row.Year != 0 && !slices.Contains(fit.info.Years, row.Year) {
				fit.info.Years = append(fit.info.Years, row.Year)
			}
			if row.Source != "" && !slices.Contains(fit.info.Sources, row.Source) {
				fit.info.Sources = append(fit.info.Sources, row.Source)
			}
			if strings.TrimSpace(row.District) == layers.CityTotal {
				total = row
				continue
			}
			key := strings.ToLower(strings.TrimSpace(row.District))
			g, ok := byCode[key]
			if !ok {
				g, ok = byName[key]
			}
			if !ok || census[g] != nil {
				fit.info.UnmatchedRows = append(fit.info.UnmatchedRows, row.District)
				complete = false
				continue
			}
			pop := float64(row.Population)
			census[g], basis[g] = &pop, BasisDistrict
			listed += pop
		}
		if total != nil {
			rest, restModelled := float64(total.Population)-listed, 0.0
			for g := range n {
				if census[g] == nil {
					restModelled += modelled[g]
				}
			}
			if rest >= 0 && restModelled > 0 {
				for g := range n {
					if census[g] == nil && modelled[g] > 0 {
						share := modelled[g] / restModelled * rest
						census[g], basis[g] = &share, BasisCityTotal
						fit.factor[g] = rest / restModelled
					}
				}
			} else if rest != 0 || restModelled > 0 {
				complete = false // the total cannot be met: below the listed rows, or no one to scale
			}
		}
		for g := range n {
			switch {
			case basis[g] == BasisDistrict && modelled[g] > 0:
				fit.factor[g] = *census[g] / modelled[g]
			case basis[g] == BasisDistrict && *census[g] > 0:
				complete = false // a census population where the model houses no one
			case basis[g] == BasisNone && modelled[g] > 0:
				complete = false
			}
		}
		slices.Sort(fit.info.Years)
	}
	for g := range n {
		fit.info.ModelledResidents += modelled[g]
		fit.info.CalibratedResidents += modelled[g] * fit.factor[g]
		dc := DistrictCalibration{Census: census[g], ModelledResidents: modelled[g], Factor: fit.factor[g], Basis: basis[g]}
		if g < len(b.districts) {
			d := b.districts[g].Feature
			dc.ID, dc.Code, dc.Name = d.ID, str(d.Props, "code"), str(d.Props, "name")
		} else if modelled[g] == 0 {
			continue // nobody outside the districts: nothing to report
		} else {
			dc.Outside = true
		}
		fit.info.Districts = append(fit.info.Districts, dc)
	}
	fit.info.Complete = complete
	return fit
}

// Calibration reports how the baseline of city was calibrated to the census.
func (e *Engine) Calibration(ctx context.Context, city *spatial.City) (Calibration, error) {
	b, err := e.baselineFor(ctx, city)
	if err != nil {
		return Calibration{}, err
	}
	return b.census.info, nil
}

// Sources returns the source of every indicator of a run on city (sources.go).
func (e *Engine) Sources(ctx context.Context, city *spatial.City) (map[string]string, error) {
	b, err := e.baselineFor(ctx, city)
	if err != nil {
		return nil, err
	}
	return maps.Clone(b.census.sources), nil
}
