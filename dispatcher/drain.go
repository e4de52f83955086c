package dispatcher

import (
	"context"
	"time"

	"github.com/munja-sms/munja/store"
)

// Drain sends the deliveries matching f as Run would — due ones now,
// retryable failures again at their next attempt — until none matching f
// is left unfinished, or the next attempt falls after deadline, or ctx
// ends. It is how a command sends without a server (`munja send`, `munja
// check --notify`): what is still queued when it returns stays in the store
// for `munja serve`.
func (d *Dispatcher) Drain(ctx context.Context, f store.ClaimFilter, deadline time.Time) error {
	for {
		n, err := d.DispatchOnce(ctx, f)
		if err != nil {
			return err
		}
		if n > 0 {
			continue
		}
		next, err := d.nextDue(ctx, f)
		if err != nil {
			return err
		}
		if next.IsZero() || next.After(deadline) || ctx.Err() != nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(max(time.Until(next), 50*time.Millisecond)):
		}
	}
}

// nextDue is the earliest next attempt of a queued delivery matching f
// (zero when none is left).
func (d *Dispatcher) nextDue(ctx context.Context, f store.ClaimFilter) (time.Time, error) {
	if f.MessageID == 0 {
		return d.opt.Store.NextDue(ctx)
	}
	m, err := d.opt.Store.GetMessage(ctx, f.MessageID)
	if err != nil {
		return time.Time{}, err
	}
	var next time.Time
	for _, dl := range m.Deliveries {
		if !dl.Status.Final() && (next.IsZero() || dl.NextAttemptAt.Before(next)) {
			next = dl.NextAttemptAt
		}
	}
	return next, nil
}
