package check

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
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

// Runner runs checks on their intervals, each on its own goroutine, so a
// slow check never delays another.
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

// Run runs every check at once and then every Interval (on whole multiples
// of it, so checks of one interval run together), and the Watch of
// each check that is a Watcher, passing each Result to out (calls to out
// are serialised; keep it quick). A run is never started while the
// previous run of the same check is still going: ticks that pass meanwhile
// are skipped, and a run overdue past its Timeout is reported as a failure.
// Run returns when ctx ends and its goroutines have stopped; results of
// runs cut short by ctx are dropped.
func (r *Runner) Run(ctx context.Context, out func(Result)) {
	emit := func(res Result) {
		if ctx.Err() != nil {
			return
		}
		r.outMu.Lock()
		defer r.outMu.Unlock()
		out(res)
	}
	var wg sync.WaitGroup
	for _, s := range r.checks {
		wg.Go(func() { r.loop(ctx, s, emit) })
		if w, ok := s.Checker.(Watcher); ok {
			wg.Go(func() { r.watch(ctx, s, w, emit) })
		}
	}
	wg.Wait()
}

func (r *Runner) loop(ctx context.Context, s Scheduled, emit func(Result)) {
	// Runs start on whole multiples of the interval, so that all checks of
	// one interval wake the process once, together.
	t := tick.NewTicker(s.Interval)
	defer t.Stop()
	var pending <-chan struct{} // an overdue run that has not returned yet
	for {
		if pending != nil {
			select {
			case <-pending:
				pending = nil
			default:
				r.log.Warn("check still running past its timeout, run skipped", "check", s.Name(), "timeout", s.Timeout)
				emit(overdueResult(s, time.Now()))
			}
		}
		if pending == nil {
			res, still := execute(ctx, s, r.log)
			emit(res)
			pending = still
		}
		select { // ticks that passed during the run are not made up for
		case <-ctx.Done():
			return
		case <-t.C():
		}
	}
}

func (r *Runner) watch(ctx context.Context, s Scheduled, w Watcher, emit func(Result)) {
	for {
		start := time.Now()
		err := safeWatch(ctx, w, func(res Result) { emit(fill(res, s, start)) })
		if ctx.Err() != nil {
			return
		}
		r.log.Warn("check watch stopped, restarting", "check", s.Name(), "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(s.Interval):
		}
	}
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

// execute runs s once within its Timeout. When the run has not returned
// Timeout+overrun later (or overrun after ctx ended), execute gives up on
// it: it returns a timeout Result and a channel closed when the abandoned
// run finally returns.
func execute(ctx context.Context, s Scheduled, log *slog.Logger) (Result, <-chan struct{}) {
	start := time.Now()
	rctx, cancel := context.WithTimeout(ctx, s.Timeout)
	done := make(chan struct{})
	var res Result
	go func() {
		defer close(done)
		defer cancel()
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
		res = s.Run(rctx)
	}()
	limit := time.NewTimer(s.Timeout + overrun)
	defer limit.Stop()
	select {
	case <-done:
		return fill(res, s, start), nil
	case <-limit.C:
	case <-ctx.Done():
		select {
		case <-done:
			return fill(res, s, start), nil
		case <-time.After(overrun):
		}
	}
	return overdueResult(s, start), done
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
