package sqlite

import (
	"fmt"
	"testing"
	"time"

	"github.com/munja-sms/munja/store"
)

// TestCheckHistoryManySeries: one write naming more series than one
// statement of addSeries takes (new ones and known ones, samples and
// changes) stores every row under its own series, and a second write of
// the same minutes adds up.
func TestCheckHistoryManySeries(t *testing.T) {
	db := openTemp(t, "")
	ctx := t.Context()
	m := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	const n = 2*seriesPerInsert + 234
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
	for _, i := range []int{0, 1, seriesPerInsert - 1, seriesPerInsert, n - 1} {
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
	var series, rows, changed int
	if err := db.r.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM check_series), (SELECT count(*) FROM check_samples),
		(SELECT count(*) FROM check_changes)`).Scan(&series, &rows, &changed); err != nil {
		t.Fatal(err)
	}
	if series != n || rows != n || changed != len(changes) {
		t.Errorf("%d series, %d samples, %d changes stored; want %d, %d, %d", series, rows, changed, n, n, len(changes))
	}
	last, err := db.LastCheckChanges(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(last) != len(changes) {
		t.Errorf("%d last changes, want %d", len(last), len(changes))
	}
}

// BenchmarkAddCheckHistory: one batch of a Recorder's flush at 10,000
// agents, 2,000 samples of series already stored (each minute of each
// check after the first).
func BenchmarkAddCheckHistory(b *testing.B) {
	db := openTemp(b, "")
	ctx := b.Context()
	m := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	batch := make([]store.CheckSample, 2000)
	for i := range batch {
		batch[i] = store.CheckSample{Check: fmt.Sprintf("check-%02d", i%20), Host: fmt.Sprintf("host-%05d", i/20),
			OK: 6, LatencyN: 6, LatencySum: 6 * time.Millisecond, LatencyMax: 2 * time.Millisecond}
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		for j := range batch {
			batch[j].At = m.Add(time.Duration(i) * time.Minute)
		}
		if err := db.AddCheckHistory(ctx, batch, nil); err != nil {
			b.Fatal(err)
		}
	}
}
