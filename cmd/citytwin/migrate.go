package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/citytwin/citytwin/layers/postgis"
)

func runMigrate(ctx context.Context, args []string) error {
	fs := newFlagSet("migrate", "migrate --database URL")
	database := fs.String("database", "", "PostgreSQL/PostGIS URL (also DATABASE_URL)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *database == "" {
		return errors.New("migrate needs --database or DATABASE_URL")
	}
	store, err := openMigrated(ctx, *database, postgis.Options{})
	if err != nil {
		return err
	}
	store.Close()
	fmt.Println("schema is up to date")
	return nil
}

// openMigrated opens the PostGIS store at url and brings its schema up to date, as every
// command that uses the database does first.
func openMigrated(ctx context.Context, url string, o postgis.Options) (*postgis.Store, error) {
	pg, err := postgis.OpenWith(ctx, url, o)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	if err := postgis.Migrate(ctx, pg.Pool()); err != nil {
		pg.Close()
		return nil, fmt.Errorf("migrate: %w", err)
	}
	return pg, nil
}
