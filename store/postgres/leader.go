package postgres

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/munja-sms/munja/store"
)

// leaderKeepalive is how often a held leader lock's connection is checked.
const leaderKeepalive = 5 * time.Second

// leaderKey is the advisory lock of a leader name, per schema, so two
// munja installations sharing a database in different schemas do not
// elect one leader between them.
const leaderKey = `hashtextextended('munja leader ' || current_schema() || ' ' || $1, 0)`

// Leadership is a leader lock this process holds: a session-level advisory
// lock on a connection of its own, outside the pool. The lock lives as long
// as that connection, so if the process dies the server ends the session
// and another replica can take over.
type Leadership struct {
	name string
	lost chan struct{} // closed when the lock is no longer held
	stop chan struct{} // closed by Release
	done chan struct{} // closed when the keepalive goroutine has returned
	once sync.Once
}

// Lost is closed once the lock is no longer held: after Release, or when
// its connection failed a keepalive check (the server ended it, the network
// broke). From then on another replica may hold the lock, so the leader's
// work must stop.
func (l *Leadership) Lost() <-chan struct{} { return l.lost }

// Release gives the lock up and closes its connection. It may be called
// more than once.
func (l *Leadership) Release() {
	l.once.Do(func() { close(l.stop) })
	<-l.done
}

// Lead tries once, without waiting, to take the leader lock called name.
// It returns nil and no error when another connection holds it.
func (db *DB) Lead(ctx context.Context, name string) (store.Lease, error) {
	if db.isClosed() {
		return nil, errClosed
	}
	cfg := db.cfg.Copy()
	cfg.RuntimeParams["application_name"] = "munja leader " + name
	c, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: leader %q: connect: %w", name, err)
	}
	var ok bool
	if err := c.QueryRow(ctx, `SELECT pg_try_advisory_lock(`+leaderKey+`)`, name).Scan(&ok); err != nil || !ok {
		closeConn(c)
		if err != nil {
			return nil, fmt.Errorf("postgres: leader %q: %w", name, err)
		}
		return nil, nil
	}
	l := &Leadership{name: name, lost: make(chan struct{}), stop: make(chan struct{}), done: make(chan struct{})}
	go db.keepLeader(l, c, db.keepalive)
	return l, nil
}

// TryLeader tries once to become the leader called name (e.g. "alert").
// ok reports whether this DB now holds the lock; release gives it up (a
// no-op when ok is false). Use Lead to also learn when the lock is lost.
func (db *DB) TryLeader(ctx context.Context, name string) (release func(), ok bool, err error) {
	l, err := db.Lead(ctx, name)
	if err != nil || l == nil {
		return func() {}, false, err
	}
	return l.Release, true, nil
}

// keepLeader owns c: it checks the connection every interval until Release
// (then it unlocks) or a failed check, and closes it.
func (db *DB) keepLeader(l *Leadership, c *pgx.Conn, interval time.Duration) {
	defer close(l.done)
	defer closeConn(c)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			close(l.lost)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			if _, err := c.Exec(ctx, `SELECT pg_advisory_unlock(`+leaderKey+`)`, l.name); err != nil {
				db.log.Warn("postgres: leader unlock failed; closing its connection releases it", "leader", l.name, "err", err)
			}
			cancel()
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), interval)
			err := c.Ping(ctx)
			cancel()
			if err != nil {
				db.log.Warn("postgres: leader lock lost", "leader", l.name, "err", err)
				close(l.lost)
				return
			}
		}
	}
}

// isClosed reports whether Close was called.
func (db *DB) isClosed() bool { return db.closed.Load() }

// closeConn closes a connection that is not in the pool.
func closeConn(c *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = c.Close(ctx) // nothing left to do if it fails
}
