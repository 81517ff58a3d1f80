package pgtokens_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/citytwin/citytwin/access"
	"github.com/citytwin/citytwin/access/pgtokens"
	"github.com/citytwin/citytwin/access/storetest"
	"github.com/citytwin/citytwin/layers/postgis"
)

// migratedPool opens a pool on a fresh schema of this test's own, migrated.
func migratedPool(t *testing.T) *pgxpool.Pool {
	t.Helper()
	ctx := context.Background()
	pg, err := postgis.Open(ctx, storetest.Schema(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pg.Close)
	if err := postgis.Migrate(ctx, pg.Pool()); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return pg.Pool()
}

func TestStore(t *testing.T) {
	storetest.Run(t, pgtokens.New(migratedPool(t)))
}

// TestARevokedTokenIsRefusedAtOnce: with a TTL of zero the verifier reads the table on every
// check, so the first check after a revocation refuses the token.
func TestARevokedTokenIsRefusedAtOnce(t *testing.T) {
	ctx := context.Background()
	st := pgtokens.New(migratedPool(t))
	v := access.NewVerifier(st, 0, nil)
	secret, tok, err := access.Issue(ctx, st, "alice", access.RolePlanner, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if r, ok := v.Verify(ctx, secret); !ok || r != access.RolePlanner {
		t.Fatalf("a new planner token: %v, %v", r, ok)
	}
	if _, err := st.Revoke(ctx, tok.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	if r, ok := v.Verify(ctx, secret); ok {
		t.Fatalf("a revoked token still verifies as %v", r)
	}
}

// TestConcurrentRevocationsEndOneToken: of several revocations of one name at once, exactly
// one succeeds and the rest find no active token.
func TestConcurrentRevocationsEndOneToken(t *testing.T) {
	ctx := context.Background()
	st := pgtokens.New(migratedPool(t))
	if _, _, err := access.Issue(ctx, st, "alice", access.RolePlanner, time.Now()); err != nil {
		t.Fatal(err)
	}
	const n = 8
	var wg sync.WaitGroup
	var won, lost atomic.Int64
	for range n {
		wg.Go(func() {
			_, err := st.Revoke(ctx, "alice", time.Now())
			switch {
			case err == nil:
				won.Add(1)
			case errors.Is(err, access.ErrNotFound):
				lost.Add(1)
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if won.Load() != 1 || lost.Load() != n-1 {
		t.Fatalf("%d revocations succeeded and %d found nothing; want 1 and %d", won.Load(), lost.Load(), n-1)
	}
}
