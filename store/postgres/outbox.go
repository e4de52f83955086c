package postgres

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/munja-sms/munja/sms"
	"github.com/munja-sms/munja/store"
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
		Timeout:   commitTimeout,
		Queue:     1024,
		Closed:    errClosed,
		Log:       db.log,
		Name:      "postgres",
	})
}

// insertMessage stores a message without deliveries.
const insertMessage = `INSERT INTO messages (text, title, kind, sender, test, at, source, created_by, created_at, template)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id, NULL::bigint, NULL::text`

// insertMessageDeliveries stores a message and its deliveries in one
// statement, returning one row per delivery.
const insertMessageDeliveries = `WITH m AS (
	INSERT INTO messages (text, title, kind, sender, test, at, source, created_by, created_at, template)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $12) RETURNING id)
INSERT INTO deliveries (message_id, phone, status, next_attempt_at, created_at, updated_at)
SELECT m.id, u.phone, 'queued', $10, $9, $9
FROM m, unnest($11::text[]) WITH ORDINALITY AS u (phone, n)
ORDER BY u.n
RETURNING message_id, id, phone`

// CreateMessage implements store.Messages. It returns once the message is
// committed; if ctx ends before the committer took the message, nothing is
// stored and ctx's error is returned.
func (db *DB) CreateMessage(ctx context.Context, m *sms.Message) error {
	return db.CreateLimited(ctx, m, store.Limits{})
}

// CreateLimited implements store.Messages. A limited insert first takes a
// transaction-scoped advisory lock (budgetLock), so the limited inserts of
// every replica and CLI sharing the database run one after another, each
// counting what the ones before it committed.
func (db *DB) CreateLimited(ctx context.Context, m *sms.Message, lim store.Limits) error {
	return db.creates.Submit(ctx, &create{m: m, Create: store.Create{Limits: lim}})
}

// CreateWith implements store.Messages. The key's row is claimed first in
// the insert's transaction: a replica claiming the same key waits for this
// transaction to end and then finds the key taken (or free again, after a
// rollback). The audit entries of the batch are inserted in it with one
// statement.
func (db *DB) CreateWith(ctx context.Context, m *sms.Message, opt store.Create) error {
	return db.creates.Submit(ctx, &create{m: m, Create: opt})
}

// claimKey records a key for a message about to be stored, unless a message
// created at or after $3 holds it already (then it returns no row).
const claimKey = `INSERT INTO message_keys (key, message_id, created_at) VALUES ($1, NULL, $2)
ON CONFLICT (key) DO UPDATE SET message_id = NULL, created_at = EXCLUDED.created_at
WHERE message_keys.created_at < $3
RETURNING true`

// claimKeys claims the keys of cs in tx, in key order so that two batches
// never wait for each other's keys in a cycle, or returns the
// *store.DuplicateError naming the message that holds one.
func claimKeys(ctx context.Context, tx pgx.Tx, cs []*create, out []defaults.Created) error {
	order := make([]int, 0, len(cs))
	for i, c := range cs {
		if c.Once.Key != "" {
			order = append(order, i)
		}
	}
	slices.SortFunc(order, func(a, b int) int { return cmp.Compare(cs[a].Once.Key, cs[b].Once.Key) })
	for _, i := range order {
		once := cs[i].Once
		var ok bool
		err := tx.QueryRow(ctx, claimKey, once.Key, out[i].CreatedAt, defaults.TruncMS(once.Since)).Scan(&ok)
		if err == nil {
			continue
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("claim message key: %w", err)
		}
		var id *int64
		if err := tx.QueryRow(ctx, `SELECT message_id FROM message_keys WHERE key = $1`, once.Key).Scan(&id); err != nil {
			return fmt.Errorf("read message key: %w", err)
		}
		de := &store.DuplicateError{Key: once.Key}
		if id != nil {
			de.MessageID = *id
		}
		return de
	}
	return nil
}

// budgetLock serializes limited inserts across connections (per schema,
// like the leader locks).
const budgetLock = `SELECT pg_advisory_xact_lock(hashtextextended('munja budget ' || current_schema(), 0))`

// insertMessages stores the messages of cs in one transaction, each within
// its limits, the inserts pipelined in one round trip, and once it is
// committed fills them in, with their audit entries (store.Create.Audit). A
// message refused by its limits, or whose key (CreateWith) is taken, fails the batch (the group committer then stores
// the others one by one).
func (db *DB) insertMessages(ctx context.Context, cs []*create) error {
	out := make([]defaults.Created, len(cs))
	dropped := make([][]sms.Phone, len(cs))
	limited := false
	for _, c := range cs {
		limited = limited || c.Limits.On()
	}
	err := db.tx(ctx, func(tx pgx.Tx) error {
		now := time.Now()
		for i, c := range cs {
			out[i] = defaults.Message(c.m, now)
		}
		// Keys first (before the budget lock, in every transaction): a
		// duplicate is answered as one even when the limits would now
		// refuse it.
		if err := claimKeys(ctx, tx, cs, out); err != nil {
			return err
		}
		phones := make([][]sms.Phone, len(cs))
		for i, c := range cs {
			phones[i] = make([]sms.Phone, len(c.m.Deliveries))
			for j, d := range c.m.Deliveries {
				phones[i][j] = d.Phone
			}
		}
		if limited {
			if _, err := tx.Exec(ctx, budgetLock); err != nil {
				return fmt.Errorf("budget lock: %w", err)
			}
			u, err := usage(ctx, tx, cs)
			if err != nil {
				return err
			}
			for i, c := range cs {
				if !c.Limits.On() {
					continue
				}
				if phones[i], dropped[i], err = c.Limits.Apply(phones[i], u); err != nil {
					return err
				}
			}
		}
		var b pgx.Batch
		for i, c := range cs {
			m := c.m
			cr := out[i]
			head := []any{m.Text, m.Title, string(m.Kind), m.Sender, m.Test, ts(cr.At), m.Source, m.CreatedBy, cr.CreatedAt}
			if len(phones[i]) == 0 {
				b.Queue(insertMessage, append(head, m.Template)...)
				continue
			}
			ps := make([]string, len(phones[i]))
			for j, p := range phones[i] {
				ps[j] = string(p)
			}
			b.Queue(insertMessageDeliveries, append(head, cr.Due(), ps, m.Template)...)
		}
		br := tx.SendBatch(ctx, &b)
		for i := range cs {
			cr, err := readCreated(br, out[i], len(phones[i]))
			if err != nil {
				br.Close()
				return err
			}
			out[i] = cr
		}
		if err := br.Close(); err != nil {
			return err
		}
		for i, c := range cs {
			if c.Once.Key == "" {
				continue
			}
			if _, err := tx.Exec(ctx, `UPDATE message_keys SET message_id = $2 WHERE key = $1`, c.Once.Key, out[i].ID); err != nil {
				return fmt.Errorf("record message key: %w", err)
			}
		}
		return insertAudits(ctx, tx, cs, out, dropped)
	})
	var le *store.LimitError
	if errors.As(err, &le) {
		return le
	}
	var de *store.DuplicateError
	if errors.As(err, &de) {
		return de
	}
	if err != nil {
		return fmt.Errorf("postgres: create message: %w", err)
	}
	for i, c := range cs {
		out[i].Apply(c.m)
		if c.Limits.On() {
			c.m.Dropped = dropped[i]
		}
	}
	return nil
}

// insertAudits appends the audit entries of the messages of cs, stored as
// out with dropped recipients, in one statement.
func insertAudits(ctx context.Context, tx pgx.Tx, cs []*create, out []defaults.Created, dropped [][]sms.Phone) error {
	var at []time.Time
	var actor, action, target, detail []string
	for i, c := range cs {
		if c.Audit == nil {
			continue
		}
		view := *c.m
		out[i].Apply(&view)
		view.Dropped = dropped[i]
		e := c.Audit(&view)
		if e.At.IsZero() {
			e.At = time.Now()
		}
		at = append(at, defaults.TruncMS(e.At))
		actor, action, target, detail = append(actor, e.Actor), append(action, e.Action), append(target, e.Target), append(detail, e.Detail)
	}
	if len(at) == 0 {
		return nil
	}
	if _, err := tx.Exec(ctx, `INSERT INTO audit_log (at, actor, action, target, detail)
		SELECT * FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::text[], $5::text[])`,
		at, actor, action, target, detail); err != nil {
		return fmt.Errorf("add audit: %w", err)
	}
	return nil
}

// usage counts, inside tx and under budgetLock, what the limits of the
// limited messages of cs count against (store.WindowOf).
func usage(ctx context.Context, tx pgx.Tx, cs []*create) (*store.Usage, error) {
	u := &store.Usage{Phone: map[sms.Phone]int{}}
	ms, lims := make([]*sms.Message, len(cs)), make([]store.Limits, len(cs))
	for i, c := range cs {
		ms[i], lims[i] = c.m, c.Limits
	}
	w := store.WindowOf(ms, lims)
	if !w.Day.IsZero() {
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM deliveries WHERE created_at >= $1`, w.Day).Scan(&u.Day); err != nil {
			return nil, fmt.Errorf("count today's deliveries: %w", err)
		}
	}
	if len(w.Phones) > 0 {
		phones := make([]string, len(w.Phones))
		for i, p := range w.Phones {
			phones[i] = string(p)
		}
		rows, err := tx.Query(ctx, `SELECT phone, count(*) FROM deliveries
			WHERE phone = ANY($1::text[]) AND created_at >= $2 GROUP BY phone`, phones, w.Hour)
		if err != nil {
			return nil, fmt.Errorf("count deliveries per phone: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var p string
			var n int
			if err := rows.Scan(&p, &n); err != nil {
				return nil, fmt.Errorf("count deliveries per phone: %w", err)
			}
			u.Phone[sms.Phone(p)] = n
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("count deliveries per phone: %w", err)
		}
	}
	return u, nil
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
