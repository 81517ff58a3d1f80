package postgis

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/citytwin/citytwin/internal/pglisten"
)

// WatchVersions listens on VersionsChannel and calls fn with the new data versions of the
// layers each committed Import or Truncate changed — in this process or any other using the
// same database — until ctx ends (then it returns nil) or the connection fails. It holds one
// connection of the pool while it runs; callers that must not miss a change reconnect on
// error and re-read DataVersion, or use FollowVersions, which does both.
func (s *Store) WatchVersions(ctx context.Context, fn func(versions map[string]int64)) error {
	return s.watchVersions(ctx, nil, fn)
}

// watchVersions is WatchVersions calling listening, when not nil, once LISTEN is in place.
func (s *Store) watchVersions(ctx context.Context, listening func(), fn func(versions map[string]int64)) error {
	err := pglisten.Listen(ctx, s.pool, VersionsChannel, listening, func(payload string) error {
		versions := map[string]int64{}
		if err := json.Unmarshal([]byte(payload), &versions); err != nil {
			return fmt.Errorf("payload %q: %w", payload, err)
		}
		fn(versions)
		return nil
	})
	if err != nil {
		return fmt.Errorf("watch data versions: %w", err)
	}
	return nil
}

// VersionFollower receives what FollowVersions sees.
type VersionFollower struct {
	// Changed is called with the new data versions of the layers a committed Import or
	// Truncate changed.
	Changed func(versions map[string]int64)
	// Resumed, when not nil, is called once listening is in place again after a failure.
	// Changes committed while nobody listened were not announced to this process: treat every
	// layer as changed.
	Resumed func()
	// Failed, when not nil, is called with each failure and the wait before the next attempt.
	Failed func(err error, retryIn time.Duration)
}

// Waits between FollowVersions' attempts to listen again: doubling from the first to the
// last, so a database that comes back is noticed within RetryMax, and one that stays away is
// not hammered.
const (
	followRetryMin = 250 * time.Millisecond
	followRetryMax = 5 * time.Second
)

// FollowVersions watches data versions as WatchVersions does, for as long as ctx lasts: when
// the connection fails (the database restarts, or is unreachable for a while) it tries again
// until it listens again, then calls f.Resumed.
func (s *Store) FollowVersions(ctx context.Context, f VersionFollower) {
	failed := false
	wait := followRetryMin
	listening := func() {
		wait = followRetryMin
		if failed && f.Resumed != nil {
			f.Resumed()
		}
		failed = false
	}
	for {
		err := s.watchVersions(ctx, listening, f.Changed)
		if ctx.Err() != nil {
			return
		}
		failed = true
		if f.Failed != nil {
			f.Failed(err, wait)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, followRetryMax)
	}
}
