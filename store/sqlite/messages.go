package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/munja-sms/munja/sms"
	"github.com/munja-sms/munja/store"
	"github.com/munja-sms/munja/store/internal/rowscan"
)

const messageCols = `m.id, m.text, m.title, m.kind, m.sender, m.test, m.at, m.source, m.created_by, m.template, m.created_at`

const deliveryCols = `d.id, d.message_id, d.phone, d.status, d.provider, d.provider_msg_id, d.attempts,
	d.last_error, d.next_attempt_at, d.created_at, d.updated_at, d.sent_at`

// scanner is *sql.Row or *sql.Rows.
type scanner = rowscan.Scanner

func scanMessage(s scanner, m *sms.Message) error {
	var at, created sql.NullInt64
	var test int
	if err := s.Scan(&m.ID, &m.Text, &m.Title, &m.Kind, &m.Sender, &test, &at, &m.Source, &m.CreatedBy, &m.Template, &created); err != nil {
		return err
	}
	m.Test = test != 0
	m.At = fromMS(at)
	m.CreatedAt = fromMS(created)
	return nil
}

func scanDelivery(s scanner, d *sms.Delivery) error {
	var next, created, updated, sent sql.NullInt64
	if err := s.Scan(&d.ID, &d.MessageID, &d.Phone, &d.Status, &d.Provider, &d.ProviderMsgID, &d.Attempts,
		&d.LastError, &next, &created, &updated, &sent); err != nil {
		return err
	}
	d.NextAttemptAt = fromMS(next)
	d.CreatedAt = fromMS(created)
	d.UpdatedAt = fromMS(updated)
	d.SentAt = fromMS(sent)
	return nil
}

// GetMessage implements store.Messages.
func (db *DB) GetMessage(ctx context.Context, id int64) (*sms.Message, error) {
	var m sms.Message
	err := db.readTx(ctx, func(tx *sql.Tx) error {
		err := scanMessage(tx.QueryRowContext(ctx, `SELECT `+messageCols+` FROM messages m WHERE m.id = ?`, id), &m)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("message %d: %w", id, store.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("sqlite: get message %d: %w", id, err)
		}
		return attachDeliveries(ctx, tx, []*sms.Message{&m})
	})
	if err != nil {
		return nil, err
	}
	return &m, nil
}

// ListMessages implements store.Messages.
func (db *DB) ListMessages(ctx context.Context, f store.MessageFilter) ([]*sms.Message, error) {
	var out []*sms.Message
	err := db.readTx(ctx, func(tx *sql.Tx) error {
		byTime := false
		if f.Phone == "" && f.Status == "" && (!f.Since.IsZero() || !f.Until.IsZero()) {
			var err error
			if byTime, err = narrowRange(ctx, tx, f.Since, f.Until); err != nil {
				return err
			}
		}
		q, args := listQuery(f, byTime)
		rows, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("sqlite: list messages: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			m := new(sms.Message)
			if err := scanMessage(rows, m); err != nil {
				return fmt.Errorf("sqlite: list messages: %w", err)
			}
			out = append(out, m)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("sqlite: list messages: %w", err)
		}
		rows.Close()
		return attachDeliveries(ctx, tx, out)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// narrowRange reports whether the messages created in [since, until) are
// better found through the created_at index (then sorted by ID) than by
// walking IDs down from the newest. It estimates both costs from three index
// lookups, counting IDs as if they grew with created_at, as they do unless
// CreatedAt was given to CreateMessage; the answer only picks a plan, both
// plans return the same rows.
func narrowRange(ctx context.Context, tx *sql.Tx, since, until time.Time) (bool, error) {
	var newest, hi, lo sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT max(id) FROM messages`).Scan(&newest); err != nil {
		return false, fmt.Errorf("sqlite: list messages: %w", err)
	}
	hi = newest
	if !until.IsZero() {
		err := tx.QueryRowContext(ctx, `SELECT id FROM messages WHERE created_at < ?
			ORDER BY created_at DESC LIMIT 1`, until.UnixMilli()).Scan(&hi)
		if errors.Is(err, sql.ErrNoRows) {
			return true, nil // nothing that old: the index finds that at once
		} else if err != nil {
			return false, fmt.Errorf("sqlite: list messages: %w", err)
		}
	}
	if !since.IsZero() {
		err := tx.QueryRowContext(ctx, `SELECT id FROM messages WHERE created_at >= ?
			ORDER BY created_at LIMIT 1`, since.UnixMilli()).Scan(&lo)
		if errors.Is(err, sql.ErrNoRows) {
			return true, nil
		} else if err != nil {
			return false, fmt.Errorf("sqlite: list messages: %w", err)
		}
	}
	skip := newest.Int64 - hi.Int64   // rows the ID walk passes before the range
	span := max(hi.Int64-lo.Int64, 0) // rows the index would fetch and sort
	// Sorting a row costs a few times more than stepping over one.
	return skip > 4*span, nil
}

// listQuery builds the history query for f. With a recipient or status
// filter it walks the (phone, message_id) or (status, message_id) index
// backwards and joins the message, so a page costs about the same however
// many deliveries match. Without, it walks the messages IDs down from the
// newest or, when byTime, takes the created_at range from its index and
// sorts it.
func listQuery(f store.MessageFilter, byTime bool) (string, []any) {
	var where []string
	var args []any
	from, id, group := `messages m`, `m.id`, ``
	switch {
	case f.Phone != "":
		from = `deliveries d INDEXED BY deliveries_phone_message CROSS JOIN messages m ON m.id = d.message_id`
		id, group = `d.message_id`, ` GROUP BY d.message_id`
		where = append(where, `d.phone = ?`)
		args = append(args, string(f.Phone))
		if f.Status != "" {
			where = append(where, `d.status = ?`)
			args = append(args, string(f.Status))
		}
	case f.Status != "":
		from = `deliveries d INDEXED BY deliveries_status_message CROSS JOIN messages m ON m.id = d.message_id`
		id, group = `d.message_id`, ` GROUP BY d.message_id`
		where = append(where, `d.status = ?`)
		args = append(args, string(f.Status))
	}
	if f.BeforeID > 0 {
		where = append(where, id+` < ?`)
		args = append(args, f.BeforeID)
	}
	if f.Source != "" {
		where = append(where, `m.source = ?`)
		args = append(args, f.Source)
	}
	if f.Text != "" {
		where = append(where, `(m.text LIKE ? ESCAPE '\' OR m.title LIKE ? ESCAPE '\')`)
		args = append(args, likeArg(f.Text), likeArg(f.Text))
	}
	created := `+m.created_at` // unary + keeps the planner off the index
	if byTime {
		from, created = `messages m INDEXED BY messages_created_at`, `m.created_at`
	}
	if !f.Since.IsZero() {
		where = append(where, created+` >= ?`)
		args = append(args, f.Since.UnixMilli())
	}
	if !f.Until.IsZero() {
		where = append(where, created+` < ?`)
		args = append(args, f.Until.UnixMilli())
	}
	limit := f.Limit
	if limit <= 0 {
		limit = store.DefaultLimit
	}
	q := `SELECT ` + messageCols + ` FROM ` + from
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, ` AND `)
	}
	q += group + ` ORDER BY ` + id + ` DESC LIMIT ? OFFSET ?`
	args = append(args, limit, max(f.Offset, 0))
	return q, args
}

// attachDeliveries loads the deliveries of ms, ordered by ID, a few hundred
// messages per query.
func attachDeliveries(ctx context.Context, tx *sql.Tx, ms []*sms.Message) error {
	const chunk = 500
	byID := make(map[int64]*sms.Message, len(ms))
	for _, m := range ms {
		byID[m.ID] = m
	}
	for start := 0; start < len(ms); start += chunk {
		part := ms[start:min(start+chunk, len(ms))]
		args := make([]any, len(part))
		for i, m := range part {
			args[i] = m.ID
		}
		if err := loadDeliveries(ctx, tx, byID, args); err != nil {
			return err
		}
	}
	return nil
}

func loadDeliveries(ctx context.Context, tx *sql.Tx, byID map[int64]*sms.Message, ids []any) error {
	rows, err := tx.QueryContext(ctx, `SELECT `+deliveryCols+` FROM deliveries d
		WHERE d.message_id IN (`+placeholders(len(ids))+`) ORDER BY d.id`, ids...)
	if err != nil {
		return fmt.Errorf("sqlite: load deliveries: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var d sms.Delivery
		if err := scanDelivery(rows, &d); err != nil {
			return fmt.Errorf("sqlite: load deliveries: %w", err)
		}
		m := byID[d.MessageID]
		m.Deliveries = append(m.Deliveries, d)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlite: load deliveries: %w", err)
	}
	return nil
}
