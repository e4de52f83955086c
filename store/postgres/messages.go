package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/munja-sms/munja/sms"
	"github.com/munja-sms/munja/store"
	"github.com/munja-sms/munja/store/internal/defaults"
)

const messageCols = `m.id, m.text, m.title, m.kind, m.sender, m.test, m.at, m.source, m.created_by, m.template, m.created_at`

const deliveryCols = `d.id, d.message_id, d.phone, d.status, d.provider, d.provider_msg_id, d.attempts,
	d.last_error, d.next_attempt_at, d.created_at, d.updated_at, d.sent_at`

// messageDst returns the scan destinations of messageCols.
func messageDst(m *sms.Message) []any {
	return []any{&m.ID, &m.Text, &m.Title, &m.Kind, &m.Sender, &m.Test, at(&m.At), &m.Source, &m.CreatedBy, &m.Template, at(&m.CreatedAt)}
}

// deliveryDst returns the scan destinations of deliveryCols.
func deliveryDst(d *sms.Delivery) []any {
	return []any{&d.ID, &d.MessageID, &d.Phone, &d.Status, &d.Provider, &d.ProviderMsgID, &d.Attempts,
		&d.LastError, at(&d.NextAttemptAt), at(&d.CreatedAt), at(&d.UpdatedAt), at(&d.SentAt)}
}

// GetMessage implements store.Messages.
func (db *DB) GetMessage(ctx context.Context, id int64) (*sms.Message, error) {
	var m sms.Message
	err := db.readTx(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `SELECT `+messageCols+` FROM messages m WHERE m.id = $1`, id).Scan(messageDst(&m)...)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("message %d: %w", id, store.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("postgres: get message %d: %w", id, err)
		}
		return attachDeliveries(ctx, tx, []*sms.Message{&m})
	})
	if err != nil {
		return nil, err
	}
	return &m, nil
}

// readTx runs fn in a read-only REPEATABLE READ transaction: one snapshot
// for a message and its deliveries.
func (db *DB) readTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	return db.withConn(ctx, func(c *pgx.Conn) error {
		tx, err := c.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
		if err != nil {
			return fmt.Errorf("postgres: begin read: %w", err)
		}
		defer tx.Rollback(ctx) //nolint:errcheck // read-only; nothing to lose
		return fn(tx)
	})
}

// ListMessages implements store.Messages.
func (db *DB) ListMessages(ctx context.Context, f store.MessageFilter) ([]*sms.Message, error) {
	q, a := listQuery(f)
	var out []*sms.Message
	err := db.readTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, q, a...)
		if err != nil {
			return fmt.Errorf("postgres: list messages: %w", err)
		}
		for rows.Next() {
			m := new(sms.Message)
			if err := rows.Scan(messageDst(m)...); err != nil {
				rows.Close()
				return fmt.Errorf("postgres: list messages: %w", err)
			}
			out = append(out, m)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("postgres: list messages: %w", err)
		}
		return attachDeliveries(ctx, tx, out)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// listQuery builds the history query for f.
func listQuery(f store.MessageFilter) (string, []any) {
	var where []string
	var a args
	if f.BeforeID > 0 {
		where = append(where, `m.id < `+a.add(f.BeforeID))
	}
	switch {
	case f.Phone != "" && f.Status != "":
		where = append(where, `m.id IN (SELECT message_id FROM deliveries WHERE phone = `+a.add(string(f.Phone))+
			` AND status = `+a.add(string(f.Status))+`)`)
	case f.Phone != "":
		where = append(where, `m.id IN (SELECT message_id FROM deliveries WHERE phone = `+a.add(string(f.Phone))+`)`)
	case f.Status != "":
		where = append(where, `m.id IN (SELECT message_id FROM deliveries WHERE status = `+a.add(string(f.Status))+`)`)
	}
	if f.Source != "" {
		where = append(where, `m.source = `+a.add(f.Source))
	}
	if f.Text != "" {
		p := a.add(likeArg(f.Text))
		where = append(where, `(m.text ILIKE `+p+` OR m.title ILIKE `+p+`)`)
	}
	if !f.Since.IsZero() {
		where = append(where, `m.created_at >= `+a.add(defaults.TruncMS(f.Since)))
	}
	if !f.Until.IsZero() {
		where = append(where, `m.created_at < `+a.add(defaults.TruncMS(f.Until)))
	}
	limit := f.Limit
	if limit <= 0 {
		limit = store.DefaultLimit
	}
	q := `SELECT ` + messageCols + ` FROM messages m`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, ` AND `)
	}
	q += ` ORDER BY m.id DESC LIMIT ` + a.add(limit) + ` OFFSET ` + a.add(max(f.Offset, 0))
	return q, a
}

// attachDeliveries loads the deliveries of ms, ordered by ID.
func attachDeliveries(ctx context.Context, q querier, ms []*sms.Message) error {
	if len(ms) == 0 {
		return nil
	}
	byID := make(map[int64]*sms.Message, len(ms))
	ids := make([]int64, len(ms))
	for i, m := range ms {
		byID[m.ID] = m
		ids[i] = m.ID
	}
	rows, err := q.Query(ctx, `SELECT `+deliveryCols+` FROM deliveries d
		WHERE d.message_id = ANY($1) ORDER BY d.id`, ids)
	if err != nil {
		return fmt.Errorf("postgres: load deliveries: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var d sms.Delivery
		if err := rows.Scan(deliveryDst(&d)...); err != nil {
			return fmt.Errorf("postgres: load deliveries: %w", err)
		}
		m := byID[d.MessageID]
		m.Deliveries = append(m.Deliveries, d)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("postgres: load deliveries: %w", err)
	}
	return nil
}

// PendingReports implements store.Messages. limit <= 0 means
// store.DefaultLimit.
func (db *DB) PendingReports(ctx context.Context, since time.Time, limit int) ([]sms.Delivery, error) {
	if limit <= 0 {
		limit = store.DefaultLimit
	}
	var out []sms.Delivery
	err := db.withConn(ctx, func(c *pgx.Conn) error {
		rows, err := c.Query(ctx, `SELECT `+deliveryCols+` FROM deliveries d
			WHERE d.status = 'sent' AND d.provider_msg_id <> '' AND d.sent_at >= $1
			AND NOT (SELECT m.test FROM messages m WHERE m.id = d.message_id)
			ORDER BY d.sent_at, d.id LIMIT $2`, defaults.TruncMS(since), limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var d sms.Delivery
			if err := rows.Scan(deliveryDst(&d)...); err != nil {
				return err
			}
			out = append(out, d)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: pending reports: %w", err)
	}
	return out, nil
}

// RecordReport implements store.Messages: only a sent or reserved delivery
// takes a report; for one in another state nothing changes.
func (db *DB) RecordReport(ctx context.Context, deliveryID int64, status sms.Status, detail string, when time.Time) error {
	if status != sms.StatusDelivered && status != sms.StatusFailed {
		return fmt.Errorf("postgres: record report of delivery %d: status %q is not a delivery result", deliveryID, status)
	}
	if when.IsZero() {
		when = time.Now()
	}
	lastErr := detail
	if status == sms.StatusDelivered {
		lastErr = ""
	}
	// One statement: the update, and whether the delivery exists at all.
	var found bool
	err := db.queryRow(ctx, `WITH u AS (
			UPDATE deliveries SET status = $2, last_error = $3, updated_at = $4
			WHERE id = $1 AND status IN ('sent', 'reserved') RETURNING id)
		SELECT EXISTS (SELECT 1 FROM u) OR EXISTS (SELECT 1 FROM deliveries WHERE id = $1)`,
		[]any{deliveryID, string(status), lastErr, defaults.TruncMS(when)}, &found)
	if err != nil {
		return fmt.Errorf("postgres: record report of delivery %d: %w", deliveryID, err)
	}
	if !found {
		return fmt.Errorf("delivery %d: %w", deliveryID, store.ErrNotFound)
	}
	return nil
}
