package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/munja-sms/munja/store"
	"github.com/munja-sms/munja/store/internal/defaults"
)

const userCols = `id, name, role, password_hash, lang, created_at, password_changed_at, disabled_at`

func userDst(u *store.User) []any {
	return []any{&u.ID, &u.Name, &u.Role, &u.PasswordHash, &u.Lang, at(&u.CreatedAt), at(&u.PasswordChangedAt), at(&u.DisabledAt)}
}

// CreateUser implements store.Users.
func (db *DB) CreateUser(ctx context.Context, u *store.User) error {
	nu := defaults.User(*u, time.Now())
	err := db.queryRow(ctx, `INSERT INTO users
		(name, role, password_hash, lang, created_at, password_changed_at, disabled_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
		[]any{nu.Name, nu.Role, nu.PasswordHash, nu.Lang, nu.CreatedAt, nu.PasswordChangedAt, ts(nu.DisabledAt)}, &nu.ID)
	if isUnique(err) {
		return fmt.Errorf("user %q: %w", u.Name, store.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("postgres: create user %q: %w", u.Name, err)
	}
	*u = nu
	return nil
}

// userBy returns the user matching the WHERE clause, or ErrNotFound.
func (db *DB) userBy(ctx context.Context, where string, arg any, what string) (*store.User, error) {
	var u store.User
	err := db.queryRow(ctx, `SELECT `+userCols+` FROM users WHERE `+where, []any{arg}, userDst(&u)...)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("%s: %w", what, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: %s: %w", what, err)
	}
	return &u, nil
}

// UserByName implements store.Users.
func (db *DB) UserByName(ctx context.Context, name string) (*store.User, error) {
	return db.userBy(ctx, `name = $1`, name, fmt.Sprintf("user %q", name))
}

// UserByID implements store.Users.
func (db *DB) UserByID(ctx context.Context, id int64) (*store.User, error) {
	return db.userBy(ctx, `id = $1`, id, fmt.Sprintf("user %d", id))
}

// ListUsers implements store.Users.
func (db *DB) ListUsers(ctx context.Context) ([]store.User, error) {
	var out []store.User
	err := db.withConn(ctx, func(c *pgx.Conn) error {
		rows, err := c.Query(ctx, `SELECT `+userCols+` FROM users ORDER BY name`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var u store.User
			if err := rows.Scan(userDst(&u)...); err != nil {
				return err
			}
			out = append(out, u)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: list users: %w", err)
	}
	return out, nil
}

// CountUsers implements store.Users.
func (db *DB) CountUsers(ctx context.Context) (int, error) {
	var n int
	if err := db.queryRow(ctx, `SELECT count(*) FROM users`, nil, &n); err != nil {
		return 0, fmt.Errorf("postgres: count users: %w", err)
	}
	return n, nil
}

// SetPassword implements store.Users: the new hash and the end of every
// session of the user are one transaction.
func (db *DB) SetPassword(ctx context.Context, userID int64, hash string, when time.Time) error {
	if when.IsZero() {
		when = time.Now()
	}
	return db.tx(ctx, func(tx pgx.Tx) error {
		t, err := tx.Exec(ctx, `UPDATE users SET password_hash = $1, password_changed_at = $2 WHERE id = $3`,
			hash, defaults.TruncMS(when), userID)
		if err := tag(t, err, fmt.Sprintf("user %d", userID)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE user_id = $1`, userID); err != nil {
			return fmt.Errorf("postgres: delete sessions of user %d: %w", userID, err)
		}
		return nil
	})
}

// SetUserRole implements store.Users.
func (db *DB) SetUserRole(ctx context.Context, userID int64, role string) error {
	t, err := db.exec(ctx, `UPDATE users SET role = $1 WHERE id = $2`, role, userID)
	return tag(t, err, fmt.Sprintf("user %d", userID))
}

// SetUserLang implements store.Users.
func (db *DB) SetUserLang(ctx context.Context, userID int64, lang string) error {
	t, err := db.exec(ctx, `UPDATE users SET lang = $1 WHERE id = $2`, lang, userID)
	return tag(t, err, fmt.Sprintf("user %d", userID))
}

// CreateSession implements store.Users.
func (db *DB) CreateSession(ctx context.Context, s *store.Session) error {
	if s.ExpiresAt.IsZero() {
		return fmt.Errorf("postgres: create session of user %d: no expiry time", s.UserID)
	}
	ns := *s
	ns.CreatedAt, ns.ExpiresAt, ns.LastSeen = defaults.TruncMS(ns.CreatedAt), defaults.TruncMS(ns.ExpiresAt), defaults.TruncMS(ns.LastSeen)
	if ns.CreatedAt.IsZero() {
		ns.CreatedAt = defaults.TruncMS(time.Now())
	}
	if ns.LastSeen.IsZero() {
		ns.LastSeen = ns.CreatedAt
	}
	err := db.queryRow(ctx, `INSERT INTO sessions (hash, user_id, csrf, created_at, expires_at, last_seen)
		SELECT $1, id, $2, $3, $4, $5 FROM users WHERE id = $6 RETURNING id`,
		[]any{ns.Hash, ns.CSRF, ns.CreatedAt, ns.ExpiresAt, ns.LastSeen, ns.UserID}, &ns.ID)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("session of user %d: %w", s.UserID, store.ErrNotFound)
	}
	if isUnique(err) {
		return fmt.Errorf("session: %w", store.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("postgres: create session: %w", err)
	}
	*s = ns
	return nil
}

// SessionByHash implements store.Users.
func (db *DB) SessionByHash(ctx context.Context, hash []byte, now time.Time) (*store.Session, error) {
	var s store.Session
	err := db.queryRow(ctx, `SELECT id, hash, user_id, csrf, created_at, expires_at, last_seen FROM sessions
		WHERE hash = $1 AND expires_at > $2`, []any{hash, defaults.TruncMS(now)},
		&s.ID, &s.Hash, &s.UserID, &s.CSRF, at(&s.CreatedAt), at(&s.ExpiresAt), at(&s.LastSeen))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("session: %w", store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: session by hash: %w", err)
	}
	return &s, nil
}

// TouchSession implements store.Users.
func (db *DB) TouchSession(ctx context.Context, id int64, seen, expires time.Time) error {
	t, err := db.exec(ctx, `UPDATE sessions SET last_seen = $1, expires_at = $2 WHERE id = $3`,
		defaults.TruncMS(seen), defaults.TruncMS(expires), id)
	return tag(t, err, fmt.Sprintf("session %d", id))
}

// DeleteSession implements store.Users.
func (db *DB) DeleteSession(ctx context.Context, id int64) error {
	t, err := db.exec(ctx, `DELETE FROM sessions WHERE id = $1`, id)
	return tag(t, err, fmt.Sprintf("session %d", id))
}

// DeleteUserSessions implements store.Users.
func (db *DB) DeleteUserSessions(ctx context.Context, userID int64) error {
	if _, err := db.exec(ctx, `DELETE FROM sessions WHERE user_id = $1`, userID); err != nil {
		return fmt.Errorf("postgres: delete sessions of user %d: %w", userID, err)
	}
	return nil
}

// DeleteExpiredSessions implements store.Users.
func (db *DB) DeleteExpiredSessions(ctx context.Context, now time.Time) (int, error) {
	t, err := db.exec(ctx, `DELETE FROM sessions WHERE expires_at <= $1`, defaults.TruncMS(now))
	if err != nil {
		return 0, fmt.Errorf("postgres: delete expired sessions: %w", err)
	}
	return int(t.RowsAffected()), nil
}
