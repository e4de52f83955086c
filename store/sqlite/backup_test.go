package sqlite

import (
	"bytes"
	"database/sql"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBackupBeforeMigrating: opening a file of an older schema copies it to
// PATH.before-NNNN first (and says so in the log); the copy is the old
// schema with its data. A new file and an up-to-date one are not copied.
func TestBackupBeforeMigrating(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "munja.db")
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
	} {
		if _, err := raw.ExecContext(t.Context(), q); err != nil {
			t.Fatalf("%.60s: %v", q, err)
		}
	}
	raw.Close()

	var log bytes.Buffer
	db, err := Open(t.Context(), path, slog.New(slog.NewTextHandler(&log, nil)))
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	copyPath := path + ".before-0002"
	if !strings.Contains(log.String(), "copied the database before migrating it") || !strings.Contains(log.String(), copyPath) {
		t.Errorf("the log does not say where the copy is:\n%s", log.String())
	}
	c, err := sql.Open("sqlite", "file:"+copyPath+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var newest int
	var name string
	if err := c.QueryRow(`SELECT max(version) FROM schema_migrations`).Scan(&newest); err != nil || newest != 1 {
		t.Errorf("copy's schema = %d, %v; want 1", newest, err)
	}
	if err := c.QueryRow(`SELECT name FROM users`).Scan(&name); err != nil || name != "kim" {
		t.Errorf("copy's user = %q, %v", name, err)
	}

	// Up to date now: opening again copies nothing more.
	openTemp(t, path).Close()
	fresh := filepath.Join(dir, "new.db")
	openTemp(t, fresh).Close()
	matches, _ := filepath.Glob(filepath.Join(dir, "*.before-*"))
	if len(matches) != 1 {
		t.Errorf("copies = %v, want only %s", matches, copyPath)
	}
}

// TestBackup copies a database that is open for writing; the copy has
// every commit and the file is refused when it exists.
func TestBackup(t *testing.T) {
	dir := t.TempDir()
	db := openTemp(t, filepath.Join(dir, "munja.db"))
	defer db.Close()
	if _, err := db.w.ExecContext(t.Context(), `INSERT INTO users (name, password_hash, role, created_at, password_changed_at) VALUES ('lee', 'h', 'admin', 1, 1)`); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(dir, "copy.db")
	if err := Backup(t.Context(), db.path, dst); err != nil {
		t.Fatal(err)
	}
	c := openTemp(t, dst)
	defer c.Close()
	if _, err := c.UserByName(t.Context(), "lee"); err != nil {
		t.Errorf("user in the copy: %v", err)
	}
	if err := Backup(t.Context(), db.path, dst); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("backup over an existing file: %v", err)
	}
	if err := Backup(t.Context(), filepath.Join(dir, "none.db"), filepath.Join(dir, "x.db")); err == nil {
		t.Error("backup of a missing database succeeded")
	}
	if _, err := os.Stat(filepath.Join(dir, "none.db")); err == nil {
		t.Error("backup created the missing database")
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".*tmp-*")); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}
