package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/munja-sms/munja/sms"
)

// Group commit. Every commit writes the touched pages (table and index
// leaves) to the WAL; with one-recipient messages that page traffic, not the
// SQL, is most of the cost. CreateMessage therefore hands its message to one
// committer goroutine, which stores every message waiting at that moment in
// one transaction and then answers each caller. A lone caller gets a batch of
// one; concurrent callers share commits. Each caller still returns only after
// its own message is committed.

// maxBatch bounds one group commit, in deliveries, so the write lock is never
// held for long.
const maxBatch = 2000

// errClosed is returned by CreateMessage after Close.
var errClosed = errors.New("sqlite: store is closed")

// Request states: the committer takes a pending request, or its caller
// cancels it first; whoever wins the swap decides.
const (
	reqPending int32 = iota
	reqTaken
	reqCanceled
)

type createReq struct {
	m     *sms.Message
	state atomic.Int32
	done  chan error // buffered; receives exactly one result once taken
}

// created is what storing a message assigns, applied to the caller's message
// only after the commit.
type created struct {
	id         int64
	at, create time.Time
	deliveries []sms.Delivery
}

func (c created) apply(m *sms.Message) {
	m.ID, m.At, m.CreatedAt, m.Deliveries = c.id, c.at, c.create, c.deliveries
}

// CreateMessage implements store.Messages. It returns once the message is
// committed; if ctx ends before the committer took the message, nothing is
// stored and ctx's error is returned.
func (db *DB) CreateMessage(ctx context.Context, m *sms.Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	req := &createReq{m: m, done: make(chan error, 1)}
	db.mu.RLock()
	if db.closed {
		db.mu.RUnlock()
		return errClosed
	}
	select {
	case db.creates <- req:
		db.mu.RUnlock()
	case <-ctx.Done():
		db.mu.RUnlock()
		return ctx.Err()
	}
	select {
	case err := <-req.done:
		return err
	case <-ctx.Done():
		if req.state.CompareAndSwap(reqPending, reqCanceled) {
			return ctx.Err()
		}
		// Already in a transaction: its outcome is the answer.
		return <-req.done
	}
}

// committer runs until stop is closed, then stores what is still queued
// (Close lets no new request in first) and returns.
func (db *DB) committer(stop <-chan struct{}, exited chan<- struct{}) {
	defer close(exited)
	for {
		select {
		case req := <-db.creates:
			db.commitBatch(db.collect(req))
		case <-stop:
			for {
				select {
				case req := <-db.creates:
					db.commitBatch(db.collect(req))
				default:
					return
				}
			}
		}
	}
}

// collect takes first and whatever else is queued, up to maxBatch deliveries.
func (db *DB) collect(first *createReq) []*createReq {
	batch := []*createReq{first}
	n := len(first.m.Deliveries)
	for n < maxBatch {
		select {
		case req := <-db.creates:
			batch = append(batch, req)
			n += len(req.m.Deliveries)
		default:
			return batch
		}
	}
	return batch
}

// commitBatch stores the live requests of batch in one transaction. If that
// fails and the batch has several messages, each is retried alone so one bad
// message cannot fail the others.
func (db *DB) commitBatch(batch []*createReq) {
	live := batch[:0]
	for _, r := range batch {
		if r.state.CompareAndSwap(reqPending, reqTaken) {
			live = append(live, r)
		}
	}
	if len(live) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*busyTimeout)
	defer cancel()
	db.batches.Add(1)
	results := make([]created, len(live))
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		for i, r := range live {
			c, err := db.insertMessage(ctx, tx, r.m)
			if err != nil {
				return err
			}
			results[i] = c
		}
		return nil
	})
	if err == nil {
		for i, r := range live {
			results[i].apply(r.m)
			r.done <- nil
		}
		return
	}
	if len(live) == 1 {
		live[0].done <- err
		return
	}
	db.log.Warn("sqlite: group commit failed, storing messages one by one", "messages", len(live), "err", err)
	for _, r := range live {
		var c created
		err := db.writeTx(ctx, func(tx *sql.Tx) error {
			var err error
			c, err = db.insertMessage(ctx, tx, r.m)
			return err
		})
		if err == nil {
			c.apply(r.m)
		}
		r.done <- err
	}
}

// insertMessage stores m and its deliveries in tx without changing m.
func (db *DB) insertMessage(ctx context.Context, tx *sql.Tx, m *sms.Message) (created, error) {
	c := created{create: truncMS(m.CreatedAt), at: truncMS(m.At)}
	if c.create.IsZero() {
		c.create = truncMS(time.Now())
	}
	due := c.at
	if due.IsZero() {
		due = c.create
	}
	res, err := tx.StmtContext(ctx, db.insMessage).ExecContext(ctx,
		m.Text, m.Title, string(m.Kind), m.Sender, m.Test, ms(c.at), m.Source, m.CreatedBy, c.create.UnixMilli())
	if err != nil {
		return c, fmt.Errorf("sqlite: insert message: %w", err)
	}
	if c.id, err = res.LastInsertId(); err != nil {
		return c, fmt.Errorf("sqlite: insert message: %w", err)
	}
	if len(m.Deliveries) == 0 {
		return c, nil
	}
	ins := tx.StmtContext(ctx, db.insDelivery)
	c.deliveries = make([]sms.Delivery, len(m.Deliveries))
	for i, in := range m.Deliveries {
		res, err := ins.ExecContext(ctx, c.id, string(in.Phone), string(sms.StatusQueued),
			due.UnixMilli(), c.create.UnixMilli(), c.create.UnixMilli())
		if err != nil {
			return c, fmt.Errorf("sqlite: insert delivery: %w", err)
		}
		did, err := res.LastInsertId()
		if err != nil {
			return c, fmt.Errorf("sqlite: insert delivery: %w", err)
		}
		c.deliveries[i] = sms.Delivery{ID: did, MessageID: c.id, Phone: in.Phone, Status: sms.StatusQueued,
			NextAttemptAt: due, CreatedAt: c.create, UpdatedAt: c.create}
	}
	return c, nil
}
