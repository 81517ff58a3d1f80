package access

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

var quiet = slog.New(slog.DiscardHandler)

func TestFileStoreKeepsTokens(t *testing.T) {
	// The contract every store meets is in storetest; it imports this package, so it runs
	// from the external test package (store_test.go). Here: what only the file store does.
	dir := filepath.Join(t.TempDir(), "data")
	st := NewFileStore(dir)
	secret, tok, err := Issue(context.Background(), st, "alice", RolePlanner, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "tokens.json"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), secret) || strings.Contains(string(b), strings.TrimPrefix(secret, Prefix)) {
		t.Fatal("tokens.json holds the token itself")
	}
	h, _ := tok.Hash.MarshalText()
	if !strings.Contains(string(b), string(h)) {
		t.Fatalf("tokens.json does not hold the token's hash: %s", b)
	}
	fi, err := os.Stat(filepath.Join(dir, "tokens.json"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		t.Errorf("tokens.json is readable by others: %v", fi.Mode())
	}
	left, _ := filepath.Glob(filepath.Join(dir, ".tmp-*"))
	if len(left) > 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
}

func TestAMissingDirectoryHoldsNoTokens(t *testing.T) {
	st := NewFileStore(filepath.Join(t.TempDir(), "absent"))
	ts, err := st.List(context.Background())
	if err != nil || len(ts) != 0 {
		t.Fatalf("list: %v, %v", ts, err)
	}
	if _, err := os.Stat(st.Dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("listing created the directory: %v", err)
	}
}

func TestConcurrentCreatesLoseNoToken(t *testing.T) {
	st := NewFileStore(t.TempDir())
	const n = 16
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			// A store of its own per goroutine, as separate processes would have.
			_, _, err := Issue(context.Background(), NewFileStore(st.Dir), "user"+string(rune('a'+i)), RolePlanner, time.Now())
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	ts, err := st.List(context.Background())
	if err != nil || len(ts) != n {
		t.Fatalf("%d tokens listed (%v), want %d", len(ts), err, n)
	}
}

func TestTokensAreRandomPrefixedAndLong(t *testing.T) {
	st := NewFileStore(t.TempDir())
	seen := map[string]bool{}
	for i := range 20 {
		secret, _, err := Issue(context.Background(), st, "t"+string(rune('a'+i)), RoleAdmin, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		body, ok := strings.CutPrefix(secret, Prefix)
		if !ok {
			t.Fatalf("token %q lacks the prefix %q", secret, Prefix)
		}
		raw, err := base64.RawURLEncoding.DecodeString(body)
		if err != nil || len(raw) != 32 {
			t.Fatalf("token body is not 32 bytes of base64url: %d bytes, %v", len(raw), err)
		}
		if seen[secret] {
			t.Fatal("the same token was made twice")
		}
		seen[secret] = true
	}
}

func TestIssueValidates(t *testing.T) {
	st := NewFileStore(t.TempDir())
	for _, c := range []struct {
		what string
		name string
		role Role
	}{
		{"an empty name", "", RolePlanner},
		{"a name with a space", "a b", RolePlanner},
		{"a name starting with a dash", "-x", RolePlanner},
		{"a name of 65 characters", strings.Repeat("n", 65), RolePlanner},
		{"a public token", "p", RolePublic},
		{"an unknown role", "u", Role(7)},
	} {
		if _, _, err := Issue(context.Background(), st, c.name, c.role, time.Now()); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", c.what, err)
		}
	}
	if ts, _ := st.List(context.Background()); len(ts) != 0 {
		t.Fatalf("refused tokens were stored: %v", ts)
	}
}

func TestParseRole(t *testing.T) {
	for _, name := range []string{"public", "planner", "admin"} {
		r, err := ParseRole(name)
		if err != nil || r.String() != name {
			t.Errorf("ParseRole(%q) = %v, %v", name, r, err)
		}
	}
	if _, err := ParseRole("root"); !errors.Is(err, ErrInvalid) {
		t.Errorf("ParseRole(root): %v", err)
	}
}

// testClock is a clock the test moves by hand.
type testClock struct{ t time.Time }

func (c *testClock) now() time.Time { return c.t }

func newTestVerifier(st Store) (*Verifier, *testClock) {
	c := &testClock{time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	v := NewVerifier(st, DefaultTTL, quiet)
	v.now = c.now
	return v, c
}

func wantRole(t *testing.T, v *Verifier, what, token string, role Role, ok bool) {
	t.Helper()
	r, got := v.Verify(context.Background(), token)
	if got != ok || (ok && r != role) {
		t.Fatalf("%s: Verify = %v, %v; want %v, %v", what, r, got, role, ok)
	}
}

func TestCreateVerifyRevokeRefused(t *testing.T) {
	st := NewFileStore(t.TempDir())
	v, clock := newTestVerifier(st)
	ctx := context.Background()
	planner, _, err := Issue(ctx, st, "alice", RolePlanner, clock.t)
	if err != nil {
		t.Fatal(err)
	}
	admin, _, err := Issue(ctx, st, "root", RoleAdmin, clock.t)
	if err != nil {
		t.Fatal(err)
	}
	wantRole(t, v, "a planner token", planner, RolePlanner, true)
	wantRole(t, v, "an admin token", admin, RoleAdmin, true)
	wantRole(t, v, "an unknown token", Prefix+"nope", RolePublic, false)
	wantRole(t, v, "an empty token", "", RolePublic, false)

	if _, err := st.Revoke(ctx, "alice", clock.t); err != nil {
		t.Fatal(err)
	}
	// Within the TTL the copy read before the revocation may still be used...
	clock.t = clock.t.Add(DefaultTTL - time.Millisecond)
	wantRole(t, v, "a just-revoked token within the TTL", planner, RolePlanner, true)
	// ...and no longer once it is older.
	clock.t = clock.t.Add(time.Millisecond)
	wantRole(t, v, "a revoked token after the TTL", planner, RolePublic, false)
	wantRole(t, v, "the admin token after alice's revocation", admin, RoleAdmin, true)

	// A token made while the server runs works once the copy is refreshed.
	later, _, err := Issue(ctx, st, "carol", RolePlanner, clock.t)
	if err != nil {
		t.Fatal(err)
	}
	clock.t = clock.t.Add(DefaultTTL)
	wantRole(t, v, "a token made after start", later, RolePlanner, true)
}

func TestATokenExpires(t *testing.T) {
	st := NewFileStore(t.TempDir())
	v, clock := newTestVerifier(st)
	ctx := context.Background()
	made := clock.t
	short, tok, err := IssueFor(ctx, st, "visitor", RolePlanner, made, 90*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	forever, _, err := IssueFor(ctx, st, "service", RoleAdmin, made, 0)
	if err != nil {
		t.Fatal(err)
	}
	yearly, yearTok, err := Issue(ctx, st, "alice", RolePlanner, made)
	if err != nil {
		t.Fatal(err)
	}
	// 2026-01-01 + 90 days = 2026-04-01 (31 + 28 + 31 = 90); + 365 days = 2027-01-01.
	expiry := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	if !tok.ExpiresAt.Equal(expiry) || !yearTok.ExpiresAt.Equal(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("expiries %v and %v, want %v and a year after %v", tok.ExpiresAt, yearTok.ExpiresAt, expiry, made)
	}
	clock.t = expiry.Add(-time.Microsecond)
	wantRole(t, v, "a token just before its expiry", short, RolePlanner, true)
	if tok.Expired(clock.t) {
		t.Error("Expired before the expiry")
	}

	clock.t = expiry
	_, err = v.Check(ctx, short)
	var expired *ExpiredError
	if !errors.As(err, &expired) || !errors.Is(err, ErrExpired) || !expired.At.Equal(expiry) ||
		err.Error() != "token expired on 2026-04-01T00:00:00Z" {
		t.Fatalf("a token at its expiry: %v, want it expired on 2026-04-01", err)
	}
	if !tok.Expired(clock.t) {
		t.Error("not Expired at the expiry")
	}
	wantRole(t, v, "a token at its expiry", short, RolePublic, false)
	wantRole(t, v, "a token without expiry", forever, RoleAdmin, true)
	wantRole(t, v, "a token of the default lifetime", yearly, RolePlanner, true)
	if _, err := v.Check(ctx, Prefix+"nope"); !errors.Is(err, ErrUnknownToken) {
		t.Errorf("an unknown token: %v, want ErrUnknownToken", err)
	}

	clock.t = time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)
	wantRole(t, v, "a token without expiry, decades later", forever, RoleAdmin, true)
	wantRole(t, v, "a token of the default lifetime, decades later", yearly, RolePublic, false)

	for _, d := range []time.Duration{-time.Hour, time.Millisecond} {
		if _, _, err := IssueFor(ctx, st, "bad", RolePlanner, made, d); !errors.Is(err, ErrInvalid) {
			t.Errorf("a lifetime of %s: %v, want ErrInvalid", d, err)
		}
	}
	// The expiry is kept in the file, read back by a fresh store.
	ts, err := NewFileStore(st.Dir).List(ctx)
	if err != nil || len(ts) != 3 || !ts[0].ExpiresAt.Equal(expiry) || !ts[1].ExpiresAt.IsZero() {
		t.Fatalf("stored tokens %+v, %v", ts, err)
	}
}

func TestFixedTokensNeedNoStore(t *testing.T) {
	v := NewVerifier(nil, DefaultTTL, quiet)
	v.AddFixed("from-the-command-line", RolePlanner)
	wantRole(t, v, "the fixed token", "from-the-command-line", RolePlanner, true)
	wantRole(t, v, "another token", "from-the-command-lin", RolePublic, false)
}

// failingStore fails to list until it is told to work.
type failingStore struct {
	Store
	fail bool
}

func (s *failingStore) List(ctx context.Context) ([]Token, error) {
	if s.fail {
		return nil, errors.New("database is down")
	}
	return s.Store.List(ctx)
}

func TestAnUnreadableStoreRefusesStoredTokensOnly(t *testing.T) {
	fs := NewFileStore(t.TempDir())
	st := &failingStore{Store: fs}
	v, clock := newTestVerifier(st)
	v.AddFixed("fixed", RolePlanner)
	stored, _, err := Issue(context.Background(), fs, "alice", RoleAdmin, clock.t)
	if err != nil {
		t.Fatal(err)
	}
	wantRole(t, v, "a stored token", stored, RoleAdmin, true)
	st.fail = true
	clock.t = clock.t.Add(DefaultTTL)
	wantRole(t, v, "a stored token while the store fails", stored, RolePublic, false)
	wantRole(t, v, "the fixed token while the store fails", "fixed", RolePlanner, true)
	st.fail = false
	clock.t = clock.t.Add(DefaultTTL)
	wantRole(t, v, "a stored token once the store works again", stored, RoleAdmin, true)
}

// TestOnlyTheWholeHashMatches: a hash that differs from the token's in its last byte alone,
// or in its first, is refused, so the comparison covers every byte.
func TestOnlyTheWholeHashMatches(t *testing.T) {
	const token = "ct_example"
	for _, i := range []int{0, len(Hash{}) - 1} {
		h := HashToken(token)
		h[i] ^= 1
		v := NewVerifier(nil, DefaultTTL, quiet)
		v.fixed = []grant{{hash: h, role: RoleAdmin}}
		wantRole(t, v, "a hash one bit off", token, RolePublic, false)
	}
}

// BenchmarkVerify shows the time to check a token does not depend on whether or where it
// matches: compare the sub-benchmarks' ns/op (every hash is compared with
// subtle.ConstantTimeCompare, and the loop never stops early).
func BenchmarkVerify(b *testing.B) {
	v := NewVerifier(nil, DefaultTTL, quiet)
	tokens := make([]string, 50)
	for i := range tokens {
		tokens[i] = fmt.Sprintf("%s%043d", Prefix, i) // one length: hashing costs the same
		v.AddFixed(tokens[i], RolePlanner)
	}
	for _, c := range []struct{ name, token string }{
		{"first", tokens[0]}, {"last", tokens[len(tokens)-1]}, {"unknown", fmt.Sprintf("%s%043d", Prefix, len(tokens))},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				v.Verify(context.Background(), c.token)
			}
		})
	}
}
