package sqlite

import (
	"context"
	"database/sql"
	"errors"

	sqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/munja-sms/munja/store"
)

// unavailable marks err as store.ErrUnavailable when SQLite refused the
// call for the state of the database rather than for what was asked: the
// disk is full (SQLITE_FULL), the file or database is read-only
// (SQLITE_READONLY), I/O failed (SQLITE_IOERR), another process held the
// lock past busy_timeout (SQLITE_BUSY) or the file cannot be opened
// (SQLITE_CANTOPEN). Extended codes count as their primary code.
func unavailable(err error) error {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return err
	}
	switch e.Code() & 0xff {
	case sqlite3.SQLITE_FULL, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_BUSY, sqlite3.SQLITE_CANTOPEN:
		return store.Unavailable(err)
	}
	return err
}

// exec runs one write statement on the writer connection outside a
// transaction (writeTx classifies the errors of transactions).
func (db *DB) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	res, err := db.w.ExecContext(ctx, query, args...)
	return res, unavailable(err)
}
