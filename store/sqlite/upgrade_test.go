package sqlite

import (
	"database/sql"
	"io/fs"
	"path/filepath"
	"testing"
	"time"

	"github.com/munja-sms/munja/store"
)

// TestUpgradeFrom0001 opens a file that only has migration 0001 and data in
// it, as a munja of that version left it: the later migrations apply and
// the data is still there.
func TestUpgradeFrom0001(t *testing.T) {
	path := filepath.Join(t.TempDir(), "munja.db")
	first, err := fs.ReadFile(migrationFS, "migrations/0001_init.sql")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := sql.Open("sqlite", dsn(path, true))
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		string(first),
		`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`,
		`INSERT INTO schema_migrations VALUES (1, '0001_init.sql', 0)`,
		`INSERT INTO users (name, password_hash, role, created_at, password_changed_at) VALUES ('kim', 'h', 'admin', 1000, 2000)`,
		`INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES (x'01', 1, 1000, 9000000000000)`,
	} {
		if _, err := raw.ExecContext(t.Context(), q); err != nil {
			t.Fatalf("%.60s: %v", q, err)
		}
	}
	raw.Close()

	db := openTemp(t, path)
	defer db.Close()
	u, err := db.UserByName(t.Context(), "kim")
	if err != nil {
		t.Fatalf("user after the upgrade: %v", err)
	}
	if u.Lang != "ko" || !u.DisabledAt.IsZero() || u.CreatedAt.UnixMilli() != 1000 || u.PasswordChangedAt.UnixMilli() != 2000 {
		t.Errorf("user after the upgrade = %+v", u)
	}
	// Sessions of the old table are gone (there were none munja wrote);
	// the new table works.
	if _, err := db.SessionByHash(t.Context(), []byte{1}, time.UnixMilli(5000)); err == nil {
		t.Error("a session of the replaced table survived")
	}
	s := &store.Session{Hash: []byte{2}, UserID: u.ID, CSRF: "c", ExpiresAt: time.Now().Add(time.Hour)}
	if err := db.CreateSession(t.Context(), s); err != nil {
		t.Fatalf("CreateSession after the upgrade: %v", err)
	}
}
