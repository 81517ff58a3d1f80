// Package democity hands tests the embedded Monaco demo city, indexed as the server holds it.
// It is apart from internal/testcity because package data's own tests use testcity, and this
// needs package data.
package democity

import (
	"testing"

	"github.com/citytwin/citytwin/data"
	"github.com/citytwin/citytwin/spatial"
)

// City returns the demo city (data.Demo) indexed by spatial.NewCity; the test fails when
// either fails.
func City(t testing.TB) *spatial.City {
	t.Helper()
	fs, err := data.Demo()
	if err != nil {
		t.Fatalf("the demo city: %v", err)
	}
	city, err := spatial.NewCity(fs)
	if err != nil {
		t.Fatalf("index the demo city: %v", err)
	}
	return city
}
