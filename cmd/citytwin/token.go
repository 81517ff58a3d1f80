package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/citytwin/citytwin/access"
	"github.com/citytwin/citytwin/access/pgtokens"
	"github.com/citytwin/citytwin/layers"
	"github.com/citytwin/citytwin/layers/postgis"
	"github.com/citytwin/citytwin/web"
)

const tokenUsage = `Usage:
  citytwin token create --role planner|admin --name NAME [--expires 365d|90d|12h|never] [--database URL | --data-dir DIR]
  citytwin token list [--database URL | --data-dir DIR]
  citytwin token revoke [--database URL | --data-dir DIR] NAME|ID

create prints a new bearer token once; only its SHA-256 hash is stored (in PostGIS with
--database, else in DIR/tokens.json). Clients send it as "Authorization: Bearer <token>".
It expires after --expires (default 365d; "never" for a token that does not), after which
servers answer 401 "token expired on DATE"; an expired token keeps its name until it is
revoked. list shows every token's id, name, role and dates, never a token. revoke ends a
token; running servers refuse it within a few seconds.
`

func runToken(ctx context.Context, args []string) error {
	return tokenCommand(ctx, args, os.Stdout, os.Stderr)
}

// tokenCommand runs "citytwin token ...", writing results to stdout and notes to stderr.
func tokenCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, tokenUsage)
		return nil
	}
	sub, args := args[0], args[1:]
	fs := flag.NewFlagSet("token "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintf(stderr, "%s\nFlags:\n", tokenUsage); fs.PrintDefaults() }
	database := fs.String("database", "", "PostgreSQL/PostGIS URL (also DATABASE_URL); empty: the data directory")
	dataDir := fs.String("data-dir", "citytwin-data", "the memory mode's data directory, used without --database")
	var role, name, expires string
	switch sub {
	case "create":
		fs.StringVar(&role, "role", "planner", "role of the token: planner or admin")
		fs.StringVar(&name, "name", "", "who or what holds the token (1-64 letters, digits, '.', '_', '@', '-')")
		fs.StringVar(&expires, "expires", "365d", `how long the token grants its role: days ("90d") or a Go duration ("12h"); "never": for good`)
	case "list", "revoke":
	default:
		fmt.Fprint(stderr, tokenUsage)
		return fmt.Errorf("unknown token command %q: want create, list or revoke", sub)
	}
	positional, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	wantArgs := 0
	if sub == "revoke" {
		wantArgs = 1
	}
	if len(positional) != wantArgs {
		fs.Usage()
		return fmt.Errorf("token %s takes %d argument(s), got %q", sub, wantArgs, positional)
	}
	var lifetime time.Duration
	if sub == "create" {
		if lifetime, err = parseLifetime(expires); err != nil {
			return err
		}
	}
	st, closeStore, err := openTokenStore(ctx, *database, *dataDir)
	if err != nil {
		return err
	}
	defer closeStore()
	switch sub {
	case "create":
		return createToken(ctx, st, name, role, lifetime, stdout, stderr)
	case "list":
		return listTokens(ctx, st, stdout)
	default:
		t, err := st.Revoke(ctx, positional[0], time.Now())
		if err != nil {
			return fmt.Errorf("revoke: %w", err)
		}
		fmt.Fprintf(stdout, "revoked %s token %q (id %s)\n", t.Role, t.Name, t.ID)
		return nil
	}
}

// parseInterspersed parses flags that may come before or after the arguments ("revoke alice
// --data-dir d" as well as "revoke --data-dir d alice"), then the environment, and returns the
// arguments.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			break
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
	return positional, parseFlags(fs, nil)
}

// parseLifetime reads --expires: "never" (0: no expiry), a whole number of days ("90d"), or a
// Go duration ("36h"); it must be positive.
func parseLifetime(s string) (time.Duration, error) {
	if s == "never" {
		return 0, nil
	}
	var d time.Duration
	var err error
	if days, ok := strings.CutSuffix(s, "d"); ok {
		var n int
		if n, err = strconv.Atoi(days); err == nil {
			if n > 100*365 {
				return 0, fmt.Errorf("--expires %q: at most %d days, or \"never\"", s, 100*365)
			}
			d = time.Duration(n) * 24 * time.Hour
		}
	} else {
		d, err = time.ParseDuration(s)
	}
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("--expires %q: want a positive number of days (\"90d\"), a duration (\"12h\") or \"never\"", s)
	}
	return d, nil
}

func createToken(ctx context.Context, st access.Store, name, roleName string, lifetime time.Duration, stdout, stderr io.Writer) error {
	if name == "" {
		return errors.New("token create needs --name")
	}
	role, err := access.ParseRole(roleName)
	if err != nil {
		return err
	}
	secret, t, err := access.IssueFor(ctx, st, name, role, time.Now(), lifetime)
	if err != nil {
		return err
	}
	expiry := "It never expires"
	if !t.ExpiresAt.IsZero() {
		expiry = "It expires on " + t.ExpiresAt.Format(time.RFC3339)
	}
	// The token alone on stdout, so a script can capture it; the note on stderr.
	fmt.Fprintln(stdout, secret)
	fmt.Fprintf(stderr, "made %s token %q (id %s). %s. It is shown only this once: store it now. "+
		"Send it as: Authorization: Bearer <token>\n", t.Role, t.Name, t.ID, expiry)
	return nil
}

// listTokens prints one line per token: never the token, never its hash. EXPIRES is "never"
// or the expiry, marked "(expired)" once past.
func listTokens(ctx context.Context, st access.Store, stdout io.Writer) error {
	ts, err := st.List(ctx)
	if err != nil {
		return err
	}
	now := time.Now()
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tROLE\tCREATED\tEXPIRES\tREVOKED")
	for _, t := range ts {
		expires, revoked := "never", "-"
		if !t.ExpiresAt.IsZero() {
			expires = t.ExpiresAt.Format(time.RFC3339)
			if t.Expired(now) {
				expires += " (expired)"
			}
		}
		if !t.Active() {
			revoked = t.RevokedAt.Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Name, t.Role, t.CreatedAt.Format(time.RFC3339), expires, revoked)
	}
	return tw.Flush()
}

// openTokenStore opens where tokens live: PostGIS (migrated) when a database is given, else
// the data directory.
func openTokenStore(ctx context.Context, database, dataDir string) (access.Store, func(), error) {
	if database == "" {
		return serverTokens(nil, dataDir), func() {}, nil
	}
	pg, err := openMigrated(ctx, database, postgis.Options{})
	if err != nil {
		return nil, nil, err
	}
	return serverTokens(pg, dataDir), pg.Close, nil
}

// serverTokens is where the server keeps its tokens: beside the layers, in PostGIS, or in the
// data directory.
func serverTokens(store layers.Store, dataDir string) access.Store {
	if pg, ok := store.(*postgis.Store); ok {
		return pgtokens.New(pg.Pool())
	}
	return access.NewFileStore(dataDir)
}

// tokenVerifier checks the server's bearer tokens: the stored ones and the --planner-token,
// when given.
func tokenVerifier(st access.Store, plannerToken string, log *slog.Logger) web.TokenVerifier {
	v := access.NewVerifier(st, access.DefaultTTL, log)
	if plannerToken != "" {
		v.AddFixed(plannerToken, access.RolePlanner)
	}
	return v
}
