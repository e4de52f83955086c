package sqlite

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/munja-sms/munja/sms"
	"github.com/munja-sms/munja/store"
)

// big is more than a page holds, so each write below needs new pages.
var big = strings.Repeat("x", 9000)

// writes are the store's writes of each shape: the group commit, a
// transaction, and single statements.
var writes = map[string]func(context.Context, *DB) error{
	"CreateMessage": func(ctx context.Context, db *DB) error {
		return db.CreateMessage(ctx, &sms.Message{Text: big, Kind: sms.KindLMS, Source: "api",
			Deliveries: []sms.Delivery{{Phone: "01012345678"}, {Phone: "01012345679"}}})
	},
	"SaveContact": func(ctx context.Context, db *DB) error {
		return db.SaveContact(ctx, &store.Contact{Name: "김철수", Phone: "01012345678", Memo: big, Groups: []string{"ops"}})
	},
	"CreateGroup": func(ctx context.Context, db *DB) error { _, err := db.CreateGroup(ctx, big); return err },
	"SaveTemplate": func(ctx context.Context, db *DB) error {
		return db.SaveTemplate(ctx, &store.Template{Name: "t", Text: big})
	},
	"AddAudit": func(ctx context.Context, db *DB) error {
		return db.AddAudit(ctx, store.AuditEntry{At: time.Now(), Actor: "cli", Action: "test", Detail: big})
	},
}

// TestUnavailable: a write the database refuses for what it is now (read
// only, full) is store.ErrUnavailable, with SQLite's own words kept; a
// write refused for what it asked (a taken name) is not.
func TestUnavailable(t *testing.T) {
	for _, cond := range []struct{ name, pragma, words string }{
		{"read-only", "PRAGMA query_only = 1", "readonly"},
		// No page may be added (the limit stops at the pages in use), as
		// a full disk does to the file.
		{"full", "PRAGMA max_page_count = 1", "full"},
	} {
		t.Run(cond.name, func(t *testing.T) {
			ctx := t.Context()
			db := openTemp(t, "")
			defer db.Close()
			if _, err := db.w.ExecContext(ctx, cond.pragma); err != nil { // the one writer connection
				t.Fatal(err)
			}
			for name, write := range writes {
				err := write(ctx, db)
				if !errors.Is(err, store.ErrUnavailable) || !strings.Contains(err.Error(), cond.words) {
					t.Errorf("%s: %.200v, want store.ErrUnavailable saying %q", name, err, cond.words)
				}
			}
		})
	}
	db := openTemp(t, "")
	defer db.Close()
	if _, err := db.CreateGroup(t.Context(), "ops"); err != nil {
		t.Fatal(err)
	}
	_, err := db.CreateGroup(t.Context(), "ops")
	if !errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrUnavailable) {
		t.Errorf("taken name: %v, want only ErrConflict", err)
	}
}
