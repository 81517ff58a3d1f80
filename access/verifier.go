package access

import (
	"context"
	"crypto/subtle"
	"log/slog"
	"sync"
	"time"
)

// DefaultTTL is how long a Verifier trusts its copy of the stored tokens: a revoked token
// stops working within this time in every running server, at the cost of one read of the
// store per TTL while tokens are being presented.
const DefaultTTL = 2 * time.Second

// loadTimeout bounds one read of the store, so a stalled database delays token checks by at
// most this long.
const loadTimeout = 3 * time.Second

// Verifier maps a presented bearer token to its role: fixed tokens given at start (a
// command-line planner token) and the active tokens of a Store, re-read when its copy is
// older than TTL.
type Verifier struct {
	store  Store
	ttl    time.Duration
	fixed  []grant
	log    *slog.Logger
	now    func() time.Time // the clock; tests move it
	mu     sync.Mutex       // guards stored and loaded, and makes one reload at a time
	stored []grant
	loaded time.Time // zero: never loaded
}

type grant struct {
	hash    Hash
	role    Role
	expires time.Time // zero: never
}

// NewVerifier returns a verifier of the store's tokens (store may be nil: fixed tokens only).
func NewVerifier(store Store, ttl time.Duration, log *slog.Logger) *Verifier {
	if log == nil {
		log = slog.Default()
	}
	return &Verifier{store: store, ttl: ttl, log: log, now: time.Now}
}

// AddFixed makes token grant role for the life of the verifier; call before serving.
func (v *Verifier) AddFixed(token string, role Role) {
	v.fixed = append(v.fixed, grant{hash: HashToken(token), role: role})
}

// Verify returns the role of a token; ok is false for an unknown, revoked or expired token.
func (v *Verifier) Verify(ctx context.Context, token string) (Role, bool) {
	role, err := v.Check(ctx, token)
	return role, err == nil
}

// Check returns the role of a token, or why it grants none: ErrUnknownToken for a token
// unknown or revoked, an *ExpiredError (errors.Is ErrExpired) for one past its expiry. Every
// known hash is compared, in constant time, so the time taken does not tell which token (if
// any) matched or how much of a hash did.
func (v *Verifier) Check(ctx context.Context, token string) (Role, error) {
	h := HashToken(token)
	var match grant
	found := 0
	check := func(gs []grant) {
		for _, g := range gs {
			if subtle.ConstantTimeCompare(h[:], g.hash[:]) == 1 {
				match, found = g, 1
			}
		}
	}
	check(v.fixed)
	check(v.current(ctx))
	switch {
	case found == 0:
		return RolePublic, ErrUnknownToken
	case !match.expires.IsZero() && !v.now().Before(match.expires):
		return RolePublic, &ExpiredError{At: match.expires}
	}
	return match.role, nil
}

// current returns the stored tokens' grants, re-reading the store when the copy is stale.
// A failed read refuses every stored token until the next read succeeds: a token that may
// have been revoked is not honoured on an old copy.
func (v *Verifier) current(ctx context.Context) []grant {
	if v.store == nil {
		return nil
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	now := v.now()
	if !v.loaded.IsZero() && now.Sub(v.loaded) < v.ttl {
		return v.stored
	}
	// The read serves every waiting request, so it does not end with the one that started it.
	lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), loadTimeout)
	defer cancel()
	ts, err := v.store.List(lctx)
	v.loaded = now
	if err != nil {
		v.stored = nil
		v.log.Warn("reading stored tokens failed: stored tokens are refused until a read succeeds", "err", err)
		return nil
	}
	v.stored = v.stored[:0:0]
	for _, t := range ts {
		if t.Active() { // expired ones too: Check tells them apart
			v.stored = append(v.stored, grant{hash: t.Hash, role: t.Role, expires: t.ExpiresAt})
		}
	}
	return v.stored
}
