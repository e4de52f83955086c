package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/munja-sms/munja/sms"
	"github.com/munja-sms/munja/store"
)

// pendingReportsSQL names its index: without statistics the planner would
// rather take (status, message_id) and sort.
const pendingReportsSQL = `SELECT ` + deliveryCols + ` FROM deliveries d INDEXED BY deliveries_pending_reports
	WHERE d.status = 'sent' AND d.provider_msg_id <> '' AND d.sent_at >= ?
	AND NOT (SELECT test FROM messages m WHERE m.id = d.message_id)
	ORDER BY d.sent_at, d.id LIMIT ?`

// PendingReports implements store.Messages. limit <= 0 means
// store.DefaultLimit. The query is served by the partial index
// deliveries_pending_reports.
func (db *DB) PendingReports(ctx context.Context, since time.Time, limit int) ([]sms.Delivery, error) {
	if limit <= 0 {
		limit = store.DefaultLimit
	}
	rows, err := db.r.QueryContext(ctx, pendingReportsSQL, since.UnixMilli(), limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: pending reports: %w", err)
	}
	defer rows.Close()
	var out []sms.Delivery
	for rows.Next() {
		var d sms.Delivery
		if err := scanDelivery(rows, &d); err != nil {
			return nil, fmt.Errorf("sqlite: pending reports: %w", err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: pending reports: %w", err)
	}
	return out, nil
}

// RecordReport implements store.Messages. Only a sent or reserved delivery
// takes a report; for one in any other state (already reported, requeued)
// the report is ignored. A failed report's detail becomes LastError, a
// delivered one clears it; UpdatedAt becomes at.
func (db *DB) RecordReport(ctx context.Context, deliveryID int64, status sms.Status, detail string, at time.Time) error {
	if err := checkReport(status); err != nil {
		return fmt.Errorf("sqlite: record report of delivery %d: %w", deliveryID, err)
	}
	if at.IsZero() {
		at = time.Now()
	}
	lastErr := detail
	if status == sms.StatusDelivered {
		lastErr = ""
	}
	res, err := db.exec(ctx, `UPDATE deliveries SET status = ?, last_error = ?, updated_at = ?
		WHERE id = ? AND status IN ('sent', 'reserved')`, string(status), lastErr, at.UnixMilli(), deliveryID)
	if err != nil {
		return fmt.Errorf("sqlite: record report of delivery %d: %w", deliveryID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlite: record report of delivery %d: %w", deliveryID, err)
	} else if n > 0 {
		return nil
	}
	// Nothing changed: a missing delivery is an error, an ignored report is not.
	var found int
	if err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM deliveries WHERE id = ?`, deliveryID).Scan(&found); err != nil {
		return fmt.Errorf("sqlite: record report of delivery %d: %w", deliveryID, err)
	}
	if found == 0 {
		return fmt.Errorf("delivery %d: %w", deliveryID, store.ErrNotFound)
	}
	return nil
}

// checkReport accepts the outcomes a delivery report can carry.
func checkReport(status sms.Status) error {
	if status != sms.StatusDelivered && status != sms.StatusFailed {
		return fmt.Errorf("status %q is not a delivery result", status)
	}
	return nil
}
