package scenarios

import (
	"context"
	"errors"
	"fmt"
)

// ErrForbidden: the caller may read the scenario but not change it.
var ErrForbidden = errors.New("forbidden")

// DefaultMaxScenariosPerOwner is how many scenarios one token may own.
const DefaultMaxScenariosPerOwner = 100

// Caller is who asks: the id of their token and whether it is an admin's. Public is a caller
// without a token, who reads published scenarios only and changes none.
type Caller struct {
	ID     string
	Admin  bool
	Public bool
}

type callerKey struct{}

// WithCaller returns ctx carrying the caller the service checks reads and writes against.
// Without one (the server's own work, tests) every scenario may be read and changed.
func WithCaller(ctx context.Context, c Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

func callerOf(ctx context.Context) (Caller, bool) {
	c, ok := ctx.Value(callerKey{}).(Caller)
	return c, ok
}

// canRead: the owner, admins, every planner unless the scenario is private, and the public
// when it is published.
func canRead(ctx context.Context, sc Scenario) bool {
	c, ok := callerOf(ctx)
	if ok && c.Public {
		return sc.Visibility.OrDefault() == Published
	}
	return !ok || c.Admin || sc.Owner == "" || c.ID == sc.Owner || sc.Visibility.OrDefault() != Private
}

// checkRead hides a scenario the caller may not read (ErrNotFound).
func checkRead(ctx context.Context, sc Scenario) error {
	if !canRead(ctx, sc) {
		return fmt.Errorf("scenario %s: %w", sc.ID, ErrNotFound)
	}
	return nil
}

// checkWrite refuses a change by another than the owner unless the scenario is a team's.
func checkWrite(ctx context.Context, sc Scenario) error {
	if err := checkRead(ctx, sc); err != nil {
		return err
	}
	c, ok := callerOf(ctx)
	if ok && c.Public {
		return fmt.Errorf("scenario %s is read-only without a planner token: %w", sc.ID, ErrForbidden)
	}
	if !ok || c.Admin || sc.Owner == "" || c.ID == sc.Owner || sc.Visibility.OrDefault() == Team {
		return nil
	}
	return fmt.Errorf("scenario %s is %s to its owner: %w", sc.ID, sc.Visibility, ErrForbidden)
}

// CheckVisibility refuses an unknown visibility.
func CheckVisibility(v Visibility) error {
	switch v {
	case Private, Team, Published:
		return nil
	}
	return fieldErr("visibility", "%q is not one of private, team, published", v)
}
