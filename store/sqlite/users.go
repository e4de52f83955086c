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

// newSession returns s with the defaults CreateSession fills in: CreatedAt
// now, LastSeen = CreatedAt, times at millisecond precision.
func newSession(s store.Session, now time.Time) store.Session {
	s.CreatedAt, s.ExpiresAt, s.LastSeen = defaults.TruncMS(s.CreatedAt), defaults.TruncMS(s.ExpiresAt), defaults.TruncMS(s.LastSeen)
	if s.CreatedAt.IsZero() {
		s.CreatedAt = defaults.TruncMS(now)
	}
	if s.LastSeen.IsZero() {
		s.LastSeen = s.CreatedAt
	}
	return s
}

const userCols = `id, name, role, password_hash, lang, created_at, password_changed_at, disabled_at`

func scanUser(s scanner, u *store.User) error {
	var created, changed, disabled sql.NullInt64
	if err := s.Scan(&u.ID, &u.Name, &u.Role, &u.PasswordHash, &u.Lang, &created, &changed, &disabled); err != nil {
		return err
	}
	u.CreatedAt, u.PasswordChangedAt, u.DisabledAt = fromMS(created), fromMS(changed), fromMS(disabled)
	return nil
}

// CreateUser implements store.Users.
func (db *DB) CreateUser(ctx context.Context, u *store.User) error {
	nu := defaults.User(*u, time.Now())
	res, err := db.exec(ctx, `INSERT INTO users
		(name, role, password_hash, lang, created_at, password_changed_at, disabled_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`,
		nu.Name, nu.Role, nu.PasswordHash, nu.Lang, nu.CreatedAt.UnixMilli(), nu.PasswordChangedAt.UnixMilli(), ms(nu.DisabledAt))
	if isUnique(err) {
		return fmt.Errorf("user %q: %w", u.Name, store.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("sqlite: create user %q: %w", u.Name, err)
	}
	if nu.ID, err = res.LastInsertId(); err != nil {
		return fmt.Errorf("sqlite: create user %q: %w", u.Name, err)
	}
	*u = nu
	return nil
}

// userBy returns the user matching the WHERE clause, or ErrNotFound.
func (db *DB) userBy(ctx context.Context, where string, arg any, what string) (*store.User, error) {
	var u store.User
	err := scanUser(db.r.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE `+where, arg), &u)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%s: %w", what, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: %s: %w", what, err)
	}
	return &u, nil
}

// UserByName implements store.Users.
func (db *DB) UserByName(ctx context.Context, name string) (*store.User, error) {
	return db.userBy(ctx, `name = ?`, name, fmt.Sprintf("user %q", name))
}

// UserByID implements store.Users.
func (db *DB) UserByID(ctx context.Context, id int64) (*store.User, error) {
	return db.userBy(ctx, `id = ?`, id, fmt.Sprintf("user %d", id))
}

// ListUsers implements store.Users.
func (db *DB) ListUsers(ctx context.Context) ([]store.User, error) {
	out, err := queryAll(ctx, db, `SELECT `+userCols+` FROM users ORDER BY name`, nil, scanUser)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list users: %w", err)
	}
	return out, nil
}

// CountUsers implements store.Users.
func (db *DB) CountUsers(ctx context.Context) (int, error) {
	var n int
	if err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM users`).Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlite: count users: %w", err)
	}
	return n, nil
}

// SetPassword implements store.Users: the new hash and the end of every
// session of the user are one transaction.
func (db *DB) SetPassword(ctx context.Context, userID int64, hash string, at time.Time) error {
	if at.IsZero() {
		at = time.Now()
	}
	return db.writeTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = ?, password_changed_at = ? WHERE id = ?`,
			hash, at.UnixMilli(), userID)
		if err := affectedOne(res, err, fmt.Sprintf("user %d", userID)); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ?`, userID); err != nil {
			return fmt.Errorf("sqlite: delete sessions of user %d: %w", userID, err)
		}
		return nil
	})
}

// SetUserRole implements store.Users.
func (db *DB) SetUserRole(ctx context.Context, userID int64, role string) error {
	res, err := db.exec(ctx, `UPDATE users SET role = ? WHERE id = ?`, role, userID)
	return affectedOne(res, err, fmt.Sprintf("user %d", userID))
}

// SetUserLang implements store.Users.
func (db *DB) SetUserLang(ctx context.Context, userID int64, lang string) error {
	res, err := db.exec(ctx, `UPDATE users SET lang = ? WHERE id = ?`, lang, userID)
	return affectedOne(res, err, fmt.Sprintf("user %d", userID))
}

const sessionCols = `id, hash, user_id, csrf, created_at, expires_at, last_seen`

// CreateSession implements store.Users.
func (db *DB) CreateSession(ctx context.Context, s *store.Session) error {
	if s.ExpiresAt.IsZero() {
		return fmt.Errorf("sqlite: create session of user %d: no expiry time", s.UserID)
	}
	ns := newSession(*s, time.Now())
	res, err := db.exec(ctx, `INSERT INTO sessions (hash, user_id, csrf, created_at, expires_at, last_seen)
		SELECT ?, id, ?, ?, ?, ? FROM users WHERE id = ?`,
		ns.Hash, ns.CSRF, ns.CreatedAt.UnixMilli(), ns.ExpiresAt.UnixMilli(), ns.LastSeen.UnixMilli(), ns.UserID)
	if isUnique(err) {
		return fmt.Errorf("session: %w", store.ErrConflict)
	}
	if err := affectedOne(res, err, fmt.Sprintf("session of user %d", ns.UserID)); err != nil {
		return err
	}
	if ns.ID, err = res.LastInsertId(); err != nil {
		return fmt.Errorf("sqlite: create session: %w", err)
	}
	*s = ns
	return nil
}

// SessionByHash implements store.Users.
func (db *DB) SessionByHash(ctx context.Context, hash []byte, now time.Time) (*store.Session, error) {
	var s store.Session
	var created, expires, seen sql.NullInt64
	err := db.r.QueryRowContext(ctx, `SELECT `+sessionCols+` FROM sessions WHERE hash = ? AND expires_at > ?`,
		hash, now.UnixMilli()).Scan(&s.ID, &s.Hash, &s.UserID, &s.CSRF, &created, &expires, &seen)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("session: %w", store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: session by hash: %w", err)
	}
	s.CreatedAt, s.ExpiresAt, s.LastSeen = fromMS(created), fromMS(expires), fromMS(seen)
	return &s, nil
}

// TouchSession implements store.Users.
func (db *DB) TouchSession(ctx context.Context, id int64, seen, expires time.Time) error {
	res, err := db.exec(ctx, `UPDATE sessions SET last_seen = ?, expires_at = ? WHERE id = ?`,
		seen.UnixMilli(), expires.UnixMilli(), id)
	return affectedOne(res, err, fmt.Sprintf("session %d", id))
}

// DeleteSession implements store.Users.
func (db *DB) DeleteSession(ctx context.Context, id int64) error {
	res, err := db.exec(ctx, `DELETE FROM sessions WHERE id = ?`, id)
	return affectedOne(res, err, fmt.Sprintf("session %d", id))
}

// DeleteUserSessions implements store.Users.
func (db *DB) DeleteUserSessions(ctx context.Context, userID int64) error {
	if _, err := db.exec(ctx, `DELETE FROM sessions WHERE user_id = ?`, userID); err != nil {
		return fmt.Errorf("sqlite: delete sessions of user %d: %w", userID, err)
	}
	return nil
}

// DeleteExpiredSessions implements store.Users.
func (db *DB) DeleteExpiredSessions(ctx context.Context, now time.Time) (int, error) {
	res, err := db.exec(ctx, `DELETE FROM sessions WHERE expires_at <= ?`, now.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("sqlite: delete expired sessions: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("sqlite: delete expired sessions: %w", err)
	}
	return int(n), nil
}
