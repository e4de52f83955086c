package postgres

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/munja-sms/munja/store/postgres/pgtest"

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

// BenchmarkCreateMessage stores one-recipient messages, each committed when
// CreateMessage returns; parallel runs 8 callers per CPU.
func BenchmarkCreateMessage(b *testing.B) {
	ctx := context.Background()
	b.Run("sequential", func(b *testing.B) {
		db := open(b, pgtest.Schema(b))
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
		db := open(b, pgtest.Schema(b))
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
		db := open(b, pgtest.Schema(b))
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
	db := open(b, pgtest.Schema(b))
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
