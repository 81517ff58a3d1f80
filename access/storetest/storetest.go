// Package storetest holds the behaviour every access.Store must have, as one test that each
// store's own tests run against a fresh, empty store.
package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/citytwin/citytwin/access"
)

// Run checks a store: tokens round-trip with every field (an expiry, or none), names are
// unique among active tokens, revoking by id or name ends exactly one token, and revoked
// tokens stay listed.
func Run(t *testing.T, st access.Store) {
	t.Helper()
	ctx := context.Background()
	if ts, err := st.List(ctx); err != nil || len(ts) != 0 {
		t.Fatalf("a new store lists %v, %v; want nothing", ts, err)
	}
	t0 := time.Date(2026, 3, 4, 5, 6, 7, 123456000, time.UTC)
	alice, aliceTok := issue(t, st, "alice", access.RolePlanner, t0)
	// Bob's token never expires.
	_, bobTok, err := access.IssueFor(ctx, st, "bob", access.RoleAdmin, t0.Add(time.Minute), 0)
	if err != nil {
		t.Fatalf("issue bob: %v", err)
	}
	// 2026-03-04T05:06:07.123456Z + 365 days = 2027-03-04T05:06:07.123456Z (2026 is no leap year).
	if want := time.Date(2027, 3, 4, 5, 6, 7, 123456000, time.UTC); !aliceTok.ExpiresAt.Equal(want) || !bobTok.ExpiresAt.IsZero() {
		t.Fatalf("expiries: alice %v (want %v), bob %v (want none)", aliceTok.ExpiresAt, want, bobTok.ExpiresAt)
	}

	if _, _, err := access.Issue(ctx, st, "alice", access.RoleAdmin, t0); !errors.Is(err, access.ErrExists) {
		t.Fatalf("a second active token named alice: %v, want ErrExists", err)
	}
	ts, err := st.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ts) != 2 || ts[0] != aliceTok || ts[1] != bobTok {
		t.Fatalf("list:\n got %+v\nwant %+v and %+v", ts, aliceTok, bobTok)
	}
	if aliceTok.Hash != access.HashToken(alice) {
		t.Fatal("the stored hash is not the token's SHA-256")
	}

	t1 := t0.Add(time.Hour)
	got, err := st.Revoke(ctx, "alice", t1)
	if err != nil {
		t.Fatalf("revoke by name: %v", err)
	}
	if got.ID != aliceTok.ID || !got.RevokedAt.Equal(t1) {
		t.Fatalf("revoke returned %+v, want alice revoked at %v", got, t1)
	}
	if _, err := st.Revoke(ctx, "alice", t1); !errors.Is(err, access.ErrNotFound) {
		t.Fatalf("revoking a revoked token: %v, want ErrNotFound", err)
	}
	if _, err := st.Revoke(ctx, "nobody", t1); !errors.Is(err, access.ErrNotFound) {
		t.Fatalf("revoking an unknown name: %v, want ErrNotFound", err)
	}

	// The name is free again once its token is revoked; the old one stays listed.
	_, alice2Tok := issue(t, st, "alice", access.RolePlanner, t1)
	if _, err := st.Revoke(ctx, bobTok.ID, t1); err != nil {
		t.Fatalf("revoke by id: %v", err)
	}
	ts, err = st.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ts) != 3 {
		t.Fatalf("list after revoking holds %d tokens, want 3 (revoked ones stay): %+v", len(ts), ts)
	}
	active := map[string]bool{}
	for _, tk := range ts {
		active[tk.ID] = tk.Active()
	}
	want := map[string]bool{aliceTok.ID: false, bobTok.ID: false, alice2Tok.ID: true}
	for id, a := range want {
		if active[id] != a {
			t.Errorf("token %s active = %v, want %v", id, active[id], a)
		}
	}
}

func issue(t *testing.T, st access.Store, name string, role access.Role, at time.Time) (string, access.Token) {
	t.Helper()
	secret, tok, err := access.Issue(context.Background(), st, name, role, at)
	if err != nil {
		t.Fatalf("issue %s: %v", name, err)
	}
	return secret, tok
}
