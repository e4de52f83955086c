package postgres

import (
	"fmt"
	"testing"
	"time"

	"github.com/munja-sms/munja/store"
	"github.com/munja-sms/munja/store/postgres/pgtest"
)

// TestCheckHistoryManySeries: one write naming 1,234 series (new ones
// and, the second time, known ones; samples and changes, some series
// named twice) stores every row under its own series, and the second write
// of the same minutes adds up.
func TestCheckHistoryManySeries(t *testing.T) {
	db := open(t, pgtest.Schema(t))
	ctx := t.Context()
	m := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	const n = 1234
	var samples []store.CheckSample
	var changes []store.CheckChange
	for i := range n {
		check, host := fmt.Sprintf("check-%02d", i%20), fmt.Sprintf("host-%04d", i/20)
		samples = append(samples, store.CheckSample{Check: check, Host: host, At: m, OK: i, Failing: 1,
			LatencyN: 1, LatencySum: time.Duration(i) * time.Millisecond, LatencyMax: time.Duration(i) * time.Millisecond})
		if i%3 == 0 {
			changes = append(changes, store.CheckChange{Check: check, Host: host, At: m.Add(time.Duration(i) * time.Millisecond),
				Status: store.CheckFailing, Detail: fmt.Sprint("detail ", i)})
		}
	}
	for range 2 {
		if err := db.AddCheckHistory(ctx, samples, changes); err != nil {
			t.Fatal(err)
		}
	}
	for _, i := range []int{0, 1, 500, n - 1} {
		s := samples[i]
		got, err := db.CheckSamples(ctx, s.Check, s.Host, m, m.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].OK != 2*i || got[0].Failing != 2 || got[0].LatencyN != 2 ||
			got[0].LatencySum != 2*s.LatencySum || got[0].LatencyMax != s.LatencyMax {
			t.Errorf("%s %s: %+v", s.Check, s.Host, got)
		}
	}
	last, err := db.LastCheckChanges(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(last) != len(changes) {
		t.Errorf("%d last changes, want %d", len(last), len(changes))
	}
}
