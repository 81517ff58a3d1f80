package web

import (
	"net/http"
	"slices"
	"sort"

	"github.com/citytwin/citytwin/layers"
	"github.com/citytwin/citytwin/scenarios"
	"github.com/citytwin/citytwin/spatial"
)

// qualityAttributes are the key attributes of each layer whose origin GET /api/quality
// reports.
var qualityAttributes = map[string][]string{
	"buildings":  {"use", "floors", "height_m", "dwellings"},
	"facilities": {"capacity"},
	"parcels":    {"area_m2"},
}

// QualityBasis says how an attribute's origin is known: "attribute" — a feature lists the
// key attributes whose value is a default or an estimate in its field `estimated` (the
// OpenStreetMap import: a building's use chosen by the evidence around it, floors and height
// without a tag, dwellings always, a facility's default capacity), so an attribute counts as
// derived when its feature is derived, lists it there, or carries `<attribute>_estimated:
// true` (a capacity a scenario estimated); else as surveyed.
const QualityBasis = "attribute"

// attributeQuality counts a key attribute's features by where its value comes from.
type attributeQuality struct {
	Surveyed      int     `json:"surveyed"`
	Derived       int     `json:"derived"`
	Missing       int     `json:"missing"` // absent, or 0 where 0 means unknown (capacity): the engine's default applies
	SurveyedShare float64 `json:"surveyed_share"`
	DerivedShare  float64 `json:"derived_share"`
	MissingShare  float64 `json:"missing_share"`
}

type layerQuality struct {
	Features      int                         `json:"features"`
	Derived       int                         `json:"derived"`
	DerivedShare  float64                     `json:"derived_share"`
	SurveyedShare float64                     `json:"surveyed_share"`
	Attributes    map[string]attributeQuality `json:"attributes,omitempty"`
}

// qualityAnswer is GET /api/quality: codes only; the UI labels them.
type qualityAnswer struct {
	Basis         string                  `json:"basis"`
	Layers        map[string]layerQuality `json:"layers"`
	DerivedLayers []string                `json:"derived_layers"`
	// Census, Sources and ModelledIndicators are null without a scenario engine.
	Census             *scenarios.Calibration `json:"census"`
	Sources            map[string]string      `json:"sources"`
	ModelledIndicators []string               `json:"modelled_indicators"`
}

// quality: GET /api/quality — public. Where the baseline's numbers come from: per layer the
// share of features (and of key attributes) surveyed or derived, the derived layers, the
// census the residents are calibrated to, and each indicator's source.
func (s *Server) quality(w http.ResponseWriter, r *http.Request) {
	city, err := s.model.Current()
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	ans := qualityAnswer{Basis: QualityBasis, Layers: layerQualities(city), DerivedLayers: []string{}}
	for name := range scenarios.DerivedLayers(city) {
		ans.DerivedLayers = append(ans.DerivedLayers, name)
	}
	sort.Strings(ans.DerivedLayers)
	if svc := s.opts.Scenarios; svc != nil {
		cal, err := svc.Engine.Calibration(r.Context(), city)
		if err != nil {
			s.writeErr(w, r, err)
			return
		}
		if ans.Sources, err = svc.Engine.Sources(r.Context(), city); err != nil {
			s.writeErr(w, r, err)
			return
		}
		ans.Census = &cal
		ans.ModelledIndicators = []string{}
		for _, name := range svc.Engine.IndicatorNames() {
			if ans.Sources[name] == scenarios.SourceModelled {
				ans.ModelledIndicators = append(ans.ModelledIndicators, name)
			}
		}
	}
	writeJSON(w, http.StatusOK, ans)
}

// layerQualities counts every catalog layer's features by their derived flag, and the key
// attributes by origin.
func layerQualities(city *spatial.City) map[string]layerQuality {
	out := map[string]layerQuality{}
	share := func(n, of int) float64 {
		if of == 0 {
			return 0
		}
		return float64(n) / float64(of)
	}
	for _, l := range layers.All() {
		ix := city.Layer(l.Name)
		if ix == nil {
			continue
		}
		lq := layerQuality{Features: ix.Len()}
		attrs := qualityAttributes[l.Name]
		counts := make([]attributeQuality, len(attrs))
		for _, it := range ix.Items() {
			props := it.Feature.Props
			derived := props["derived"] == true
			if derived {
				lq.Derived++
			}
			for i, a := range attrs {
				switch v, ok := props[a]; {
				case !ok || v == nil || a == "capacity" && v == int64(0):
					counts[i].Missing++
				case derived || props[a+"_estimated"] == true || lists(props["estimated"], a):
					counts[i].Derived++
				default:
					counts[i].Surveyed++
				}
			}
		}
		lq.DerivedShare, lq.SurveyedShare = share(lq.Derived, lq.Features), share(lq.Features-lq.Derived, lq.Features)
		if len(attrs) > 0 {
			lq.Attributes = map[string]attributeQuality{}
			for i, a := range attrs {
				c := counts[i]
				c.SurveyedShare, c.DerivedShare, c.MissingShare = share(c.Surveyed, lq.Features), share(c.Derived, lq.Features), share(c.Missing, lq.Features)
				lq.Attributes[a] = c
			}
		}
		out[l.Name] = lq
	}
	return out
}

// lists reports whether v, a feature's "estimated" field, names attribute a.
func lists(v any, a string) bool {
	l, _ := v.([]string)
	return slices.Contains(l, a)
}
