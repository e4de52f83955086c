package app

import (
	"context"
	"time"

	"github.com/munja-sms/munja/store"
)

// Deliver sends what is queued for f (see dispatcher.Drain) from this
// process, for a command that stores messages without a server (`munja
// send`, `munja check --notify`), giving up waiting for retries after wait.
// When a `munja serve` owns dispatching on this SQLite file it sends them,
// and Deliver returns byServer at once; on a store shared by replicas this
// process sends beside them (claims keep each delivery to one of them).
func (a *App) Deliver(ctx context.Context, f store.ClaimFilter, wait time.Duration) (byServer bool, err error) {
	deadline := time.Now().Add(wait)
	if ex, ok := a.Store.(store.ExclusiveDispatch); ok {
		unlock, got, err := ex.LockDispatch(ctx, false)
		if err != nil {
			return false, err
		}
		if !got {
			return true, nil
		}
		defer unlock()
	}
	return false, a.Dispatcher.Drain(ctx, f, deadline)
}
