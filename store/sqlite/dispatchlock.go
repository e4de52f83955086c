package sqlite

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// LockDispatch implements store.ExclusiveDispatch with an exclusive flock on
// DATABASE.dispatch.lock, held until unlock: one process at a time sends
// from this file (`munja serve`, or `munja send` / `check --notify` when no
// server runs).
func (db *DB) LockDispatch(ctx context.Context, wait bool) (unlock func(), ok bool, err error) {
	f, err := os.OpenFile(db.path+".dispatch.lock", os.O_RDWR|os.O_CREATE, 0o600)
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
