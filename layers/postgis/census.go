package postgis

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/citytwin/citytwin/layers"
)

// censusVersion is the data version an import of the census bumps: servers reload the model
// and calibrate its residents again.
const censusVersion = "census"

// Census implements layers.CensusStore: the imported census, nil when none was.
func (s *Store) Census(ctx context.Context) (*layers.Census, error) {
	rows, err := s.pool.Query(ctx, `SELECT district, population, dwellings, households, coalesce(year, 0), source
		FROM census ORDER BY district = '*' DESC, district`)
	if err != nil {
		return nil, fmt.Errorf("read census: %w", err)
	}
	c := &layers.Census{}
	var r layers.CensusRow
	if _, err := pgx.ForEachRow(rows, []any{&r.District, &r.Population, &r.Dwellings, &r.Households, &r.Year, &r.Source}, func() error {
		row := r
		c.Rows = append(c.Rows, row)
		r.Dwellings, r.Households = nil, nil // fresh pointers for the next row
		return nil
	}); err != nil {
		return nil, fmt.Errorf("read census: %w", err)
	}
	if len(c.Rows) == 0 {
		return nil, nil
	}
	return c, nil
}

// ImportCensus implements layers.CensusStore: every row replaced in one transaction, and the
// data version "census" bumped and announced on VersionsChannel at commit.
func (s *Store) ImportCensus(ctx context.Context, c *layers.Census) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "DELETE FROM census"); err != nil {
			return fmt.Errorf("replace census: %w", err)
		}
		rows := make([][]any, len(c.Rows))
		for i, r := range c.Rows {
			var year *int
			if r.Year != 0 {
				year = &r.Year
			}
			rows[i] = []any{r.District, r.Population, r.Dwellings, r.Households, year, r.Source}
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"census"}, []string{"district", "population", "dwellings", "households", "year", "source"},
			pgx.CopyFromRows(rows)); err != nil {
			return fmt.Errorf("import census: %w", err)
		}
		_, err := bumpVersions(ctx, tx, []string{censusVersion})
		return err
	})
}
