package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"

	"github.com/munja-sms/munja/store/sqlite"
)

// LockDispatch makes this process the only dispatcher of a SQLite file
// (`munja serve`, or `munja send` / `check --notify` when no server runs):
// an exclusive flock on DATABASE.dispatch.lock, held until unlock. With
// wait false it returns ok=false at once when another process holds it;
// with wait true it waits until ctx ends. Only then may `serve` return
// every claim to the queue at start-up (ReleaseClaims) without taking a
// batch from a live CLI. On PostgreSQL replicas share the work through
// claims with leases, so this always succeeds.
func (a *App) LockDispatch(ctx context.Context, wait bool) (unlock func(), ok bool, err error) {
	if _, isSQLite := a.Store.(*sqlite.DB); !isSQLite {
		return func() {}, true, nil
	}
	f, err := os.OpenFile(a.Config.Database+".dispatch.lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, false, fmt.Errorf("dispatch lock: %w", err)
	}
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			return func() { unix.Flock(int(f.Fd()), unix.LOCK_UN); f.Close() }, true, nil
		}
		if !errors.Is(err, unix.EWOULDBLOCK) {
			f.Close()
			return nil, false, fmt.Errorf("dispatch lock: %w", err)
		}
		if !wait {
			f.Close()
			return nil, false, nil
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, false, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}
