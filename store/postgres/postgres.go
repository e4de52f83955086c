// Package postgres is munja's shared store: one PostgreSQL database through
// github.com/jackc/pgx/v5 and its pool (pgxpool), implementing store.Store,
// for several munja replicas at once.
//
// Replicas share the outbox safely: claims lock their rows with FOR UPDATE
// SKIP LOCKED, so each delivery is claimed by one replica while its lease
// runs; TryLeader elects the one replica that runs the alert engine.
// Migrations are embedded and applied under an advisory lock, so replicas
// starting together migrate once. Times are timestamptz, stored at the
// millisecond precision the SQLite store keeps.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/munja-sms/munja/store"
	"github.com/munja-sms/munja/store/internal/defaults"
	"github.com/munja-sms/munja/store/internal/groupcommit"
)

// DB is a store.Store on one PostgreSQL database (the schema first in the
// connection's search_path). It is safe for concurrent use.
type DB struct {
	cfg       *pgx.ConnConfig // of the pool's connections; leader locks copy it
	pool      *pgxpool.Pool
	log       *slog.Logger
	keepalive time.Duration // of leader locks (leader.go)

	creates *groupcommit.Batcher[*create] // CreateLimited's committer (outbox.go)

	closed     atomic.Bool
	poolClosed atomic.Bool // set when the pool is closed, after the committer returned

	presenceMu sync.Mutex
	presence   store.Lease // this replica's presence lock (presence.go)
	ownerID    string      // its id, recorded in claims
}

// errClosed is returned by every call after Close.
var errClosed = errors.New("postgres: store is closed")

// pingIdle is how long a connection may sit idle in the pool before it is
// pinged when taken again, so a connection the server or a proxy dropped
// meanwhile is replaced instead of failing the caller's query.
const pingIdle = time.Second

var (
	_ store.Store  = (*DB)(nil)
	_ store.Leaser = (*DB)(nil)
)

// Open connects to the database at url (postgres://user@host:5432/db?…),
// applies pending migrations and returns the store. Besides pgx's own
// parameters the URL may set pgxpool's (pool_max_conns, default
// max(4, 2×GOMAXPROCS); pool_max_conn_lifetime, …); search_path selects the
// schema.
func Open(ctx context.Context, url string, log *slog.Logger) (*DB, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg, err := poolConfig(url)
	if err != nil {
		return nil, err
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: pool: %s", scrub(err.Error(), url))
	}
	db := &DB{cfg: cfg.ConnConfig.Copy(), pool: pool, log: log, keepalive: leaderKeepalive}
	if err := db.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	db.creates = db.newCommitter()
	return db, nil
}

// poolConfig parses the database URL into a pgxpool configuration.
func poolConfig(raw string) (*pgxpool.Config, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return nil, errors.New("postgres: database URL must look like postgres://user@host:5432/db")
	}
	cfg, err := pgxpool.ParseConfig(raw)
	if err != nil {
		return nil, fmt.Errorf("postgres: invalid database URL: %s", scrub(err.Error(), raw))
	}
	if !u.Query().Has("pool_max_conns") {
		cfg.MaxConns = int32(max(4, 2*runtime.GOMAXPROCS(0)))
	}
	if cfg.ConnConfig.RuntimeParams["application_name"] == "" {
		cfg.ConnConfig.RuntimeParams["application_name"] = "munja" // for pg_stat_activity
	}
	cfg.ShouldPing = func(_ context.Context, p pgxpool.ShouldPingParams) bool { return p.IdleDuration >= pingIdle }
	return cfg, nil
}

// scrub removes the password of rawURL from msg.
func scrub(msg, rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "unparsable URL"
	}
	pw, _ := u.User.Password()
	for _, p := range []string{pw, u.Query().Get("password")} {
		if p != "" {
			msg = strings.ReplaceAll(msg, p, "xxxxx")
			msg = strings.ReplaceAll(msg, url.QueryEscape(p), "xxxxx")
		}
	}
	return msg
}

// Close stores the messages already handed to CreateMessage, then closes
// the pool, waiting for the calls still using a connection. Calls after
// Close fail.
func (db *DB) Close() error {
	if !db.closed.CompareAndSwap(false, true) {
		return nil
	}
	if db.creates != nil {
		db.creates.Close()
	}
	db.presenceMu.Lock()
	if db.presence != nil {
		db.presence.Release()
	}
	db.presenceMu.Unlock()
	db.poolClosed.Store(true)
	db.pool.Close()
	return nil
}

// querier is what *pgx.Conn and pgx.Tx have in common.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// withConn runs fn with a pooled connection. A connection given back
// broken or inside a transaction is closed by the pool, not reused. Every
// call goes through here, so this is where a database that cannot serve
// (unreachable, read-only, full, …) becomes store.ErrUnavailable.
func (db *DB) withConn(ctx context.Context, fn func(c *pgx.Conn) error) error {
	if db.poolClosed.Load() {
		return errClosed
	}
	c, err := db.pool.Acquire(ctx)
	if err != nil {
		if db.poolClosed.Load() {
			return errClosed
		}
		return unavailable(fmt.Errorf("postgres: connect: %w", err))
	}
	defer c.Release()
	return unavailable(fn(c.Conn()))
}

// exec runs one statement outside a transaction.
func (db *DB) exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	var tag pgconn.CommandTag
	err := db.withConn(ctx, func(c *pgx.Conn) error {
		var err error
		tag, err = c.Exec(ctx, sql, args...)
		return err
	})
	return tag, err
}

// queryRow runs a one-row query and scans it into dest.
func (db *DB) queryRow(ctx context.Context, sql string, args []any, dest ...any) error {
	return db.withConn(ctx, func(c *pgx.Conn) error {
		return c.QueryRow(ctx, sql, args...).Scan(dest...)
	})
}

// maxTxTries bounds the retries of a transaction that lost a deadlock or a
// serialization conflict to another replica.
const maxTxTries = 3

// tx runs fn in one transaction and commits it. fn may run again if the
// transaction was rolled back by a deadlock or serialization failure.
func (db *DB) tx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	return db.withConn(ctx, func(c *pgx.Conn) error {
		var err error
		for range maxTxTries {
			err = db.tryTx(ctx, c, fn)
			if code := pgCode(err); code != "40001" && code != "40P01" {
				return err
			}
			db.log.Debug("postgres: transaction conflict, retrying", "err", err)
		}
		return err
	})
}

func (db *DB) tryTx(ctx context.Context, c *pgx.Conn, fn func(tx pgx.Tx) error) error {
	tx, err := c.Begin(ctx)
	if err != nil {
		return fmt.Errorf("postgres: begin: %w", err)
	}
	if err := fn(tx); err != nil {
		if rerr := tx.Rollback(ctx); rerr != nil && !errors.Is(rerr, pgx.ErrTxClosed) {
			db.log.Warn("postgres: rollback failed", "err", rerr)
		}
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres: commit: %w", err)
	}
	return nil
}

// pgCode returns the SQLSTATE of err, or "".
func pgCode(err error) string {
	var e *pgconn.PgError
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// isUnique reports whether err is a unique constraint violation.
func isUnique(err error) bool { return pgCode(err) == "23505" }

// tag turns the result of a single-row UPDATE or DELETE into an error,
// ErrNotFound when no row matched.
func tag(t pgconn.CommandTag, err error, what string) error {
	if err != nil {
		return fmt.Errorf("postgres: %s: %w", what, err)
	}
	if t.RowsAffected() == 0 {
		return fmt.Errorf("%s: %w", what, store.ErrNotFound)
	}
	return nil
}

// ts is t as a timestamptz argument at millisecond precision, or NULL for
// the zero time.
func ts(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return defaults.TruncMS(t)
}

// tsDst scans a timestamptz (NULL = zero time) into *t, in UTC.
type tsDst struct{ t *time.Time }

// ScanTimestamptz implements pgtype.TimestamptzScanner.
func (d tsDst) ScanTimestamptz(v pgtype.Timestamptz) error {
	if !v.Valid {
		*d.t = time.Time{}
		return nil
	}
	if v.InfinityModifier != pgtype.Finite {
		return fmt.Errorf("postgres: infinite timestamp")
	}
	*d.t = v.Time.UTC()
	return nil
}

// at returns a scan destination for the timestamptz column read into *t.
func at(t *time.Time) tsDst { return tsDst{t} }

// likeArg makes s a LIKE pattern matching it as a substring, escaped with '\'.
func likeArg(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(s) + "%"
}

// args collects positional arguments for a query built at run time.
type args []any

// add appends v and returns its placeholder ($n).
func (a *args) add(v any) string {
	*a = append(*a, v)
	return "$" + strconv.Itoa(len(*a))
}
