package postgis

import (
	"testing"

	"github.com/citytwin/citytwin/layers"
)

// A download reads a layer page after page while imports may commit: every page must come
// from the snapshot the first one was read in, so the file holds one version of the layer.
func TestEachPageReadsOneVersionWhileTheLayerChangesBetweenPages(t *testing.T) {
	ctx := testContext(t)
	s := newStore(t)
	before := syntheticBuildings(250, 1) // ids 1 to 250
	if _, err := s.Import(ctx, before); err != nil {
		t.Fatalf("import: %v", err)
	}

	var got []layers.Feature
	var sizes []int
	err := s.EachPage(ctx, "buildings", 100, func(fs []layers.Feature) error {
		sizes = append(sizes, len(fs))
		got = append(got, fs...)
		if len(sizes) > 1 {
			return nil
		}
		// Between the first and the second page, a new version of the layer commits:
		// features removed, every remaining one changed, new ones added.
		if _, err := s.Pool().Exec(ctx, "DELETE FROM buildings WHERE id > 150"); err != nil {
			t.Fatalf("delete: %v", err)
		}
		if _, err := s.Pool().Exec(ctx, "UPDATE buildings SET dwellings = dwellings + 1"); err != nil {
			t.Fatalf("update: %v", err)
		}
		if _, err := s.Import(ctx, syntheticBuildings(50, 1001)); err != nil {
			t.Fatalf("import between pages: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("EachPage: %v", err)
	}
	// 250 features in pages of 100: 100, 100, then the last 50.
	if want := []int{100, 100, 50}; len(sizes) != len(want) || sizes[0] != want[0] || sizes[1] != want[1] || sizes[2] != want[2] {
		t.Errorf("page sizes %v, want %v", sizes, want)
	}
	assertSameFeatures(t, got, before)

	// The new version is what a read begun after the change sees: 150 kept + 50 added.
	var after []layers.Feature
	if err := s.EachPage(ctx, "buildings", 1000, func(fs []layers.Feature) error {
		after = append(after, fs...)
		return nil
	}); err != nil {
		t.Fatalf("EachPage after the change: %v", err)
	}
	if len(after) != 200 {
		t.Errorf("a read after the change has %d features, want 150 + 50 = 200", len(after))
	}
}

func TestEachPageRefusesAPageSizeBelowOne(t *testing.T) {
	s := newStore(t)
	if err := s.EachPage(testContext(t), "buildings", 0, func([]layers.Feature) error { return nil }); err == nil {
		t.Error("EachPage with a page size of 0 did not fail")
	}
}
