package postgres

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/munja-sms/munja/sms"
	"github.com/munja-sms/munja/store/internal/defaults"
	"github.com/munja-sms/munja/store/internal/groupcommit"
)

// Group commit (store/internal/groupcommit). A durable commit waits for the
// WAL to reach the disk, which costs far more than the inserts.
// CreateMessage therefore hands its message to one committer goroutine,
// which stores every message waiting at that moment in one transaction (the
// inserts sent in one round trip) and then answers each caller.

// maxBatch bounds one group commit, in deliveries.
const maxBatch = 2000

// commitTimeout bounds one group commit.
const commitTimeout = 30 * time.Second

// newCommitter returns the group committer of CreateMessage.
func (db *DB) newCommitter() *groupcommit.Batcher[*sms.Message] {
	return groupcommit.New(groupcommit.Config[*sms.Message]{
		Commit:    db.insertMessages,
		Weight:    func(m *sms.Message) int { return len(m.Deliveries) },
		MaxWeight: maxBatch,
		Timeout:   commitTimeout,
		Queue:     1024,
		Closed:    errClosed,
		Log:       db.log,
		Name:      "postgres",
	})
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

// CreateMessage implements store.Messages. It returns once the message is
// committed; if ctx ends before the committer took the message, nothing is
// stored and ctx's error is returned.
func (db *DB) CreateMessage(ctx context.Context, m *sms.Message) error {
	return db.creates.Submit(ctx, m)
}

// insertMessages stores ms in one transaction, the statements pipelined in
// one round trip, and once it is committed fills them in.
func (db *DB) insertMessages(ctx context.Context, ms []*sms.Message) error {
	out := make([]defaults.Created, len(ms))
	var b pgx.Batch
	for i, m := range ms {
		c := defaults.Message(m, time.Now())
		out[i] = c
		head := []any{m.Text, m.Title, string(m.Kind), m.Sender, m.Test, ts(c.At), m.Source, m.CreatedBy, c.CreatedAt}
		if len(m.Deliveries) == 0 {
			b.Queue(insertMessage, head...)
			continue
		}
		phones := make([]string, len(m.Deliveries))
		for j, d := range m.Deliveries {
			phones[j] = string(d.Phone)
		}
		b.Queue(insertMessageDeliveries, append(head, c.Due(), phones)...)
	}
	err := db.tx(ctx, func(tx pgx.Tx) error {
		br := tx.SendBatch(ctx, &b)
		for i, m := range ms {
			c, err := readCreated(br, out[i], len(m.Deliveries))
			if err != nil {
				br.Close()
				return err
			}
			out[i] = c
		}
		return br.Close()
	})
	if err != nil {
		return fmt.Errorf("postgres: create message: %w", err)
	}
	for i, m := range ms {
		out[i].Apply(m)
	}
	return nil
}

// readCreated reads the result of one queued insert: the message ID and
// its n deliveries, ordered by ID (identities are handed out in insertion
// order, so this is the input order too).
func readCreated(br pgx.BatchResults, c defaults.Created, n int) (defaults.Created, error) {
	rows, err := br.Query()
	if err != nil {
		return c, err
	}
	defer rows.Close()
	for rows.Next() {
		var did *int64
		var phone *string
		if err := rows.Scan(&c.ID, &did, &phone); err != nil {
			return c, err
		}
		if did != nil {
			c.Deliveries = append(c.Deliveries, c.Delivery(*did, sms.Phone(*phone)))
		}
	}
	if err := rows.Err(); err != nil {
		return c, err
	}
	if len(c.Deliveries) != n {
		return c, fmt.Errorf("stored %d of %d deliveries", len(c.Deliveries), n)
	}
	slices.SortFunc(c.Deliveries, func(a, b sms.Delivery) int { return cmp.Compare(a.ID, b.ID) })
	return c, nil
}
