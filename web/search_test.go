package web

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/paulmach/orb"

	"github.com/citytwin/citytwin/citymodel"
	"github.com/citytwin/citytwin/data"
	"github.com/citytwin/citytwin/layers"
	"github.com/citytwin/citytwin/search"
	"github.com/citytwin/citytwin/spatial"
)

type searchAnswer struct {
	Query string       `json:"query"`
	Hits  []search.Hit `json:"hits"`
}

func getSearch(t *testing.T, h http.Handler, query string) (int, searchAnswer, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/api/search?"+query, nil))
	var a searchAnswer
	if rec.Code == http.StatusOK {
		if err := json.Unmarshal(rec.Body.Bytes(), &a); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
	}
	return rec.Code, a, rec.Body.String()
}

func demoCityWithStreets(t *testing.T) *spatial.City {
	t.Helper()
	fs, err := demoFeatures()
	if err != nil {
		t.Fatal(err)
	}
	c, err := spatial.NewCity(fs)
	if err != nil {
		t.Fatal(err)
	}
	if c.Streets, err = data.DemoStreets(); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestSearchFindsTheStreetsAndSchoolsOfTheDemoCity(t *testing.T) {
	c := demoCityWithStreets(t)
	h := New(Options{Logger: scenarioTestLogger(), Model: citymodel.Fixed(c)}).Handler()
	tests := []struct {
		name, q         string
		kind, label     string // of the first hit
		wantCategoryOf1 string
	}{
		{"a street by its whole name", "Boulevard des Moulins", search.KindStreet, "Boulevard des Moulins", ""},
		{"a district with a hyphen typed as a space", "monte carlo", search.KindDistrict, "Monte-Carlo", ""},
		{"a school by the Romanian word without diacritics", "scoala", search.KindFacility, "", "school"},
		{"a parcel by its cadastral number", "MC-000001", search.KindParcel, "MC-000001", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, a, body := getSearch(t, h, "q="+url.QueryEscape(tc.q))
			if code != http.StatusOK || len(a.Hits) == 0 {
				t.Fatalf("status %d, body %s", code, body)
			}
			if len(a.Hits) > search.DefaultLimit {
				t.Errorf("%d hits, more than the default limit %d", len(a.Hits), search.DefaultLimit)
			}
			first := a.Hits[0]
			if first.Kind != tc.kind || tc.label != "" && first.Label != tc.label || tc.wantCategoryOf1 != "" && first.Category != tc.wantCategoryOf1 {
				t.Errorf("first hit %+v, want a %s %q %s", first, tc.kind, tc.label, tc.wantCategoryOf1)
			}
			bb := orb.Bound{Min: orb.Point{first.BBox[0], first.BBox[1]}, Max: orb.Point{first.BBox[2], first.BBox[3]}}
			if !c.Bound.Contains(first.Point) || !bb.Pad(1e-9).Contains(first.Point) {
				t.Errorf("point %v outside its bbox %v or the city %v", first.Point, first.BBox, c.Bound)
			}
		})
	}
	if _, a, _ := getSearch(t, h, "q=a&limit=3"); len(a.Hits) != 3 {
		t.Errorf("limit=3 gave %d hits", len(a.Hits))
	}
	if code, a, body := getSearch(t, h, "q=zzzzzzzzz"); code != http.StatusOK || a.Hits == nil || len(a.Hits) != 0 || !strings.Contains(body, `"hits":[]`) {
		t.Errorf("no match: status %d, body %s; want 200 and an empty list", code, body)
	}
}

func TestSearchRejectsBadQueries(t *testing.T) {
	h := New(Options{Logger: scenarioTestLogger(), Model: citymodel.Fixed(demoCityWithStreets(t))}).Handler()
	tests := []struct{ name, query, field string }{
		{"no q", "", "q"},
		{"an empty q", "q=", "q"},
		{"a q of spaces only", "q=%20%20", "q"},
		{"a q one character too long", "q=" + strings.Repeat("ș", MaxSearchQuery+1), "q"},
		{"a limit of zero", "q=a&limit=0", "limit"},
		{"a limit above the most", "q=a&limit=51", "limit"},
		{"a limit that is not a number", "q=a&limit=x", "limit"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, body := getSearch(t, h, tc.query)
			if code != http.StatusBadRequest || !strings.Contains(body, `"field":"`+tc.field+`"`) {
				t.Errorf("status %d, body %s; want 400 naming %s", code, body, tc.field)
			}
		})
	}
	// The longest q allowed is searched: 200 two-byte characters are 200 characters.
	if code, _, body := getSearch(t, h, "q="+strings.Repeat("ș", MaxSearchQuery)); code != http.StatusOK {
		t.Errorf("a q of %d characters: status %d, body %s", MaxSearchQuery, code, body)
	}
}

func TestSearchFollowsTheModel(t *testing.T) {
	town := func(name string) *spatial.City {
		c, err := spatial.NewCity([]layers.Feature{{Layer: "districts", ID: 1,
			Geometry: orb.Polygon{{{23.6, 46.7}, {23.7, 46.7}, {23.7, 46.8}, {23.6, 46.7}}}, Props: map[string]any{"name": name}}})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	m := citymodel.New(citymodel.Options{})
	h := New(Options{Logger: scenarioTestLogger(), Model: m}).Handler()
	if code, _, body := getSearch(t, h, "q=gheorgheni"); code != http.StatusServiceUnavailable {
		t.Errorf("before a model: status %d, body %s; want 503", code, body)
	}
	m.Set(town("Gheorgheni"))
	if _, a, _ := getSearch(t, h, "q=gheorgheni"); len(a.Hits) != 1 {
		t.Fatalf("first model: hits %+v, want Gheorgheni", a.Hits)
	}
	m.Set(town("Mărăști")) // a reload
	if _, a, _ := getSearch(t, h, "q=gheorgheni"); len(a.Hits) != 0 {
		t.Errorf("after a reload: hits %+v from the old model", a.Hits)
	}
	if _, a, _ := getSearch(t, h, "q=marasti"); len(a.Hits) != 1 || a.Hits[0].Label != "Mărăști" {
		t.Errorf("after a reload: hits %+v, want Mărăști", a.Hits)
	}
}
