package postgis

import (
	"context"
	"encoding/json"
	"fmt"
)

// WatchVersions listens on VersionsChannel and calls fn with the new data versions of the
// layers each committed Import or Truncate changed — in this process or any other using the
// same database — until ctx ends (then it returns nil) or the connection fails. It holds one
// connection of the pool while it runs; callers that must not miss a change reconnect on
// error and re-read DataVersion.
func (s *Store) WatchVersions(ctx context.Context, fn func(versions map[string]int64)) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("watch data versions: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "LISTEN "+ident(VersionsChannel)); err != nil {
		return fmt.Errorf("watch data versions: %w", err)
	}
	defer func() {
		// The connection goes back to the pool: stop listening on it. ctx is over by now.
		if _, err := conn.Exec(context.Background(), "UNLISTEN *"); err != nil {
			conn.Conn().Close(context.Background())
		}
	}()
	for {
		n, err := conn.Conn().WaitForNotification(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("watch data versions: %w", err)
		}
		versions := map[string]int64{}
		if err := json.Unmarshal([]byte(n.Payload), &versions); err != nil {
			return fmt.Errorf("watch data versions: payload %q: %w", n.Payload, err)
		}
		fn(versions)
	}
}
