package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/munja-sms/munja/store"
	"github.com/munja-sms/munja/store/internal/defaults"
	"github.com/munja-sms/munja/store/internal/rowscan"
)

// collect runs a query and appends one scanned value per row.
func collect[T any](ctx context.Context, db *DB, sql string, a []any, dst func(*T) []any) ([]T, error) {
	var out []T
	err := db.withConn(ctx, func(c *pgx.Conn) error {
		var err error
		out, err = queryAll(ctx, c, sql, a, dst)
		return err
	})
	return out, err
}

// queryAll runs a query on q and scans every row with dst.
func queryAll[T any](ctx context.Context, q querier, sql string, a []any, dst func(*T) []any) ([]T, error) {
	rows, err := q.Query(ctx, sql, a...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return rowscan.Collect(rows, func(s rowscan.Scanner, v *T) error { return s.Scan(dst(v)...) })
}

const templateCols = `id, name, text, title, created_at, updated_at`

func templateDst(t *store.Template) []any {
	return []any{&t.ID, &t.Name, &t.Text, &t.Title, at(&t.CreatedAt), at(&t.UpdatedAt)}
}

// SaveTemplate implements store.Templates. It fills in ID and times; an
// update keeps CreatedAt. ErrNotFound when updating an ID that does not exist.
func (db *DB) SaveTemplate(ctx context.Context, t *store.Template) error {
	now := defaults.TruncMS(time.Now())
	id, created := t.ID, defaults.TruncMS(t.CreatedAt)
	var err error
	if id == 0 {
		if created.IsZero() {
			created = now
		}
		err = db.queryRow(ctx, `INSERT INTO templates (name, text, title, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5) RETURNING id`, []any{t.Name, t.Text, t.Title, created, now}, &id)
	} else {
		err = db.queryRow(ctx, `UPDATE templates SET name = $1, text = $2, title = $3, updated_at = $4
			WHERE id = $5 RETURNING created_at`, []any{t.Name, t.Text, t.Title, now, id}, at(&created))
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("template %d: %w", id, store.ErrNotFound)
		}
	}
	if isUnique(err) {
		return fmt.Errorf("template %q: %w", t.Name, store.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("postgres: save template %q: %w", t.Name, err)
	}
	t.ID, t.CreatedAt, t.UpdatedAt = id, created, now
	return nil
}

// GetTemplate implements store.Templates.
func (db *DB) GetTemplate(ctx context.Context, id int64) (*store.Template, error) {
	var t store.Template
	err := db.queryRow(ctx, `SELECT `+templateCols+` FROM templates WHERE id = $1`, []any{id}, templateDst(&t)...)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("template %d: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: get template %d: %w", id, err)
	}
	return &t, nil
}

// DeleteTemplate implements store.Templates.
func (db *DB) DeleteTemplate(ctx context.Context, id int64) error {
	t, err := db.exec(ctx, `DELETE FROM templates WHERE id = $1`, id)
	return tag(t, err, fmt.Sprintf("template %d", id))
}

// ListTemplates implements store.Templates, ordered by name.
func (db *DB) ListTemplates(ctx context.Context) ([]store.Template, error) {
	out, err := collect(ctx, db, `SELECT `+templateCols+` FROM templates ORDER BY name, id`, nil, templateDst)
	if err != nil {
		return nil, fmt.Errorf("postgres: list templates: %w", err)
	}
	return out, nil
}

const tokenCols = `id, name, scope, hash, created_at, last_used, revoked_at`

func tokenDst(t *store.Token) []any {
	return []any{&t.ID, &t.Name, &t.Scope, &t.Hash, at(&t.CreatedAt), at(&t.LastUsed), at(&t.RevokedAt)}
}

// CreateToken implements store.Tokens.
func (db *DB) CreateToken(ctx context.Context, t *store.Token) error {
	created := defaults.TruncMS(t.CreatedAt)
	if created.IsZero() {
		created = defaults.TruncMS(time.Now())
	}
	var id int64
	err := db.queryRow(ctx, `INSERT INTO api_tokens (name, scope, hash, created_at) VALUES ($1, $2, $3, $4) RETURNING id`,
		[]any{t.Name, t.Scope, t.Hash, created}, &id)
	if isUnique(err) {
		return fmt.Errorf("token %q: %w", t.Name, store.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("postgres: create token %q: %w", t.Name, err)
	}
	t.ID, t.CreatedAt, t.LastUsed, t.RevokedAt = id, created, time.Time{}, time.Time{}
	return nil
}

// TokenByHash implements store.Tokens.
func (db *DB) TokenByHash(ctx context.Context, hash []byte) (*store.Token, error) {
	var t store.Token
	err := db.queryRow(ctx, `SELECT `+tokenCols+` FROM api_tokens WHERE hash = $1 AND revoked_at IS NULL`,
		[]any{hash}, tokenDst(&t)...)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("token: %w", store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: token by hash: %w", err)
	}
	return &t, nil
}

// ListTokens implements store.Tokens.
func (db *DB) ListTokens(ctx context.Context) ([]store.Token, error) {
	out, err := collect(ctx, db, `SELECT `+tokenCols+` FROM api_tokens ORDER BY name, id`, nil, tokenDst)
	if err != nil {
		return nil, fmt.Errorf("postgres: list tokens: %w", err)
	}
	return out, nil
}

// RevokeToken implements store.Tokens.
func (db *DB) RevokeToken(ctx context.Context, name string, when time.Time) error {
	if when.IsZero() {
		when = time.Now()
	}
	t, err := db.exec(ctx, `UPDATE api_tokens SET revoked_at = $1 WHERE name = $2 AND revoked_at IS NULL`, defaults.TruncMS(when), name)
	return tag(t, err, fmt.Sprintf("token %q", name))
}

// TouchToken implements store.Tokens.
func (db *DB) TouchToken(ctx context.Context, id int64, when time.Time) error {
	t, err := db.exec(ctx, `UPDATE api_tokens SET last_used = $1 WHERE id = $2`, defaults.TruncMS(when), id)
	return tag(t, err, fmt.Sprintf("token %d", id))
}

// AddAudit implements store.Audit.
func (db *DB) AddAudit(ctx context.Context, e store.AuditEntry) error {
	if e.At.IsZero() {
		e.At = time.Now()
	}
	if _, err := db.exec(ctx, `INSERT INTO audit_log (at, actor, action, target, detail) VALUES ($1, $2, $3, $4, $5)`,
		defaults.TruncMS(e.At), e.Actor, e.Action, e.Target, e.Detail); err != nil {
		return fmt.Errorf("postgres: add audit %s: %w", e.Action, err)
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
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if q.Before != 0 {
		where = append(where, `(at, id) < (SELECT at, id FROM audit_log WHERE id = `+arg(q.Before)+`)`)
	}
	if q.Actor != "" {
		where = append(where, `(actor = `+arg(q.Actor)+` OR actor LIKE `+arg(store.LikePrefix(q.Actor+":"))+` ESCAPE '\')`)
	}
	if q.Action != "" {
		where = append(where, `(action = `+arg(q.Action)+` OR action LIKE `+arg(store.LikePrefix(q.Action+"."))+` ESCAPE '\')`)
	}
	if !q.Since.IsZero() {
		where = append(where, `at >= `+arg(defaults.TruncMS(q.Since)))
	}
	if !q.Until.IsZero() {
		where = append(where, `at < `+arg(defaults.TruncMS(q.Until)))
	}
	sqlText := `SELECT id, at, actor, action, target, detail FROM audit_log`
	if len(where) > 0 {
		sqlText += ` WHERE ` + strings.Join(where, ` AND `)
	}
	sqlText += ` ORDER BY at DESC, id DESC LIMIT ` + arg(q.Limit)
	out, err := collect(ctx, db, sqlText, args, func(e *store.AuditEntry) []any {
		return []any{&e.ID, at(&e.At), &e.Actor, &e.Action, &e.Target, &e.Detail}
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: find audit: %w", err)
	}
	return out, nil
}

// GetState implements store.AlertState.
func (db *DB) GetState(ctx context.Context, key string) ([]byte, error) {
	var v []byte
	err := db.queryRow(ctx, `SELECT value FROM alert_state WHERE key = $1`, []any{key}, &v)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("state %q: %w", key, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: get state %q: %w", key, err)
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
	if _, err := db.exec(ctx, `INSERT INTO alert_state (key, value, updated_at) VALUES ($1, $2, $3)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
		key, value, defaults.TruncMS(time.Now())); err != nil {
		return fmt.Errorf("postgres: put state %q: %w", key, err)
	}
	return nil
}

// WriteStates implements store.StateBatcher: one transaction, one
// statement for the puts and one for the deletes (the last write of a
// key wins).
func (db *DB) WriteStates(ctx context.Context, writes []store.StateWrite) error {
	if len(writes) == 0 {
		return nil
	}
	last := make(map[string]int, len(writes))
	for i, w := range writes {
		last[w.Key] = i
	}
	var putKeys, delKeys []string
	var putVals [][]byte
	for i, w := range writes {
		switch {
		case last[w.Key] != i:
		case w.Value == nil:
			delKeys = append(delKeys, w.Key)
		default:
			putKeys, putVals = append(putKeys, w.Key), append(putVals, w.Value)
		}
	}
	err := db.tx(ctx, func(tx pgx.Tx) error {
		if len(putKeys) > 0 {
			if _, err := tx.Exec(ctx, `INSERT INTO alert_state (key, value, updated_at)
				SELECT k, v, $3 FROM unnest($1::text[], $2::bytea[]) AS u (k, v)
				ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
				putKeys, putVals, defaults.TruncMS(time.Now())); err != nil {
				return err
			}
		}
		if len(delKeys) > 0 {
			if _, err := tx.Exec(ctx, `DELETE FROM alert_state WHERE key = ANY($1::text[])`, delKeys); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("postgres: write %d state records: %w", len(writes), err)
	}
	return nil
}

// DeleteState implements store.AlertState. Deleting a missing key is not an error.
func (db *DB) DeleteState(ctx context.Context, key string) error {
	if _, err := db.exec(ctx, `DELETE FROM alert_state WHERE key = $1`, key); err != nil {
		return fmt.Errorf("postgres: delete state %q: %w", key, err)
	}
	return nil
}

// ListState implements store.AlertState: an exact, case-sensitive prefix.
func (db *DB) ListState(ctx context.Context, prefix string) (map[string][]byte, error) {
	type kv struct {
		k string
		v []byte
	}
	rows, err := collect(ctx, db, `SELECT key, value FROM alert_state WHERE starts_with(key, $1)`, []any{prefix},
		func(e *kv) []any { return []any{&e.k, &e.v} })
	if err != nil {
		return nil, fmt.Errorf("postgres: list state %q: %w", prefix, err)
	}
	out := make(map[string][]byte, len(rows))
	for _, e := range rows {
		if e.v == nil {
			e.v = []byte{}
		}
		out[e.k] = e.v
	}
	return out, nil
}
