package postgres

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/munja-sms/munja/sms"
)

// Group commit. A durable commit waits for the WAL to reach the disk, which
// costs far more than the inserts. CreateMessage therefore hands its
// message to one committer goroutine, which stores every message waiting at
// that moment in one transaction (the inserts sent in one round trip) and
// then answers each caller. A lone caller gets a batch of one; concurrent
// callers share commits. Each caller still returns only after its own
// message is committed.

// maxBatch bounds one group commit, in deliveries.
const maxBatch = 2000

// commitTimeout bounds one group commit.
const commitTimeout = 30 * time.Second

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

// insertMessage stores a message without deliveries.
const insertMessage = `INSERT INTO messages (text, title, kind, sender, test, at, source, created_by, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id, NULL::bigint, NULL::text`

// insertMessageDeliveries stores a message and its deliveries in one
// statement, returning one row per delivery.
const insertMessageDeliveries = `WITH m AS (
	INSERT INTO messages (text, title, kind, sender, test, at, source, created_by, created_at)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id)
INSERT INTO deliveries (message_id, phone, status, next_attempt_at, created_at, updated_at)
SELECT m.id, u.phone, 'queued', $10, $9, $9
FROM m, unnest($11::text[]) WITH ORDINALITY AS u (phone, n)
ORDER BY u.n
RETURNING message_id, id, phone`

// created is what storing a message assigns, applied to the caller's
// message only after the commit.
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
// fails and the batch has several messages, each is retried alone so one
// bad message cannot fail the others.
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
	ctx, cancel := context.WithTimeout(context.Background(), commitTimeout)
	defer cancel()
	results, err := db.insertMessages(ctx, live)
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
	db.log.Warn("postgres: group commit failed, storing messages one by one", "messages", len(live), "err", err)
	for _, r := range live {
		res, err := db.insertMessages(ctx, []*createReq{r})
		if err == nil {
			res[0].apply(r.m)
		}
		r.done <- err
	}
}

// insertMessages stores the messages of reqs in one transaction, the
// statements pipelined in one round trip, without changing them.
func (db *DB) insertMessages(ctx context.Context, reqs []*createReq) ([]created, error) {
	out := make([]created, len(reqs))
	var b pgx.Batch
	for i, r := range reqs {
		m := r.m
		c := created{create: truncMS(m.CreatedAt), at: truncMS(m.At)}
		if c.create.IsZero() {
			c.create = truncMS(time.Now())
		}
		out[i] = c
		head := []any{m.Text, m.Title, string(m.Kind), m.Sender, m.Test, ts(c.at), m.Source, m.CreatedBy, c.create}
		if len(m.Deliveries) == 0 {
			b.Queue(insertMessage, head...)
			continue
		}
		due := c.at
		if due.IsZero() {
			due = c.create
		}
		phones := make([]string, len(m.Deliveries))
		for j, d := range m.Deliveries {
			phones[j] = string(d.Phone)
		}
		b.Queue(insertMessageDeliveries, append(head, due, phones)...)
	}
	db.batches.Add(1)
	err := db.tx(ctx, func(tx pgx.Tx) error {
		br := tx.SendBatch(ctx, &b)
		for i, r := range reqs {
			c, err := readCreated(br, out[i], len(r.m.Deliveries))
			if err != nil {
				br.Close()
				return err
			}
			out[i] = c
		}
		return br.Close()
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: create message: %w", err)
	}
	return out, nil
}

// readCreated reads the result of one queued insert: the message ID and
// its n deliveries, ordered by ID (identities are handed out in insertion
// order, so this is the input order too).
func readCreated(br pgx.BatchResults, c created, n int) (created, error) {
	rows, err := br.Query()
	if err != nil {
		return c, err
	}
	defer rows.Close()
	due := c.at
	if due.IsZero() {
		due = c.create
	}
	for rows.Next() {
		var did *int64
		var phone *string
		if err := rows.Scan(&c.id, &did, &phone); err != nil {
			return c, err
		}
		if did != nil {
			c.deliveries = append(c.deliveries, sms.Delivery{ID: *did, MessageID: c.id, Phone: sms.Phone(*phone),
				Status: sms.StatusQueued, NextAttemptAt: due, CreatedAt: c.create, UpdatedAt: c.create})
		}
	}
	if err := rows.Err(); err != nil {
		return c, err
	}
	if len(c.deliveries) != n {
		return c, fmt.Errorf("stored %d of %d deliveries", len(c.deliveries), n)
	}
	slices.SortFunc(c.deliveries, func(a, b sms.Delivery) int { return cmp.Compare(a.ID, b.ID) })
	return c, nil
}
