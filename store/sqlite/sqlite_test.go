package sqlite

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/munja-sms/munja/sms"
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

func openTemp(t testing.TB, path string) *DB {
	t.Helper()
	if path == "" {
		path = filepath.Join(t.TempDir(), "munja.db")
	}
	db, err := Open(t.Context(), path, testLogger(t))
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	return db
}

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openTemp(t, "") })
}

// TestLimits runs the limits contract on two handles on one file, as
// `munja send` beside `munja serve`.
func TestLimits(t *testing.T) {
	storetest.RunLimits(t, func(t *testing.T) (store.Store, store.Store) {
		path := filepath.Join(t.TempDir(), "munja.db")
		return openTemp(t, path), openTemp(t, path)
	})
}

func TestMigrationsOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "munja.db")
	ms, err := migrations.Load(migrationFS)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) == 0 || ms[0].Version != 1 {
		t.Fatalf("embedded migrations = %+v, want 0001 first", ms)
	}
	applied := func(db *DB) (n int, last int64) {
		t.Helper()
		err := db.r.QueryRowContext(t.Context(), `SELECT count(*), max(applied_at) FROM schema_migrations`).Scan(&n, &last)
		if err != nil {
			t.Fatalf("read schema_migrations: %v", err)
		}
		return n, last
	}
	db := openTemp(t, path)
	n1, at1 := applied(db)
	if n1 != len(ms) {
		t.Errorf("first open recorded %d migrations, want %d", n1, len(ms))
	}
	if err := db.PutState(t.Context(), "k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	time.Sleep(5 * time.Millisecond) // a re-applied migration would get a later applied_at
	db = openTemp(t, path)
	defer db.Close()
	n2, at2 := applied(db)
	if n2 != n1 || at2 != at1 {
		t.Errorf("re-open changed schema_migrations: %d rows at %d, was %d at %d", n2, at2, n1, at1)
	}
	if v, err := db.GetState(t.Context(), "k"); err != nil || string(v) != "v" {
		t.Errorf("data after re-open = %q, %v", v, err)
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "munja.db")
	db := openTemp(t, path)
	if _, err := db.w.ExecContext(t.Context(), `INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, '9999_future.sql', 0)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if db, err := Open(t.Context(), path, testLogger(t)); err == nil {
		db.Close()
		t.Fatal("Open of a database from a newer munja succeeded")
	} else if !strings.Contains(err.Error(), "newer") {
		t.Errorf("Open error %q, want it to say the schema is newer", err)
	}
}

func TestPragmas(t *testing.T) {
	db := openTemp(t, "")
	defer db.Close()
	ctx := t.Context()
	tests := []struct {
		pool   string
		pragma string
		want   string
	}{
		{"writer", "journal_mode", "wal"},
		{"writer", "foreign_keys", "1"},
		{"writer", "busy_timeout", "10000"},
		{"writer", "synchronous", "1"}, // NORMAL; CreateMessage commits with FULL (TestCreateMessageSynced)
		{"writer", "journal_size_limit", "67108864"},
		{"reader", "journal_mode", "wal"},
		{"reader", "foreign_keys", "1"},
		{"reader", "busy_timeout", "10000"},
		{"reader", "query_only", "1"},
	}
	for _, tc := range tests {
		pool := db.w
		if tc.pool == "reader" {
			pool = db.r
		}
		var got string
		if err := pool.QueryRowContext(ctx, "PRAGMA "+tc.pragma).Scan(&got); err != nil {
			t.Errorf("%s PRAGMA %s: %v", tc.pool, tc.pragma, err)
			continue
		}
		if !strings.EqualFold(got, tc.want) {
			t.Errorf("%s PRAGMA %s = %q, want %q", tc.pool, tc.pragma, got, tc.want)
		}
	}
	if db.w.Stats().MaxOpenConnections != 1 {
		t.Errorf("writer pool allows %d connections, want 1", db.w.Stats().MaxOpenConnections)
	}
	// Foreign keys really are enforced.
	_, err := db.w.ExecContext(ctx, `INSERT INTO deliveries (message_id, phone, status, next_attempt_at, created_at, updated_at)
		VALUES (424242, '01000000000', 'queued', 0, 0, 0)`)
	if err == nil || !strings.Contains(strings.ToLower(err.Error()), "foreign key") {
		t.Errorf("insert of an orphan delivery: %v, want a foreign key error", err)
	}
	// The read pool cannot write.
	if _, err := db.r.ExecContext(ctx, `DELETE FROM messages`); err == nil {
		t.Error("the read pool accepted a write")
	}
}

// TestReopenAfterCrash writes through one handle, abandons it without Close
// (as a killed process would) and reads everything back through a new one.
func TestReopenAfterCrash(t *testing.T) {
	path := filepath.Join(t.TempDir(), "munja.db")
	db := openTemp(t, path)
	ctx := context.Background()
	m := &sms.Message{Text: "살아남기", Kind: sms.KindSMS, Deliveries: []sms.Delivery{{Phone: "01012345678"}}}
	if err := db.CreateMessage(ctx, m); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ClaimDeliveries(ctx, time.Now(), 10, time.Hour, store.ClaimFilter{}); err != nil {
		t.Fatal(err)
	}
	// No Close and no checkpoint: the data is only in the WAL file. The
	// abandoned handle is closed at the end so the temp dir can be removed.
	t.Cleanup(func() { db.Close() })

	db2 := openTemp(t, path)
	defer db2.Close()
	got, err := db2.GetMessage(ctx, m.ID)
	if err != nil {
		t.Fatalf("message after the crash: %v", err)
	}
	if got.Text != m.Text || len(got.Deliveries) != 1 || got.Deliveries[0].Status != sms.StatusSending {
		t.Errorf("message after the crash = %+v", got)
	}
	// Start-up of the new owner puts the interrupted claim back in the queue.
	if n, err := db2.ReleaseClaims(ctx, time.Now()); err != nil || n != 1 {
		t.Errorf("ReleaseClaims after the crash = %d, %v; want 1", n, err)
	}
}
