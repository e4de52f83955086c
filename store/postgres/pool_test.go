package postgres

import (
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// TestPoolBound runs more concurrent calls than the pool has connections:
// all succeed, and no more than pool_max_conns connections are opened.
func TestPoolBound(t *testing.T) {
	app := uniqueName("munja-pool")
	dsn := withParam(t, withParam(t, schemaURL(t), "pool_max_conns", "2"), "application_name", app)
	db := open(t, dsn)
	defer db.Close()
	admin := adminConn(t)
	var wg sync.WaitGroup
	var mu sync.Mutex
	most := 0
	for range 8 {
		wg.Go(func() {
			err := db.withConn(t.Context(), func(c *pgx.Conn) error {
				_, err := c.Exec(t.Context(), `SELECT pg_sleep(0.05)`)
				return err
			})
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			most = max(most, db.pool.open())
			mu.Unlock()
		})
	}
	wg.Wait()
	if most > 2 {
		t.Errorf("pool opened %d connections, want at most 2", most)
	}
	if n := len(backends(t, admin, app)); n > 2 || n == 0 {
		t.Errorf("server sees %d pool connections, want 1 or 2", n)
	}
}

// TestPoolReplacesDeadConnections ends every pool connection on the server
// (a restart, a proxy timeout): after they sat idle, the next call gets a
// fresh connection instead of an error.
func TestPoolReplacesDeadConnections(t *testing.T) {
	app := uniqueName("munja-pool")
	db := open(t, withParam(t, schemaURL(t), "application_name", app))
	defer db.Close()
	if _, err := db.CountUsers(t.Context()); err != nil {
		t.Fatal(err)
	}
	admin := adminConn(t)
	pids := backends(t, admin, app)
	if len(pids) == 0 {
		t.Fatal("no pool connection on the server")
	}
	for _, pid := range pids {
		if _, err := admin.Exec(t.Context(), `SELECT pg_terminate_backend($1)`, pid); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(pingIdle + 100*time.Millisecond)
	if _, err := db.CountUsers(t.Context()); err != nil {
		t.Errorf("call after the server ended the idle connections: %v", err)
	}
}

// TestPoolDropsConnectionInTransaction: a connection given back inside a
// transaction is closed, not reused.
func TestPoolDropsConnectionInTransaction(t *testing.T) {
	db := open(t, schemaURL(t))
	defer db.Close()
	c, err := db.pool.acquire(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec(t.Context(), `BEGIN`); err != nil {
		t.Fatal(err)
	}
	before := db.pool.open()
	db.pool.release(c)
	if !c.IsClosed() || db.pool.open() != before-1 {
		t.Errorf("connection released in a transaction: closed %v, open %d → %d", c.IsClosed(), before, db.pool.open())
	}
}
