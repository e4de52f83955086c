package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"

	"github.com/munja-sms/munja/sms"
	"github.com/munja-sms/munja/store"
)

// claimSQL marks up to ?3 due deliveries as sending and returns them: one
// statement inside an immediate transaction, so no other writer can claim
// the same rows in between. %s selects the candidates, oldest due first.
const claimSQL = `UPDATE deliveries
SET status = 'sending', lease_until = ?1, attempts = attempts + 1, updated_at = ?2
WHERE id IN (SELECT id FROM (%s))
RETURNING id, message_id, phone, status, provider, provider_msg_id, attempts,
	last_error, next_attempt_at, created_at, updated_at, sent_at`

// claimDue selects due deliveries. Both branches walk a partial index in due
// order (queued by next_attempt_at, sending by lease_until) and are merged,
// so the LIMIT stops early even with a large backlog.
const claimDue = `
	SELECT id, next_attempt_at FROM deliveries INDEXED BY deliveries_due
	WHERE status = 'queued' AND next_attempt_at <= ?2
	UNION ALL
	SELECT id, next_attempt_at FROM deliveries INDEXED BY deliveries_lease
	WHERE status = 'sending' AND lease_until <= ?2
	ORDER BY next_attempt_at, id
	LIMIT ?3`

// claimDueOfMessage selects one message's due deliveries through the
// message_id index, whatever the size of the rest of the queue.
const claimDueOfMessage = `
	SELECT id, next_attempt_at FROM deliveries INDEXED BY deliveries_message
	WHERE message_id = ?4 AND (
		(status = 'queued' AND next_attempt_at <= ?2) OR
		(status = 'sending' AND lease_until <= ?2))
	ORDER BY next_attempt_at, id
	LIMIT ?3`

// ClaimDeliveries implements store.Messages.
func (db *DB) ClaimDeliveries(ctx context.Context, now time.Time, limit int, lease time.Duration, f store.ClaimFilter) ([]store.Claim, error) {
	if limit <= 0 {
		return nil, nil
	}
	args := []any{now.Add(lease).UnixMilli(), now.UnixMilli(), limit}
	q := fmt.Sprintf(claimSQL, claimDue)
	if f.MessageID != 0 {
		q = fmt.Sprintf(claimSQL, claimDueOfMessage)
		args = append(args, f.MessageID)
	}
	var claims []store.Claim
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("sqlite: claim deliveries: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var c store.Claim
			if err := scanDelivery(rows, &c.Delivery); err != nil {
				return fmt.Errorf("sqlite: claim deliveries: %w", err)
			}
			claims = append(claims, c)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("sqlite: claim deliveries: %w", err)
		}
		rows.Close()
		return joinMessages(ctx, tx, claims)
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(claims, func(a, b store.Claim) int {
		if c := a.Delivery.NextAttemptAt.Compare(b.Delivery.NextAttemptAt); c != 0 {
			return c
		}
		return cmp.Compare(a.Delivery.ID, b.Delivery.ID)
	})
	return claims, nil
}

// joinMessages fills in the message of each claim.
func joinMessages(ctx context.Context, tx *sql.Tx, claims []store.Claim) error {
	if len(claims) == 0 {
		return nil
	}
	byID := map[int64]*sms.Message{}
	var ids []any
	for _, c := range claims {
		if _, ok := byID[c.Delivery.MessageID]; !ok {
			byID[c.Delivery.MessageID] = nil
			ids = append(ids, c.Delivery.MessageID)
		}
	}
	const chunk = 500
	for start := 0; start < len(ids); start += chunk {
		part := ids[start:min(start+chunk, len(ids))]
		rows, err := tx.QueryContext(ctx, `SELECT `+messageCols+` FROM messages m WHERE m.id IN (`+placeholders(len(part))+`)`, part...)
		if err != nil {
			return fmt.Errorf("sqlite: claim messages: %w", err)
		}
		for rows.Next() {
			m := new(sms.Message)
			if err := scanMessage(rows, m); err != nil {
				rows.Close()
				return fmt.Errorf("sqlite: claim messages: %w", err)
			}
			byID[m.ID] = m
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return fmt.Errorf("sqlite: claim messages: %w", err)
		}
	}
	for i := range claims {
		m := byID[claims[i].Delivery.MessageID]
		if m == nil {
			return fmt.Errorf("sqlite: claim: message %d of delivery %d is missing", claims[i].Delivery.MessageID, claims[i].Delivery.ID)
		}
		claims[i].Message = *m
	}
	return nil
}

// CompleteDeliveries implements store.Messages.
func (db *DB) CompleteDeliveries(ctx context.Context, results []store.DeliveryUpdate) error {
	if len(results) == 0 {
		return nil
	}
	for _, u := range results {
		if u.Status == "" || u.Status == sms.StatusSending {
			return fmt.Errorf("sqlite: complete delivery %d: status %q is not an outcome", u.ID, u.Status)
		}
	}
	now := time.Now().UnixMilli()
	var stale []int64
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		stale = stale[:0]
		// ?9 = 0: unfenced; else only while the claim of attempt ?9 holds it.
		stmt, err := tx.PrepareContext(ctx, `UPDATE deliveries
			SET status = ?1, provider = ?2, provider_msg_id = ?3, last_error = ?4,
				next_attempt_at = coalesce(?5, next_attempt_at), sent_at = coalesce(?6, sent_at),
				lease_until = NULL, updated_at = ?7
			WHERE id = ?8 AND (?9 = 0 OR (status = 'sending' AND attempts = ?9))`)
		if err != nil {
			return fmt.Errorf("sqlite: complete deliveries: %w", err)
		}
		defer stmt.Close()
		for _, u := range results {
			res, err := stmt.ExecContext(ctx, string(u.Status), u.Provider, u.ProviderMsgID, u.Error,
				ms(u.NextAttemptAt), ms(u.SentAt), now, u.ID, u.Attempt)
			if err != nil {
				return fmt.Errorf("sqlite: complete delivery %d: %w", u.ID, err)
			}
			n, err := res.RowsAffected()
			if err != nil {
				return fmt.Errorf("sqlite: complete delivery %d: %w", u.ID, err)
			}
			if n > 0 {
				continue
			}
			var exists bool
			if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM deliveries WHERE id = ?)`, u.ID).Scan(&exists); err != nil {
				return fmt.Errorf("sqlite: complete delivery %d: %w", u.ID, err)
			}
			if !exists {
				return fmt.Errorf("delivery %d: %w", u.ID, store.ErrNotFound)
			}
			stale = append(stale, u.ID)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return store.StaleError(stale)
}

// ReleaseClaims implements store.Messages.
func (db *DB) ReleaseClaims(ctx context.Context, now time.Time) (int, error) {
	res, err := db.exec(ctx, `UPDATE deliveries
		SET status = 'queued', lease_until = NULL, next_attempt_at = min(next_attempt_at, ?1), updated_at = ?1
		WHERE status = 'sending'`, now.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("sqlite: release claims: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("sqlite: release claims: %w", err)
	}
	return int(n), nil
}

// CountDeliveriesSince implements store.Messages.
func (db *DB) CountDeliveriesSince(ctx context.Context, since time.Time, phone sms.Phone) (int, error) {
	var n int
	var err error
	if phone == "" {
		err = db.r.QueryRowContext(ctx, `SELECT count(*) FROM deliveries WHERE created_at >= ?`,
			since.UnixMilli()).Scan(&n)
	} else {
		err = db.r.QueryRowContext(ctx, `SELECT count(*) FROM deliveries WHERE phone = ? AND created_at >= ?`,
			string(phone), since.UnixMilli()).Scan(&n)
	}
	if err != nil {
		return 0, fmt.Errorf("sqlite: count deliveries: %w", err)
	}
	return n, nil
}

// CountDeliveriesByStatus implements store.Messages. The (status,
// message_id) index covers the query.
func (db *DB) CountDeliveriesByStatus(ctx context.Context) (map[sms.Status]int, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT status, count(*) FROM deliveries GROUP BY status`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: count deliveries by status: %w", err)
	}
	defer rows.Close()
	out := map[sms.Status]int{}
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, fmt.Errorf("sqlite: count deliveries by status: %w", err)
		}
		out[sms.Status(st)] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: count deliveries by status: %w", err)
	}
	return out, nil
}

const nextDueSQL = `SELECT min(next_attempt_at) FROM deliveries INDEXED BY deliveries_due WHERE status = 'queued'`

// NextDue implements store.Messages.
func (db *DB) NextDue(ctx context.Context) (time.Time, error) {
	var next sql.NullInt64
	if err := db.nextDue.QueryRowContext(ctx).Scan(&next); err != nil {
		return time.Time{}, fmt.Errorf("sqlite: next due: %w", err)
	}
	return fromMS(next), nil
}

// pruneBatch is how many messages one pruning transaction deletes, so the
// writer is never held for long while senders wait.
const pruneBatch = 1000

// pruneSQL deletes up to ?2 messages created before ?1 with no delivery left
// to send; their deliveries go with them (ON DELETE CASCADE).
const pruneSQL = `DELETE FROM messages WHERE id IN (
	SELECT m.id FROM messages m
	WHERE m.created_at < ?1 AND NOT EXISTS (
		SELECT 1 FROM deliveries d WHERE d.message_id = m.id AND d.status IN ('queued', 'sending'))
	LIMIT ?2)`

// PruneMessages implements store.Messages. It deletes in batches of
// pruneBatch messages, each in its own transaction.
func (db *DB) PruneMessages(ctx context.Context, before time.Time) (int, error) {
	total := 0
	for {
		res, err := db.exec(ctx, pruneSQL, before.UnixMilli(), pruneBatch)
		if err != nil {
			return total, fmt.Errorf("sqlite: prune messages: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, fmt.Errorf("sqlite: prune messages: %w", err)
		}
		total += int(n)
		if n < pruneBatch {
			break
		}
	}
	if total > 0 {
		// Pruning is the daily job that changes the tables most.
		if err := db.optimize(ctx, optimizePragma); err != nil {
			return total, err
		}
	}
	return total, nil
}
