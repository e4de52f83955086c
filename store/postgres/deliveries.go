package postgres

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/munja-sms/munja/sms"
	"github.com/munja-sms/munja/store"
	"github.com/munja-sms/munja/store/internal/defaults"
)

// claimSQL marks up to $3 due deliveries as sending and returns them with
// their messages. The candidates are locked with FOR UPDATE SKIP LOCKED, so
// replicas claiming at the same time each take different rows instead of
// waiting for one another; a row another replica claimed and committed
// meanwhile is re-checked against the WHERE clause and dropped. %s narrows
// the candidates (one message's deliveries).
const claimSQL = `WITH claimed AS (
	UPDATE deliveries SET status = 'sending', lease_until = $1, attempts = attempts + 1, updated_at = $2, claimed_by = $4
	WHERE id IN (
		SELECT id FROM deliveries
		WHERE status IN ('queued', 'sending')
			AND ((status = 'queued' AND next_attempt_at <= $2) OR (status = 'sending' AND lease_until <= $2))%s
		ORDER BY next_attempt_at, id
		LIMIT $3
		FOR UPDATE SKIP LOCKED)
	RETURNING *)
SELECT d.id, d.message_id, d.phone, d.status, d.provider, d.provider_msg_id, d.attempts,
	d.last_error, d.next_attempt_at, d.created_at, d.updated_at, d.sent_at, ` + messageCols + `
FROM claimed d JOIN messages m ON m.id = d.message_id`

// ClaimDeliveries implements store.Messages.
func (db *DB) ClaimDeliveries(ctx context.Context, now time.Time, limit int, lease time.Duration, f store.ClaimFilter) ([]store.Claim, error) {
	if limit <= 0 {
		return nil, nil
	}
	a := []any{defaults.TruncMS(now.Add(lease)), defaults.TruncMS(now), limit, db.owner(ctx)}
	q := fmt.Sprintf(claimSQL, "")
	if f.MessageID != 0 {
		q = fmt.Sprintf(claimSQL, "\n\t\t\tAND message_id = $5")
		a = append(a, f.MessageID)
	}
	var claims []store.Claim
	err := db.withConn(ctx, func(c *pgx.Conn) error {
		rows, err := c.Query(ctx, q, a...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var cl store.Claim
			if err := rows.Scan(append(deliveryDst(&cl.Delivery), messageDst(&cl.Message)...)...); err != nil {
				return err
			}
			claims = append(claims, cl)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: claim deliveries: %w", err)
	}
	slices.SortFunc(claims, func(a, b store.Claim) int {
		if c := a.Delivery.NextAttemptAt.Compare(b.Delivery.NextAttemptAt); c != 0 {
			return c
		}
		return cmp.Compare(a.Delivery.ID, b.Delivery.ID)
	})
	return claims, nil
}

// CompleteDeliveries implements store.Messages: one transaction, the
// updates sent in one round trip.
func (db *DB) CompleteDeliveries(ctx context.Context, results []store.DeliveryUpdate) error {
	if len(results) == 0 {
		return nil
	}
	for _, u := range results {
		if u.Status == "" || u.Status == sms.StatusSending {
			return fmt.Errorf("postgres: complete delivery %d: status %q is not an outcome", u.ID, u.Status)
		}
	}
	now := defaults.TruncMS(time.Now())
	var stale []int64
	err := db.tx(ctx, func(tx pgx.Tx) error {
		stale = stale[:0]
		var b pgx.Batch
		for _, u := range results {
			// $9 = 0: unfenced; else only while the claim of attempt $9 holds it.
			b.Queue(`UPDATE deliveries
				SET status = $1, provider = $2, provider_msg_id = $3, last_error = $4,
					next_attempt_at = coalesce($5, next_attempt_at), sent_at = coalesce($6, sent_at),
					lease_until = NULL, updated_at = $7
				WHERE id = $8 AND ($9 = 0 OR (status = 'sending' AND attempts = $9))`,
				string(u.Status), u.Provider, u.ProviderMsgID, u.Error, ts(u.NextAttemptAt), ts(u.SentAt), now, u.ID, u.Attempt)
		}
		br := tx.SendBatch(ctx, &b)
		var missed []int64
		for _, u := range results {
			t, err := br.Exec()
			if err != nil {
				br.Close()
				return fmt.Errorf("postgres: complete delivery %d: %w", u.ID, err)
			}
			if t.RowsAffected() == 0 {
				missed = append(missed, u.ID)
			}
		}
		if err := br.Close(); err != nil {
			return fmt.Errorf("postgres: complete deliveries: %w", err)
		}
		for _, id := range missed {
			var exists bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM deliveries WHERE id = $1)`, id).Scan(&exists); err != nil {
				return fmt.Errorf("postgres: complete delivery %d: %w", id, err)
			}
			if !exists {
				return fmt.Errorf("delivery %d: %w", id, store.ErrNotFound)
			}
			stale = append(stale, id)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return store.StaleError(stale)
}

// ReleaseClaims implements store.Messages. With several replicas on one
// database it would hand back other replicas' in-flight claims too, so
// munja calls it only for the SQLite store; here leases expire instead.
func (db *DB) ReleaseClaims(ctx context.Context, now time.Time) (int, error) {
	t, err := db.exec(ctx, `UPDATE deliveries
		SET status = 'queued', lease_until = NULL, next_attempt_at = least(next_attempt_at, $1), updated_at = $1
		WHERE status = 'sending'`, defaults.TruncMS(now))
	if err != nil {
		return 0, fmt.Errorf("postgres: release claims: %w", err)
	}
	return int(t.RowsAffected()), nil
}

// CountDeliveriesSince implements store.Messages.
func (db *DB) CountDeliveriesSince(ctx context.Context, since time.Time, phone sms.Phone) (int, error) {
	var n int
	var err error
	if phone == "" {
		err = db.queryRow(ctx, `SELECT count(*) FROM deliveries WHERE created_at >= $1`, []any{defaults.TruncMS(since)}, &n)
	} else {
		err = db.queryRow(ctx, `SELECT count(*) FROM deliveries WHERE phone = $1 AND created_at >= $2`,
			[]any{string(phone), defaults.TruncMS(since)}, &n)
	}
	if err != nil {
		return 0, fmt.Errorf("postgres: count deliveries: %w", err)
	}
	return n, nil
}

// CountDeliveriesByStatus implements store.Messages.
func (db *DB) CountDeliveriesByStatus(ctx context.Context) (map[sms.Status]int, error) {
	out := map[sms.Status]int{}
	err := db.withConn(ctx, func(c *pgx.Conn) error {
		rows, err := c.Query(ctx, `SELECT status, count(*) FROM deliveries GROUP BY status`)
		if err != nil {
			return err
		}
		var st string
		var n int
		_, err = pgx.ForEachRow(rows, []any{&st, &n}, func() error {
			out[sms.Status(st)] = n
			return nil
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: count deliveries by status: %w", err)
	}
	return out, nil
}

// NextDue implements store.Messages.
func (db *DB) NextDue(ctx context.Context) (time.Time, error) {
	var next time.Time
	if err := db.queryRow(ctx, `SELECT min(next_attempt_at) FROM deliveries WHERE status = 'queued'`, nil, at(&next)); err != nil {
		return time.Time{}, fmt.Errorf("postgres: next due: %w", err)
	}
	return next, nil
}

// pruneBatch is how many messages one pruning statement deletes, so no
// transaction holds many row locks for long.
const pruneBatch = 1000

// PruneMessages implements store.Messages, in batches of pruneBatch
// messages, each its own transaction.
func (db *DB) PruneMessages(ctx context.Context, before time.Time) (int, error) {
	total := 0
	for {
		t, err := db.exec(ctx, `DELETE FROM messages WHERE id IN (
			SELECT m.id FROM messages m
			WHERE m.created_at < $1 AND NOT EXISTS (
				SELECT 1 FROM deliveries d WHERE d.message_id = m.id AND d.status IN ('queued', 'sending'))
			LIMIT $2)`, defaults.TruncMS(before), pruneBatch)
		if err != nil {
			return total, fmt.Errorf("postgres: prune messages: %w", err)
		}
		n := int(t.RowsAffected())
		total += n
		if n < pruneBatch {
			return total, nil
		}
	}
}
