package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/munja-sms/munja/store"
	"github.com/munja-sms/munja/store/internal/defaults"
)

const tokenCols = `id, name, scope, hash, created_at, last_used, revoked_at`

func scanToken(s scanner, t *store.Token) error {
	var created, used, revoked sql.NullInt64
	if err := s.Scan(&t.ID, &t.Name, &t.Scope, &t.Hash, &created, &used, &revoked); err != nil {
		return err
	}
	t.CreatedAt, t.LastUsed, t.RevokedAt = fromMS(created), fromMS(used), fromMS(revoked)
	return nil
}

// CreateToken implements store.Tokens.
func (db *DB) CreateToken(ctx context.Context, t *store.Token) error {
	created := defaults.TruncMS(t.CreatedAt)
	if created.IsZero() {
		created = defaults.TruncMS(time.Now())
	}
	res, err := db.exec(ctx, `INSERT INTO api_tokens (name, scope, hash, created_at) VALUES (?, ?, ?, ?)`,
		t.Name, t.Scope, t.Hash, created.UnixMilli())
	if isUnique(err) {
		return fmt.Errorf("token %q: %w", t.Name, store.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("sqlite: create token %q: %w", t.Name, err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return fmt.Errorf("sqlite: create token %q: %w", t.Name, err)
	}
	t.ID, t.CreatedAt, t.LastUsed, t.RevokedAt = id, created, time.Time{}, time.Time{}
	return nil
}

// TokenByHash implements store.Tokens.
func (db *DB) TokenByHash(ctx context.Context, hash []byte) (*store.Token, error) {
	var t store.Token
	err := scanToken(db.r.QueryRowContext(ctx, `SELECT `+tokenCols+` FROM api_tokens
		WHERE hash = ? AND revoked_at IS NULL`, hash), &t)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("token: %w", store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: token by hash: %w", err)
	}
	return &t, nil
}

// ListTokens implements store.Tokens.
func (db *DB) ListTokens(ctx context.Context) ([]store.Token, error) {
	out, err := queryAll(ctx, db, `SELECT `+tokenCols+` FROM api_tokens ORDER BY name, id`, nil, scanToken)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list tokens: %w", err)
	}
	return out, nil
}

// RevokeToken implements store.Tokens.
func (db *DB) RevokeToken(ctx context.Context, name string, at time.Time) error {
	if at.IsZero() {
		at = time.Now()
	}
	res, err := db.exec(ctx, `UPDATE api_tokens SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL`,
		at.UnixMilli(), name)
	return affectedOne(res, err, fmt.Sprintf("token %q", name))
}

// TouchToken implements store.Tokens.
func (db *DB) TouchToken(ctx context.Context, id int64, at time.Time) error {
	res, err := db.exec(ctx, `UPDATE api_tokens SET last_used = ? WHERE id = ?`, at.UnixMilli(), id)
	return affectedOne(res, err, fmt.Sprintf("token %d", id))
}

// affectedOne turns the result of a single-row UPDATE or DELETE into an error,
// ErrNotFound when no row matched.
func affectedOne(res sql.Result, err error, what string) error {
	if err != nil {
		return fmt.Errorf("sqlite: %s: %w", what, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlite: %s: %w", what, err)
	}
	if n == 0 {
		return fmt.Errorf("%s: %w", what, store.ErrNotFound)
	}
	return nil
}
