// Package flight runs one computation per key however many callers ask for it at once, and
// stops a computation nobody waits for any more when asked to.
package flight

import (
	"context"
	"sync"
)

// Group runs computations keyed by K. The zero Group is ready to use.
type Group[K comparable, V any] struct {
	mu    sync.Mutex
	calls map[K]*call[V]
}

type call[V any] struct {
	done    chan struct{}
	val     V
	err     error
	waiters int
	cancel  context.CancelFunc // nil: the computation runs to its end whoever waits
}

// Do returns fn's result for key, joining the computation of key already running if there is
// one. fn runs in a goroutine of its own, with a context that keeps ctx's values but not its
// end: a caller whose ctx ends stops waiting at once (ctx.Err()), and the others still get the
// result. With detached, fn runs to its end even when every caller has gone (its result is
// still worth keeping); without, fn's context is cancelled once no caller waits for it, and a
// later caller starts a new computation.
func (g *Group[K, V]) Do(ctx context.Context, key K, detached bool, fn func(ctx context.Context) (V, error)) (V, error) {
	g.mu.Lock()
	if g.calls == nil {
		g.calls = map[K]*call[V]{}
	}
	c, ok := g.calls[key]
	if ok {
		c.waiters++
	} else {
		c = &call[V]{done: make(chan struct{}), waiters: 1}
		fctx := context.WithoutCancel(ctx)
		if !detached {
			fctx, c.cancel = context.WithCancel(fctx)
		}
		g.calls[key] = c
		go g.run(fctx, key, c, fn)
	}
	g.mu.Unlock()

	select {
	case <-c.done:
		return c.val, c.err
	case <-ctx.Done():
		g.mu.Lock()
		c.waiters--
		if c.waiters == 0 && c.cancel != nil {
			c.cancel()
			// Callers from now on start afresh rather than join a computation that stops.
			if g.calls[key] == c {
				delete(g.calls, key)
			}
		}
		g.mu.Unlock()
		var zero V
		return zero, ctx.Err()
	}
}

func (g *Group[K, V]) run(ctx context.Context, key K, c *call[V], fn func(ctx context.Context) (V, error)) {
	defer func() {
		g.mu.Lock()
		if g.calls[key] == c {
			delete(g.calls, key)
		}
		g.mu.Unlock()
		if c.cancel != nil {
			c.cancel()
		}
		close(c.done)
	}()
	c.val, c.err = fn(ctx)
}
