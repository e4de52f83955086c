// Command histsize measures what check history costs on disk: it feeds
// CHECKS checks running every second for DAYS simulated days through the
// same recorder `munja serve` uses (its periodic write every 10 s of
// simulated time),
// with a change of status now and then, and prints the bytes the store grew
// by per check and day. SQLite by default (the file and its WAL after a
// checkpoint); -db postgres://… measures the tables on PostgreSQL.
//
//	go run ./bench/histsize -checks 20 -days 3
//	go run ./bench/histsize -checks 20 -days 3 -db 'postgres://postgres@127.0.0.1/test?sslmode=disable'
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/munja-sms/munja/check"
	"github.com/munja-sms/munja/checkhist"
	"github.com/munja-sms/munja/store"
	"github.com/munja-sms/munja/store/postgres"
	"github.com/munja-sms/munja/store/sqlite"
)

func main() {
	checks := flag.Int("checks", 20, "checks, each running every second")
	days := flag.Int("days", 3, "simulated days")
	dsn := flag.String("db", "", "PostgreSQL URL (default: a SQLite file in a temp dir)")
	flag.Parse()
	ctx := context.Background()

	var open func() store.Store
	var size func() int64
	if strings.HasPrefix(*dsn, "postgres") {
		open = func() store.Store {
			db, err := postgres.Open(ctx, *dsn, nil)
			if err != nil {
				log.Fatal(err)
			}
			return db
		}
		size = func() int64 {
			c, err := pgx.Connect(ctx, *dsn)
			if err != nil {
				log.Fatal(err)
			}
			defer c.Close(ctx)
			var n int64
			if err := c.QueryRow(ctx, `SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint FROM pg_class c
				WHERE c.relname IN ('check_series', 'check_samples', 'check_changes') AND c.relkind = 'r'
				AND c.relnamespace = current_schema()::regnamespace`).Scan(&n); err != nil {
				log.Fatal(err)
			}
			return n
		}
	} else {
		dir, err := os.MkdirTemp("", "histsize")
		if err != nil {
			log.Fatal(err)
		}
		defer os.RemoveAll(dir)
		path := filepath.Join(dir, "munja.db")
		open = func() store.Store {
			db, err := sqlite.Open(ctx, path, nil)
			if err != nil {
				log.Fatal(err)
			}
			return db
		}
		// Measured closed: the last connection checkpoints the WAL into
		// the file.
		size = func() int64 {
			var n int64
			for _, f := range []string{path, path + "-wal"} {
				if fi, err := os.Stat(f); err == nil {
					n += fi.Size()
				}
			}
			return n
		}
	}
	st := open()
	st.Close()
	before := size()
	st = open()
	rec := checkhist.New(st, "", nil)
	start := time.Now().Add(-time.Duration(*days) * 24 * time.Hour).Truncate(24 * time.Hour)
	names := make([]string, *checks)
	for i := range names {
		names[i] = fmt.Sprintf("check-%02d", i)
	}
	t0 := time.Now()
	seconds := *days * 86400
	for s := range seconds {
		at := start.Add(time.Duration(s) * time.Second)
		for i, name := range names {
			// Each check fails for a minute twice a day, at its own time.
			down := (s+i*3600)%(12*3600) < 60
			rec.Observe(check.Result{Check: name, OK: !down, At: at, Duration: time.Duration(500+i*100) * time.Microsecond,
				Detail: "HTTP 200 in 0.8 ms"})
		}
		if s%10 == 9 {
			if err := rec.FlushEnded(ctx, at); err != nil {
				log.Fatal(err)
			}
		}
	}
	if err := rec.Flush(ctx); err != nil {
		log.Fatal(err)
	}
	st.Close()
	grew := size() - before
	perCheckDay := float64(grew) / float64(*checks) / float64(*days)
	fmt.Printf("%d checks × %d days at 1 s (%d results): store grew %.1f MiB = %.0f bytes per check per day (%.1f MiB per check per 90 days); fed in %s\n",
		*checks, *days, seconds**checks, float64(grew)/(1<<20), perCheckDay, perCheckDay*90/(1<<20), time.Since(t0).Round(time.Millisecond))
}
