package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/munja-sms/munja/store"
)

// Minutes and latencies as stored (migration 0004).
func toMinute(t time.Time) int64        { return t.Unix() / 60 }
func fromMinute(m int64) time.Time      { return time.Unix(m*60, 0).UTC() }
func toMicros(d time.Duration) int64    { return d.Microseconds() }
func fromMicros(us int64) time.Duration { return time.Duration(us) * time.Microsecond }

// AddCheckHistory implements store.CheckHistory.
func (db *DB) AddCheckHistory(ctx context.Context, samples []store.CheckSample, changes []store.CheckChange) error {
	if len(samples) == 0 && len(changes) == 0 {
		return nil
	}
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		if err := addSeries(ctx, tx, samples, changes); err != nil {
			return err
		}
		// Prepared once per call: a flush of 10,000 agents' checks runs
		// it 200,000 times. Each row finds its series by name in SQL: a
		// lookup of its own (INSERT … RETURNING id, a query) for each
		// sample was 41 % of what munja serve allocated at 10,000 agents.
		upSample, err := tx.PrepareContext(ctx, `INSERT INTO check_samples
			(series_id, minute, ok, failing, unknown, latency_n, latency_sum, latency_max)
			SELECT id, ?, ?, ?, ?, ?, ?, ? FROM check_series WHERE check_name = ? AND host = ?
			ON CONFLICT (series_id, minute) DO UPDATE SET
				ok = ok + excluded.ok, failing = failing + excluded.failing, unknown = unknown + excluded.unknown,
				latency_n = latency_n + excluded.latency_n, latency_sum = latency_sum + excluded.latency_sum,
				latency_max = max(latency_max, excluded.latency_max)`)
		if err != nil {
			return err
		}
		defer upSample.Close()
		for _, s := range samples {
			if _, err := upSample.ExecContext(ctx, toMinute(s.At), s.OK, s.Failing, s.Unknown, s.LatencyN,
				toMicros(s.LatencySum), toMicros(s.LatencyMax), s.Check, s.Host); err != nil {
				return err
			}
		}
		if len(changes) == 0 {
			return nil
		}
		upChange, err := tx.PrepareContext(ctx, `INSERT INTO check_changes (series_id, at, status, detail, detail_ko)
			SELECT id, ?, ?, ?, ? FROM check_series WHERE check_name = ? AND host = ?
			ON CONFLICT (series_id, at) DO UPDATE SET status = excluded.status, detail = excluded.detail, detail_ko = excluded.detail_ko`)
		if err != nil {
			return err
		}
		defer upChange.Close()
		for _, c := range changes {
			if _, err := upChange.ExecContext(ctx, c.At.UnixMilli(), c.Status, c.Detail, c.DetailKo, c.Check, c.Host); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: add check history: %w", err)
	}
	return nil
}

// seriesPerInsert is how many series one statement of addSeries names (2
// parameters each, well within SQLite's 32,766).
const seriesPerInsert = 500

// addSeries adds the series that samples and changes name and that are
// not stored yet, seriesPerInsert to a statement (after the first minute,
// none is new: each is one look-up in the index).
func addSeries(ctx context.Context, tx *sql.Tx, samples []store.CheckSample, changes []store.CheckChange) error {
	args := make([]any, 0, 2*min(len(samples)+len(changes), seriesPerInsert))
	flush := func() error {
		if len(args) == 0 {
			return nil
		}
		q := `INSERT INTO check_series (check_name, host) VALUES (?, ?)` +
			strings.Repeat(`, (?, ?)`, len(args)/2-1) + ` ON CONFLICT (check_name, host) DO NOTHING`
		_, err := tx.ExecContext(ctx, q, args...)
		args = args[:0]
		return err
	}
	add := func(check, host string) error {
		args = append(args, check, host)
		if len(args) == 2*seriesPerInsert {
			return flush()
		}
		return nil
	}
	for _, s := range samples {
		if err := add(s.Check, s.Host); err != nil {
			return err
		}
	}
	for _, c := range changes {
		if err := add(c.Check, c.Host); err != nil {
			return err
		}
	}
	return flush()
}

const sampleCols = `minute, ok, failing, unknown, latency_n, latency_sum, latency_max`

func scanSample(rows *sql.Rows, s *store.CheckSample) error {
	var minute, sum, mx int64
	if err := rows.Scan(&minute, &s.OK, &s.Failing, &s.Unknown, &s.LatencyN, &sum, &mx); err != nil {
		return err
	}
	s.At, s.LatencySum, s.LatencyMax = fromMinute(minute), fromMicros(sum), fromMicros(mx)
	return nil
}

// CheckSamples implements store.CheckHistory.
func (db *DB) CheckSamples(ctx context.Context, check, host string, from, to time.Time) ([]store.CheckSample, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT `+sampleCols+` FROM check_samples
		WHERE series_id = (SELECT id FROM check_series WHERE check_name = ? AND host = ?)
		AND minute >= ? AND minute < ? ORDER BY minute`, check, host, minuteFrom(from), minuteFrom(to))
	if err != nil {
		return nil, fmt.Errorf("sqlite: check samples: %w", err)
	}
	defer rows.Close()
	var out []store.CheckSample
	for rows.Next() {
		s := store.CheckSample{Check: check, Host: host}
		if err := scanSample(rows, &s); err != nil {
			return nil, fmt.Errorf("sqlite: check samples: %w", err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: check samples: %w", err)
	}
	return out, nil
}

// CheckSeries implements store.CheckHistory.
func (db *DB) CheckSeries(ctx context.Context, check, host string, from, to time.Time, step time.Duration) ([]store.CheckSample, error) {
	steps := max(int64(step/time.Minute), 1)
	first := minuteFrom(from)
	rows, err := db.r.QueryContext(ctx, `SELECT (minute - ?3) / ?5 AS b, sum(ok), sum(failing), sum(unknown),
			sum(latency_n), sum(latency_sum), max(latency_max)
		FROM check_samples
		WHERE series_id = (SELECT id FROM check_series WHERE check_name = ?1 AND host = ?2)
		AND minute >= ?3 AND minute < ?4 GROUP BY b ORDER BY b`, check, host, first, minuteFrom(to), steps)
	if err != nil {
		return nil, fmt.Errorf("sqlite: check series: %w", err)
	}
	defer rows.Close()
	var out []store.CheckSample
	for rows.Next() {
		s := store.CheckSample{Check: check, Host: host}
		var b, sum, mx int64
		if err := rows.Scan(&b, &s.OK, &s.Failing, &s.Unknown, &s.LatencyN, &sum, &mx); err != nil {
			return nil, fmt.Errorf("sqlite: check series: %w", err)
		}
		s.At = fromMinute(first + b*steps)
		s.LatencySum, s.LatencyMax = fromMicros(sum), fromMicros(mx)
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: check series: %w", err)
	}
	return out, nil
}

// minuteFrom is the first stored minute at or after t.
func minuteFrom(t time.Time) int64 {
	m := toMinute(t)
	if fromMinute(m).Before(t) {
		m++
	}
	return m
}

// CheckTotals implements store.CheckHistory.
func (db *DB) CheckTotals(ctx context.Context, from, to time.Time) ([]store.CheckSample, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT s.check_name, s.host, sum(ok), sum(failing), sum(unknown),
			sum(latency_n), sum(latency_sum), max(latency_max)
		FROM check_series s JOIN check_samples ON series_id = s.id
		WHERE minute >= ? AND minute < ? GROUP BY s.id ORDER BY s.check_name, s.host`, minuteFrom(from), minuteFrom(to))
	if err != nil {
		return nil, fmt.Errorf("sqlite: check totals: %w", err)
	}
	defer rows.Close()
	var out []store.CheckSample
	for rows.Next() {
		s := store.CheckSample{At: from}
		var sum, mx int64
		if err := rows.Scan(&s.Check, &s.Host, &s.OK, &s.Failing, &s.Unknown, &s.LatencyN, &sum, &mx); err != nil {
			return nil, fmt.Errorf("sqlite: check totals: %w", err)
		}
		s.LatencySum, s.LatencyMax = fromMicros(sum), fromMicros(mx)
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: check totals: %w", err)
	}
	return out, nil
}

// CheckChanges implements store.CheckHistory.
func (db *DB) CheckChanges(ctx context.Context, check, host string, from, to time.Time) ([]store.CheckChange, error) {
	out, err := db.changes(ctx, `WITH s AS (SELECT id FROM check_series WHERE check_name = ?1 AND host = ?2)
		SELECT * FROM (SELECT ?1, ?2, at, status, detail, detail_ko FROM check_changes
			WHERE series_id = (SELECT id FROM s) AND at < ?3 ORDER BY at DESC LIMIT 1)
		UNION ALL
		SELECT * FROM (SELECT ?1, ?2, at, status, detail, detail_ko FROM check_changes
			WHERE series_id = (SELECT id FROM s) AND at >= ?3 AND at < ?4 ORDER BY at)`,
		check, host, from.UnixMilli(), to.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("sqlite: check changes: %w", err)
	}
	return out, nil
}

// LastCheckChanges implements store.CheckHistory.
func (db *DB) LastCheckChanges(ctx context.Context) ([]store.CheckChange, error) {
	out, err := db.changes(ctx, `SELECT s.check_name, s.host, c.at, c.status, c.detail, c.detail_ko
		FROM check_series s JOIN check_changes c ON c.series_id = s.id
		WHERE c.at = (SELECT max(at) FROM check_changes WHERE series_id = s.id)
		ORDER BY s.check_name, s.host`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: last check changes: %w", err)
	}
	return out, nil
}

func (db *DB) changes(ctx context.Context, query string, args ...any) ([]store.CheckChange, error) {
	rows, err := db.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.CheckChange
	for rows.Next() {
		var c store.CheckChange
		var at int64
		if err := rows.Scan(&c.Check, &c.Host, &at, &c.Status, &c.Detail, &c.DetailKo); err != nil {
			return nil, err
		}
		c.At = time.UnixMilli(at).UTC()
		out = append(out, c)
	}
	return out, rows.Err()
}

// PruneCheckHistory implements store.CheckHistory, one series per
// transaction so that the writer is never held long.
func (db *DB) PruneCheckHistory(ctx context.Context, before time.Time) (int, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT id FROM check_series ORDER BY id`)
	if err != nil {
		return 0, fmt.Errorf("sqlite: prune check history: %w", err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, fmt.Errorf("sqlite: prune check history: %w", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("sqlite: prune check history: %w", err)
	}
	total := 0
	for _, id := range ids {
		err := db.writeTx(ctx, func(tx *sql.Tx) error {
			res, err := tx.ExecContext(ctx, `DELETE FROM check_samples WHERE series_id = ? AND minute < ?`, id, minuteFrom(before))
			if err != nil {
				return err
			}
			n, _ := res.RowsAffected()
			// The newest change stays: it is the status since then.
			res, err = tx.ExecContext(ctx, `DELETE FROM check_changes WHERE series_id = ?1 AND at < ?2
				AND at < (SELECT max(at) FROM check_changes WHERE series_id = ?1)`, id, before.UnixMilli())
			if err != nil {
				return err
			}
			m, _ := res.RowsAffected()
			total += int(n + m)
			return nil
		})
		if err != nil {
			return total, fmt.Errorf("sqlite: prune check history: %w", err)
		}
	}
	return total, nil
}
