// Package sqlite is munja's embedded store: one SQLite file through the pure
// Go driver modernc.org/sqlite, implementing store.Store.
//
// The file runs in WAL mode with foreign keys on. All writes go through one
// connection (SQLite allows one writer at a time anyway), each write
// transaction starts with BEGIN IMMEDIATE so it takes the write lock up front
// instead of failing with SQLITE_BUSY half-way; reads use a separate pool and
// never wait for the writer.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	sqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/munja-sms/munja/store"
	"github.com/munja-sms/munja/store/internal/groupcommit"
	"github.com/munja-sms/munja/store/internal/rowscan"
)

// busyTimeout is how long a connection waits for a lock held by another
// process (e.g. `munja send` next to `munja serve`) before giving up.
const busyTimeout = 10 * time.Second

// DB is a store.Store on one SQLite file. It is safe for concurrent use.
type DB struct {
	w    *sql.DB // the single writer connection
	r    *sql.DB // read pool
	log  *slog.Logger
	path string // the database file (its dispatch lock is path+".dispatch.lock")
	// fullSync is the writer connection's synchronous mode (FULL when
	// true), changed only by write while it holds that connection.
	fullSync bool

	insMessage, insDelivery *sql.Stmt // prepared on the writer
	nextDue                 *sql.Stmt // prepared on the readers: an idle dispatcher asks every second

	creates *groupcommit.Batcher[*create] // CreateLimited's committer (outbox.go)
	closed  atomic.Bool
}

var (
	_ store.Store             = (*DB)(nil)
	_ store.ExclusiveDispatch = (*DB)(nil)
)

// Open opens (creating if needed) the SQLite file at path, applies pending
// migrations and returns the store.
func Open(ctx context.Context, path string, log *slog.Logger) (*DB, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	w, err := sql.Open("sqlite", dsn(path, true))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	// The writer connection switches the file to WAL; open it before readers.
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	r, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	db := &DB{w: w, r: r, log: log, path: path}
	if err := db.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if err := db.prepare(ctx); err != nil {
		db.Close()
		return nil, err
	}
	// Refresh the planner's statistics if the tables grew or shrank a lot
	// since they were last gathered (bounded by analysis_limit).
	if err := db.optimize(ctx, optimizePragma); err != nil {
		db.Close()
		return nil, err
	}
	db.creates = db.newCommitter()
	return db, nil
}

// prepare prepares the statements of the hot write path once.
func (db *DB) prepare(ctx context.Context) error {
	var err error
	db.insMessage, err = db.w.PrepareContext(ctx, `INSERT INTO messages
		(text, title, kind, sender, test, at, source, created_by, template, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return fmt.Errorf("sqlite: prepare: %w", err)
	}
	db.insDelivery, err = db.w.PrepareContext(ctx, `INSERT INTO deliveries
		(message_id, phone, status, next_attempt_at, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return fmt.Errorf("sqlite: prepare: %w", err)
	}
	if db.nextDue, err = db.r.PrepareContext(ctx, nextDueSQL); err != nil {
		return fmt.Errorf("sqlite: prepare: %w", err)
	}
	return nil
}

// dsn builds the driver's connection string. The pragmas run on every new
// connection.
//
// The writer runs WAL with synchronous=NORMAL: a commit is in the WAL file
// (the OS page cache) when it returns, which survives a kill -9 but not a
// power loss or kernel crash. The commit that acknowledges messages
// (CreateMessage) runs with synchronous=FULL instead (writeTx's synced
// flag): the WAL is fsynced before it returns, which also makes every
// commit before it durable. So an acknowledged message survives a power
// cut, and the dispatcher's own bookkeeping (claims, outcomes) costs no
// fsync of its own (docs/BENCHMARKS.md section 6). The database never
// becomes corrupt either way.
func dsn(path string, writer bool) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()))
	q.Add("_pragma", "foreign_keys(1)")
	if writer {
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "synchronous(NORMAL)")
		q.Add("_pragma", "analysis_limit(1000)")
		// A checkpoint rewinds the WAL but leaves the file as large as it
		// grew; cap what stays on disk after a burst.
		q.Add("_pragma", "journal_size_limit(67108864)")
		q.Set("_txlock", "immediate")
	} else {
		q.Add("_pragma", "query_only(1)")
	}
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
}

// optimizePragma re-gathers statistics for every table whose size changed
// a lot since they were last gathered (0x10000: all tables, not only the
// ones this connection queried; 0x02: ANALYZE where it helps).
const optimizePragma = "PRAGMA optimize=0x10002"

// optimize runs a PRAGMA optimize variant on the writer. The history query
// plans depend on the statistics it keeps: with them a time-range filter
// uses the created_at index only when the range is narrow.
func (db *DB) optimize(ctx context.Context, pragma string) error {
	if _, err := db.w.ExecContext(ctx, pragma); err != nil {
		return fmt.Errorf("sqlite: %s: %w", pragma, err)
	}
	return nil
}

// Close stores the messages already handed to CreateMessage, then closes
// the database. Calls after Close fail.
func (db *DB) Close() error {
	if !db.closed.CompareAndSwap(false, true) {
		return nil
	}
	if db.creates != nil {
		db.creates.Close()
		if err := db.optimize(context.Background(), optimizePragma); err != nil {
			db.log.Warn("sqlite: optimize on close", "err", err)
		}
	}
	var errs []error
	for _, st := range []*sql.Stmt{db.insMessage, db.insDelivery, db.nextDue} {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	errs = append(errs, db.r.Close(), db.w.Close())
	return errors.Join(errs...)
}

// writeTx runs fn in one immediate transaction on the writer connection.
// A database that refuses the write for its state (full, read-only, …)
// gives store.ErrUnavailable.
func (db *DB) writeTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return unavailable(db.write(ctx, false, fn))
}

// syncedWriteTx is writeTx whose commit is synced to disk before it
// returns (synchronous=FULL): for commits that acknowledge to a caller.
func (db *DB) syncedWriteTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return unavailable(db.write(ctx, true, fn))
}

func (db *DB) write(ctx context.Context, synced bool, fn func(tx *sql.Tx) error) error {
	// The one writer connection is ours until it is handed back: set its
	// sync mode for this commit (outside a transaction, where SQLite takes
	// it) when it differs from the last one's.
	conn, err := db.w.Conn(ctx)
	if err != nil {
		return fmt.Errorf("sqlite: writer: %w", err)
	}
	defer conn.Close()
	if db.fullSync != synced {
		mode := "NORMAL"
		if synced {
			mode = "FULL"
		}
		if _, err := conn.ExecContext(ctx, "PRAGMA synchronous="+mode); err != nil {
			return fmt.Errorf("sqlite: synchronous=%s: %w", mode, err)
		}
		db.fullSync = synced
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: begin: %w", err)
	}
	if err := fn(tx); err != nil {
		if rerr := tx.Rollback(); rerr != nil && !errors.Is(rerr, sql.ErrTxDone) {
			db.log.Warn("sqlite: rollback failed", "err", rerr)
		}
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: commit: %w", err)
	}
	return nil
}

// queryAll runs a query on the read pool and scans every row with scan.
func queryAll[T any](ctx context.Context, db *DB, query string, args []any, scan func(scanner, *T) error) ([]T, error) {
	rows, err := db.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return rowscan.Collect(rows, scan)
}

// readTx runs fn in one read transaction (a consistent snapshot).
func (db *DB) readTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := db.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("sqlite: begin read: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // read-only; nothing to lose
	return fn(tx)
}

// isUnique reports whether err is a UNIQUE or PRIMARY KEY violation.
func isUnique(err error) bool {
	var e *sqlite.Error
	if errors.As(err, &e) {
		return e.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || e.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

// ms converts t to unix milliseconds, or NULL for the zero time.
func ms(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMilli()
}

// fromMS converts unix milliseconds (NULL = zero time) to a UTC time.
func fromMS(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return time.UnixMilli(v.Int64).UTC()
}

// likeArg makes s a LIKE pattern matching it as a substring, escaped with '\'.
func likeArg(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(s) + "%"
}

// placeholders returns "?,?,…" with n marks.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}
