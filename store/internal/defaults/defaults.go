// Package defaults holds what both stores fill in when they store a row, as
// store.Store documents it: times at the millisecond precision they are
// stored with, creation times of now when unset, a new user's defaults, a
// new message's queued deliveries.
package defaults

import (
	"time"

	"github.com/munja-sms/munja/sms"
	"github.com/munja-sms/munja/store"
)

// TruncMS returns t at the millisecond precision it is stored with, in UTC.
// The zero time stays zero.
func TruncMS(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return time.UnixMilli(t.UnixMilli()).UTC()
}

// User returns u with the defaults CreateUser fills in: CreatedAt now,
// PasswordChangedAt = CreatedAt, Lang "ko", times at millisecond precision.
func User(u store.User, now time.Time) store.User {
	u.CreatedAt, u.PasswordChangedAt, u.DisabledAt = TruncMS(u.CreatedAt), TruncMS(u.PasswordChangedAt), TruncMS(u.DisabledAt)
	if u.CreatedAt.IsZero() {
		u.CreatedAt = TruncMS(now)
	}
	if u.PasswordChangedAt.IsZero() {
		u.PasswordChangedAt = u.CreatedAt
	}
	if u.Lang == "" {
		u.Lang = "ko"
	}
	return u
}

// Created is what storing a message assigns, applied to the caller's
// message only after the commit.
type Created struct {
	ID            int64
	At, CreatedAt time.Time
	Deliveries    []sms.Delivery
}

// Message returns the times CreateMessage stores for m: At and CreatedAt
// at millisecond precision, CreatedAt now when m has none.
func Message(m *sms.Message, now time.Time) Created {
	c := Created{At: TruncMS(m.At), CreatedAt: TruncMS(m.CreatedAt)}
	if c.CreatedAt.IsZero() {
		c.CreatedAt = TruncMS(now)
	}
	return c
}

// Due returns when the message's deliveries are first due: At, or
// CreatedAt when At is zero.
func (c Created) Due() time.Time {
	if c.At.IsZero() {
		return c.CreatedAt
	}
	return c.At
}

// Delivery returns the queued delivery to phone stored with ID id.
func (c Created) Delivery(id int64, phone sms.Phone) sms.Delivery {
	return sms.Delivery{ID: id, MessageID: c.ID, Phone: phone, Status: sms.StatusQueued,
		NextAttemptAt: c.Due(), CreatedAt: c.CreatedAt, UpdatedAt: c.CreatedAt}
}

// Apply fills in m with what storing it assigned.
func (c Created) Apply(m *sms.Message) {
	m.ID, m.At, m.CreatedAt, m.Deliveries = c.ID, c.At, c.CreatedAt, c.Deliveries
}
