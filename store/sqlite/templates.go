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

const templateCols = `id, name, text, title, created_at, updated_at`

func scanTemplate(s scanner, t *store.Template) error {
	var created, updated sql.NullInt64
	if err := s.Scan(&t.ID, &t.Name, &t.Text, &t.Title, &created, &updated); err != nil {
		return err
	}
	t.CreatedAt, t.UpdatedAt = fromMS(created), fromMS(updated)
	return nil
}

// SaveTemplate implements store.Templates. It fills in ID and times; an
// update keeps CreatedAt. ErrNotFound when updating an ID that does not exist.
func (db *DB) SaveTemplate(ctx context.Context, t *store.Template) error {
	now := defaults.TruncMS(time.Now())
	created := defaults.TruncMS(t.CreatedAt)
	id := t.ID
	var err error
	if id == 0 {
		if created.IsZero() {
			created = now
		}
		var res sql.Result
		res, err = db.exec(ctx, `INSERT INTO templates (name, text, title, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?)`, t.Name, t.Text, t.Title, created.UnixMilli(), now.UnixMilli())
		if err == nil {
			id, err = res.LastInsertId()
		}
	} else {
		var cr int64
		err = unavailable(db.w.QueryRowContext(ctx, `UPDATE templates SET name = ?, text = ?, title = ?, updated_at = ?
			WHERE id = ? RETURNING created_at`, t.Name, t.Text, t.Title, now.UnixMilli(), id).Scan(&cr))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("template %d: %w", id, store.ErrNotFound)
		}
		created = time.UnixMilli(cr).UTC()
	}
	if isUnique(err) {
		return fmt.Errorf("template %q: %w", t.Name, store.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("sqlite: save template %q: %w", t.Name, err)
	}
	t.ID, t.CreatedAt, t.UpdatedAt = id, created, now
	return nil
}

// GetTemplate implements store.Templates.
func (db *DB) GetTemplate(ctx context.Context, id int64) (*store.Template, error) {
	var t store.Template
	err := scanTemplate(db.r.QueryRowContext(ctx, `SELECT `+templateCols+` FROM templates WHERE id = ?`, id), &t)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("template %d: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: get template %d: %w", id, err)
	}
	return &t, nil
}

// DeleteTemplate implements store.Templates.
func (db *DB) DeleteTemplate(ctx context.Context, id int64) error {
	res, err := db.exec(ctx, `DELETE FROM templates WHERE id = ?`, id)
	return affectedOne(res, err, fmt.Sprintf("template %d", id))
}

// ListTemplates implements store.Templates, ordered by name.
func (db *DB) ListTemplates(ctx context.Context) ([]store.Template, error) {
	out, err := queryAll(ctx, db, `SELECT `+templateCols+` FROM templates ORDER BY name, id`, nil, scanTemplate)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list templates: %w", err)
	}
	return out, nil
}
