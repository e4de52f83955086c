package postgres

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/munja-sms/munja/store/postgres/pgtest"

	"github.com/jackc/pgx/v5"

	"github.com/munja-sms/munja/store"
	"github.com/munja-sms/munja/store/internal/migrations"
	"github.com/munja-sms/munja/store/storetest"
)

func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func open(t testing.TB, dsn string) *DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := Open(ctx, dsn, testLogger(t))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return db
}

func TestContract(t *testing.T) {
	pgtest.ServerURL(t)
	storetest.Run(t, func(t *testing.T) store.Store { return open(t, pgtest.Schema(t)) })
}

// TestLimits runs the limits contract on two pools on one schema: two
// replicas.
func TestLimits(t *testing.T) {
	pgtest.ServerURL(t)
	storetest.RunLimits(t, func(t *testing.T) (store.Store, store.Store) {
		dsn := pgtest.Schema(t)
		return open(t, dsn), open(t, dsn)
	})
}

func TestMigrationsOnce(t *testing.T) {
	dsn := pgtest.Schema(t)
	ms, err := migrations.Load(migrationFS)
	if err != nil || len(ms) == 0 || ms[0].Version != 1 {
		t.Fatalf("embedded migrations = %+v, %v; want 0001 first", ms, err)
	}
	applied := func(db *DB) (n int, last time.Time) {
		t.Helper()
		if err := db.queryRow(t.Context(), `SELECT count(*), max(applied_at) FROM schema_migrations`, nil, &n, at(&last)); err != nil {
			t.Fatalf("read schema_migrations: %v", err)
		}
		return n, last
	}
	db := open(t, dsn)
	n1, at1 := applied(db)
	if n1 != len(ms) {
		t.Errorf("first open recorded %d migrations, want %d", n1, len(ms))
	}
	if err := db.PutState(t.Context(), "k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db = open(t, dsn)
	defer db.Close()
	if n2, at2 := applied(db); n2 != n1 || !at2.Equal(at1) {
		t.Errorf("re-open changed schema_migrations: %d rows at %v, was %d at %v", n2, at2, n1, at1)
	}
	if v, err := db.GetState(t.Context(), "k"); err != nil || string(v) != "v" {
		t.Errorf("data after re-open = %q, %v", v, err)
	}
}

// TestMigrateConcurrently starts several replicas on one empty schema at
// once: every one opens, and each migration is applied once.
func TestMigrateConcurrently(t *testing.T) {
	dsn := pgtest.Schema(t)
	const replicas = 4
	dbs := make([]*DB, replicas)
	errs := make([]error, replicas)
	var wg sync.WaitGroup
	for i := range replicas {
		wg.Go(func() { dbs[i], errs[i] = Open(t.Context(), dsn, testLogger(t)) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("replica %d: Open: %v", i, err)
		} else {
			defer dbs[i].Close()
		}
	}
	ms, _ := migrations.Load(migrationFS)
	var n, distinct int
	if err := dbs[0].queryRow(t.Context(), `SELECT count(*), count(DISTINCT version) FROM schema_migrations`, nil, &n, &distinct); err != nil {
		t.Fatal(err)
	}
	if n != len(ms) || distinct != len(ms) {
		t.Errorf("schema_migrations has %d rows (%d versions), want %d", n, distinct, len(ms))
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	dsn := pgtest.Schema(t)
	db := open(t, dsn)
	if _, err := db.exec(t.Context(), `INSERT INTO schema_migrations (version, name) VALUES (9999, '9999_future.sql')`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if db, err := Open(t.Context(), dsn, testLogger(t)); err == nil {
		db.Close()
		t.Fatal("Open of a database from a newer munja succeeded")
	} else if !strings.Contains(err.Error(), "newer") {
		t.Errorf("Open error %q, want it to say the schema is newer", err)
	}
}

func TestOpenBadURL(t *testing.T) {
	tests := []struct{ url, want string }{
		{"mysql://u@h/db", "must look like postgres://"},
		{"postgres://u:s3cr3t-pw@127.0.0.1:5432/db?sslmode=bogus", "invalid database URL"},
		{"postgres://u@127.0.0.1:5432/db?pool_max_conns=0", "pool_max_conns"},
		{"postgres://u@127.0.0.1:5432/db?pool_max_conns=x", "pool_max_conns"},
	}
	for _, tc := range tests {
		db, err := Open(t.Context(), tc.url, testLogger(t))
		if err == nil {
			db.Close()
			t.Errorf("Open(%q) succeeded", tc.url)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Open(%q) = %v, want it to mention %q", tc.url, err, tc.want)
		}
		if strings.Contains(err.Error(), "s3cr3t-pw") {
			t.Errorf("Open(%q) error shows the password: %v", tc.url, err)
		}
	}
}

func TestClosed(t *testing.T) {
	db := open(t, pgtest.Schema(t))
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := db.CountUsers(t.Context()); !errors.Is(err, errClosed) {
		t.Errorf("CountUsers after Close = %v, want %v", err, errClosed)
	}
	if _, _, err := db.TryLeader(t.Context(), "x"); !errors.Is(err, errClosed) {
		t.Errorf("TryLeader after Close = %v, want %v", err, errClosed)
	}
	if err := db.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// backends returns the PIDs of the server sessions with the application name.
func backends(t testing.TB, c *pgx.Conn, app string) []int {
	t.Helper()
	rows, err := c.Query(t.Context(), `SELECT pid FROM pg_stat_activity WHERE application_name = $1`, app)
	if err != nil {
		t.Fatal(err)
	}
	pids, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		t.Fatal(err)
	}
	return pids
}

func adminConn(t testing.TB) *pgx.Conn {
	t.Helper()
	c, err := pgx.Connect(t.Context(), pgtest.ServerURL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

func uniqueName(prefix string) string {
	return fmt.Sprintf("%s-%s", prefix, rand.Text()[:8])
}
