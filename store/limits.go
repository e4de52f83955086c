package store

import (
	"fmt"
	"time"

	"github.com/munja-sms/munja/sms"
)

// Limits are sms.limits as CreateLimited applies them: checked and the
// message inserted in one transaction that no other limited insert of any
// process (a PostgreSQL replica, the CLI beside `munja serve`) can
// interleave with, so the limits hold exactly however many write at once.
type Limits struct {
	// PerDay bounds the deliveries created since DayStart (local
	// midnight); 0 = unlimited.
	PerDay   int
	DayStart time.Time
	// PerRecipientPerHour bounds the deliveries to one phone created
	// since HourStart (an hour before the send); 0 = unlimited.
	PerRecipientPerHour int
	HourStart           time.Time
	// DropLimited leaves recipients over PerRecipientPerHour out (listed
	// in the message's Dropped) instead of refusing the message, unless
	// that leaves nobody.
	DropLimited bool
}

// On reports whether any limit is set.
func (l Limits) On() bool { return l.PerDay > 0 || l.PerRecipientPerHour > 0 }

// LimitError is a refusal by sms.limits.
type LimitError struct {
	Limit string // config key, e.g. "sms.limits.per_day"
	Msg   string
}

func (e *LimitError) Error() string { return e.Limit + ": " + e.Msg }

// Usage is what counts against the limits inside one transaction: the
// deliveries already committed (counted by the store at its start), plus
// those of the messages earlier in the same transaction (added by Apply).
type Usage struct {
	Day   int               // deliveries since DayStart
	Phone map[sms.Phone]int // deliveries per phone since HourStart
}

// Apply decides which of phones fit the limits given u, and adds the ones
// kept to u. The rule is the same for every store; only the counting that
// fills u differs.
func (l Limits) Apply(phones []sms.Phone, u *Usage) (kept, dropped []sms.Phone, err error) {
	kept = phones
	if l.PerRecipientPerHour > 0 {
		kept = nil
		for _, p := range phones {
			n := u.Phone[p]
			if n+1 <= l.PerRecipientPerHour {
				kept = append(kept, p)
				continue
			}
			if !l.DropLimited || len(phones) == 1 {
				return nil, nil, &LimitError{Limit: "sms.limits.per_recipient_per_hour", Msg: fmt.Sprintf(
					"%s already received %d messages in the last hour (limit %d)", p.Display(), n, l.PerRecipientPerHour)}
			}
			dropped = append(dropped, p)
		}
		if len(kept) == 0 {
			return nil, nil, &LimitError{Limit: "sms.limits.per_recipient_per_hour", Msg: "every recipient reached its hourly limit"}
		}
	}
	if l.PerDay > 0 && u.Day+len(kept) > l.PerDay {
		return nil, nil, &LimitError{Limit: "sms.limits.per_day", Msg: fmt.Sprintf(
			"daily budget of %d messages would be exceeded (%d sent today, %d requested)", l.PerDay, u.Day, len(kept))}
	}
	u.Day += len(kept)
	if u.Phone == nil {
		u.Phone = map[sms.Phone]int{}
	}
	for _, p := range kept {
		u.Phone[p]++
	}
	return kept, dropped, nil
}

// Window is what one transaction of limited inserts counts: deliveries
// since Day (zero: no daily limit among them), and deliveries to each of
// Phones since Hour. Messages of one batch were submitted within moments
// of each other, so the earliest start of each is taken: it can only count
// more, never let more through.
type Window struct {
	Day, Hour time.Time
	Phones    []sms.Phone // distinct, in first-seen order
}

// WindowOf is the Window of the messages ms under their limits lims (same
// length, index by index).
func WindowOf(ms []*sms.Message, lims []Limits) Window {
	var w Window
	seen := map[sms.Phone]bool{}
	for i, l := range lims {
		if l.PerDay > 0 && (w.Day.IsZero() || l.DayStart.Before(w.Day)) {
			w.Day = l.DayStart
		}
		if l.PerRecipientPerHour <= 0 {
			continue
		}
		if w.Hour.IsZero() || l.HourStart.Before(w.Hour) {
			w.Hour = l.HourStart
		}
		for _, d := range ms[i].Deliveries {
			if !seen[d.Phone] {
				seen[d.Phone] = true
				w.Phones = append(w.Phones, d.Phone)
			}
		}
	}
	return w
}
