package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/munja-sms/munja/store"
	"github.com/munja-sms/munja/store/internal/defaults"
)

// Presence: a replica that claims deliveries first takes a lock of its own
// (a leader lock named "replica ID", held on its own connection for as long
// as the process lives, leader.go) and records ID in each claim. The lock
// ends with the process — kill -9, a lost host — when PostgreSQL closes its
// session, and the other replicas hand that replica's claims back to the
// queue at once (ReleaseDeadClaims) instead of waiting out the claim lease
// while the history shows them "sending". A replica without its lock
// (it could not take it) claims with an empty owner, which only the lease
// releases.

var _ store.ClaimReaper = (*DB)(nil)

// presenceName is the presence lock's name for a replica id.
func presenceName(id string) string { return "replica " + id }

// owner returns this store's replica id, taking its presence lock on first
// use; "" when the lock cannot be had (claims then rely on the lease).
func (db *DB) owner(ctx context.Context) string {
	db.presenceMu.Lock()
	defer db.presenceMu.Unlock()
	if db.presence != nil {
		select {
		case <-db.presence.Lost():
			db.log.Warn("postgres: presence lock lost; taking a new one (claims made meanwhile rely on their lease)")
			db.presence, db.ownerID = nil, ""
		default:
			return db.ownerID
		}
	}
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return ""
	}
	id := hex.EncodeToString(b[:])
	l, err := db.Lead(ctx, presenceName(id))
	if err != nil || l == nil {
		if err != nil {
			db.log.Warn("postgres: cannot take this replica's presence lock; its claims will wait for their lease if it dies", "err", err)
		}
		return ""
	}
	db.presence, db.ownerID = l, id
	return id
}

// ReleaseDeadClaims implements store.ClaimReaper: every delivery claimed
// more than inFlight ago by a replica whose presence lock is free goes back
// to the queue, due at now. A free lock means the replica's session ended:
// usually the replica is gone, but it may only have lost its connections
// and still be sending, which is why a claim must also be older than any
// batch can be in flight.
func (db *DB) ReleaseDeadClaims(ctx context.Context, now time.Time, inFlight time.Duration) (int, error) {
	db.presenceMu.Lock()
	me := db.ownerID
	db.presenceMu.Unlock()
	released := 0
	err := db.withConn(ctx, func(c *pgx.Conn) error {
		before := defaults.TruncMS(now.Add(-inFlight))
		rows, err := c.Query(ctx, `SELECT DISTINCT claimed_by FROM deliveries
			WHERE status = 'sending' AND claimed_by <> '' AND claimed_by <> $1 AND updated_at <= $2`, me, before)
		if err != nil {
			return err
		}
		owners, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		for _, o := range owners {
			var free bool
			if err := c.QueryRow(ctx, `SELECT pg_try_advisory_lock(`+leaderKey+`)`, presenceName(o)).Scan(&free); err != nil {
				return err
			}
			if !free {
				continue // alive
			}
			tag, err := c.Exec(ctx, `UPDATE deliveries SET status = 'queued', next_attempt_at = $2, updated_at = $2,
				last_error = 'claimed by a replica that stopped; sent again (it may have gone out once already)'
				WHERE status = 'sending' AND claimed_by = $1 AND updated_at <= $3`, o, defaults.TruncMS(now), before)
			if _, uerr := c.Exec(ctx, `SELECT pg_advisory_unlock(`+leaderKey+`)`, presenceName(o)); uerr != nil && err == nil {
				err = uerr
			}
			if err != nil {
				return err
			}
			released += int(tag.RowsAffected())
		}
		return nil
	})
	if err != nil {
		return released, fmt.Errorf("postgres: release dead replicas' claims: %w", err)
	}
	return released, nil
}
