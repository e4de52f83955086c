package outbox

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/munja-sms/munja/sms"
	"github.com/munja-sms/munja/store"
)

// budget enforces sms.limits without scanning the whole day on every send.
// The day's count is base (deliveries created from local midnight up to
// anchor) plus a count of the few rows created since anchor, which trails
// now by rollLag; base rolls forward about once a minute. Sends being stored
// right now by this process are held as reservations, so concurrent Submits
// cannot together pass a nearly exhausted budget, while their inserts still
// run concurrently (and commit together). Rows another process stores count
// once committed.
type budget struct {
	st     store.Store
	limits Limits
	loc    *time.Location

	mu       sync.Mutex
	day      time.Time // local midnight that base counts from
	anchor   time.Time
	base     int
	reserved int
	byPhone  map[sms.Phone]int
}

const rollLag = 10 * time.Second

// reserve checks the limits for phones and holds them; release must follow.
// With dropLimited, recipients over their hourly limit are left out (and
// returned as dropped) instead of refusing the whole message; phones is
// what remains.
func (b *budget) reserve(ctx context.Context, now time.Time, in []sms.Phone, dropLimited bool) (phones, dropped []sms.Phone, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	phones = in
	if b.limits.PerRecipientPerHour > 0 {
		since := now.Add(-time.Hour)
		phones = nil
		for _, p := range in {
			n, err := b.st.CountDeliveriesSince(ctx, since, p)
			if err != nil {
				return nil, nil, fmt.Errorf("count messages to %s: %w", p.Display(), err)
			}
			n += b.byPhone[p]
			if n+1 <= b.limits.PerRecipientPerHour {
				phones = append(phones, p)
				continue
			}
			if !dropLimited || len(in) == 1 {
				return nil, nil, &LimitError{Limit: "sms.limits.per_recipient_per_hour", Msg: fmt.Sprintf(
					"%s already received %d messages in the last hour (limit %d)", p.Display(), n, b.limits.PerRecipientPerHour)}
			}
			dropped = append(dropped, p)
		}
		if len(phones) == 0 {
			return nil, nil, &LimitError{Limit: "sms.limits.per_recipient_per_hour", Msg: "every recipient reached its hourly limit"}
		}
	}
	if b.limits.PerDay > 0 {
		n, err := b.dayCount(ctx, now)
		if err != nil {
			return nil, nil, err
		}
		if n+b.reserved+len(phones) > b.limits.PerDay {
			return nil, nil, &LimitError{Limit: "sms.limits.per_day", Msg: fmt.Sprintf(
				"daily budget of %d messages would be exceeded (%d sent today, %d requested)", b.limits.PerDay, n+b.reserved, len(phones))}
		}
	}
	b.reserved += len(phones)
	if b.byPhone == nil {
		b.byPhone = map[sms.Phone]int{}
	}
	for _, p := range phones {
		b.byPhone[p]++
	}
	return phones, dropped, nil
}

func (b *budget) release(phones []sms.Phone) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.reserved -= len(phones)
	for _, p := range phones {
		if b.byPhone[p]--; b.byPhone[p] <= 0 {
			delete(b.byPhone, p)
		}
	}
}

// dayCount is the number of deliveries created since local midnight.
func (b *budget) dayCount(ctx context.Context, now time.Time) (int, error) {
	local := now.In(b.loc)
	midnight := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, b.loc)
	if !b.day.Equal(midnight) {
		b.day, b.anchor, b.base = midnight, midnight, 0
	}
	if now.Sub(b.anchor) > time.Minute+rollLag {
		next := now.Add(-rollLag)
		older, err := b.st.CountDeliveriesSince(ctx, b.anchor, "")
		if err != nil {
			return 0, fmt.Errorf("count today's messages: %w", err)
		}
		newer, err := b.st.CountDeliveriesSince(ctx, next, "")
		if err != nil {
			return 0, fmt.Errorf("count today's messages: %w", err)
		}
		b.base += older - newer
		b.anchor = next
	}
	recent, err := b.st.CountDeliveriesSince(ctx, b.anchor, "")
	if err != nil {
		return 0, fmt.Errorf("count today's messages: %w", err)
	}
	return b.base + recent, nil
}
