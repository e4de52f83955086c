package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
)

// Backup writes a consistent copy of the SQLite database at src to dst
// (VACUUM INTO: one read transaction, so the copy holds every commit made
// before it started, also while `munja serve` writes). It opens src
// read-only and applies no migration. dst must not exist; the copy is
// written beside it, synced, and renamed into place, so dst is either
// complete or absent.
func Backup(ctx context.Context, src, dst string) error {
	if _, err := os.Stat(src); err != nil {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	if _, err := os.Lstat(dst); err == nil {
		return fmt.Errorf("sqlite: backup: %s already exists", dst)
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()))
	q.Set("mode", "ro")
	db, err := sql.Open("sqlite", "file:"+(&url.URL{Path: src}).EscapedPath()+"?"+q.Encode())
	if err != nil {
		return fmt.Errorf("sqlite: backup: open %s: %w", src, err)
	}
	defer db.Close()
	return vacuumInto(ctx, db, dst)
}

// vacuumInto writes a consistent copy of db's database to dst, which must
// not exist, through a temporary file beside it.
func vacuumInto(ctx context.Context, db interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
}, dst string) error {
	tmp, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".tmp-*")
	if err != nil {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	tmpName := tmp.Name()
	tmp.Close()
	os.Remove(tmpName) // VACUUM INTO refuses a file that exists
	defer os.Remove(tmpName)
	if _, err := db.ExecContext(ctx, `VACUUM INTO ?`, tmpName); err != nil {
		return fmt.Errorf("sqlite: backup: VACUUM INTO %s: %w", dst, err)
	}
	if err := syncFile(tmpName); err != nil {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	if err := os.Link(tmpName, dst); err != nil { // fails if dst appeared meanwhile
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	if err := syncFile(filepath.Dir(dst)); err != nil {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	return nil
}

func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}
