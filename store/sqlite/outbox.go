package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/munja-sms/munja/sms"
	"github.com/munja-sms/munja/store"
	"github.com/munja-sms/munja/store/internal/defaults"
	"github.com/munja-sms/munja/store/internal/groupcommit"
)

// Group commit (store/internal/groupcommit). Every commit writes the touched
// pages (table and index leaves) to the WAL; with one-recipient messages that
// page traffic, not the SQL, is most of the cost. CreateMessage therefore
// hands its message to one committer goroutine, which stores every message
// waiting at that moment in one transaction and then answers each caller.

// maxBatch bounds one group commit, in deliveries, so the write lock is never
// held for long.
const maxBatch = 2000

// errClosed is returned by CreateMessage after Close.
var errClosed = errors.New("sqlite: store is closed")

// create is one CreateLimited call waiting for the group committer.
type create struct {
	m *sms.Message
	store.Create
}

// newCommitter returns the group committer of CreateMessage.
func (db *DB) newCommitter() *groupcommit.Batcher[*create] {
	return groupcommit.New(groupcommit.Config[*create]{
		Commit:    db.insertMessages,
		Weight:    func(c *create) int { return len(c.m.Deliveries) },
		MaxWeight: maxBatch,
		Timeout:   2 * busyTimeout,
		Queue:     1024,
		Closed:    errClosed,
		Log:       db.log,
		Name:      "sqlite",
	})
}

// CreateMessage implements store.Messages. It returns once the message is
// committed; if ctx ends before the committer took the message, nothing is
// stored and ctx's error is returned.
func (db *DB) CreateMessage(ctx context.Context, m *sms.Message) error {
	return db.CreateLimited(ctx, m, store.Limits{})
}

// CreateLimited implements store.Messages. The limits are counted inside
// the insert's write transaction, which holds SQLite's write lock (BEGIN
// IMMEDIATE): no other process's limited insert can interleave.
func (db *DB) CreateLimited(ctx context.Context, m *sms.Message, lim store.Limits) error {
	return db.creates.Submit(ctx, &create{m: m, Create: store.Create{Limits: lim}})
}

// CreateWith implements store.Messages. The key is claimed in the insert's
// write transaction, which no other process's can interleave with, and the
// audit entry is inserted in it.
func (db *DB) CreateWith(ctx context.Context, m *sms.Message, opt store.Create) error {
	return db.creates.Submit(ctx, &create{m: m, Create: opt})
}

// claimKeySQL records a key for a message about to be stored, unless a
// message created at or after ?3 holds it already (then no row changes).
const claimKeySQL = `INSERT INTO message_keys (key, message_id, created_at) VALUES (?1, NULL, ?2)
ON CONFLICT (key) DO UPDATE SET message_id = NULL, created_at = excluded.created_at
WHERE message_keys.created_at < ?3`

// claimKey claims c's key in tx, or returns the *store.DuplicateError
// naming the message that holds it.
func claimKey(ctx context.Context, tx *sql.Tx, c *create) error {
	created := defaults.Message(c.m, time.Now()).CreatedAt
	res, err := tx.ExecContext(ctx, claimKeySQL, c.Once.Key, created.UnixMilli(), c.Once.Since.UnixMilli())
	if err != nil {
		return fmt.Errorf("sqlite: claim message key: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n > 0 {
		return err
	}
	var id sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT message_id FROM message_keys WHERE key = ?`, c.Once.Key).Scan(&id); err != nil {
		return fmt.Errorf("sqlite: read message key: %w", err)
	}
	return &store.DuplicateError{Key: c.Once.Key, MessageID: id.Int64}
}

// insertMessages stores the messages of cs and their deliveries in one
// synced transaction, each within its limits, and, once it is committed,
// fills them in, with their audit entries (store.Create.Audit). A message
// refused by its limits, or whose key (CreateWith) is taken, fails the batch (the group committer then stores
// the others one by one) and nothing of it is stored.
func (db *DB) insertMessages(ctx context.Context, cs []*create) error {
	results := make([]defaults.Created, len(cs))
	dropped := make([][]sms.Phone, len(cs))
	err := db.syncedWriteTx(ctx, func(tx *sql.Tx) error {
		// Keys first: a duplicate is answered as one even when the limits
		// would now refuse it.
		for _, c := range cs {
			if c.Once.Key != "" {
				if err := claimKey(ctx, tx, c); err != nil {
					return err
				}
			}
		}
		var u *store.Usage
		for i, c := range cs {
			phones := recipients(c.m)
			if c.Limits.On() {
				if u == nil {
					var err error
					if u, err = db.usage(ctx, tx, cs); err != nil {
						return err
					}
				}
				var err error
				if phones, dropped[i], err = c.Limits.Apply(phones, u); err != nil {
					return err
				}
			}
			r, err := db.insertMessage(ctx, tx, c.m, phones)
			if err != nil {
				return err
			}
			results[i] = r
			if c.Once.Key != "" {
				if _, err := tx.ExecContext(ctx, `UPDATE message_keys SET message_id = ?, created_at = ? WHERE key = ?`,
					r.ID, r.CreatedAt.UnixMilli(), c.Once.Key); err != nil {
					return fmt.Errorf("sqlite: record message key: %w", err)
				}
			}
			if c.Audit != nil {
				view := *c.m
				r.Apply(&view)
				view.Dropped = dropped[i]
				if err := addAudit(ctx, tx, c.Audit(&view)); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for i, c := range cs {
		results[i].Apply(c.m)
		if c.Limits.On() {
			c.m.Dropped = dropped[i]
		}
	}
	return nil
}

// recipients lists m's delivery phones.
func recipients(m *sms.Message) []sms.Phone {
	out := make([]sms.Phone, len(m.Deliveries))
	for i, d := range m.Deliveries {
		out[i] = d.Phone
	}
	return out
}

// usage counts, inside tx, what the limits of the limited messages of cs
// count against (store.WindowOf).
func (db *DB) usage(ctx context.Context, tx *sql.Tx, cs []*create) (*store.Usage, error) {
	u := &store.Usage{Phone: map[sms.Phone]int{}}
	w := store.WindowOf(messagesOf(cs))
	if !w.Day.IsZero() {
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM deliveries WHERE created_at >= ?`,
			w.Day.UnixMilli()).Scan(&u.Day); err != nil {
			return nil, fmt.Errorf("sqlite: count today's deliveries: %w", err)
		}
	}
	if len(w.Phones) > 0 {
		q, err := tx.PrepareContext(ctx, `SELECT count(*) FROM deliveries WHERE phone = ? AND created_at >= ?`)
		if err != nil {
			return nil, fmt.Errorf("sqlite: count deliveries per phone: %w", err)
		}
		defer q.Close()
		for _, p := range w.Phones {
			var n int
			if err := q.QueryRowContext(ctx, string(p), w.Hour.UnixMilli()).Scan(&n); err != nil {
				return nil, fmt.Errorf("sqlite: count deliveries to %s: %w", p, err)
			}
			u.Phone[p] = n
		}
	}
	return u, nil
}

// messagesOf splits cs into its messages and their limits.
func messagesOf(cs []*create) ([]*sms.Message, []store.Limits) {
	ms, lims := make([]*sms.Message, len(cs)), make([]store.Limits, len(cs))
	for i, c := range cs {
		ms[i], lims[i] = c.m, c.Limits
	}
	return ms, lims
}

// insertMessage stores m with a delivery to each of phones in tx without
// changing m.
func (db *DB) insertMessage(ctx context.Context, tx *sql.Tx, m *sms.Message, phones []sms.Phone) (defaults.Created, error) {
	c := defaults.Message(m, time.Now())
	due := c.Due()
	res, err := tx.StmtContext(ctx, db.insMessage).ExecContext(ctx,
		m.Text, m.Title, string(m.Kind), m.Sender, m.Test, ms(c.At), m.Source, m.CreatedBy, m.Template, c.CreatedAt.UnixMilli())
	if err != nil {
		return c, fmt.Errorf("sqlite: insert message: %w", err)
	}
	if c.ID, err = res.LastInsertId(); err != nil {
		return c, fmt.Errorf("sqlite: insert message: %w", err)
	}
	if len(phones) == 0 {
		return c, nil
	}
	ins := tx.StmtContext(ctx, db.insDelivery)
	c.Deliveries = make([]sms.Delivery, len(phones))
	for i, phone := range phones {
		res, err := ins.ExecContext(ctx, c.ID, string(phone), string(sms.StatusQueued),
			due.UnixMilli(), c.CreatedAt.UnixMilli(), c.CreatedAt.UnixMilli())
		if err != nil {
			return c, fmt.Errorf("sqlite: insert delivery: %w", err)
		}
		did, err := res.LastInsertId()
		if err != nil {
			return c, fmt.Errorf("sqlite: insert delivery: %w", err)
		}
		c.Deliveries[i] = c.Delivery(did, phone)
	}
	return c, nil
}
