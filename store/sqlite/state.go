package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/munja-sms/munja/store"
)

// insertAudit appends an audit entry.
const insertAudit = `INSERT INTO audit_log (at, actor, action, target, detail) VALUES (?, ?, ?, ?, ?)`

// AddAudit implements store.Audit.
func (db *DB) AddAudit(ctx context.Context, e store.AuditEntry) error {
	_, err := db.exec(ctx, insertAudit, auditArgs(&e)...)
	return auditErr(e, err)
}

// addAudit appends e in tx (a message's entry, store.Create.Audit).
func addAudit(ctx context.Context, tx *sql.Tx, e store.AuditEntry) error {
	_, err := tx.ExecContext(ctx, insertAudit, auditArgs(&e)...)
	return auditErr(e, err)
}

// auditArgs are insertAudit's arguments for e (At zero means now).
func auditArgs(e *store.AuditEntry) []any {
	if e.At.IsZero() {
		e.At = time.Now()
	}
	return []any{e.At.UnixMilli(), e.Actor, e.Action, e.Target, e.Detail}
}

func auditErr(e store.AuditEntry, err error) error {
	if err != nil {
		return fmt.Errorf("sqlite: add audit %s: %w", e.Action, err)
	}
	return nil
}

// ListAudit implements store.Audit: FindAudit with only a limit.
func (db *DB) ListAudit(ctx context.Context, limit int) ([]store.AuditEntry, error) {
	return db.FindAudit(ctx, store.AuditQuery{Limit: limit})
}

// FindAudit implements store.Audit.
func (db *DB) FindAudit(ctx context.Context, q store.AuditQuery) ([]store.AuditEntry, error) {
	if q.Limit <= 0 {
		q.Limit = store.DefaultLimit
	}
	var where []string
	var args []any
	if q.Before != 0 {
		where = append(where, `(at, id) < (SELECT at, id FROM audit_log WHERE id = ?)`)
		args = append(args, q.Before)
	}
	if q.Actor != "" {
		where = append(where, `(actor = ? OR actor LIKE ? ESCAPE '\')`)
		args = append(args, q.Actor, store.LikePrefix(q.Actor+":"))
	}
	if q.Action != "" {
		where = append(where, `(action = ? OR action LIKE ? ESCAPE '\')`)
		args = append(args, q.Action, store.LikePrefix(q.Action+"."))
	}
	if !q.Since.IsZero() {
		where = append(where, `at >= ?`)
		args = append(args, q.Since.UnixMilli())
	}
	if !q.Until.IsZero() {
		where = append(where, `at < ?`)
		args = append(args, q.Until.UnixMilli())
	}
	sqlText := `SELECT id, at, actor, action, target, detail FROM audit_log`
	if len(where) > 0 {
		sqlText += ` WHERE ` + strings.Join(where, ` AND `)
	}
	rows, err := db.r.QueryContext(ctx, sqlText+` ORDER BY at DESC, id DESC LIMIT ?`, append(args, q.Limit)...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: find audit: %w", err)
	}
	defer rows.Close()
	var out []store.AuditEntry
	for rows.Next() {
		var e store.AuditEntry
		var at sql.NullInt64
		if err := rows.Scan(&e.ID, &at, &e.Actor, &e.Action, &e.Target, &e.Detail); err != nil {
			return nil, fmt.Errorf("sqlite: find audit: %w", err)
		}
		e.At = fromMS(at)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: find audit: %w", err)
	}
	return out, nil
}

// GetState implements store.AlertState.
func (db *DB) GetState(ctx context.Context, key string) ([]byte, error) {
	var v []byte
	err := db.r.QueryRowContext(ctx, `SELECT value FROM alert_state WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("state %q: %w", key, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: get state %q: %w", key, err)
	}
	if v == nil {
		v = []byte{}
	}
	return v, nil
}

// PutState implements store.AlertState.
func (db *DB) PutState(ctx context.Context, key string, value []byte) error {
	if value == nil {
		value = []byte{}
	}
	if _, err := db.exec(ctx, `INSERT INTO alert_state (key, value, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
		key, value, time.Now().UnixMilli()); err != nil {
		return fmt.Errorf("sqlite: put state %q: %w", key, err)
	}
	return nil
}

// WriteStates implements store.StateBatcher: one transaction.
func (db *DB) WriteStates(ctx context.Context, writes []store.StateWrite) error {
	if len(writes) == 0 {
		return nil
	}
	now := time.Now().UnixMilli()
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		put, err := tx.PrepareContext(ctx, `INSERT INTO alert_state (key, value, updated_at) VALUES (?, ?, ?)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`)
		if err != nil {
			return err
		}
		defer put.Close()
		del, err := tx.PrepareContext(ctx, `DELETE FROM alert_state WHERE key = ?`)
		if err != nil {
			return err
		}
		defer del.Close()
		for _, w := range writes {
			if w.Value == nil {
				_, err = del.ExecContext(ctx, w.Key)
			} else {
				_, err = put.ExecContext(ctx, w.Key, w.Value, now)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: write %d state records: %w", len(writes), err)
	}
	return nil
}

// DeleteState implements store.AlertState. Deleting a missing key is not an error.
func (db *DB) DeleteState(ctx context.Context, key string) error {
	if _, err := db.exec(ctx, `DELETE FROM alert_state WHERE key = ?`, key); err != nil {
		return fmt.Errorf("sqlite: delete state %q: %w", key, err)
	}
	return nil
}

// ListState implements store.AlertState.
func (db *DB) ListState(ctx context.Context, prefix string) (map[string][]byte, error) {
	// substr counts characters, as length does, so this is an exact,
	// case-sensitive prefix match whatever the prefix contains.
	rows, err := db.r.QueryContext(ctx, `SELECT key, value FROM alert_state
		WHERE substr(key, 1, length(?1)) = ?1`, prefix)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list state %q: %w", prefix, err)
	}
	defer rows.Close()
	out := map[string][]byte{}
	for rows.Next() {
		var k string
		var v []byte
		if err := rows.Scan(&k, &v); err != nil {
			return nil, fmt.Errorf("sqlite: list state %q: %w", prefix, err)
		}
		if v == nil {
			v = []byte{}
		}
		out[k] = v
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list state %q: %w", prefix, err)
	}
	return out, nil
}
