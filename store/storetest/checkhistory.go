package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/munja-sms/munja/store"
)

func testCheckHistory(t *testing.T, s store.Store) {
	c := ctx(t)
	m := base.Truncate(time.Minute)
	sample := func(check, host string, at time.Time, ok, failing, unknown int, lat ...time.Duration) store.CheckSample {
		x := store.CheckSample{Check: check, Host: host, At: at, OK: ok, Failing: failing, Unknown: unknown}
		for _, l := range lat {
			x.Add(store.CheckSample{LatencyN: 1, LatencySum: l, LatencyMax: l})
		}
		return x
	}
	// A minute written in two parts adds up; another host is another series.
	if err := s.AddCheckHistory(c, []store.CheckSample{
		sample("web", "", m, 30, 0, 0, 10*time.Millisecond, 30*time.Millisecond),
		sample("web", "", m.Add(time.Minute), 50, 10, 0, 20*time.Millisecond),
		sample("web", "db1", m, 1, 0, 0),
	}, []store.CheckChange{
		{Check: "web", At: m.Add(-time.Hour), Status: store.CheckOK, Detail: "200"},
		{Check: "web", At: m.Add(time.Minute + 30*time.Second), Status: store.CheckFailing, Detail: "HTTP 503", DetailKo: "HTTP 503 (기대 200)"},
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddCheckHistory(c, []store.CheckSample{
		sample("web", "", m.Add(30*time.Second), 29, 0, 1, 50*time.Millisecond), // same minute as m
	}, []store.CheckChange{
		{Check: "web", At: m.Add(2 * time.Minute), Status: store.CheckCannotCheck, Detail: "timeout"},
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddCheckHistory(c, nil, nil); err != nil {
		t.Fatal(err)
	}

	got, err := s.CheckSamples(c, "web", "", m, m.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("samples: %+v", got)
	}
	first := got[0]
	if !first.At.Equal(m) || first.OK != 59 || first.Unknown != 1 || first.Total() != 60 ||
		first.LatencyN != 3 || first.LatencySum != 90*time.Millisecond || first.LatencyMax != 50*time.Millisecond ||
		first.Check != "web" || first.Host != "" {
		t.Errorf("first minute (written in two parts): %+v", first)
	}
	if got[1].Failing != 10 || !got[1].At.Equal(m.Add(time.Minute)) {
		t.Errorf("second minute: %+v", got[1])
	}
	// The range is [from, to): a minute starting before from is left out.
	if got, _ := s.CheckSamples(c, "web", "", m.Add(time.Second), m.Add(time.Hour)); len(got) != 1 {
		t.Errorf("from inside the first minute: %+v", got)
	}
	if got, _ := s.CheckSamples(c, "web", "", m, m.Add(time.Minute)); len(got) != 1 {
		t.Errorf("to at the second minute: %+v", got)
	}
	if got, _ := s.CheckSamples(c, "nope", "", m, m.Add(time.Hour)); len(got) != 0 {
		t.Errorf("unknown check: %+v", got)
	}

	// Sums per step, counted from from.
	series, err := s.CheckSeries(c, "web", "", m, m.Add(time.Hour), 2*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if len(series) != 1 || !series[0].At.Equal(m) || series[0].OK != 109 || series[0].Failing != 10 ||
		series[0].LatencyN != 4 || series[0].LatencySum != 110*time.Millisecond || series[0].LatencyMax != 50*time.Millisecond {
		t.Errorf("series by 2 minutes: %+v", series)
	}
	series, _ = s.CheckSeries(c, "web", "", m.Add(-30*time.Second), m.Add(time.Hour), time.Minute)
	if len(series) != 2 || !series[0].At.Equal(m) || !series[1].At.Equal(m.Add(time.Minute)) || series[1].Failing != 10 {
		t.Errorf("series by the minute from inside the minute before: %+v", series)
	}
	if got, _ := s.CheckSeries(c, "nope", "", m, m.Add(time.Hour), time.Minute); len(got) != 0 {
		t.Errorf("series of an unknown check: %+v", got)
	}

	totals, err := s.CheckTotals(c, m, m.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(totals) != 2 || totals[0].Host != "" || totals[1].Host != "db1" ||
		totals[0].OK != 109 || totals[0].Failing != 10 || totals[0].Unknown != 1 || totals[0].LatencyN != 4 ||
		totals[0].LatencyMax != 50*time.Millisecond || !totals[0].At.Equal(m) {
		t.Errorf("totals: %+v", totals)
	}

	// Changes in range, preceded by the status at from.
	ch, err := s.CheckChanges(c, "web", "", m, m.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(ch) != 3 || ch[0].Status != store.CheckOK || !ch[0].At.Equal(m.Add(-time.Hour)) ||
		ch[1].Status != store.CheckFailing || ch[1].Detail != "HTTP 503" || ch[1].DetailKo != "HTTP 503 (기대 200)" || ch[2].Status != store.CheckCannotCheck ||
		ch[1].Check != "web" {
		t.Errorf("changes: %+v", ch)
	}
	last, err := s.LastCheckChanges(c)
	if err != nil {
		t.Fatal(err)
	}
	if len(last) != 1 || last[0].Status != store.CheckCannotCheck || last[0].Check != "web" {
		t.Errorf("last changes: %+v", last)
	}

	// Pruning keeps the newest change of each check (its status now).
	n, err := s.PruneCheckHistory(c, m.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if n != 3+2 { // samples: web ×2, db1 ×1; changes: all but the newest
		t.Errorf("pruned %d rows, want 5", n)
	}
	if got, _ := s.CheckSamples(c, "web", "", m, m.Add(time.Hour)); len(got) != 0 {
		t.Errorf("samples after prune: %+v", got)
	}
	if ch, _ := s.CheckChanges(c, "web", "", m.Add(time.Hour), m.Add(2*time.Hour)); len(ch) != 1 || ch[0].Status != store.CheckCannotCheck {
		t.Errorf("changes after prune: %+v", ch)
	}
}

// testCheckHistoryManySeries: one write naming 1,234 series (more than
// one statement of either store adds: SQLite's take 500 a statement; new
// ones and, the second time, known ones; samples and changes) stores every
// row under its own series, and the second write of the same minutes adds
// up.
func testCheckHistoryManySeries(t *testing.T, s store.Store) {
	c := ctx(t)
	m := base.Truncate(time.Minute)
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
		if err := s.AddCheckHistory(c, samples, changes); err != nil {
			t.Fatal(err)
		}
	}
	for _, i := range []int{0, 1, 499, 500, 999, 1000, n - 1} {
		x := samples[i]
		got, err := s.CheckSamples(c, x.Check, x.Host, m, m.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].OK != 2*i || got[0].Failing != 2 || got[0].LatencyN != 2 ||
			got[0].LatencySum != 2*x.LatencySum || got[0].LatencyMax != x.LatencyMax {
			t.Errorf("%s %s: %+v", x.Check, x.Host, got)
		}
	}
	last, err := s.LastCheckChanges(c)
	if err != nil {
		t.Fatal(err)
	}
	if len(last) != len(changes) {
		t.Errorf("%d last changes, want %d", len(last), len(changes))
	}
}
