package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/munja-sms/munja/sms"
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

// newCommitter returns the group committer of CreateMessage.
func (db *DB) newCommitter() *groupcommit.Batcher[*sms.Message] {
	return groupcommit.New(groupcommit.Config[*sms.Message]{
		Commit:    db.insertMessages,
		Weight:    func(m *sms.Message) int { return len(m.Deliveries) },
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
	return db.creates.Submit(ctx, m)
}

// insertMessages stores ms and their deliveries in one transaction and,
// once it is committed, fills them in.
func (db *DB) insertMessages(ctx context.Context, ms []*sms.Message) error {
	results := make([]defaults.Created, len(ms))
	err := db.syncedWriteTx(ctx, func(tx *sql.Tx) error {
		for i, m := range ms {
			c, err := db.insertMessage(ctx, tx, m)
			if err != nil {
				return err
			}
			results[i] = c
		}
		return nil
	})
	if err != nil {
		return err
	}
	for i, m := range ms {
		results[i].Apply(m)
	}
	return nil
}

// insertMessage stores m and its deliveries in tx without changing m.
func (db *DB) insertMessage(ctx context.Context, tx *sql.Tx, m *sms.Message) (defaults.Created, error) {
	c := defaults.Message(m, time.Now())
	due := c.Due()
	res, err := tx.StmtContext(ctx, db.insMessage).ExecContext(ctx,
		m.Text, m.Title, string(m.Kind), m.Sender, m.Test, ms(c.At), m.Source, m.CreatedBy, c.CreatedAt.UnixMilli())
	if err != nil {
		return c, fmt.Errorf("sqlite: insert message: %w", err)
	}
	if c.ID, err = res.LastInsertId(); err != nil {
		return c, fmt.Errorf("sqlite: insert message: %w", err)
	}
	if len(m.Deliveries) == 0 {
		return c, nil
	}
	ins := tx.StmtContext(ctx, db.insDelivery)
	c.Deliveries = make([]sms.Delivery, len(m.Deliveries))
	for i, in := range m.Deliveries {
		res, err := ins.ExecContext(ctx, c.ID, string(in.Phone), string(sms.StatusQueued),
			due.UnixMilli(), c.CreatedAt.UnixMilli(), c.CreatedAt.UnixMilli())
		if err != nil {
			return c, fmt.Errorf("sqlite: insert delivery: %w", err)
		}
		did, err := res.LastInsertId()
		if err != nil {
			return c, fmt.Errorf("sqlite: insert delivery: %w", err)
		}
		c.Deliveries[i] = c.Delivery(did, in.Phone)
	}
	return c, nil
}
