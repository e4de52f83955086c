package check

import (
	"context"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeCheck sleeps for delay (honouring ctx unless stubborn) and counts
// runs, including how many overlapped.
type fakeCheck struct {
	name     string
	delay    time.Duration
	stubborn chan struct{} // when set, Run blocks on it, ignoring ctx
	panics   bool

	runs, running, maxRunning atomic.Int32
}

func (f *fakeCheck) Name() string { return f.name }

func (f *fakeCheck) Run(ctx context.Context) Result {
	f.runs.Add(1)
	n := f.running.Add(1)
	defer f.running.Add(-1)
	for {
		m := f.maxRunning.Load()
		if n <= m || f.maxRunning.CompareAndSwap(m, n) {
			break
		}
	}
	if f.panics {
		panic("boom")
	}
	if f.stubborn != nil {
		<-f.stubborn
	} else {
		select {
		case <-time.After(f.delay):
		case <-ctx.Done():
			return Result{Check: f.name, Detail: ctx.Err().Error()}
		}
	}
	return Result{Check: f.name, OK: true}
}

// collector gathers results per check.
type collector struct {
	mu  sync.Mutex
	got map[string][]Result
}

func (c *collector) out(r Result) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.got == nil {
		c.got = map[string][]Result{}
	}
	c.got[r.Check] = append(c.got[r.Check], r)
}

func (c *collector) results(name string) []Result {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Result(nil), c.got[name]...)
}

// runFor runs r for d and checks that Run returns soon after ctx ends.
func runFor(t *testing.T, r *Runner, d time.Duration, out func(Result)) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	done := make(chan struct{})
	go func() {
		r.Run(ctx, out)
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(d + 3*time.Second):
		t.Fatal("Runner.Run did not return after ctx ended")
	}
}

func TestRunnerSlowCheckDoesNotDelayFast(t *testing.T) {
	slow := &fakeCheck{name: "slow", delay: 2 * time.Second}
	fast := &fakeCheck{name: "fast"}
	var c collector
	r := NewRunner([]Scheduled{
		{Checker: slow, Interval: 50 * time.Millisecond, Timeout: 5 * time.Second},
		{Checker: fast, Interval: 50 * time.Millisecond, Timeout: time.Second},
	}, nil)
	start := time.Now()
	var firstFast time.Duration
	var once sync.Once
	runFor(t, r, time.Second, func(res Result) {
		if res.Check == "fast" {
			once.Do(func() { firstFast = time.Since(start) })
		}
		c.out(res)
	})
	if n := len(c.results("fast")); n < 8 {
		t.Errorf("fast check ran %d times in 1s at 50ms while a 2s check ran; want >= 8", n)
	}
	if firstFast > 200*time.Millisecond {
		t.Errorf("first run of fast came after %s, want at once", firstFast)
	}
	if n := slow.runs.Load(); n != 1 {
		t.Errorf("slow check started %d times, want 1", n)
	}
	if got := c.results("slow"); len(got) != 0 {
		t.Errorf("a run cut short by the end of ctx was reported: %+v", got)
	}
	for _, res := range c.results("fast") {
		if !res.OK || res.At.IsZero() || res.Duration == 0 || res.Severity != "warning" {
			t.Fatalf("fast result not filled in: %+v", res)
		}
	}
}

func TestRunnerNeverOverlapsRuns(t *testing.T) {
	f := &fakeCheck{name: "f", delay: 300 * time.Millisecond}
	var c collector
	runFor(t, NewRunner([]Scheduled{{Checker: f, Interval: 50 * time.Millisecond, Timeout: time.Second}}, nil), 1100*time.Millisecond, c.out)
	if m := f.maxRunning.Load(); m != 1 {
		t.Errorf("%d runs of one check overlapped", m)
	}
	// 300ms runs, ticks during a run skipped: about one run per 350ms.
	if n := f.runs.Load(); n < 2 || n > 4 {
		t.Errorf("ran %d times in 1.1s, want 2-4", n)
	}
}

func TestRunnerOverdueCheck(t *testing.T) {
	release := make(chan struct{})
	stuck := &fakeCheck{name: "stuck", stubborn: release}
	var c collector
	r := NewRunner([]Scheduled{{Checker: stuck, Interval: 200 * time.Millisecond, Timeout: 100 * time.Millisecond}}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		r.Run(ctx, c.out)
		close(done)
	}()
	deadline := time.Now().Add(5 * time.Second)
	for len(c.results("stuck")) < 3 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	got := c.results("stuck")
	if len(got) < 3 {
		t.Fatalf("want overdue results, got %+v", got)
	}
	if got[0].OK || got[0].Firing != "[경고] stuck 점검이 100ms 안에 끝나지 않았습니다." {
		t.Errorf("overdue result: %+v", got[0])
	}
	if n := stuck.runs.Load(); n != 1 {
		t.Errorf("a stuck check was started %d times", n)
	}
	close(release) // the check returns; the next tick runs it again
	for stuck.runs.Load() < 2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if stuck.runs.Load() < 2 {
		t.Error("check not run again after it returned")
	}
	cancel()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		t.Fatal("Run did not return")
	}
}

func TestRunnerPanicCannotCheck(t *testing.T) {
	p := &fakeCheck{name: "p", panics: true}
	var c collector
	runFor(t, NewRunner([]Scheduled{{Checker: p, Interval: 100 * time.Millisecond}}, nil), 350*time.Millisecond, c.out)
	got := c.results("p")
	if len(got) < 2 || got[0].OK || !got[0].Unknown || got[0].Detail != "cannot check: check panicked: boom" ||
		got[0].Firing != "[경고] p 점검 불가: 점검 중 내부 오류가 발생했습니다." {
		t.Fatalf("results of a panicking check: %+v", got)
	}
}

// watchCheck is a Watcher that emits whenever poke receives.
type watchCheck struct {
	fakeCheck
	poke    chan struct{}
	stopped atomic.Bool
}

func (w *watchCheck) Watch(ctx context.Context, emit func(Result)) error {
	defer w.stopped.Store(true)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-w.poke:
			emit(Result{Check: w.name, Detail: "watched"})
		}
	}
}

func TestRunnerStartsWatchers(t *testing.T) {
	w := &watchCheck{fakeCheck: fakeCheck{name: "w"}, poke: make(chan struct{})}
	var c collector
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		NewRunner([]Scheduled{{Checker: w, Interval: time.Hour}}, nil).Run(ctx, c.out)
		close(done)
	}()
	w.poke <- struct{}{}
	deadline := time.Now().Add(3 * time.Second)
	for len(c.results("w")) < 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	var watched bool
	for _, r := range c.results("w") {
		watched = watched || r.Detail == "watched"
	}
	if !watched {
		t.Fatalf("watch result not passed on: %+v", c.results("w"))
	}
	cancel()
	<-done
	if !w.stopped.Load() {
		t.Error("Run returned before Watch stopped")
	}
}

func TestRunOnce(t *testing.T) {
	checks := []Scheduled{
		{Checker: &fakeCheck{name: "a", delay: 300 * time.Millisecond}},
		{Checker: &fakeCheck{name: "b", delay: 300 * time.Millisecond}},
		{Checker: &fakeCheck{name: "c", delay: 5 * time.Second}, Timeout: 100 * time.Millisecond},
	}
	start := time.Now()
	res := RunOnce(context.Background(), checks)
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("RunOnce took %s; checks should run concurrently", took)
	}
	if len(res) != 3 || res[0].Check != "a" || res[1].Check != "b" || res[2].Check != "c" {
		t.Fatalf("results out of order: %+v", res)
	}
	if !res[0].OK || !res[1].OK || res[2].OK {
		t.Errorf("OK flags: %v %v %v", res[0].OK, res[1].OK, res[2].OK)
	}
}

func TestScheduledDefaults(t *testing.T) {
	for _, tt := range []struct {
		in, want Scheduled
	}{
		{Scheduled{}, Scheduled{Interval: DefaultInterval, Timeout: DefaultTimeout}},
		{Scheduled{Interval: 2 * time.Second}, Scheduled{Interval: 2 * time.Second, Timeout: 2 * time.Second}},
		{Scheduled{Interval: time.Minute, Timeout: 30 * time.Second}, Scheduled{Interval: time.Minute, Timeout: 30 * time.Second}},
	} {
		if got := tt.in.normalized(); got != tt.want {
			t.Errorf("%+v.normalized() = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

// TestRunnerAlignsRuns: after the first run, checks of one interval start
// together on whole multiples of it (one wake-up of the process for all).
func TestRunnerAlignsRuns(t *testing.T) {
	const every = 200 * time.Millisecond
	a, b := &fakeCheck{name: "a"}, &fakeCheck{name: "b", delay: 30 * time.Millisecond}
	r := NewRunner([]Scheduled{{Checker: a, Interval: every}, {Checker: b, Interval: every}}, nil)
	var c collector
	runFor(t, r, 1100*time.Millisecond, c.out)
	for _, name := range []string{"a", "b"} {
		res := c.results(name)
		if len(res) < 4 {
			t.Fatalf("%s: %d runs in 1.1 s at %s", name, len(res), every)
		}
		// Generous: a loaded machine starts some runs late (never early),
		// so the median run, not each, must start near a boundary.
		var offs []time.Duration
		for _, x := range res[1:] {
			start := x.At.Add(-x.Duration)
			offs = append(offs, start.Sub(start.Truncate(every)))
		}
		slices.Sort(offs)
		if med := offs[len(offs)/2]; med > 60*time.Millisecond {
			t.Errorf("%s: runs started a median %s after a %s boundary (all: %v)", name, med, every, offs)
		}
	}
}

// TestRunnerNoGoroutinePerCheck: between runs the checks have no goroutine
// of their own (one scheduler for all; a goroutine per check was 1,000
// stacks in a 1,000-check munja serve).
func TestRunnerNoGoroutinePerCheck(t *testing.T) {
	const n = 500
	var checks []Scheduled
	for i := range n {
		checks = append(checks, Scheduled{Checker: &fakeCheck{name: "c" + strconv.Itoa(i)}, Interval: time.Hour})
	}
	before := runtime.NumGoroutine()
	var c collector
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		NewRunner(checks, nil).Run(ctx, c.out)
		close(done)
	}()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		c.mu.Lock()
		ran := len(c.got)
		c.mu.Unlock()
		if ran == n {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if len(c.got) != n {
		t.Fatalf("%d of %d checks ran at the start", len(c.got), n)
	}
	var extra int
	for time.Now().Before(deadline) { // the runs' goroutines end just after they report
		if extra = runtime.NumGoroutine() - before; extra <= 5 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if extra > 5 {
		t.Errorf("%d checks between runs hold %d goroutines, want a scheduler and a few", n, extra)
	}
	cancel()
	<-done
}

// asyncWatchCheck is an AsyncWatcher whose watch fails at once the first
// time (to be restarted) and then waits, on no goroutine of its own, for
// ctx to end.
type asyncWatchCheck struct {
	fakeCheck
	starts  atomic.Int32
	stopped atomic.Bool
}

func (w *asyncWatchCheck) Watch(ctx context.Context, emit func(Result)) error {
	panic("the runner calls StartWatch")
}

func (w *asyncWatchCheck) StartWatch(ctx context.Context, emit func(Result), done func(error)) {
	if w.starts.Add(1) == 1 {
		go func() {
			emit(Result{Check: w.name, Detail: "watched"})
			done(context.DeadlineExceeded) // any error: restarted after the interval
		}()
		return
	}
	context.AfterFunc(ctx, func() {
		w.stopped.Store(true)
		done(nil)
	})
}

// TestRunnerStartsAsyncWatchers: an AsyncWatcher is started with
// StartWatch (not Watch), its results are passed on, a watch that stopped
// is started again after the interval, and Run returns once it has ended;
// a restart still waiting when ctx ends does not hold Run up.
func TestRunnerStartsAsyncWatchers(t *testing.T) {
	w := &asyncWatchCheck{fakeCheck: fakeCheck{name: "w"}}
	var c collector
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		NewRunner([]Scheduled{{Checker: w, Interval: 200 * time.Millisecond}}, nil).Run(ctx, c.out)
		close(done)
	}()
	deadline := time.Now().Add(5 * time.Second)
	for w.starts.Load() < 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := w.starts.Load(); n != 2 {
		t.Fatalf("watch started %d times, want 2 (restarted once after it stopped)", n)
	}
	var watched bool
	for _, r := range c.results("w") {
		watched = watched || (r.Detail == "watched" && r.Duration > 0 && !r.At.IsZero())
	}
	if !watched {
		t.Fatalf("watch result not passed on (filled in): %+v", c.results("w"))
	}
	cancel()
	<-done
	if !w.stopped.Load() {
		t.Error("Run returned before the watch ended")
	}

	// Stopped again while the restart waits (an hour): Run returns at once.
	w2 := &asyncWatchCheck{fakeCheck: fakeCheck{name: "w2"}}
	ctx, cancel = context.WithCancel(context.Background())
	done = make(chan struct{})
	go func() {
		NewRunner([]Scheduled{{Checker: w2, Interval: time.Hour}}, nil).Run(ctx, c.out)
		close(done)
	}()
	for len(c.results("w2")) < 2 && time.Now().Before(deadline) { // the run's and the watch's
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		t.Fatal("Run did not return while a watch's restart waited")
	}
	if n := w2.starts.Load(); n != 1 {
		t.Errorf("watch started %d times, want 1", n)
	}
}
