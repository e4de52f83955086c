package app

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/munja-sms/munja/store"
)

// TestCheckHistoryRecorded runs munja with a command check every 100 ms
// and stops it: every result the engine had is in the check history (the
// last flush runs at stop), summed into minutes, with the check's status.
func TestCheckHistoryRecorded(t *testing.T) {
	for _, db := range []struct{ name, dsn func(t *testing.T) string }{
		{func(*testing.T) string { return "sqlite" }, func(t *testing.T) string { return filepath.Join(t.TempDir(), "munja.db") }},
		{func(*testing.T) string { return "postgres" }, postgresSchema},
	} {
		t.Run(db.name(t), func(t *testing.T) {
			t.Parallel()
			r := startReplica(t, db.dsn(t))
			deadline := time.Now().Add(30 * time.Second)
			for r.runCount(t) < 15 && time.Now().Before(deadline) {
				time.Sleep(50 * time.Millisecond)
			}
			r.stop(t)
			runs := r.runCount(t)
			ctx := context.Background()
			now := time.Now()
			samples, err := r.a.Store.CheckSamples(ctx, "probe", "", now.Add(-time.Hour), now.Add(time.Minute))
			noErr(t, err)
			total := 0
			for _, s := range samples {
				total += s.Total()
				if s.Failing+s.Unknown != 0 || s.LatencyN != s.OK {
					t.Errorf("sample: %+v", s)
				}
			}
			// The run in flight at the stop may be dropped, nothing else.
			if len(samples) == 0 || len(samples) > 2 || total < runs-1 || total > runs {
				t.Errorf("%d runs, %d results in %d samples", runs, total, len(samples))
			}
			changes, err := r.a.Store.CheckChanges(ctx, "probe", "", now.Add(-time.Hour), now.Add(time.Minute))
			noErr(t, err)
			if len(changes) != 1 || changes[0].Status != store.CheckOK {
				t.Errorf("changes: %+v", changes)
			}
		})
	}
}

func TestPruneCheckHistory(t *testing.T) {
	r := startReplica(t, filepath.Join(t.TempDir(), "munja.db"))
	for deadline := time.Now().Add(30 * time.Second); r.runCount(t) == 0 && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
	}
	r.stop(t)
	ctx := context.Background()
	now := time.Now()
	old, recent := now.Add(-91*24*time.Hour), now.Add(-89*24*time.Hour)
	noErr(t, r.a.Store.AddCheckHistory(ctx, []store.CheckSample{
		{Check: "old", At: old, OK: 1}, {Check: "old", At: recent, OK: 1},
	}, []store.CheckChange{{Check: "old", At: old, Status: store.CheckOK}}))
	PruneOnce(ctx, r.a, now) // alerting.history_retention: 90d by default
	got, err := r.a.Store.CheckSamples(ctx, "old", "", now.Add(-365*24*time.Hour), now)
	noErr(t, err)
	if len(got) != 1 || !got[0].At.Equal(recent.Truncate(time.Minute)) {
		t.Errorf("after pruning 90 days: %+v", got)
	}
	if ch, _ := r.a.Store.CheckChanges(ctx, "old", "", now, now); len(ch) != 1 {
		t.Errorf("the status of the check (its last change) was pruned: %+v", ch)
	}
}
