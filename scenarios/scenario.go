// Package scenarios owns planning scenarios: named, versioned lists of changes against the
// baseline city, their validation, the copy-on-write variant of the city a scenario makes, the
// engine that computes the indicators of docs/domain.md for baseline and variant (with an
// incremental re-run), the run results and their exports, and the Store interface that keeps
// scenarios, changes and runs (a directory store lives here; the PostGIS one in
// scenarios/pgstore).
package scenarios

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"time"

	"github.com/paulmach/orb/geojson"

	"github.com/citytwin/citytwin/citymodel"
)

// Sentinel errors callers branch on; web maps them to HTTP statuses in one place.
var (
	// ErrNotFound: no such scenario, change or run.
	ErrNotFound = errors.New("not found")
	// ErrConflict: the scenario changed since the version the write was based on.
	ErrConflict = errors.New("version conflict")
	// ErrPrecondition: the client's If-Match version is not the scenario's version.
	ErrPrecondition = errors.New("precondition failed")
	// ErrInUse: a change cannot be removed because a later change refers to what it added.
	ErrInUse = errors.New("in use")
	// ErrTooLarge: a request exceeds a size limit (changes per request, per scenario).
	ErrTooLarge = errors.New("too large")
	// ErrNoCity: the city model is not loaded yet; the same error as citymodel.ErrNotReady.
	ErrNoCity = citymodel.ErrNotReady
)

// Limits on what one request and one scenario may hold.
const (
	MaxChangesPerRequest  = 1000
	MaxChangesPerScenario = 10000
	MaxVerticesPerPolygon = 5000
	MaxNameLength         = 200
	MaxDescriptionLength  = 10000
)

// AddedIDBase is the first feature id of features a scenario adds: an add change with
// sequence number n adds the feature AddedIDBase+n. It is below 2^53, so the ids survive
// JSON numbers in every client, and far above the ids of imported data.
const AddedIDBase int64 = 1 << 50

// Scenario is a named, versioned list of changes against the baseline city. Every write
// (metadata, a change added or removed) bumps Version; clients send it back in If-Match.
type Scenario struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	Version     int64  `json:"version"`
	// Parent is the scenario this one was cloned from, empty for an original.
	Parent    string    `json:"parent,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// Changes is the number of changes the scenario holds.
	Changes int `json:"changes"`
	// ChangeSeq is the sequence number of the last change ever added (never reused, so
	// change ids and the ids of added features stay stable when a change is removed).
	ChangeSeq int64 `json:"change_seq"`
	// Owner is the id of the token that made the scenario ("" for one made before owners were
	// recorded); Visibility says who else may read and write it.
	Owner      string     `json:"owner,omitempty"`
	Visibility Visibility `json:"visibility,omitempty"`
}

// Visibility says who may see and change a scenario besides its owner and admins.
type Visibility string

// The visibilities of a scenario.
const (
	// Private: its owner and admins only.
	Private Visibility = "private"
	// Team: every planner may read and change it (the default).
	Team Visibility = "team"
	// Published: every planner may read it; only its owner and admins change it.
	Published Visibility = "published"
)

// OrDefault is v, or Team when unset.
func (v Visibility) OrDefault() Visibility {
	if v == "" {
		return Team
	}
	return v
}

// Kind is the kind of a change.
type Kind string

// The change kinds of docs/domain.md.
const (
	AddBuilding      Kind = "add_building"
	ModifyBuilding   Kind = "modify_building"
	DemolishBuilding Kind = "demolish_building"
	Rezone           Kind = "rezone"
	AddFacility      Kind = "add_facility"
	ModifyFacility   Kind = "modify_facility"
	RemoveFacility   Kind = "remove_facility"
	AddGreenSpace    Kind = "add_green_space"
	RemoveGreenSpace Kind = "remove_green_space"
	SetBroadband     Kind = "set_broadband"
	AddFootpath      Kind = "add_footpath"
	CloseStreet      Kind = "close_street"
)

// Kinds lists every change kind.
var Kinds = []Kind{AddBuilding, ModifyBuilding, DemolishBuilding, Rezone, AddFacility, ModifyFacility, RemoveFacility, AddGreenSpace, RemoveGreenSpace, SetBroadband, AddFootpath, CloseStreet}

// Change is one change of a scenario, in the wire format of the API:
//
//	{"kind": "add_building", "geometry": {GeoJSON Polygon, WGS84},
//	 "properties": {"use": "residential", "floors": 5, "height_m": 16, "dwellings": 40}}
//
// modify_*, demolish_building and remove_* carry "target": "<feature id>" instead of or
// beside a geometry. The server fills in id, seq, feature_id and created_at.
type Change struct {
	ID         string            `json:"id"`
	Seq        int64             `json:"seq"`
	Kind       Kind              `json:"kind"`
	Target     string            `json:"target,omitempty"`
	Geometry   *geojson.Geometry `json:"geometry,omitempty"`
	Properties map[string]any    `json:"properties,omitempty"`
	// FeatureID is the id of the feature an add_* change (or a rezone or set_broadband
	// with a new polygon) adds; later changes target it by this id.
	FeatureID int64     `json:"feature_id,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// ChangeInput is what a client posts: the wire format without the server's fields. The
// geometry stays raw so that an invalid one is reported against the "geometry" field.
type ChangeInput struct {
	Kind       Kind            `json:"kind"`
	Target     json.RawMessage `json:"target,omitempty"`
	Geometry   json.RawMessage `json:"geometry,omitempty"`
	Properties map[string]any  `json:"properties,omitempty"`
}

// NewID returns a random identifier of 16 hex digits for scenarios and runs.
func NewID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// ValidID reports whether s has the shape of an id made by NewID, so that ids taken from
// URLs can be used as file names safely.
func ValidID(s string) bool {
	if len(s) != 16 {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}
