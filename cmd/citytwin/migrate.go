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
	store, err := postgis.Open(ctx, *database)
	if err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	defer store.Close()
	if err := postgis.Migrate(ctx, store.Pool()); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	fmt.Println("schema is up to date")
	return nil
}
