package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"flag"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/citytwin/citytwin/access"
	"github.com/citytwin/citytwin/access/storetest"
)

var quietLog = slog.New(slog.DiscardHandler)

// tokenCLI runs "citytwin token args..." in-process and returns what it printed.
func tokenCLI(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err = tokenCommand(context.Background(), args, &out, &errOut)
	return out.String(), errOut.String(), err
}

func mustTokenCLI(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, err := tokenCLI(t, args...)
	if err != nil {
		t.Fatalf("token %v: %v\n%s", args, err, errOut)
	}
	return out
}

func TestTokenCommandsOnTheDataDirectory(t *testing.T) {
	noDatabase(t)
	testTokenCommands(t, "--data-dir", filepath.Join(t.TempDir(), "citytwin-data"))
}

func TestTokenCommandsOnPostGIS(t *testing.T) {
	testTokenCommands(t, "--database", storetest.Schema(t))
}

// testTokenCommands: create prints a token that verifies with its role; list shows it by
// name, role and id but never the token or its hash; revoke by name or id ends it.
func testTokenCommands(t *testing.T, where ...string) {
	ctx := context.Background()
	cli := func(sub string, args ...string) string {
		t.Helper()
		all := append([]string{sub}, where...)
		return mustTokenCLI(t, append(all, args...)...)
	}
	planner := strings.TrimSpace(cli("create", "--role", "planner", "--name", "alice"))
	admin := strings.TrimSpace(cli("create", "--name", "ops", "--role", "admin", "--expires", "never"))
	for _, tok := range []string{planner, admin} {
		if !strings.HasPrefix(tok, access.Prefix) || strings.ContainsAny(tok, " \n") {
			t.Fatalf("create printed %q, want the token alone", tok)
		}
	}

	st, closeStore, err := openTokenStore(ctx, flagValue(where, "--database"), flagValue(where, "--data-dir"))
	if err != nil {
		t.Fatal(err)
	}
	defer closeStore()
	v := access.NewVerifier(st, 0, quietLog)
	if r, ok := v.Verify(ctx, planner); !ok || r != access.RolePlanner {
		t.Fatalf("the planner token verifies as %v, %v", r, ok)
	}
	if r, ok := v.Verify(ctx, admin); !ok || r != access.RoleAdmin {
		t.Fatalf("the admin token verifies as %v, %v", r, ok)
	}

	list := cli("list")
	ts, err := st.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, tk := range ts {
		// alice's token has the default lifetime, 365 days; ops's never expires.
		expires := "never"
		if tk.Name == "alice" {
			if want := tk.CreatedAt.Add(365 * 24 * time.Hour); !tk.ExpiresAt.Equal(want) {
				t.Errorf("alice's token expires on %v, want %v", tk.ExpiresAt, want)
			}
			expires = tk.ExpiresAt.Format(time.RFC3339)
		} else if !tk.ExpiresAt.IsZero() {
			t.Errorf("%s's token made with --expires never expires on %v", tk.Name, tk.ExpiresAt)
		}
		line := lineOf(list, tk.ID)
		for _, want := range []string{tk.ID, tk.Name, tk.Role.String(), expires} {
			if !strings.Contains(line, want) {
				t.Errorf("list's line of %s lacks %q:\n%s", tk.Name, want, list)
			}
		}
		if strings.Contains(list, hex.EncodeToString(tk.Hash[:])) || strings.Contains(list, base64.StdEncoding.EncodeToString(tk.Hash[:])) {
			t.Errorf("list shows a token's hash:\n%s", list)
		}
	}
	for _, tok := range []string{planner, admin} {
		body := strings.TrimPrefix(tok, access.Prefix)
		if strings.Contains(list, body[:8]) {
			t.Errorf("list shows (part of) a token:\n%s", list)
		}
	}

	// The name may come after the flags or before them.
	if out := mustTokenCLI(t, append([]string{"revoke", "alice"}, where...)...); !strings.Contains(out, "alice") {
		t.Errorf("revoke says %q", out)
	}
	if _, ok := v.Verify(ctx, planner); ok {
		t.Fatal("a revoked token still verifies")
	}
	var adminID string
	for _, tk := range ts {
		if tk.Name == "ops" {
			adminID = tk.ID
		}
	}
	cli("revoke", adminID)
	if _, ok := v.Verify(ctx, admin); ok {
		t.Fatal("a token revoked by id still verifies")
	}
	if _, _, err := tokenCLI(t, append([]string{"revoke"}, append(where, "alice")...)...); !errors.Is(err, access.ErrNotFound) {
		t.Fatalf("revoking alice twice: %v, want ErrNotFound", err)
	}
	if list := cli("list"); strings.Count(list, "\n") != 3 {
		t.Errorf("list after revoking shows %d lines, want a header and both tokens:\n%s", strings.Count(list, "\n"), list)
	}
}

// lineOf returns the line of text that contains s.
func lineOf(text, s string) string {
	for line := range strings.Lines(text) {
		if strings.Contains(line, s) {
			return line
		}
	}
	return ""
}

func TestTokenListMarksExpiredTokens(t *testing.T) {
	noDatabase(t)
	dir := filepath.Join(t.TempDir(), "d")
	// Made two days ago for a day: expired yesterday.
	_, tok, err := access.IssueFor(context.Background(), access.NewFileStore(dir), "visitor", access.RolePlanner, time.Now().Add(-48*time.Hour), 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	list := mustTokenCLI(t, "list", "--data-dir", dir)
	if !strings.Contains(list, "EXPIRES") || !strings.Contains(lineOf(list, tok.ID), tok.ExpiresAt.Format(time.RFC3339)+" (expired)") {
		t.Errorf("list does not show the token expired on %v:\n%s", tok.ExpiresAt, list)
	}
}

func TestTokenLifetimes(t *testing.T) {
	for _, c := range []struct {
		in   string
		want time.Duration // 0 with ok: never
		ok   bool
	}{
		{"90d", 90 * 24 * time.Hour, true},
		{"365d", 365 * 24 * time.Hour, true},
		{"12h", 12 * time.Hour, true},
		{"never", 0, true},
		{"36500d", 36500 * 24 * time.Hour, true}, // 100 years of 365 days
		{"36501d", 0, false},
		{"0d", 0, false},
		{"-5d", 0, false},
		{"0s", 0, false},
		{"soon", 0, false},
		{"d", 0, false},
	} {
		got, err := parseLifetime(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("--expires %q: %v, %v; want %v (ok %v)", c.in, got, err, c.want, c.ok)
		}
	}
	noDatabase(t)
	if _, _, err := tokenCLI(t, "create", "--data-dir", t.TempDir(), "--name", "x", "--expires", "soon"); err == nil || !strings.Contains(err.Error(), "--expires") {
		t.Errorf("create --expires soon: %v, want an error naming --expires", err)
	}
}

// noDatabase clears DATABASE_URL, which the test command sets and which would otherwise send
// the commands to PostGIS whatever --data-dir says (as it does for import).
func noDatabase(t *testing.T) {
	t.Setenv("DATABASE_URL", "")
	t.Setenv("CITYTWIN_DATABASE", "")
}

func flagValue(args []string, name string) string {
	for i := 0; i+1 < len(args); i++ {
		if args[i] == name {
			return args[i+1]
		}
	}
	return ""
}

func TestTokenCommandsRefuseBadInput(t *testing.T) {
	noDatabase(t)
	dir := filepath.Join(t.TempDir(), "d")
	for _, c := range []struct {
		what string
		args []string
		want error
	}{
		{"no name", []string{"create", "--data-dir", dir}, nil},
		{"an unknown role", []string{"create", "--data-dir", dir, "--name", "x", "--role", "root"}, access.ErrInvalid},
		{"a public token", []string{"create", "--data-dir", dir, "--name", "x", "--role", "public"}, access.ErrInvalid},
		{"a bad name", []string{"create", "--data-dir", dir, "--name", "two words"}, access.ErrInvalid},
		{"revoke without a name", []string{"revoke", "--data-dir", dir}, nil},
		{"an unknown subcommand", []string{"rotate"}, nil},
		{"an unknown flag", []string{"list", "--bogus"}, nil},
	} {
		out, _, err := tokenCLI(t, c.args...)
		if err == nil || (c.want != nil && !errors.Is(err, c.want)) {
			t.Errorf("%s: err %v, want %v", c.what, err, c.want)
		}
		if strings.HasPrefix(strings.TrimSpace(out), access.Prefix) {
			t.Errorf("%s: a token was printed: %q", c.what, out)
		}
	}
	if out := mustTokenCLI(t, "list", "--data-dir", dir); strings.Count(out, "\n") != 1 {
		t.Errorf("refused creates stored tokens:\n%s", out)
	}
	if _, _, err := tokenCLI(t, "list", "-h"); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h: %v, want flag.ErrHelp (exit 0)", err)
	}
}
