package sqlite

import (
	"fmt"
	"testing"
	"time"

	"github.com/munja-sms/munja/store"
)

// TestCheckHistorySeriesOnce: a write naming more series than one
// statement of addSeries takes, made twice, stores each series once and a
// sample row for each (storetest's CheckHistoryManySeries checks what reads
// back).
func TestCheckHistorySeriesOnce(t *testing.T) {
	db := openTemp(t, "")
	ctx := t.Context()
	m := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	const n = 2*seriesPerInsert + 234
	samples := make([]store.CheckSample, n)
	for i := range samples {
		samples[i] = store.CheckSample{Check: fmt.Sprint("c", i%20), Host: fmt.Sprint("h", i/20), At: m, OK: 1}
	}
	for range 2 {
		if err := db.AddCheckHistory(ctx, samples, nil); err != nil {
			t.Fatal(err)
		}
	}
	var series, rows, ok int
	if err := db.r.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM check_series), (SELECT count(*) FROM check_samples),
		(SELECT sum(ok) FROM check_samples)`).Scan(&series, &rows, &ok); err != nil {
		t.Fatal(err)
	}
	if series != n || rows != n || ok != 2*n {
		t.Errorf("%d series, %d sample rows, %d ok stored; want %d, %d, %d", series, rows, ok, n, n, 2*n)
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
