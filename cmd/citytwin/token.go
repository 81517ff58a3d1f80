package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"text/tabwriter"
	"time"

	"github.com/citytwin/citytwin/access"
	"github.com/citytwin/citytwin/access/pgtokens"
	"github.com/citytwin/citytwin/layers"
	"github.com/citytwin/citytwin/layers/postgis"
	"github.com/citytwin/citytwin/web"
)

const tokenUsage = `Usage:
  citytwin token create --role planner|admin --name NAME [--database URL | --data-dir DIR]
  citytwin token list [--database URL | --data-dir DIR]
  citytwin token revoke [--database URL | --data-dir DIR] NAME|ID

create prints a new bearer token once; only its SHA-256 hash is stored (in PostGIS with
--database, else in DIR/tokens.json). Clients send it as "Authorization: Bearer <token>".
list shows every token's id, name, role and dates, never a token. revoke ends a token; running
servers refuse it within a few seconds.
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
	var role, name string
	switch sub {
	case "create":
		fs.StringVar(&role, "role", "planner", "role of the token: planner or admin")
		fs.StringVar(&name, "name", "", "who or what holds the token (1-64 letters, digits, '.', '_', '@', '-')")
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
	st, closeStore, err := openTokenStore(ctx, *database, *dataDir)
	if err != nil {
		return err
	}
	defer closeStore()
	switch sub {
	case "create":
		return createToken(ctx, st, name, role, stdout, stderr)
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

func createToken(ctx context.Context, st access.Store, name, roleName string, stdout, stderr io.Writer) error {
	if name == "" {
		return errors.New("token create needs --name")
	}
	role, err := access.ParseRole(roleName)
	if err != nil {
		return err
	}
	secret, t, err := access.Issue(ctx, st, name, role, time.Now())
	if err != nil {
		return err
	}
	// The token alone on stdout, so a script can capture it; the note on stderr.
	fmt.Fprintln(stdout, secret)
	fmt.Fprintf(stderr, "made %s token %q (id %s). It is shown only this once: store it now. "+
		"Send it as: Authorization: Bearer <token>\n", t.Role, t.Name, t.ID)
	return nil
}

// listTokens prints one line per token: never the token, never its hash.
func listTokens(ctx context.Context, st access.Store, stdout io.Writer) error {
	ts, err := st.List(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tROLE\tCREATED\tREVOKED")
	for _, t := range ts {
		revoked := "-"
		if !t.Active() {
			revoked = t.RevokedAt.Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", t.ID, t.Name, t.Role, t.CreatedAt.Format(time.RFC3339), revoked)
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
