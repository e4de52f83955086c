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
	"database/sql"
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

	_ "modernc.org/sqlite" // the per-result comparison's database
)

func main() {
	checks := flag.Int("checks", 20, "checks, each running every second")
	days := flag.Int("days", 3, "simulated days")
	dsn := flag.String("db", "", "PostgreSQL URL (default: a SQLite file in a temp dir)")
	perResult := flag.Bool("per-result", false, "for comparison: store one row per result (what Uptime Kuma and Gatus do) in a SQLite file, instead of munja's history")
	flag.Parse()
	if *perResult {
		perResultSize(*checks, *days)
		return
	}
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

// perResultSize stores every result as a row of its own, indexed by check
// and time (the layout of Uptime Kuma's heartbeat table and Gatus's
// results), in a SQLite file, and prints the same figure.
func perResultSize(checks, days int) {
	dir, err := os.MkdirTemp("", "histsize")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "results.db")
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)")
	if err != nil {
		log.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE results (id INTEGER PRIMARY KEY, check_id INTEGER NOT NULL, at INTEGER NOT NULL,
		status INTEGER NOT NULL, latency_us INTEGER NOT NULL, msg TEXT NOT NULL);
		CREATE INDEX results_check_at ON results (check_id, at)`); err != nil {
		log.Fatal(err)
	}
	db.Close()
	size := func() int64 {
		var n int64
		for _, f := range []string{path, path + "-wal"} {
			if fi, err := os.Stat(f); err == nil {
				n += fi.Size()
			}
		}
		return n
	}
	before := size()
	db, err = sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)")
	if err != nil {
		log.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	start := time.Now().Add(-time.Duration(days) * 24 * time.Hour).Unix()
	t0 := time.Now()
	seconds := days * 86400
	for s0 := 0; s0 < seconds; s0 += 10 { // a transaction per 10 s, like munja's flush
		tx, err := db.Begin()
		if err != nil {
			log.Fatal(err)
		}
		st, err := tx.Prepare(`INSERT INTO results (check_id, at, status, latency_us, msg) VALUES (?, ?, ?, ?, ?)`)
		if err != nil {
			log.Fatal(err)
		}
		for s := s0; s < min(s0+10, seconds); s++ {
			for i := range checks {
				down := (s+i*3600)%(12*3600) < 60
				status := 1
				if down {
					status = 0
				}
				if _, err := st.Exec(i, start+int64(s), status, 500+i*100, ""); err != nil {
					log.Fatal(err)
				}
			}
		}
		st.Close()
		if err := tx.Commit(); err != nil {
			log.Fatal(err)
		}
	}
	db.Close()
	grew := size() - before
	perCheckDay := float64(grew) / float64(checks) / float64(days)
	fmt.Printf("per-result rows: %d checks × %d days at 1 s: file grew %.1f MiB = %.0f bytes per check per day (%.0f MiB per check per 90 days); fed in %s\n",
		checks, days, float64(grew)/(1<<20), perCheckDay, perCheckDay*90/(1<<20), time.Since(t0).Round(time.Millisecond))
}
