// Package tick aligns periodic wake-ups to whole multiples of their period
// (of wall-clock time), so that a process with many periodic jobs wakes
// once per period for all of them instead of once per job. Each wake-up of
// an idle Go process costs several thread switches in the kernel, which is
// most of what twenty one-second checks cost.
package tick

import (
	"context"
	"time"
)

// Next returns the first instant after now that is a whole multiple of
// every (every 1 s: the next second boundary; every 10 s: :00, :10, ...).
func Next(now time.Time, every time.Duration) time.Time {
	if every <= 0 {
		return now
	}
	return now.Truncate(every).Add(every)
}

// Until returns how long it is from now to Next(now, every).
func Until(now time.Time, every time.Duration) time.Duration {
	return Next(now, every).Sub(now)
}

// Ticker fires on the boundaries of its period. Unlike time.Ticker it holds
// no tick while nobody waits: C arms it for the next boundary after the
// moment it is called, so ticks missed during slow work are skipped, never
// made up for.
type Ticker struct {
	every time.Duration
	t     *time.Timer
}

// NewTicker returns a stopped Ticker for every (> 0).
func NewTicker(every time.Duration) *Ticker {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return &Ticker{every: every, t: t}
}

// C arms the ticker for the next boundary and returns the channel that
// receives it.
func (t *Ticker) C() <-chan time.Time {
	t.t.Reset(Until(time.Now(), t.every))
	return t.t.C
}

// Stop stops the ticker.
func (t *Ticker) Stop() { t.t.Stop() }

// Every calls fn now and then every interval until ctx ends (a background
// job: delivery reports, the balance watch, pruning). Unlike Ticker it does
// not align to boundaries: such jobs run seldom and should not all start on
// the same second.
func Every(ctx context.Context, every time.Duration, fn func()) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		fn()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
