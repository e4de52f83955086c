package postgres

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/munja-sms/munja/store/postgres/pgtest"

	"github.com/munja-sms/munja/sms"
	"github.com/munja-sms/munja/store"
)

// TestReplicasClaimDistinct has two replicas (two *DB, two pools) drain one
// outbox with several dispatchers each: every delivery is claimed exactly
// once, and both replicas get work.
func TestReplicasClaimDistinct(t *testing.T) {
	dsn := pgtest.Schema(t)
	a, b := open(t, dsn), open(t, dsn)
	defer a.Close()
	defer b.Close()
	ctx := t.Context()
	const messages, perMessage = 100, 10
	want := map[int64]bool{}
	base := time.Date(2026, 11, 25, 5, 0, 0, 0, time.UTC)
	for i := range messages {
		m := &sms.Message{Text: fmt.Sprint("m", i), Kind: sms.KindSMS, CreatedAt: base.Add(time.Duration(i) * time.Millisecond)}
		for j := range perMessage {
			m.Deliveries = append(m.Deliveries, sms.Delivery{Phone: sms.Phone(fmt.Sprintf("010%04d%04d", i, j))})
		}
		if err := a.CreateMessage(ctx, m); err != nil {
			t.Fatal(err)
		}
		for _, d := range m.Deliveries {
			want[d.ID] = true
		}
	}
	now := base.Add(time.Hour)
	var (
		mu      sync.Mutex
		count   = map[int64]int{}
		byDB    = map[string]int{}
		wg      sync.WaitGroup
		errs    = make(chan error, 8)
		workers = map[string]*DB{"a": a, "b": b}
	)
	for name, db := range workers {
		for range 4 {
			wg.Go(func() {
				for {
					cs, err := db.ClaimDeliveries(ctx, now, 7, time.Hour, store.ClaimFilter{})
					if err != nil {
						errs <- err
						return
					}
					if len(cs) == 0 {
						return
					}
					mu.Lock()
					for _, c := range cs {
						count[c.Delivery.ID]++
					}
					byDB[name] += len(cs)
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("ClaimDeliveries: %v", err)
	}
	if len(count) != len(want) {
		t.Errorf("claimed %d distinct deliveries, want %d", len(count), len(want))
	}
	for id, n := range count {
		if n != 1 {
			t.Errorf("delivery %d claimed %d times", id, n)
		}
		if !want[id] {
			t.Errorf("claimed unknown delivery %d", id)
		}
	}
	if byDB["a"] == 0 || byDB["b"] == 0 {
		t.Errorf("claims per replica = %v, want both to get work", byDB)
	}
	t.Logf("claims per replica: %v", byDB)
}
