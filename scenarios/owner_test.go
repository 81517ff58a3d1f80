package scenarios

import (
	"context"
	"errors"
	"testing"
)

// The public (a caller without a token) reads published scenarios only, without their owner,
// and stores no run of them.
func TestThePublicReadsPublishedScenariosOnly(t *testing.T) {
	svc := newService(t)
	planner := WithCaller(context.Background(), Caller{ID: "t0123456789abcdef"})
	public := WithCaller(context.Background(), Caller{Public: true})
	published := Published
	pub, err := svc.Create(planner, "published", "")
	if err != nil {
		t.Fatal(err)
	}
	if pub, err = svc.Update(planner, pub.ID, nil, Patch{Visibility: &published}); err != nil {
		t.Fatal(err)
	}
	team, err := svc.Create(planner, "team", "")
	if err != nil {
		t.Fatal(err)
	}
	if sc, _, err := svc.Get(public, pub.ID); err != nil || sc.Owner != "" || sc.Name != "published" {
		t.Fatalf("the public reads the published scenario: %+v, %v; want it without its owner", sc, err)
	}
	if _, _, err := svc.Get(public, team.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("the public reads a team's scenario: %v, want ErrNotFound", err)
	}
	list, err := svc.List(public)
	if err != nil || len(list) != 1 || list[0].ID != pub.ID || list[0].Owner != "" {
		t.Fatalf("the public's listing: %+v, %v; want the published scenario alone, without its owner", list, err)
	}
	if _, err := svc.Run(public, pub.ID, nil, RunOptions{}); !errors.Is(err, ErrForbidden) {
		t.Fatalf("a run by the public: %v, want ErrForbidden", err)
	}
	if _, err := svc.Update(public, pub.ID, nil, Patch{}); !errors.Is(err, ErrForbidden) {
		t.Fatalf("an update by the public: %v, want ErrForbidden", err)
	}
	if sc, _, err := svc.Get(planner, pub.ID); err != nil || sc.Owner != "t0123456789abcdef" {
		t.Fatalf("the owner reads their scenario: %+v, %v; want its owner shown", sc, err)
	}
}
