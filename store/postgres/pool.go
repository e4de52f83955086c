package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// errClosed is returned by every call after Close.
var errClosed = errors.New("postgres: store is closed")

// pingIdle is how long a connection may sit idle before it is pinged when
// taken again, so a connection the server or a proxy dropped meanwhile is
// replaced instead of failing the caller's query.
const pingIdle = time.Second

// pool is a small connection pool over pgx.Conn: at most cap(slots) open
// connections, idle ones reused in turn, broken ones or ones left in
// a transaction closed on release.
type pool struct {
	cfg   *pgx.ConnConfig
	slots chan struct{} // one token per open connection
	idle  chan idleConn // capacity = cap(slots), so a release never blocks

	mu      sync.Mutex // guards closed against releases into idle
	closed  bool
	closing chan struct{}
}

type idleConn struct {
	c     *pgx.Conn
	since time.Time
}

func newPool(cfg *pgx.ConnConfig, size int) *pool {
	return &pool{cfg: cfg, slots: make(chan struct{}, size), idle: make(chan idleConn, size), closing: make(chan struct{})}
}

// acquire returns an open connection that the caller must release.
func (p *pool) acquire(ctx context.Context) (*pgx.Conn, error) {
	for {
		select {
		case <-p.closing:
			return nil, errClosed
		default:
		}
		// An idle connection first; a new one only when none is idle.
		select {
		case ic := <-p.idle:
			if c := p.check(ctx, ic); c != nil {
				return c, nil
			}
			continue
		default:
		}
		select {
		case ic := <-p.idle:
			if c := p.check(ctx, ic); c != nil {
				return c, nil
			}
		case p.slots <- struct{}{}:
			c, err := pgx.ConnectConfig(ctx, p.cfg)
			if err != nil {
				<-p.slots
				return nil, fmt.Errorf("postgres: connect: %w", err)
			}
			return c, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-p.closing:
			return nil, errClosed
		}
	}
}

// check returns ic's connection if it is still usable, else closes it,
// frees its slot and returns nil.
func (p *pool) check(ctx context.Context, ic idleConn) *pgx.Conn {
	if !ic.c.IsClosed() && (time.Since(ic.since) < pingIdle || ic.c.Ping(ctx) == nil) {
		return ic.c
	}
	p.discard(ic.c)
	return nil
}

// release gives c back: to the idle set if it is healthy and outside a
// transaction, else it is closed.
func (p *pool) release(c *pgx.Conn) {
	if c.IsClosed() || c.PgConn().TxStatus() != 'I' {
		p.discard(c)
		return
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		p.discard(c)
		return
	}
	p.idle <- idleConn{c: c, since: time.Now()}
	p.mu.Unlock()
}

func (p *pool) discard(c *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = c.Close(ctx) // the connection is gone either way
	<-p.slots
}

// close closes the idle connections and makes every later acquire fail;
// connections in use are closed when they are released.
func (p *pool) close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	close(p.closing)
	p.mu.Unlock()
	for {
		select {
		case ic := <-p.idle:
			p.discard(ic.c)
		default:
			return
		}
	}
}

// open reports how many connections are open (idle or in use).
func (p *pool) open() int { return len(p.slots) }
