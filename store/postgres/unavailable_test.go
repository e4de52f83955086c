package postgres

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/munja-sms/munja/store/postgres/pgtest"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/munja-sms/munja/sms"
	"github.com/munja-sms/munja/store"
)

// TestUnavailableCodes: which server answers say "the database cannot do
// this now" (store.ErrUnavailable) rather than "this call was wrong".
func TestUnavailableCodes(t *testing.T) {
	for code, want := range map[string]bool{
		"53100": true,  // disk_full
		"53300": true,  // too_many_connections
		"57P01": true,  // admin_shutdown
		"57P03": true,  // cannot_connect_now (starting up, recovering)
		"08006": true,  // connection_failure
		"25006": true,  // read_only_sql_transaction (a standby, default_transaction_read_only)
		"23505": false, // unique_violation: the caller's input
		"42P01": false, // undefined_table: a bug
		"57014": false, // query_canceled: the caller's context
	} {
		err := fmt.Errorf("postgres: insert: %w", &pgconn.PgError{Code: code})
		if got := errors.Is(unavailable(err), store.ErrUnavailable); got != want {
			t.Errorf("SQLSTATE %s: unavailable %v, want %v", code, got, want)
		}
		if pgCode(unavailable(err)) != code {
			t.Errorf("SQLSTATE %s: the code is lost", code)
		}
	}
	for _, err := range []error{nil, context.Canceled, context.DeadlineExceeded, store.ErrNotFound} {
		if got := unavailable(err); errors.Is(got, store.ErrUnavailable) || got != err {
			t.Errorf("%v became %v", err, got)
		}
	}
}

// TestUnavailable: a server that refuses connections, and a read-only
// database (as a hot standby is), give store.ErrUnavailable.
func TestUnavailable(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if db, err := Open(ctx, "postgres://munja@127.0.0.1:1/test?sslmode=disable", testLogger(t)); err == nil {
		db.Close()
		t.Error("Open of a closed port succeeded")
	} else if !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("Open of a closed port: %v, want store.ErrUnavailable", err)
	}

	// One connection, so the session setting holds for every call after it.
	db := open(t, pgtest.WithParam(t, pgtest.Schema(t), "pool_max_conns", "1"))
	defer db.Close()
	if _, err := db.CreateGroup(ctx, "ops"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateGroup(ctx, "ops"); !errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrUnavailable) {
		t.Errorf("taken name: %v, want only ErrConflict", err)
	}
	if _, err := db.exec(ctx, `SET default_transaction_read_only = on`); err != nil {
		t.Fatal(err)
	}
	for name, write := range map[string]func() error{
		"CreateMessage": func() error {
			return db.CreateMessage(ctx, &sms.Message{Text: "x", Kind: sms.KindSMS, Source: "api",
				Deliveries: []sms.Delivery{{Phone: "01012345678"}}})
		},
		"SaveContact": func() error {
			return db.SaveContact(ctx, &store.Contact{Name: "김철수", Phone: "01012345678", Groups: []string{"ops"}})
		},
		"CreateGroup": func() error { _, err := db.CreateGroup(ctx, "dba"); return err },
		"AddAudit": func() error {
			return db.AddAudit(ctx, store.AuditEntry{At: time.Now(), Actor: "cli", Action: "test"})
		},
	} {
		if err := write(); !errors.Is(err, store.ErrUnavailable) || pgCode(err) != "25006" {
			t.Errorf("%s on a read-only database: %v, want store.ErrUnavailable (25006)", name, err)
		}
	}
}
