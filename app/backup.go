package app

import (
	"context"
	"errors"

	"github.com/munja-sms/munja/config"
	"github.com/munja-sms/munja/store/sqlite"
)

// ErrBackupPostgres is Backup's answer for a PostgreSQL database: munja
// does not copy one itself.
var ErrBackupPostgres = errors.New("munja backup copies SQLite databases; for PostgreSQL use pg_dump (e.g. pg_dump -Fc -f munja.dump DBNAME)")

// Backup writes a consistent copy of the configured SQLite database to dst
// (which must not exist), also while `munja serve` writes to it. It opens
// the file read-only and migrates nothing.
func Backup(ctx context.Context, cfg *config.Config, dst string) error {
	if isPostgres(cfg.Database) {
		return ErrBackupPostgres
	}
	return sqlite.Backup(ctx, cfg.Database, dst)
}
