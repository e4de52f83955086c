package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"testing"
	"time"

	"github.com/munja-sms/munja/sms"
	"github.com/munja-sms/munja/store"
)

func benchMessage(i int, recipients int) *sms.Message {
	m := &sms.Message{Text: "[munja] web1 disk / 95% used", Kind: sms.KindSMS, Source: "alert", CreatedBy: "system"}
	for j := range recipients {
		m.Deliveries = append(m.Deliveries, sms.Delivery{Phone: sms.Phone(fmt.Sprintf("010%08d", (i*recipients+j)%100000000))})
	}
	return m
}

// BenchmarkCreateMessage stores one-recipient messages, each durable (in the
// WAL) when CreateMessage returns; parallel runs 8 callers per CPU.
func BenchmarkCreateMessage(b *testing.B) {
	ctx := context.Background()
	b.Run("sequential", func(b *testing.B) {
		db := openTemp(b, "")
		defer db.Close()
		i := 0
		for b.Loop() {
			if err := db.CreateMessage(ctx, benchMessage(i, 1)); err != nil {
				b.Fatal(err)
			}
			i++
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
	})
	b.Run("parallel", func(b *testing.B) {
		db := openTemp(b, "")
		defer db.Close()
		b.SetParallelism(8)
		b.ResetTimer()
		start := time.Now()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				if err := db.CreateMessage(ctx, benchMessage(i, 1)); err != nil {
					b.Error(err)
					return
				}
				i++
			}
		})
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
	})
	b.Run("100-recipients", func(b *testing.B) {
		db := openTemp(b, "")
		defer db.Close()
		i := 0
		for b.Loop() {
			if err := db.CreateMessage(ctx, benchMessage(i, 100)); err != nil {
				b.Fatal(err)
			}
			i++
		}
		b.ReportMetric(float64(b.N*100)/b.Elapsed().Seconds(), "deliveries/s")
	})
}

// BenchmarkClaimComplete drains a backlog the way the dispatcher does: claim
// up to 100 deliveries, then record them sent. One op is one delivery.
func BenchmarkClaimComplete(b *testing.B) {
	ctx := context.Background()
	db := openTemp(b, "")
	defer db.Close()
	for i := 0; i < b.N; i += 100 {
		if err := db.CreateMessage(ctx, benchMessage(i, min(100, b.N-i))); err != nil {
			b.Fatal(err)
		}
	}
	now := time.Now().Add(time.Second)
	b.ResetTimer()
	done := 0
	for done < b.N {
		cs, err := db.ClaimDeliveries(ctx, now, 100, time.Minute, store.ClaimFilter{})
		if err != nil {
			b.Fatal(err)
		}
		if len(cs) == 0 {
			b.Fatalf("nothing to claim after %d of %d", done, b.N)
		}
		us := make([]store.DeliveryUpdate, len(cs))
		for i, c := range cs {
			us[i] = store.DeliveryUpdate{ID: c.Delivery.ID, Status: sms.StatusSent, Provider: "aligo",
				ProviderMsgID: "123", SentAt: now}
		}
		if err := db.CompleteDeliveries(ctx, us); err != nil {
			b.Fatal(err)
		}
		done += len(cs)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "deliveries/s")
}

// seedHistory fills db with n one-recipient messages, one second apart
// ending at the returned time, in one statement per table: 1,000
// recipients, every 50th failed, the newest 100 queued, every 100th
// mentioning a full disk.
func seedHistory(tb testing.TB, db *DB, n int) time.Time {
	tb.Helper()
	ctx := context.Background()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
			INSERT INTO messages (id, text, kind, source, created_by, created_at)
			SELECT i, 'web' || (i % 7) || CASE WHEN i % 100 = 0 THEN ' disk full' ELSE ' load high' END,
				'SMS', 'alert', 'system', ?2 + i * 1000 FROM n`, n, start.UnixMilli()); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO deliveries
			(message_id, phone, status, provider, attempts, next_attempt_at, created_at, updated_at, sent_at)
			SELECT id, '010' || printf('%08d', id % 1000),
				CASE WHEN id > ?1 - 100 THEN 'queued' WHEN id % 50 = 0 THEN 'failed' ELSE 'sent' END,
				'aligo', 1, created_at, created_at, created_at, created_at
			FROM messages`, n)
		return err
	})
	if err != nil {
		tb.Fatalf("seed %d messages: %v", n, err)
	}
	return start.Add(time.Duration(n) * time.Second)
}

// BenchmarkListMessages pages through a history of 100,000 messages with
// the console's filters; one op is one page of 50.
func BenchmarkListMessages(b *testing.B) {
	const n = 100_000
	db := openTemp(b, "")
	defer db.Close()
	end := seedHistory(b, db, n)
	ctx := context.Background()
	// As the daily prune would, refresh the statistics after the growth.
	if err := db.optimize(ctx, optimizePragma); err != nil {
		b.Fatal(err)
	}
	tests := []struct {
		name string
		f    store.MessageFilter
	}{
		{"newest", store.MessageFilter{}},
		{"deep-page", store.MessageFilter{BeforeID: n / 2}},
		{"phone", store.MessageFilter{Phone: "01000000042"}},
		{"status-failed", store.MessageFilter{Status: sms.StatusFailed}},
		{"status-sent", store.MessageFilter{Status: sms.StatusSent}},
		{"phone-status", store.MessageFilter{Phone: "01000000050", Status: sms.StatusFailed}},
		{"text", store.MessageFilter{Text: "disk full"}},
		{"last-hour", store.MessageFilter{Since: end.Add(-time.Hour)}},
		{"whole-range", store.MessageFilter{Since: end.Add(-n * time.Second), Until: end}},
		{"old-hour", store.MessageFilter{Since: end.Add(-20 * time.Hour), Until: end.Add(-19 * time.Hour)}},
	}
	for _, tc := range tests {
		tc.f.Limit = 50
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				ms, err := db.ListMessages(ctx, tc.f)
				if err != nil {
					b.Fatal(err)
				}
				if len(ms) == 0 {
					b.Fatal("empty page")
				}
			}
		})
	}
}
