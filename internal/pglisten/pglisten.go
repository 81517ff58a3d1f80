// Package pglisten receives PostgreSQL notifications (LISTEN/NOTIFY) on one channel: how
// servers sharing a database learn of each other's writes.
package pglisten

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Listen holds one connection of pool listening on channel and calls fn with the payload of
// each notification, until ctx ends (then it returns nil), the connection fails, or fn
// returns an error. ready, when not nil, is called once LISTEN is in place: a notification
// sent after that is not missed.
func Listen(ctx context.Context, pool *pgxpool.Pool, channel string, ready func(), fn func(payload string) error) error {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{channel}.Sanitize()); err != nil {
		return err
	}
	defer func() {
		// The connection goes back to the pool: stop listening on it. ctx is over by now, and
		// a connection that does not answer in a few seconds is not worth keeping.
		uctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, err := conn.Exec(uctx, "UNLISTEN *"); err != nil {
			conn.Conn().Close(uctx)
		}
	}()
	if ready != nil {
		ready()
	}
	for {
		n, err := conn.Conn().WaitForNotification(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		if err := fn(n.Payload); err != nil {
			return err
		}
	}
}
