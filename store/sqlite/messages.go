package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/munja-sms/munja/sms"
	"github.com/munja-sms/munja/store"
)

const messageCols = `m.id, m.text, m.title, m.kind, m.sender, m.test, m.at, m.source, m.created_by, m.created_at`

const deliveryCols = `d.id, d.message_id, d.phone, d.status, d.provider, d.provider_msg_id, d.attempts,
	d.last_error, d.next_attempt_at, d.created_at, d.updated_at, d.sent_at`

// scanner is *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

func scanMessage(s scanner, m *sms.Message) error {
	var at, created sql.NullInt64
	var test int
	if err := s.Scan(&m.ID, &m.Text, &m.Title, &m.Kind, &m.Sender, &test, &at, &m.Source, &m.CreatedBy, &created); err != nil {
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
	q, args := listQuery(f)
	var out []*sms.Message
	err := db.readTx(ctx, func(tx *sql.Tx) error {
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

// listQuery builds the history query for f. Pages walk the messages rowid
// backwards; delivery conditions go through the deliveries indexes.
func listQuery(f store.MessageFilter) (string, []any) {
	var where []string
	var args []any
	if f.BeforeID > 0 {
		where = append(where, `m.id < ?`)
		args = append(args, f.BeforeID)
	}
	switch {
	case f.Phone != "" && f.Status != "":
		where = append(where, `m.id IN (SELECT message_id FROM deliveries WHERE phone = ? AND status = ?)`)
		args = append(args, string(f.Phone), string(f.Status))
	case f.Phone != "":
		where = append(where, `m.id IN (SELECT message_id FROM deliveries WHERE phone = ?)`)
		args = append(args, string(f.Phone))
	case f.Status != "":
		where = append(where, `m.id IN (SELECT message_id FROM deliveries WHERE status = ?)`)
		args = append(args, string(f.Status))
	}
	if f.Source != "" {
		where = append(where, `m.source = ?`)
		args = append(args, f.Source)
	}
	if f.Text != "" {
		where = append(where, `(m.text LIKE ? ESCAPE '\' OR m.title LIKE ? ESCAPE '\')`)
		args = append(args, likeArg(f.Text), likeArg(f.Text))
	}
	if !f.Since.IsZero() {
		where = append(where, `m.created_at >= ?`)
		args = append(args, f.Since.UnixMilli())
	}
	if !f.Until.IsZero() {
		where = append(where, `m.created_at < ?`)
		args = append(args, f.Until.UnixMilli())
	}
	limit := f.Limit
	if limit <= 0 {
		limit = store.DefaultLimit
	}
	q := `SELECT ` + messageCols + ` FROM messages m`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, ` AND `)
	}
	q += ` ORDER BY m.id DESC LIMIT ? OFFSET ?`
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
