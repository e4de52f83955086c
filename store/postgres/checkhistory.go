package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/munja-sms/munja/store"
	"github.com/munja-sms/munja/store/internal/defaults"
)

// minute is t's minute as stored: the start of the minute at or after t,
// so that a range [from, to) takes the minutes starting in it.
func minute(t time.Time) time.Time {
	m := t.Truncate(time.Minute)
	if m.Before(t) {
		m = m.Add(time.Minute)
	}
	return m
}

// AddCheckHistory implements store.CheckHistory.
func (db *DB) AddCheckHistory(ctx context.Context, samples []store.CheckSample, changes []store.CheckChange) error {
	if len(samples) == 0 && len(changes) == 0 {
		return nil
	}
	// One round trip: the series the rows name (all of them in one
	// statement; known ones are left alone), then each row, finding its
	// series by name. A look-up of its own for each series and a round
	// trip for each row took 4,000 round trips for a flush batch of 2,000.
	checks := make([]string, 0, len(samples)+len(changes))
	hosts := make([]string, 0, cap(checks))
	for _, s := range samples {
		checks, hosts = append(checks, s.Check), append(hosts, s.Host)
	}
	for _, c := range changes {
		checks, hosts = append(checks, c.Check), append(hosts, c.Host)
	}
	err := db.tx(ctx, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		b.Queue(`INSERT INTO check_series (check_name, host) SELECT * FROM unnest($1::text[], $2::text[])
			ON CONFLICT (check_name, host) DO NOTHING`, checks, hosts)
		for _, s := range samples {
			b.Queue(`INSERT INTO check_samples AS c
				(series_id, minute, ok, failing, unknown, latency_n, latency_sum, latency_max)
				SELECT id, $3, $4, $5, $6, $7, $8, $9 FROM check_series WHERE check_name = $1 AND host = $2
				ON CONFLICT (series_id, minute) DO UPDATE SET
					ok = c.ok + excluded.ok, failing = c.failing + excluded.failing, unknown = c.unknown + excluded.unknown,
					latency_n = c.latency_n + excluded.latency_n, latency_sum = c.latency_sum + excluded.latency_sum,
					latency_max = greatest(c.latency_max, excluded.latency_max)`,
				s.Check, s.Host, s.At.Truncate(time.Minute), s.OK, s.Failing, s.Unknown, s.LatencyN,
				s.LatencySum.Microseconds(), s.LatencyMax.Microseconds())
		}
		for _, c := range changes {
			b.Queue(`INSERT INTO check_changes (series_id, at, status, detail, detail_ko)
				SELECT id, $3, $4, $5, $6 FROM check_series WHERE check_name = $1 AND host = $2
				ON CONFLICT (series_id, at) DO UPDATE SET status = excluded.status, detail = excluded.detail, detail_ko = excluded.detail_ko`,
				c.Check, c.Host, defaults.TruncMS(c.At), c.Status, c.Detail, c.DetailKo)
		}
		return tx.SendBatch(ctx, b).Close()
	})
	if err != nil {
		return fmt.Errorf("postgres: add check history: %w", err)
	}
	return nil
}

func sampleDst(s *store.CheckSample, sum, mx *int64) []any {
	return []any{at(&s.At), &s.OK, &s.Failing, &s.Unknown, &s.LatencyN, sum, mx}
}

// CheckSamples implements store.CheckHistory.
func (db *DB) CheckSamples(ctx context.Context, check, host string, from, to time.Time) ([]store.CheckSample, error) {
	type row struct {
		s       store.CheckSample
		sum, mx int64
	}
	rows, err := collect(ctx, db, `SELECT minute, ok, failing, unknown, latency_n, latency_sum, latency_max
		FROM check_samples WHERE series_id = (SELECT id FROM check_series WHERE check_name = $1 AND host = $2)
		AND minute >= $3 AND minute < $4 ORDER BY minute`, []any{check, host, minute(from), minute(to)},
		func(r *row) []any { return sampleDst(&r.s, &r.sum, &r.mx) })
	if err != nil {
		return nil, fmt.Errorf("postgres: check samples: %w", err)
	}
	out := make([]store.CheckSample, len(rows))
	for i, r := range rows {
		out[i] = r.s
		out[i].Check, out[i].Host = check, host
		out[i].LatencySum, out[i].LatencyMax = time.Duration(r.sum)*time.Microsecond, time.Duration(r.mx)*time.Microsecond
	}
	return out, nil
}

// CheckSeries implements store.CheckHistory.
func (db *DB) CheckSeries(ctx context.Context, check, host string, from, to time.Time, step time.Duration) ([]store.CheckSample, error) {
	stepSec := max(int64(step/time.Minute), 1) * 60
	first := minute(from)
	type row struct {
		b, sum, mx int64
		s          store.CheckSample
	}
	rows, err := collect(ctx, db, `SELECT floor(extract(epoch FROM minute - $3) / $5)::bigint AS b,
			sum(ok)::bigint, sum(failing)::bigint, sum(unknown)::bigint,
			sum(latency_n)::bigint, sum(latency_sum)::bigint, max(latency_max)
		FROM check_samples WHERE series_id = (SELECT id FROM check_series WHERE check_name = $1 AND host = $2)
		AND minute >= $3 AND minute < $4 GROUP BY b ORDER BY b`, []any{check, host, first, minute(to), stepSec},
		func(r *row) []any {
			return []any{&r.b, &r.s.OK, &r.s.Failing, &r.s.Unknown, &r.s.LatencyN, &r.sum, &r.mx}
		})
	if err != nil {
		return nil, fmt.Errorf("postgres: check series: %w", err)
	}
	out := make([]store.CheckSample, len(rows))
	for i, r := range rows {
		out[i] = r.s
		out[i].Check, out[i].Host = check, host
		out[i].At = first.Add(time.Duration(r.b*stepSec) * time.Second).UTC()
		out[i].LatencySum, out[i].LatencyMax = time.Duration(r.sum)*time.Microsecond, time.Duration(r.mx)*time.Microsecond
	}
	return out, nil
}

// CheckTotals implements store.CheckHistory.
func (db *DB) CheckTotals(ctx context.Context, from, to time.Time) ([]store.CheckSample, error) {
	type row struct {
		s       store.CheckSample
		sum, mx int64
	}
	rows, err := collect(ctx, db, `SELECT s.check_name, s.host, sum(ok)::bigint, sum(failing)::bigint, sum(unknown)::bigint,
			sum(latency_n)::bigint, sum(latency_sum)::bigint, max(latency_max)
		FROM check_series s JOIN check_samples ON series_id = s.id
		WHERE minute >= $1 AND minute < $2 GROUP BY s.id ORDER BY s.check_name, s.host`, []any{minute(from), minute(to)},
		func(r *row) []any {
			return []any{&r.s.Check, &r.s.Host, &r.s.OK, &r.s.Failing, &r.s.Unknown, &r.s.LatencyN, &r.sum, &r.mx}
		})
	if err != nil {
		return nil, fmt.Errorf("postgres: check totals: %w", err)
	}
	out := make([]store.CheckSample, len(rows))
	for i, r := range rows {
		out[i] = r.s
		out[i].At = from
		out[i].LatencySum, out[i].LatencyMax = time.Duration(r.sum)*time.Microsecond, time.Duration(r.mx)*time.Microsecond
	}
	return out, nil
}

func changeDst(c *store.CheckChange) []any {
	return []any{&c.Check, &c.Host, at(&c.At), &c.Status, &c.Detail, &c.DetailKo}
}

// CheckChanges implements store.CheckHistory.
func (db *DB) CheckChanges(ctx context.Context, check, host string, from, to time.Time) ([]store.CheckChange, error) {
	out, err := collect(ctx, db, `WITH s AS (SELECT id FROM check_series WHERE check_name = $1 AND host = $2)
		(SELECT $1::text, $2::text, at, status, detail, detail_ko FROM check_changes
			WHERE series_id = (SELECT id FROM s) AND at < $3 ORDER BY at DESC LIMIT 1)
		UNION ALL
		(SELECT $1::text, $2::text, at, status, detail, detail_ko FROM check_changes
			WHERE series_id = (SELECT id FROM s) AND at >= $3 AND at < $4 ORDER BY at)`,
		[]any{check, host, defaults.TruncMS(from), defaults.TruncMS(to)}, changeDst)
	if err != nil {
		return nil, fmt.Errorf("postgres: check changes: %w", err)
	}
	return out, nil
}

// LastCheckChanges implements store.CheckHistory.
func (db *DB) LastCheckChanges(ctx context.Context) ([]store.CheckChange, error) {
	out, err := collect(ctx, db, `SELECT DISTINCT ON (s.id) s.check_name, s.host, c.at, c.status, c.detail, c.detail_ko
		FROM check_series s JOIN check_changes c ON c.series_id = s.id
		ORDER BY s.id, c.at DESC`, nil, changeDst)
	if err != nil {
		return nil, fmt.Errorf("postgres: last check changes: %w", err)
	}
	return out, nil
}

// PruneCheckHistory implements store.CheckHistory, one series per
// statement pair so that no transaction is long.
func (db *DB) PruneCheckHistory(ctx context.Context, before time.Time) (int, error) {
	ids, err := collect(ctx, db, `SELECT id FROM check_series ORDER BY id`, nil, func(id *int64) []any { return []any{id} })
	if err != nil {
		return 0, fmt.Errorf("postgres: prune check history: %w", err)
	}
	total := 0
	for _, id := range ids {
		t, err := db.exec(ctx, `DELETE FROM check_samples WHERE series_id = $1 AND minute < $2`, id, minute(before))
		if err != nil {
			return total, fmt.Errorf("postgres: prune check history: %w", err)
		}
		total += int(t.RowsAffected())
		t, err = db.exec(ctx, `DELETE FROM check_changes WHERE series_id = $1 AND at < $2
			AND at < (SELECT max(at) FROM check_changes WHERE series_id = $1)`, id, defaults.TruncMS(before))
		if err != nil {
			return total, fmt.Errorf("postgres: prune check history: %w", err)
		}
		total += int(t.RowsAffected())
	}
	return total, nil
}
