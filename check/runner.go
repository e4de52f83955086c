package check

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/munja-sms/munja/config"
	"github.com/munja-sms/munja/internal/tick"
)

// Schedule defaults, used when neither the check nor alerting sets them.
const (
	DefaultInterval = 10 * time.Second
	DefaultTimeout  = 10 * time.Second
)

// overrun is how long past its timeout a run may take before the runner
// reports it as timed out without waiting for it (a statfs on a hung NFS
// mount ignores every context).
const overrun = time.Second

// Scheduled is a check with its schedule.
type Scheduled struct {
	Checker
	Interval time.Duration // between run starts (DefaultInterval when 0)
	Timeout  time.Duration // deadline of one run (DefaultTimeout, at most Interval, when 0)
}

func (s Scheduled) normalized() Scheduled {
	if s.Interval <= 0 {
		s.Interval = DefaultInterval
	}
	if s.Timeout <= 0 {
		s.Timeout = min(DefaultTimeout, s.Interval)
	}
	return s
}

// Runner runs checks on their intervals, each run on its own goroutine, so
// a slow check never delays another.
//
// One goroutine schedules every check: between runs a check has no
// goroutine of its own. With one sleeping goroutine per check, whose stack
// grew while it passed results to the alert engine and the history, a
// 1,000-check munja serve held 1,000 such stacks (docs/BENCHMARKS.md
// section 9).
type Runner struct {
	checks []Scheduled
	log    *slog.Logger
	outMu  sync.Mutex
}

// NewRunner returns a Runner for checks. log may be nil.
func NewRunner(checks []Scheduled, log *slog.Logger) *Runner {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ns := make([]Scheduled, len(checks))
	for i, s := range checks {
		ns[i] = s.normalized()
	}
	return &Runner{checks: ns, log: log}
}

// job is the schedule state of one check.
type job struct {
	s Scheduled
	// busy is set from a run's start until it is reported (its Result, or
	// overdue); ticks that come meanwhile are skipped.
	busy atomic.Bool
	// still, when not nil, is closed when a run reported overdue returns.
	// Only the holder of busy touches it.
	still <-chan struct{}
}

// group is the checks of one interval, run together on its boundaries.
type group struct {
	every time.Duration
	next  time.Time
	jobs  []*job
}

// Run runs every check at once and then every Interval (on whole multiples
// of it, so checks of one interval run together), and the Watch of
// each check that is a Watcher, passing each Result to out (calls to out
// are serialised; keep it quick). A run is never started while the
// previous run of the same check is still going: ticks that pass meanwhile
// are skipped, and a run overdue past its Timeout is reported as a failure.
// Run returns when ctx ends and its goroutines have stopped (a run that
// ignores ctx is given up overrun later); results of runs cut short by ctx
// are dropped.
func (r *Runner) Run(ctx context.Context, out func(Result)) {
	emit := func(res Result) {
		if ctx.Err() != nil {
			return
		}
		r.outMu.Lock()
		defer r.outMu.Unlock()
		out(res)
	}
	var wg sync.WaitGroup // watches, and runs until reported
	defer wg.Wait()
	var groups []*group
	byEvery := map[time.Duration]*group{}
	for _, s := range r.checks {
		if w, ok := s.Checker.(AsyncWatcher); ok {
			r.startWatch(ctx, s, w, emit, &wg)
		} else if w, ok := s.Checker.(Watcher); ok {
			r.startWatch(ctx, s, blockingWatcher{w}, emit, &wg)
		}
		g := byEvery[s.Interval]
		if g == nil {
			g = &group{every: s.Interval}
			byEvery[s.Interval] = g
			groups = append(groups, g)
		}
		j := &job{s: s}
		g.jobs = append(g.jobs, j)
		r.dispatch(ctx, j, emit, &wg)
	}
	if len(groups) == 0 {
		return
	}
	// Runs start on whole multiples of the interval, so that all checks of
	// one interval wake the process once, together. Boundaries that pass
	// while a check still runs are not made up for.
	now := time.Now()
	for _, g := range groups {
		g.next = tick.Next(now, g.every)
	}
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		next := groups[0].next
		for _, g := range groups[1:] {
			if g.next.Before(next) {
				next = g.next
			}
		}
		timer.Reset(time.Until(next))
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		if ctx.Err() != nil { // both were ready, and select took the timer
			return
		}
		now := time.Now()
		for _, g := range groups {
			if now.Before(g.next) {
				continue
			}
			g.next = tick.Next(now, g.every)
			for _, j := range g.jobs {
				r.dispatch(ctx, j, emit, &wg)
				// Let the run go first: one that does not block (most:
				// /proc, statfs) ends before the next starts, which then
				// reuses its goroutine and stack. Started all at once,
				// 1,000 runs held 1,000 stacks at every boundary: 3 MiB
				// more of munja serve's memory at 1,000 checks (stacks
				// 8.2 -> 6.7 MB, heap in use 10.9 -> 9.7 MB). A run that
				// blocks or runs long is left to run alongside.
				runtime.Gosched()
			}
		}
	}
}

// dispatch starts a run of j on a goroutine of its own, unless its last run
// has not been reported yet. When a run reported overdue has still not
// returned, it reports it overdue again instead of starting another.
func (r *Runner) dispatch(ctx context.Context, j *job, emit func(Result), wg *sync.WaitGroup) {
	if !j.busy.CompareAndSwap(false, true) {
		return
	}
	wg.Add(1)
	if j.still != nil {
		select {
		case <-j.still:
			j.still = nil
		default:
			r.log.Warn("check still running past its timeout, run skipped", "check", j.s.Name(), "timeout", j.s.Timeout)
			go func() {
				defer wg.Done()
				emit(overdueResult(j.s, time.Now()))
				j.busy.Store(false)
			}()
			return
		}
	}
	start(ctx, j.s, r.log, func(res Result, still <-chan struct{}) {
		emit(res)
		j.still = still
		j.busy.Store(false)
		wg.Done()
	})
}

// blockingWatcher runs a Watcher's Watch on a goroutine of its own, as an
// AsyncWatcher: the runner restarts both kinds alike (startWatch).
type blockingWatcher struct{ w Watcher }

func (b blockingWatcher) Watch(ctx context.Context, emit func(Result)) error {
	return b.w.Watch(ctx, emit)
}

func (b blockingWatcher) StartWatch(ctx context.Context, emit func(Result), done func(error)) {
	go func() { done(safeWatch(ctx, b.w, emit)) }()
}

// startWatch starts w and, when it stops before ctx ends, starts it again
// after the check's interval; no goroutine waits meanwhile (a timer).
func (r *Runner) startWatch(ctx context.Context, s Scheduled, w AsyncWatcher, emit func(Result), wg *sync.WaitGroup) {
	wg.Add(1)
	var again func()
	again = func() {
		start := time.Now()
		safeStartWatch(ctx, w, func(res Result) { emit(fill(res, s, start)) }, func(err error) {
			if ctx.Err() != nil {
				wg.Done()
				return
			}
			r.log.Warn("check watch stopped, restarting", "check", s.Name(), "err", err)
			afterUnlessDone(ctx, s.Interval, again, wg.Done)
		})
	}
	again()
}

// afterUnlessDone calls fn after d, or cancelled when ctx ends first.
func afterUnlessDone(ctx context.Context, d time.Duration, fn, cancelled func()) {
	var once atomic.Bool
	var stop func() bool
	t := time.AfterFunc(time.Hour, func() {
		if once.CompareAndSwap(false, true) {
			stop()
			fn()
		}
	})
	t.Stop()
	stop = context.AfterFunc(ctx, func() {
		if once.CompareAndSwap(false, true) {
			t.Stop()
			cancelled()
		}
	})
	t.Reset(d)
}

// safeStartWatch calls StartWatch, turning a panic in it into a call of
// done.
func safeStartWatch(ctx context.Context, w AsyncWatcher, emit func(Result), done func(error)) {
	defer func() {
		if p := recover(); p != nil {
			done(fmt.Errorf("watch panicked: %v\n%s", p, debug.Stack()))
		}
	}()
	w.StartWatch(ctx, emit, done)
}

func safeWatch(ctx context.Context, w Watcher, emit func(Result)) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("watch panicked: %v\n%s", p, debug.Stack())
		}
	}()
	return w.Watch(ctx, emit)
}

// RunOnce runs every check once, all at the same time, and returns their
// results in the order of checks (for munja check --once).
func RunOnce(ctx context.Context, checks []Scheduled) []Result {
	results := make([]Result, len(checks))
	log := slog.New(slog.DiscardHandler)
	var wg sync.WaitGroup
	for i, s := range checks {
		wg.Go(func() { results[i], _ = execute(ctx, s.normalized(), log) })
	}
	wg.Wait()
	return results
}

// execute runs s once within its Timeout and returns what start reports.
func execute(ctx context.Context, s Scheduled, log *slog.Logger) (Result, <-chan struct{}) {
	type report struct {
		res   Result
		still <-chan struct{}
	}
	c := make(chan report, 1)
	start(ctx, s, log, func(res Result, still <-chan struct{}) { c <- report{res, still} })
	rep := <-c
	return rep.res, rep.still
}

// start runs s once within its Timeout on a new goroutine, and calls
// report once: with the run's Result (still nil), or, when the run has not
// returned Timeout+overrun after it started (or overrun after ctx ended),
// with a timeout Result and a channel closed when the abandoned run
// finally returns. The run's goroutine is the only one: the give-up is a
// timer, so a run costs one goroutine, not a runner and a waiter.
func start(ctx context.Context, s Scheduled, log *slog.Logger, report func(Result, <-chan struct{})) {
	begin := time.Now()
	var reported atomic.Bool
	done := make(chan struct{})
	giveUp := func() {
		if reported.CompareAndSwap(false, true) {
			report(overdueResult(s, begin), done)
		}
	}
	limit := time.AfterFunc(s.Timeout+overrun, giveUp)
	stopWatch := context.AfterFunc(ctx, func() {
		// ctx ended: a run that honours it returns within overrun.
		if time.Until(begin.Add(s.Timeout+overrun)) > overrun {
			limit.Reset(overrun)
		}
	})
	go func() {
		rctx, cancel := context.WithTimeout(ctx, s.Timeout)
		res := safeRun(rctx, s, log)
		cancel()
		close(done)
		limit.Stop()
		stopWatch()
		if reported.CompareAndSwap(false, true) {
			report(fill(res, s, begin), nil)
		}
	}()
}

// safeRun runs s, turning a panic into a cannot-check Result.
func safeRun(ctx context.Context, s Scheduled, log *slog.Logger) (res Result) {
	defer func() {
		if p := recover(); p != nil {
			log.Error("check panicked", "check", s.Name(), "panic", p, "stack", string(debug.Stack()))
			// munja's own failure to look: cannot check.
			res = Result{Check: s.Name(), Unknown: true, Detail: fmt.Sprintf("cannot check: check panicked: %v", p),
				DetailKo: fmt.Sprintf("%s (panic: %v)", CannotCheckDetailKo(ReasonInternal), p),
				Firing:   CannotCheckText(s.Name(), ReasonInternal),
				Resolved: SeesAgainText(s.Name())}
		}
	}()
	return s.Run(ctx)
}

// fill completes what a checker left out of a Result.
func fill(res Result, s Scheduled, start time.Time) Result {
	if res.Check == "" {
		res.Check = s.Name()
	}
	if res.At.IsZero() {
		res.At = time.Now()
	}
	if res.Duration == 0 {
		res.Duration = time.Since(start)
	}
	res.Severity = res.Severity.OrDefault()
	return res
}

func overdueResult(s Scheduled, start time.Time) Result {
	return Result{
		Check:    s.Name(),
		At:       time.Now(),
		Firing:   fmt.Sprintf("[경고] %s 점검이 %s 안에 끝나지 않았습니다.", s.Name(), formatDuration(s.Timeout)),
		Resolved: fmt.Sprintf("[복구] %s 점검이 정상입니다.", s.Name()),
		Detail:   fmt.Sprintf("check did not return within its timeout of %s", s.Timeout),
		DetailKo: fmt.Sprintf("점검이 제한 시간 %s 안에 끝나지 않음", DurationKo(s.Timeout)),
		Severity: config.DefaultSeverity,
		Duration: time.Since(start),
	}
}
