package checkhist

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"testing"
	"time"

	"github.com/munja-sms/munja/check"
	"github.com/munja-sms/munja/store"
)

// TestMemoryPerCheck: the recorder keeps at most 112 bytes per check (the
// running minute's sample and the last status) for 20,000 agent checks
// (measured 83, with the series by host; 128 with a map entry per check,
// 208 before the compact series).
func TestMemoryPerCheck(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates 20,000 series")
	}
	heap := func() uint64 {
		var ms runtime.MemStats
		runtime.GC()
		runtime.GC()
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	r := New(nil, "srv", nil)
	const hosts, checks = 1000, 20
	before := heap()
	at := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	for range 3 {
		for h := range hosts {
			for c := range checks {
				r.Observe(check.Result{Check: fmt.Sprintf("check-%02d", c), Host: fmt.Sprintf("host-%05d", h),
					OK: true, At: at, Duration: time.Millisecond, Detail: fmt.Sprintf("used %d%%", h%90)})
			}
		}
		at = at.Add(10 * time.Second)
	}
	r.mu.Lock()
	r.changes = nil // written by the first flush
	r.mu.Unlock()
	per := float64(heap()-before) / (hosts * checks)
	t.Logf("%.0f bytes per check", per)
	if per > 112 {
		t.Errorf("%.0f bytes per check, want at most 112", per)
	}
	runtime.KeepAlive(r)
}

// sumStore sums what is written by check, host and minute; it refuses the
// write numbered failAt (counting from 1).
type sumStore struct {
	store.CheckHistory
	writes, failAt int
	sums           map[store.CheckSample]int // names and minute only
	changes        int
	onWrite        func() // called by each write, before it counts
}

func (s *sumStore) AddCheckHistory(_ context.Context, samples []store.CheckSample, changes []store.CheckChange) error {
	s.writes++
	if s.onWrite != nil {
		s.onWrite()
	}
	if s.writes == s.failAt {
		return errors.New("disk full")
	}
	if len(samples)+len(changes) > flushBatch {
		return fmt.Errorf("%d samples and %d changes in one write", len(samples), len(changes))
	}
	for _, x := range samples {
		s.sums[store.CheckSample{Check: x.Check, Host: x.Host, At: x.At}] += x.Total()
	}
	s.changes += len(changes)
	return nil
}

func (s *sumStore) LastCheckChanges(context.Context) ([]store.CheckChange, error) { return nil, nil }

// TestManyChecksFlushInBatches: 3,000 checks' minutes (more than one
// write's batch) are written whole, each result once, across a write the
// store refuses, minutes that end between two flushes and checks that are
// new while a flush goes through their host's.
func TestManyChecksFlushInBatches(t *testing.T) {
	st := &sumStore{failAt: 3, sums: map[store.CheckSample]int{}}
	r := New(st, "srv", nil)
	ctx := context.Background()
	const hosts, checks = 150, 20
	at := time.Date(2026, 12, 7, 10, 0, 5, 0, time.UTC)
	want := map[store.CheckSample]int{}
	st.onWrite = func() {
		// Sorted among the host's checks: those after it move up one.
		for _, h := range []int{0, hosts / 2, hosts - 1} {
			name, host := fmt.Sprintf("check-05-%d", st.writes), fmt.Sprintf("host-%03d", h)
			r.Observe(check.Result{Check: name, Host: host, OK: true, At: at})
			want[store.CheckSample{Check: name, Host: host, At: at.Truncate(time.Minute)}]++
		}
	}
	for i := range 18 { // 3 minutes, a result every 10 s
		for h := range hosts {
			for c := range checks {
				name, host := fmt.Sprintf("check-%02d", c), fmt.Sprintf("host-%03d", h)
				r.Observe(check.Result{Check: name, Host: host, OK: (i+c)%7 != 0, At: at, Duration: time.Millisecond})
				want[store.CheckSample{Check: name, Host: host, At: at.Truncate(time.Minute)}]++
			}
		}
		if i%4 == 3 { // not every 10 s: some minutes end twice before a flush
			_ = r.FlushEnded(ctx, at) // the third write fails; kept for the next
		}
		at = at.Add(10 * time.Second)
	}
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	st.onWrite = nil
	if err := r.Flush(ctx); err != nil { // what came during the last one
		t.Fatal(err)
	}
	if st.writes < 3 {
		t.Fatalf("%d writes: the refused one never came", st.writes)
	}
	if len(st.sums) != len(want) {
		t.Errorf("%d check minutes written, want %d", len(st.sums), len(want))
	}
	for k, n := range want {
		if st.sums[k] != n {
			t.Errorf("%s %s %s: %d results written, want %d", k.Check, k.Host, k.At.Format("15:04"), st.sums[k], n)
			break
		}
	}
	if st.changes == 0 {
		t.Error("no status change written")
	}
}

// TestCountsStopAtTheirMaximum: a check reporting more than 65,535 results
// in a minute is counted 65,535, never wrapped to a small number.
func TestCountsStopAtTheirMaximum(t *testing.T) {
	st := &sumStore{sums: map[store.CheckSample]int{}}
	r := New(st, "", nil)
	at := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	for range 70_000 {
		r.Observe(check.Result{Check: "busy", OK: true, At: at, Duration: time.Millisecond})
	}
	if err := r.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := st.sums[store.CheckSample{Check: "busy", At: at}]; n != 65535 {
		t.Errorf("%d results counted, want 65535", n)
	}
}

// keepStore keeps the samples written.
type keepStore struct {
	store.CheckHistory
	samples []store.CheckSample
}

func (s *keepStore) AddCheckHistory(_ context.Context, samples []store.CheckSample, _ []store.CheckChange) error {
	s.samples = append(s.samples, samples...)
	return nil
}

func (s *keepStore) LastCheckChanges(context.Context) ([]store.CheckChange, error) { return nil, nil }

// TestLatencyMaxToTheMicrosecond: a minute's longest latency is kept in
// microseconds, what the stores keep (toMicros, Microseconds()): the same
// value reaches them; a latency beyond 71 minutes is counted as 71.
func TestLatencyMaxToTheMicrosecond(t *testing.T) {
	st := &keepStore{}
	r := New(st, "", nil)
	at := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	for _, d := range []time.Duration{1500*time.Microsecond + 999, 20 * time.Microsecond} {
		r.Observe(check.Result{Check: "web", OK: true, At: at, Duration: d})
	}
	r.Observe(check.Result{Check: "slow", OK: true, At: at, Duration: 100 * time.Hour})
	if err := r.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, s := range st.samples {
		want, sum := 1500*time.Microsecond, 1520*time.Microsecond+999
		if s.Check == "slow" {
			want, sum = time.Duration(math.MaxUint32)*time.Microsecond, 100*time.Hour
		}
		if s.LatencyMax != want || s.LatencySum != sum {
			t.Errorf("%s: max %s, sum %s; want %s, %s", s.Check, s.LatencyMax, s.LatencySum, want, sum)
		}
	}
	if len(st.samples) != 2 {
		t.Errorf("%d samples", len(st.samples))
	}
}
