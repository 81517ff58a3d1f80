package tiles

import (
	"sync"
	"testing"

	"github.com/citytwin/citytwin/data"
	"github.com/citytwin/citytwin/data/synthcity"
	"github.com/citytwin/citytwin/layers"
)

var demoCity = sync.OnceValues(data.Demo)

// demoFeatures returns the embedded demo city (a copy the caller may keep).
func demoFeatures(t testing.TB) []layers.Feature {
	t.Helper()
	fs, err := demoCity()
	if err != nil {
		t.Fatal(err)
	}
	return fs
}

// generatedCity is a deterministic synthetic city of synthcity.Generate with about 0.75 buildings
// per parcel.
func generatedCity(t testing.TB, parcels int) []layers.Feature {
	t.Helper()
	var fs []layers.Feature
	err := synthcity.Generate(synthcity.Options{Parcels: parcels, Seed: 1}, func(f layers.Feature) error {
		fs = append(fs, f)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return fs
}
