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
	admin := strings.TrimSpace(cli("create", "--name", "ops", "--role", "admin"))
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
		for _, want := range []string{tk.ID, tk.Name, tk.Role.String()} {
			if !strings.Contains(list, want) {
				t.Errorf("list lacks %q:\n%s", want, list)
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
