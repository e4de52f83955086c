package alert

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/munja-sms/munja/alert/alerttest"
	"github.com/munja-sms/munja/check"
	"github.com/munja-sms/munja/config"
	"github.com/munja-sms/munja/store"
)

// slowBatcher is memState taking batches (store.StateBatcher), each write
// taking delay, like a transaction that syncs.
type slowBatcher struct {
	*memState
	delay time.Duration
	txs   atomic.Int64
}

func (s *slowBatcher) WriteStates(ctx context.Context, ws []store.StateWrite) error {
	time.Sleep(s.delay)
	s.txs.Add(1)
	for _, w := range ws {
		if w.Value == nil {
			_ = s.DeleteState(ctx, w.Key)
		} else if err := s.PutState(ctx, w.Key, w.Value); err != nil {
			return err
		}
	}
	return nil
}

func newBatchEngine(t *testing.T, st *slowBatcher) (*Engine, *alerttest.Clock) {
	t.Helper()
	clock := alerttest.NewClock(t0)
	cfg := &config.Config{Host: localHost, Alerting: config.Alerting{Failures: 3, Successes: 1, Recipients: []string{phoneA}}}
	e, err := New(Options{Config: cfg, State: st, Notifier: &recorder{}, Clock: clock,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	return e, clock
}

func reportResult(host, name string, ok bool, at time.Time) check.Result {
	return check.Result{Check: name, Host: host, OK: ok, At: at, Firing: "[경고] " + name, Resolved: "[복구] " + name, Detail: "d"}
}

// TestSaveChangesGroupCommit: reports arriving together, each waiting for
// its changes to be saved before its 202, share writes: 64 reports at once
// over a store whose every transaction takes 20 ms are saved in a few
// transactions, not 64 one after the other, and every change is stored.
func TestSaveChangesGroupCommit(t *testing.T) {
	st := &slowBatcher{memState: newMemState(), delay: 20 * time.Millisecond}
	e, clock := newBatchEngine(t, st)
	base := st.txs.Load()
	const reports = 64
	var wg sync.WaitGroup
	start := time.Now()
	for i := range reports {
		wg.Go(func() {
			e.Observe(reportResult(fmt.Sprintf("host-%02d", i), "disk", false, clock.Now()))
			if err := e.SaveChanges(context.Background()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	txs := st.txs.Load() - base
	t.Logf("%d reports saved in %d transactions, %s", reports, txs, time.Since(start).Round(time.Millisecond))
	if txs > reports/4 {
		t.Errorf("%d reports took %d transactions: saves are not shared", reports, txs)
	}
	for i := range reports {
		if _, err := st.GetState(context.Background(), checkKey("disk", fmt.Sprintf("host-%02d", i))); err != nil {
			t.Errorf("host-%02d's failure was not saved before SaveChanges returned: %v", i, err)
		}
	}
}

// TestSaveChangesDoesNotWaitForHistoryRound: a report's save waits for at
// most one batch of a history round in progress (a round at 10,000 agents
// is 200,000 records), not for the whole round.
func TestSaveChangesDoesNotWaitForHistoryRound(t *testing.T) {
	st := &slowBatcher{memState: newMemState(), delay: 20 * time.Millisecond}
	e, clock := newBatchEngine(t, st)
	ctx := context.Background()
	const checks = 40 * saveBatch // a round of 40 batches: 800 ms at least
	observeAll := func() {
		for i := range checks {
			e.Observe(reportResult(fmt.Sprintf("h%05d", i), "cpu", true, clock.Now()))
		}
	}
	observeAll()
	if err := e.saveKeys(ctx, 0); err != nil { // the new checks
		t.Fatal(err)
	}
	clock.Advance(10 * time.Second)
	observeAll() // history-only changes now

	before := st.txs.Load()
	round := make(chan struct{})
	go func() {
		defer close(round)
		if err := e.saveKeys(ctx, allHistory); err != nil {
			t.Error(err)
		}
	}()
	// Wait until the round has written its first batch.
	for deadline := time.Now().Add(30 * time.Second); st.txs.Load() == before; {
		if time.Now().After(deadline) {
			t.Fatal("the history round never wrote")
		}
		time.Sleep(time.Millisecond)
	}
	e.Observe(reportResult("web01", "disk", false, clock.Now()))
	if err := e.SaveChanges(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-round:
		t.Error("SaveChanges returned only after the whole history round")
	default:
	}
	if _, err := st.GetState(ctx, checkKey("disk", "web01")); err != nil {
		t.Errorf("web01's failure not saved: %v", err)
	}
	<-round
}
