package tiles

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestGetOrAbandonStopsAComputationNobodyWaitsFor(t *testing.T) {
	c := NewCache(1 << 20)
	stopped := make(chan error, 1)
	compute := func(ctx context.Context) (*Tile, error) {
		<-ctx.Done()
		stopped <- ctx.Err()
		return nil, ctx.Err()
	}
	first, cancelFirst := context.WithCancel(context.Background())
	second, cancelSecond := context.WithCancel(context.Background())
	errs := make(chan error, 2)
	go func() { _, err := c.GetOrAbandon(first, key(1), compute); errs <- err }()
	go func() { _, err := c.GetOrAbandon(second, key(1), compute); errs <- err }()
	for c.Stats().Misses < 2 {
		time.Sleep(time.Millisecond)
	}
	// One caller leaving: the other still waits, so the computation goes on.
	cancelFirst()
	if err := <-errs; !errors.Is(err, context.Canceled) {
		t.Fatalf("the first caller got %v, want context.Canceled", err)
	}
	select {
	case err := <-stopped:
		t.Fatalf("the computation stopped (%v) while a caller still waited", err)
	case <-time.After(50 * time.Millisecond):
	}
	// The last caller leaving stops it.
	cancelSecond()
	<-errs
	select {
	case err := <-stopped:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("the computation saw %v, want context.Canceled", err)
		}
	case <-time.After(time.Second):
		t.Fatal("the computation went on with nobody waiting")
	}
	if st := c.Stats(); st.Computations != 1 || st.Entries != 0 {
		t.Fatalf("%+v: want one computation and nothing kept", st)
	}
}
