package postgres

import (
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/munja-sms/munja/store/postgres/pgtest"

	"github.com/jackc/pgx/v5"
)

// TestPoolBound runs more concurrent calls than the pool has connections:
// all succeed, and no more than pool_max_conns connections are opened.
func TestPoolBound(t *testing.T) {
	app := uniqueName("munja-pool")
	dsn := pgtest.WithParam(t, pgtest.WithParam(t, pgtest.Schema(t), "pool_max_conns", "2"), "application_name", app)
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
			most = max(most, int(db.pool.Stat().TotalConns()))
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
	db := open(t, pgtest.WithParam(t, pgtest.Schema(t), "application_name", app))
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
	db := open(t, pgtest.Schema(t))
	defer db.Close()
	pid := func(begin bool) uint32 {
		t.Helper()
		var pid uint32
		err := db.withConn(t.Context(), func(c *pgx.Conn) error {
			pid = c.PgConn().PID()
			if begin {
				_, err := c.Exec(t.Context(), `BEGIN`)
				return err
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return pid
	}
	inTx := pid(true)
	// The pool closes the connection in the background; it counts it until then.
	deadline := time.Now().Add(10 * time.Second)
	for db.pool.Stat().TotalConns() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("connection released in a transaction still in the pool (%d open)", db.pool.Stat().TotalConns())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if next := pid(false); next == inTx {
		t.Errorf("the connection left in a transaction (backend %d) was reused", inTx)
	}
	// A healthy connection is reused.
	first := pid(false)
	if again := pid(false); again != first {
		t.Errorf("idle connection not reused: backend %d, then %d", first, again)
	}
}

// TestPoolMaxConnsDefault: without pool_max_conns the pool is sized
// max(4, 2×GOMAXPROCS); with it, as the URL says, and the parameter is not
// sent to the server.
func TestPoolMaxConnsDefault(t *testing.T) {
	tests := []struct {
		url  string
		want int32
	}{
		{"postgres://u@127.0.0.1:5432/db", int32(max(4, 2*runtime.GOMAXPROCS(0)))},
		{"postgres://u@127.0.0.1:5432/db?pool_max_conns=3", 3},
		{"postgresql://u@127.0.0.1:5432/db?pool_max_conns=17&search_path=s1", 17},
	}
	for _, tc := range tests {
		cfg, err := poolConfig(tc.url)
		if err != nil {
			t.Fatalf("poolConfig(%q): %v", tc.url, err)
		}
		if cfg.MaxConns != tc.want {
			t.Errorf("poolConfig(%q).MaxConns = %d, want %d", tc.url, cfg.MaxConns, tc.want)
		}
		if _, sent := cfg.ConnConfig.RuntimeParams["pool_max_conns"]; sent {
			t.Errorf("poolConfig(%q) sends pool_max_conns to the server", tc.url)
		}
		if cfg.ConnConfig.RuntimeParams["application_name"] != "munja" {
			t.Errorf("poolConfig(%q) application_name = %q", tc.url, cfg.ConnConfig.RuntimeParams["application_name"])
		}
	}
}
