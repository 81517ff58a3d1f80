package postgis

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

func TestStatementTimeoutIsOnEveryConnection(t *testing.T) {
	ctx := testContext(t)
	base := newSchema(t)
	withURLTimeout := base + "&statement_timeout=7s"
	tests := []struct {
		name string
		url  string
		opts Options
		want string
	}{
		{"the default", base, Options{}, "30s"},
		{"the database URL's", withURLTimeout, Options{}, "7s"},
		{"the option, over the URL's", withURLTimeout, Options{StatementTimeout: 1500 * time.Millisecond}, "1500ms"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := OpenWith(ctx, tc.url, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			// Hold several connections at once, so that each is a connection of its own.
			var conns []*pgxpool.Conn
			for range 3 {
				c, err := s.Pool().Acquire(ctx)
				if err != nil {
					t.Fatal(err)
				}
				conns = append(conns, c)
			}
			for i, c := range conns {
				var got string
				if err := c.QueryRow(ctx, "SHOW statement_timeout").Scan(&got); err != nil {
					t.Fatal(err)
				}
				if got != tc.want {
					t.Errorf("connection %d: statement_timeout %s, want %s", i, got, tc.want)
				}
				c.Release()
			}
		})
	}
}

func TestStatementTimeoutCancelsALongStatement(t *testing.T) {
	ctx := testContext(t)
	s, err := OpenWith(ctx, newSchema(t), Options{StatementTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, err = s.Pool().Exec(ctx, "SELECT pg_sleep(5)")
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "57014" {
		t.Fatalf("a 5 s statement under a 200 ms statement_timeout: %v; want SQLSTATE 57014", err)
	}
}

func TestOpenSetsAConnectTimeout(t *testing.T) {
	ctx := testContext(t)
	base := newSchema(t)
	for _, tc := range []struct {
		name string
		url  string
		opts Options
		want time.Duration
	}{
		{"the default", base, Options{}, DefaultConnectTimeout},
		{"the database URL's", base + "&connect_timeout=9", Options{}, 9 * time.Second},
		{"the option, over the URL's", base + "&connect_timeout=9", Options{ConnectTimeout: 2 * time.Second}, 2 * time.Second},
	} {
		s, err := OpenWith(ctx, tc.url, tc.opts)
		if err != nil {
			t.Fatal(err)
		}
		if got := s.Pool().Config().ConnConfig.ConnectTimeout; got != tc.want {
			t.Errorf("%s: connect timeout %s, want %s", tc.name, got, tc.want)
		}
		s.Close()
	}
}

// TestFollowVersionsListensAgainAfterAFailure ends the watcher's database session, as a
// restart of PostgreSQL would: FollowVersions reports the failure, listens again, says so,
// and passes on the next change.
func TestFollowVersionsListensAgainAfterAFailure(t *testing.T) {
	ctx := testContext(t)
	app := fmt.Sprintf("citytwin_follow_%d", os.Getpid())
	u, err := url.Parse(newSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("application_name", app)
	u.RawQuery = q.Encode()
	s, err := Open(ctx, u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := Migrate(ctx, s.Pool()); err != nil {
		t.Fatal(err)
	}

	changed := make(chan map[string]int64, 100)
	resumed := make(chan struct{}, 10)
	var failures atomic.Int32
	fctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.FollowVersions(fctx, VersionFollower{
			Changed: func(v map[string]int64) { changed <- v },
			Resumed: func() { resumed <- struct{}{} },
			Failed:  func(error, time.Duration) { failures.Add(1) },
		})
	}()
	defer func() {
		stop()
		<-done
	}()

	// End the listening session from another one.
	admin, err := pgx.Connect(ctx, u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	deadline := time.Now().Add(10 * time.Second)
	for {
		var n int
		err := admin.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
			WHERE application_name = $1 AND query LIKE 'LISTEN%' AND pid <> pg_backend_pid()`, app).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the watcher never listened")
		}
		time.Sleep(20 * time.Millisecond)
	}
	select {
	case <-resumed:
	case <-time.After(15 * time.Second):
		t.Fatal("FollowVersions did not listen again after its session ended")
	}
	if failures.Load() == 0 {
		t.Error("the failure was not reported")
	}

	if _, err := s.Import(ctx, syntheticBuildings(2, 1)); err != nil {
		t.Fatal(err)
	}
	v, err := s.DataVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Other tests import into other schemas of the same database at the same time, and
	// their notifications arrive too: wait for this one.
	timeout := time.After(10 * time.Second)
	for {
		select {
		case n := <-changed:
			if n["buildings"] == v["buildings"] {
				return
			}
		case <-timeout:
			t.Fatalf("no notification of buildings version %d after listening again", v["buildings"])
		}
	}
}
