package app

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/munja-sms/munja/config"
	"github.com/munja-sms/munja/sms"
	"github.com/munja-sms/munja/store"
)

func TestPruneKeepsRecentAndUnfinished(t *testing.T) {
	cfg := config.Default()
	cfg.Database = filepath.Join(t.TempDir(), "munja.db")
	cfg.Retention = config.Duration(400 * 24 * time.Hour)
	ctx := context.Background()
	a, err := New(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	now := time.Now()
	mk := func(age time.Duration, status sms.Status) int64 {
		m := &sms.Message{Text: "x", Kind: sms.KindSMS, Source: "test", CreatedAt: now.Add(-age),
			Deliveries: []sms.Delivery{{Phone: "01012345678"}}}
		if err := a.Store.CreateMessage(ctx, m); err != nil {
			t.Fatal(err)
		}
		if status != sms.StatusQueued {
			if err := a.Store.CompleteDeliveries(ctx, []store.DeliveryUpdate{{ID: m.Deliveries[0].ID, Status: status}}); err != nil {
				t.Fatal(err)
			}
		}
		return m.ID
	}
	old := mk(500*24*time.Hour, sms.StatusSent)
	oldQueued := mk(500*24*time.Hour, sms.StatusQueued)
	recent := mk(24*time.Hour, sms.StatusSent)
	PruneOnce(ctx, a, now)
	if _, err := a.Store.GetMessage(ctx, old); err == nil {
		t.Fatal("a 500-day-old finished message survived retention 400d")
	}
	for _, id := range []int64{oldQueued, recent} {
		if _, err := a.Store.GetMessage(ctx, id); err != nil {
			t.Fatalf("message %d pruned: %v", id, err)
		}
	}
}

func TestRedactDSN(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://munja:S3cret@db:5432/munja":      "postgres://munja:xxxxx@db:5432/munja",
		"postgres://db/munja?user=m&password=S3cret": "postgres://db/munja?password=xxxxx&user=m",
		"munja.db": "munja.db",
		"postgresql://munja@db/munja?sslmode=disable": "postgresql://munja@db/munja?sslmode=disable",
	} {
		if got := redactDSN(in); got != want {
			t.Errorf("redactDSN(%q) = %q, want %q", in, got, want)
		}
	}
}
