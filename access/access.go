// Package access owns who may do what: the roles, the bearer tokens that carry them, and where
// tokens are kept. A token is shown once when it is made; only its SHA-256 hash is stored, and
// a presented token is checked by comparing hashes in constant time.
package access

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"time"
)

// Role is what a caller may do. Higher roles include the lower ones.
type Role int

const (
	RolePublic  Role = iota // no token: public layers and fields, read-only APIs
	RolePlanner             // scenarios and restricted parcel fields
	RoleAdmin               // import and tokens
)

var roleNames = [...]string{"public", "planner", "admin"}

func (r Role) String() string {
	if r < 0 || int(r) >= len(roleNames) {
		return fmt.Sprintf("Role(%d)", int(r))
	}
	return roleNames[r]
}

// ParseRole reads a role by name.
func ParseRole(s string) (Role, error) {
	for i, n := range roleNames {
		if n == s {
			return Role(i), nil
		}
	}
	return RolePublic, fmt.Errorf("%w: role %q: want planner or admin", ErrInvalid, s)
}

// MarshalText stores a role by name, so stored tokens read the same if roles are added.
func (r Role) MarshalText() ([]byte, error) {
	if r < 0 || int(r) >= len(roleNames) {
		return nil, fmt.Errorf("role %d has no name", int(r))
	}
	return []byte(r.String()), nil
}

// UnmarshalText reads a role stored by MarshalText.
func (r *Role) UnmarshalText(b []byte) error {
	v, err := ParseRole(string(b))
	*r = v
	return err
}

// Errors callers branch on.
var (
	ErrInvalid  = errors.New("invalid")
	ErrNotFound = errors.New("no such active token")
	ErrExists   = errors.New("an active token has this name")
	// ErrUnknownToken is a presented token that is not one of the active tokens.
	ErrUnknownToken = errors.New("unknown or revoked token")
	// ErrExpired is a presented token past its expiry; the error is an *ExpiredError.
	ErrExpired = errors.New("token expired")
)

// ExpiredError is a presented token past its expiry, and when that was.
type ExpiredError struct {
	At time.Time
}

func (e *ExpiredError) Error() string {
	return "token expired on " + e.At.UTC().Format(time.RFC3339)
}

// Is makes errors.Is(err, ErrExpired) true.
func (e *ExpiredError) Is(target error) bool { return target == ErrExpired }

// DefaultLifetime is how long a token made by Issue grants its role: a year. A token left in
// an old script or on a departed colleague's laptop stops working by itself within a year,
// while its holder renews it no more than once a year; IssueFor makes tokens of any lifetime,
// or that never expire (a service's, rotated by other means).
const DefaultLifetime = 365 * 24 * time.Hour

// Token is a stored token: everything but the token itself, which is never kept.
type Token struct {
	ID        string    `json:"id"` // public handle, for listing and revoking
	Name      string    `json:"name"`
	Role      Role      `json:"role"`
	Hash      Hash      `json:"hash"`
	CreatedAt time.Time `json:"created_at"`
	// ExpiresAt is when the token stops granting its role; zero: never.
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	// RevokedAt is zero while the token is active. Revoked tokens stay listed, so there is a
	// record of who held access, and when.
	RevokedAt time.Time `json:"revoked_at,omitzero"`
}

// Active reports whether the token has not been revoked. An active token may have expired
// (Expired): it keeps its name, among the active tokens, until it is revoked.
func (t Token) Active() bool { return t.RevokedAt.IsZero() }

// Expired reports whether the token's expiry has come at time now.
func (t Token) Expired(now time.Time) bool { return !t.ExpiresAt.IsZero() && !now.Before(t.ExpiresAt) }

// Store keeps tokens.
type Store interface {
	// Create stores a new token; ErrExists when an active token already has its name.
	Create(ctx context.Context, t Token) error
	// List returns every token, revoked ones included, oldest first.
	List(ctx context.Context) ([]Token, error)
	// Revoke ends the active token whose ID, or else whose name, is nameOrID, and returns it
	// as revoked; ErrNotFound when there is none.
	Revoke(ctx context.Context, nameOrID string, at time.Time) (Token, error)
}

// Prefix starts every token, so a leaked one is recognisable (and secret scanners can find it).
const Prefix = "ct_"

// tokenBytes is the randomness in a token: 256 bits, beyond any guessing.
const tokenBytes = 32

// Hash is the SHA-256 of a token. Tokens are random and long, so a fast unsalted hash is
// enough: there is no dictionary to try against it.
type Hash [sha256.Size]byte

// HashToken returns the hash of a token as it is stored.
func HashToken(token string) Hash { return sha256.Sum256([]byte(token)) }

// MarshalText writes the hash in hex.
func (h Hash) MarshalText() ([]byte, error) { return []byte(hex.EncodeToString(h[:])), nil }

// UnmarshalText reads a hash written by MarshalText.
func (h *Hash) UnmarshalText(b []byte) error {
	if hex.DecodedLen(len(b)) != len(h) {
		return fmt.Errorf("%w: token hash has %d hex digits, want %d", ErrInvalid, len(b), 2*len(h))
	}
	_, err := hex.Decode(h[:], b)
	return err
}

// newToken returns a fresh random token: Prefix and 32 random bytes in unpadded base64url.
func newToken() (string, error) {
	b := make([]byte, tokenBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random token: %w", err)
	}
	return Prefix + base64.RawURLEncoding.EncodeToString(b), nil
}

// newID returns a random public handle of a token, unrelated to the token itself.
func newID() (string, error) {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random token id: %w", err)
	}
	return hex.EncodeToString(b), nil
}

var validName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$`)

// CheckName verifies a token's name: 1 to 64 letters, digits and . _ @ -, starting with a
// letter or digit, so it prints in a list and is typed on a command line without quoting.
func CheckName(name string) error {
	if !validName.MatchString(name) {
		return fmt.Errorf("%w: token name %q: use 1 to 64 letters, digits, '.', '_', '@' or '-', starting with a letter or digit", ErrInvalid, name)
	}
	return nil
}

// Issue makes a token of a role that expires after DefaultLifetime, stores its hash and
// returns the token, which exists nowhere else: the caller shows it once. Only planner and
// admin tokens can be made; the public role needs none.
func Issue(ctx context.Context, st Store, name string, role Role, now time.Time) (string, Token, error) {
	return IssueFor(ctx, st, name, role, now, DefaultLifetime)
}

// IssueFor is Issue with a lifetime of the caller's: the token expires that long after now;
// 0: never. A lifetime is at least a second (times are kept to the microsecond, and an
// expiry must come after the creation).
func IssueFor(ctx context.Context, st Store, name string, role Role, now time.Time, lifetime time.Duration) (string, Token, error) {
	if err := CheckName(name); err != nil {
		return "", Token{}, err
	}
	if lifetime < 0 || (lifetime > 0 && lifetime < time.Second) {
		return "", Token{}, fmt.Errorf("%w: lifetime %s: want one of a second or more, or 0 for none", ErrInvalid, lifetime)
	}
	if role != RolePlanner && role != RoleAdmin {
		return "", Token{}, fmt.Errorf("%w: role %s: want planner or admin", ErrInvalid, role)
	}
	secret, err := newToken()
	if err != nil {
		return "", Token{}, err
	}
	id, err := newID()
	if err != nil {
		return "", Token{}, err
	}
	t := Token{ID: id, Name: name, Role: role, Hash: HashToken(secret), CreatedAt: now.UTC().Truncate(time.Microsecond)}
	if lifetime > 0 {
		t.ExpiresAt = t.CreatedAt.Add(lifetime.Truncate(time.Microsecond))
	}
	if err := st.Create(ctx, t); err != nil {
		return "", Token{}, fmt.Errorf("store token %q: %w", name, err)
	}
	return secret, t, nil
}
