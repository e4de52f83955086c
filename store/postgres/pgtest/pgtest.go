// Package pgtest gives tests an empty schema on the test PostgreSQL:
// MUNJA_TEST_POSTGRES, else 127.0.0.1:5432 database test as postgres (or
// root), with trust authentication as on the CI machine. Without a server
// the test is skipped, saying so, or fails when CI is set: CI runs every
// PostgreSQL test.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultURL is the test server when MUNJA_TEST_POSTGRES is not set; the
// same server as user root is tried next.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

var probe struct {
	once sync.Once
	url  string
	err  error
}

// ServerURL returns the URL of a reachable test server, found once per
// test binary. Without one the test is skipped, or fails when CI is set.
func ServerURL(t testing.TB) string {
	t.Helper()
	probe.once.Do(func() {
		urls := []string{os.Getenv("MUNJA_TEST_POSTGRES")}
		if urls[0] == "" {
			urls = []string{DefaultURL, strings.Replace(DefaultURL, "postgres@", "root@", 1)}
		}
		var errs []error
		for _, u := range urls {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			c, err := pgx.Connect(ctx, u)
			if err == nil {
				c.Close(ctx)
				cancel()
				probe.url = u
				return
			}
			cancel()
			errs = append(errs, err)
		}
		probe.err = errors.Join(errs...)
	})
	if probe.err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("no PostgreSQL test server reachable (CI is set, so this is a failure, not a skip; "+
				"set MUNJA_TEST_POSTGRES or start PostgreSQL on 127.0.0.1:5432): %v", probe.err)
		}
		t.Skipf("skipping a PostgreSQL test: no test server reachable (set MUNJA_TEST_POSTGRES): %v", probe.err)
	}
	return probe.url
}

// Schema creates an empty schema for the test, dropped when it ends, and
// returns a URL whose connections use it (search_path).
func Schema(t testing.TB) string {
	t.Helper()
	base := ServerURL(t)
	b := make([]byte, 6)
	rand.Read(b)
	name := "munja_test_" + hex.EncodeToString(b)
	Exec(t, base, `CREATE SCHEMA `+name)
	t.Cleanup(func() { Exec(t, base, `DROP SCHEMA `+name+` CASCADE`) })
	return WithParam(t, base, "search_path", name)
}

// WithParam returns the URL raw with the query parameter key set to value.
func WithParam(t testing.TB, raw, key, value string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set(key, value)
	u.RawQuery = q.Encode()
	return u.String()
}

// Exec runs one statement on a connection of its own.
func Exec(t testing.TB, dsn, sql string, args ...any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}
