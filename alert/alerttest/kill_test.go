package alerttest_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/munja-sms/munja/alert"
	"github.com/munja-sms/munja/alert/alerttest"
	"github.com/munja-sms/munja/check"
	"github.com/munja-sms/munja/config"
	"github.com/munja-sms/munja/store/sqlite"
)

// TestKilledEngineLosesNoChange: agents' reports, each followed by
// SaveChanges as the report handler does before answering 202, then no
// stop at all (kill -9): a new engine opened on the same SQLite file finds
// every failing or pending check's state and every open incident.
func TestKilledEngineLosesNoChange(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "munja.db")
	clock := alerttest.NewClock(time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC))
	cfg := &config.Config{Host: "srv", Alerting: config.Alerting{
		Failures: 2, Successes: 1, Recipients: []string{"01012345678"}}}
	open := func() (*sqlite.DB, *alert.Engine) {
		t.Helper()
		db, err := sqlite.Open(ctx, path, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		e, err := alert.New(alert.Options{Config: cfg, State: db, Notifier: &outbox{}, Clock: clock})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.Load(ctx); err != nil {
			t.Fatal(err)
		}
		return db, e
	}
	_, e1 := open()
	const hosts, checks = 300, 5
	for round := range 3 {
		for h := range hosts {
			host := fmt.Sprintf("host-%03d", h)
			for c := range checks {
				// host-0x0 fails check-0 from the second round: pending,
				// then firing; host-0x5 fails it once: pending.
				ok := !(c == 0 && (h%10 == 0 && round >= 1 || h%10 == 5 && round == 2))
				e1.Observe(check.Result{Check: fmt.Sprintf("check-%d", c), Host: host, OK: ok, At: clock.Now(),
					Firing: "[경고] 실패", Resolved: "[복구] 정상", Detail: fmt.Sprintf("round %d", round)})
			}
			if err := e1.SaveChanges(ctx); err != nil {
				t.Fatal(err)
			}
		}
		clock.Advance(10 * time.Second)
	}
	// No Flush, no stop: a new process reads the file.
	_, e2 := open()
	type row struct{ check, host, state string }
	rows := func(e *alert.Engine) []row {
		var out []row
		for _, st := range e.Checks() {
			// Healthy checks are written by the next evaluation, not
			// before the 202 (nothing to lose: the next report says the
			// same).
			if st.State != alert.StateOK {
				out = append(out, row{st.Check, st.Host, st.State})
			}
		}
		return out
	}
	before, after := rows(e1), rows(e2)
	if len(before) != hosts/10+hosts/10 || !slices.Equal(before, after) {
		t.Errorf("check states: %d before the kill, %d after; equal: %v", len(before), len(after), slices.Equal(before, after))
	}
	ids := func(e *alert.Engine) []string {
		var out []string
		for _, inc := range e.Incidents(true) {
			out = append(out, inc.ID+" "+inc.Host)
		}
		slices.Sort(out)
		return out
	}
	if a, b := ids(e1), ids(e2); len(a) != hosts/10 || !slices.Equal(a, b) {
		t.Errorf("open incidents: %d before the kill, %d after: %v / %v", len(a), len(b), a, b)
	}
}
