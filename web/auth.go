package web

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/citytwin/citytwin/access"
)

// Role is what a caller may do. Higher roles include the lower ones. The roles belong to
// package access, which also keeps the tokens that carry them.
type Role = access.Role

const (
	RolePublic  = access.RolePublic  // no token: public layers and fields, read-only APIs
	RolePlanner = access.RolePlanner // scenarios and restricted parcel fields
	RoleAdmin   = access.RoleAdmin   // import and tokens
)

// TokenVerifier maps a bearer token to its role, or says why it grants none:
// access.ErrUnknownToken, or an *access.ExpiredError for a token past its expiry (any other
// error is taken as an unknown token). access.Verifier is the one the server runs with;
// StaticTokens serves tests.
type TokenVerifier interface {
	Check(ctx context.Context, token string) (Role, error)
}

// StaticTokens verifies tokens against fixed SHA-256 hashes, in constant time.
type StaticTokens []StaticToken

// StaticToken is one configured token, kept only as its hash.
type StaticToken struct {
	Hash [sha256.Size]byte
	Role Role
}

// NewStaticToken hashes a token for StaticTokens.
func NewStaticToken(token string, role Role) StaticToken {
	return StaticToken{Hash: sha256.Sum256([]byte(token)), Role: role}
}

// Check implements TokenVerifier; these tokens never expire. Every configured hash is
// compared, so the time taken does not say which one matched.
func (ts StaticTokens) Check(_ context.Context, token string) (Role, error) {
	h := sha256.Sum256([]byte(token))
	role, found := RolePublic, 0
	for _, t := range ts {
		if subtle.ConstantTimeCompare(h[:], t.Hash[:]) == 1 {
			role, found = t.Role, 1
		}
	}
	if found == 0 {
		return RolePublic, access.ErrUnknownToken
	}
	return role, nil
}

type roleKey struct{}

// roleOf returns the caller's role as established by the auth middleware.
func roleOf(ctx context.Context) Role {
	r, _ := ctx.Value(roleKey{}).(Role)
	return r
}

// authenticate reads an optional bearer token and records the caller's role. A token that is
// sent but unknown is refused with 401 even on public routes, so a client learns at once that
// its token is wrong.
//
// Failed authentications are counted per client address (clientIP) against
// Options.AuthFailureRate: once a client has spent its burst of failures, every request of
// its that carries an Authorization header is answered 429 with Retry-After, before its
// token is looked at (a right guess then would otherwise tell itself apart), until the
// bucket refills. Requests without a token are not concerned.
func (s *Server) authenticate(next http.Handler) http.Handler {
	failures := newClientLimiter(s.opts.AuthFailureRate, MaxRateClients, time.Now)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := r.Header.Get("Authorization")
		if h == "" {
			next.ServeHTTP(w, r)
			return
		}
		client := clientIP(r, s.opts.TrustProxy)
		if blocked, wait := failures.blocked(client); blocked {
			rateLimited(w, wait, "too many failed authentications from this client")
			return
		}
		refuse := func(msg string) {
			failures.allow(client) // counts the failure
			unauthorized(w, msg)
		}
		token, ok := bearerToken(h)
		if !ok || s.opts.Tokens == nil {
			refuse("send a token as Authorization: Bearer <token>")
			return
		}
		role, err := s.opts.Tokens.Check(r.Context(), token)
		var expired *access.ExpiredError
		switch {
		case errors.As(err, &expired):
			refuse(expired.Error() + "; ask an admin for a new one")
			return
		case err != nil:
			refuse("unknown or revoked token")
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), roleKey{}, role)))
	})
}

// bearerToken reads the token of an Authorization header of the Bearer scheme. The scheme's
// name is case-insensitive (RFC 9110, section 11.1): "Bearer", "bearer" and "BEARER" alike.
func bearerToken(h string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	return strings.TrimSpace(token), true
}

// require lets a request through only when its caller has at least the given role:
// 401 without a token, 403 with a token of a lower role.
func (s *Server) require(min Role, next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		switch role := roleOf(r.Context()); {
		case role >= min:
			next(w, r)
		case role == RolePublic:
			unauthorized(w, "this needs a "+min.String()+" token: send Authorization: Bearer <token>")
		default:
			writeError(w, http.StatusForbidden, "forbidden", "a "+role.String()+" token cannot do this; it needs the "+min.String()+" role")
		}
	}
}

func unauthorized(w http.ResponseWriter, msg string) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="citytwin"`)
	writeError(w, http.StatusUnauthorized, "unauthorized", msg)
}
