// Package pgtokens keeps bearer tokens in PostGIS, beside the city's layers, so every server
// on the same database honours the same tokens and a revocation reaches all of them. The
// table comes from the embedded migrations 0003_tokens.sql and 0004_token_expiry.sql of
// layers/postgis.
package pgtokens

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/citytwin/citytwin/access"
)

// Store keeps tokens in the access_tokens table. Every write is one statement or one
// transaction, committed before the method returns.
type Store struct {
	pool *pgxpool.Pool
}

var _ access.Store = (*Store)(nil)

// New returns the token store on a migrated database.
func New(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

const columns = `id, name, role, hash, created_at, expires_at, revoked_at`

func scanToken(row pgx.Row) (access.Token, error) {
	var t access.Token
	var role string
	var hash []byte
	var expires, revoked *time.Time
	if err := row.Scan(&t.ID, &t.Name, &role, &hash, &t.CreatedAt, &expires, &revoked); err != nil {
		return t, err
	}
	r, err := access.ParseRole(role)
	if err != nil {
		return t, fmt.Errorf("token %s: %w", t.ID, err)
	}
	if len(hash) != len(t.Hash) {
		return t, fmt.Errorf("token %s: hash of %d bytes, want %d", t.ID, len(hash), len(t.Hash))
	}
	t.Role = r
	copy(t.Hash[:], hash)
	t.CreatedAt = t.CreatedAt.UTC()
	if expires != nil {
		t.ExpiresAt = expires.UTC()
	}
	if revoked != nil {
		t.RevokedAt = revoked.UTC()
	}
	return t, nil
}

// Create implements access.Store.
func (s *Store) Create(ctx context.Context, t access.Token) error {
	var expires *time.Time // NULL: never
	if !t.ExpiresAt.IsZero() {
		expires = &t.ExpiresAt
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO access_tokens (id, name, role, hash, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, t.ID, t.Name, t.Role.String(), t.Hash[:], t.CreatedAt, expires)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" { // unique_violation
		if pe.ConstraintName == "access_tokens_active_name_idx" {
			return fmt.Errorf("%w: %q", access.ErrExists, t.Name)
		}
		return fmt.Errorf("%w: token id %s is taken", access.ErrExists, t.ID)
	}
	if err != nil {
		return fmt.Errorf("insert token: %w", err)
	}
	return nil
}

// List implements access.Store.
func (s *Store) List(ctx context.Context) ([]access.Token, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+columns+` FROM access_tokens ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	ts, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (access.Token, error) { return scanToken(r) })
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	return ts, nil
}

// Revoke implements access.Store. The ID is looked for first, then the name, in one
// statement, so a name that equals another token's ID cannot hide it. The outer
// "revoked_at IS NULL" is checked again after waiting for a concurrent revocation of the same
// row, so of two at once only one succeeds.
func (s *Store) Revoke(ctx context.Context, nameOrID string, at time.Time) (access.Token, error) {
	row := s.pool.QueryRow(ctx, `UPDATE access_tokens SET revoked_at = $2
		WHERE revoked_at IS NULL AND id = (SELECT id FROM access_tokens
		            WHERE revoked_at IS NULL AND (id = $1 OR name = $1)
		            ORDER BY id = $1 DESC LIMIT 1)
		RETURNING `+columns, nameOrID, at.UTC().Truncate(time.Microsecond))
	t, err := scanToken(row)
	if errors.Is(err, pgx.ErrNoRows) {
		return t, fmt.Errorf("%w: %q", access.ErrNotFound, nameOrID)
	}
	if err != nil {
		return t, fmt.Errorf("revoke token %q: %w", nameOrID, err)
	}
	return t, nil
}
