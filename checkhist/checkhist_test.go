package checkhist

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/munja-sms/munja/check"
	"github.com/munja-sms/munja/store"
	"github.com/munja-sms/munja/store/sqlite"
)

func openStore(t *testing.T) store.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "munja.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

var t0 = time.Date(2026, 11, 25, 5, 3, 0, 0, time.UTC)

func result(name, host string, at time.Time, ok, unknown bool, d time.Duration) check.Result {
	return check.Result{Check: name, Host: host, At: at, OK: ok && !unknown, Unknown: unknown, Duration: d, Detail: "d"}
}

func TestRecorderSumsMinutesAndKeepsChanges(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	r := New(st, "this-host", nil)
	// A check every second for three minutes: ok, then failing from
	// 1m30s, then cannot check for the last 10 s; this host named by name.
	for i := range 180 {
		at := t0.Add(time.Duration(i) * time.Second)
		ok, unknown := i < 90, i >= 170
		r.Observe(result("web", "this-host", at, ok, unknown, 20*time.Millisecond))
		if i == 100 { // a flush in the middle of a minute adds up
			if err := r.Flush(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	r.Observe(result("disk", "db1", t0, true, false, 0))
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	samples, err := st.CheckSamples(ctx, "web", "", t0, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(samples) != 3 {
		t.Fatalf("want a sample per minute, got %+v", samples)
	}
	if s := samples[1]; s.OK != 30 || s.Failing != 30 || s.LatencyN != 60 || s.LatencySum != 60*20*time.Millisecond {
		t.Errorf("second minute: %+v", s)
	}
	if s := samples[2]; s.Failing != 50 || s.Unknown != 10 || s.LatencyN != 50 {
		t.Errorf("third minute (latency of results that could look only): %+v", s)
	}
	changes, _ := st.CheckChanges(ctx, "web", "", t0, t0.Add(time.Hour))
	if len(changes) != 3 || changes[0].Status != store.CheckOK || changes[1].Status != store.CheckFailing ||
		!changes[1].At.Equal(t0.Add(90*time.Second)) || changes[2].Status != store.CheckCannotCheck {
		t.Errorf("changes: %+v", changes)
	}
	if s, _ := st.CheckSamples(ctx, "disk", "db1", t0, t0.Add(time.Hour)); len(s) != 1 {
		t.Errorf("an agent's check: %+v", s)
	}

	// Restart: a new recorder does not record the status it already had.
	r2 := New(st, "this-host", nil)
	r2.Observe(result("web", "", t0.Add(time.Hour), false, true, 0))
	r2.Observe(result("web", "", t0.Add(time.Hour+time.Second), true, false, 0))
	if err := r2.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	changes, _ = st.CheckChanges(ctx, "web", "", t0.Add(time.Hour), t0.Add(2*time.Hour))
	if len(changes) != 2 || changes[0].Status != store.CheckCannotCheck || !changes[0].At.Before(t0.Add(time.Hour)) ||
		changes[1].Status != store.CheckOK {
		t.Errorf("after a restart, only the real change: %+v", changes)
	}

	up, err := Uptimes(ctx, st, "web", "", t0.Add(2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := up[0].Ratio(); !ok || up[0].Total() != 182 || up[0].OK != 91 || got != 0.5 {
		t.Errorf("24h uptime: %+v %v", up[0], got)
	}
	all, err := AllUptimes(ctx, st, 24*time.Hour, t0.Add(2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if all[[2]string{"web", ""}].Total() != 182 || all[[2]string{"disk", "db1"}].OK != 1 {
		t.Errorf("all uptimes: %+v", all)
	}
}

func TestPeriodicFlushWritesEndedMinutesOnce(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	r := New(st, "", nil)
	r.Observe(result("web", "", t0.Add(10*time.Second), true, false, 0))
	r.Observe(result("web", "", t0.Add(50*time.Second), false, false, 0))
	r.Observe(result("slow", "", t0.Add(5*time.Second), true, false, 0)) // runs every 5 minutes
	r.Observe(result("web", "", t0.Add(70*time.Second), false, false, 0))
	if err := r.FlushEnded(ctx, t0.Add(80*time.Second)); err != nil {
		t.Fatal(err)
	}
	samples, _ := st.CheckSamples(ctx, "web", "", t0, t0.Add(time.Hour))
	if len(samples) != 1 || samples[0].Total() != 2 {
		t.Errorf("the minute that ended, not the running one: %+v", samples)
	}
	if s, _ := st.CheckSamples(ctx, "slow", "", t0, t0.Add(time.Hour)); len(s) != 1 {
		t.Errorf("a check that ran once in a minute that ended: %+v", s)
	}
	if ch, _ := st.CheckChanges(ctx, "web", "", t0, t0.Add(time.Hour)); len(ch) != 2 {
		t.Errorf("changes are written at once: %+v", ch)
	}
	if err := r.Flush(ctx); err != nil { // at stop: the running minute too
		t.Fatal(err)
	}
	if s, _ := st.CheckSamples(ctx, "web", "", t0, t0.Add(time.Hour)); len(s) != 2 || s[1].Failing != 1 {
		t.Errorf("after the last flush: %+v", s)
	}
}

type failingStore struct {
	store.CheckHistory
	fail bool
}

func (f *failingStore) AddCheckHistory(ctx context.Context, s []store.CheckSample, c []store.CheckChange) error {
	if f.fail {
		return errors.New("disk full")
	}
	return f.CheckHistory.AddCheckHistory(ctx, s, c)
}

func TestRecorderKeepsWhatTheStoreRefused(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	fs := &failingStore{CheckHistory: st, fail: true}
	r := New(fs, "", nil)
	r.Observe(result("web", "", t0, true, false, 0))
	if err := r.Flush(ctx); err == nil {
		t.Fatal("a refused write is an error")
	}
	r.Observe(result("web", "", t0.Add(time.Second), true, false, 0))
	r.Observe(result("web", "", t0.Add(time.Minute), false, false, 0))
	fs.fail = false
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	samples, _ := st.CheckSamples(ctx, "web", "", t0, t0.Add(time.Hour))
	if len(samples) != 2 || samples[0].OK != 2 || samples[1].Failing != 1 {
		t.Errorf("samples after the store came back: %+v", samples)
	}
	changes, _ := st.CheckChanges(ctx, "web", "", t0, t0.Add(time.Hour))
	if len(changes) != 2 {
		t.Errorf("changes after the store came back: %+v", changes)
	}
}

func TestSeriesAndTimeline(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	var samples []store.CheckSample
	for i := range 120 {
		s := store.CheckSample{Check: "web", At: t0.Add(time.Duration(i) * time.Minute), OK: 60,
			LatencyN: 60, LatencySum: 60 * time.Duration(i+1) * time.Millisecond, LatencyMax: time.Duration(i+1) * time.Millisecond}
		if i >= 60 && i < 70 {
			s.OK, s.Failing = 0, 60
		}
		samples = append(samples, s)
	}
	if err := st.AddCheckHistory(ctx, samples, []store.CheckChange{
		{Check: "web", At: t0.Add(-time.Hour), Status: store.CheckOK},
		{Check: "web", At: t0.Add(60 * time.Minute), Status: store.CheckFailing, Detail: "HTTP 503"},
		{Check: "web", At: t0.Add(70 * time.Minute), Status: store.CheckOK},
	}); err != nil {
		t.Fatal(err)
	}
	pts, err := Series(ctx, st, "web", "", t0, t0.Add(2*time.Hour), 10*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if len(pts) != 12 || pts[6].Failing != 600 || pts[6].OK != 0 || pts[0].LatencyN != 600 ||
		pts[0].LatencyAvg != 5500*time.Microsecond || pts[0].LatencyMax != 10*time.Millisecond {
		t.Errorf("points: %d %+v %+v", len(pts), pts[0], pts[6])
	}
	if s := Step(t0, t0.Add(30*24*time.Hour)); s != 30*time.Minute {
		t.Errorf("30 days in steps of %s", s)
	}
	if s := Step(t0, t0.Add(24*time.Hour)); s != time.Minute {
		t.Errorf("a day in steps of %s", s)
	}

	spans, err := Timeline(ctx, st, "web", "", t0, t0.Add(2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(spans) != 3 || spans[0].Status != store.CheckOK || !spans[0].From.Equal(t0) ||
		spans[1].Status != store.CheckFailing || spans[1].To.Sub(spans[1].From) != 10*time.Minute || spans[1].Detail != "HTTP 503" ||
		!spans[2].To.Equal(t0.Add(2*time.Hour)) {
		t.Errorf("timeline: %+v", spans)
	}
	// Before anything was recorded: a span of no status.
	spans, _ = Timeline(ctx, st, "web", "", t0.Add(-2*time.Hour), t0)
	if len(spans) != 2 || spans[0].Status != "" || spans[1].Status != store.CheckOK {
		t.Errorf("timeline from before the first record: %+v", spans)
	}
}
