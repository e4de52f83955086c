package postgres

import (
	"context"
	"embed"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/munja-sms/munja/store/internal/migrations"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// lockMigrations takes the transaction-level advisory lock that serializes
// migrations of this schema across replicas starting at the same time.
const lockMigrations = `SELECT pg_advisory_xact_lock(hashtextextended('munja migrate ' || current_schema(), 0))`

// migrate applies every embedded migration not yet recorded in
// schema_migrations, each in its own transaction together with its record,
// under the advisory lock: of several replicas starting together one
// applies a migration and the others find it recorded.
func (db *DB) migrate(ctx context.Context) error {
	ms, err := migrations.Load(migrationFS)
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	newest := 0
	err = db.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, lockMigrations); err != nil {
			return fmt.Errorf("postgres: lock migrations: %w", err)
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    integer     PRIMARY KEY,
			name       text        NOT NULL,
			applied_at timestamptz NOT NULL DEFAULT now()
		)`); err != nil {
			return fmt.Errorf("postgres: create schema_migrations: %w", err)
		}
		return tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&newest)
	})
	if err != nil {
		return fmt.Errorf("postgres: read schema_migrations: %w", err)
	}
	if err := migrations.CheckKnown(ms, newest); err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	var done []string
	for _, m := range ms {
		if m.Version <= newest {
			continue
		}
		applied := false
		err := db.tx(ctx, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, lockMigrations); err != nil {
				return fmt.Errorf("postgres: lock migrations: %w", err)
			}
			var n int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM schema_migrations WHERE version = $1`, m.Version).Scan(&n); err != nil {
				return fmt.Errorf("postgres: read schema_migrations: %w", err)
			}
			if n > 0 {
				return nil // another replica was first
			}
			// No arguments: the simple protocol, so a file may hold many statements.
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return fmt.Errorf("postgres: migration %s: %w", m.Name, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, m.Version, m.Name); err != nil {
				return fmt.Errorf("postgres: record migration %s: %w", m.Name, err)
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
		db.log.Debug("postgres: applied migrations", "migrations", done)
	}
	return nil
}
