package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/munja-sms/munja/store/internal/migrations"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// migrate applies every embedded migration not yet recorded in
// schema_migrations, each in its own transaction together with its record.
func (db *DB) migrate(ctx context.Context) error {
	ms, err := migrations.Load(migrationFS)
	if err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	if _, err := db.w.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT    NOT NULL,
		applied_at INTEGER NOT NULL
	)`); err != nil {
		return fmt.Errorf("sqlite: create schema_migrations: %w", err)
	}
	var newest sql.NullInt64
	if err := db.w.QueryRowContext(ctx, `SELECT max(version) FROM schema_migrations`).Scan(&newest); err != nil {
		return fmt.Errorf("sqlite: read schema_migrations: %w", err)
	}
	if err := migrations.CheckKnown(ms, int(newest.Int64)); err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	if err := db.backupBeforeMigrating(ctx, ms, int(newest.Int64)); err != nil {
		return err
	}
	var done []string
	for _, m := range ms {
		applied := false
		err := db.writeTx(ctx, func(tx *sql.Tx) error {
			// Checked inside the immediate transaction, so two processes
			// opening a new file at once do not both apply a migration.
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, m.Version).Scan(&n); err != nil {
				return fmt.Errorf("sqlite: read schema_migrations: %w", err)
			}
			if n > 0 {
				return nil
			}
			if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
				return fmt.Errorf("sqlite: migration %s: %w", m.Name, err)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
				m.Version, m.Name, time.Now().UnixMilli()); err != nil {
				return fmt.Errorf("sqlite: record migration %s: %w", m.Name, err)
			}
			applied = true
			return nil
		})
		if err != nil {
			return err
		}
		if applied {
			done = append(done, m.Name)
		}
	}
	if len(done) > 0 { // one line, at debug: every command opens the store
		db.log.Debug("sqlite: applied migrations", "migrations", done)
	}
	return nil
}

// backupBeforeMigrating copies an existing database (one with a schema)
// that has migrations pending to PATH.before-NNNN beside it, NNNN being the
// first schema version it is about to gain, and logs where. A new file has
// nothing to keep. A copy left by an earlier attempt at the same upgrade is
// kept as it is: it is the older one.
func (db *DB) backupBeforeMigrating(ctx context.Context, ms []migrations.Migration, newest int) error {
	if newest == 0 || db.path == "" || db.path == ":memory:" {
		return nil
	}
	next := 0
	for _, m := range ms {
		if m.Version > newest {
			next = m.Version
			break
		}
	}
	if next == 0 {
		return nil
	}
	dst := fmt.Sprintf("%s.before-%04d", db.path, next)
	if _, err := os.Lstat(dst); err == nil {
		db.log.Warn("sqlite: migrating; the copy from an earlier attempt is kept", "backup", dst, "from_schema", newest)
		return nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("sqlite: backup before migrating: %w", err)
	}
	if err := vacuumInto(ctx, db.w, dst); err != nil {
		return fmt.Errorf("sqlite: not migrating without a copy of the database: %w", err)
	}
	db.log.Info("sqlite: copied the database before migrating it", "backup", dst, "from_schema", newest, "to_schema", ms[len(ms)-1].Version)
	return nil
}
