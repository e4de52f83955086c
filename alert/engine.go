// Package alert is munja's alert engine: it turns check results into as few
// messages as an operator needs. Per check and host it keeps a state machine
// with failure/success thresholds; an incident sends one message when it
// fires, a reminder per alerting.repeat until acknowledged, escalations to
// alerting.escalation, and one "[복구]" message to everyone paged. Alerts
// due together (within group_wait) share one message; flapping checks send
// one warning; silences and per-group quiet hours hold messages back, and
// depends_on holds a check's alerts while a check it depends on fails
// (depends.go).
//
// "Should we notify now?" is the pure function decide; the Engine applies
// it on a timer, hands messages to a Notifier (the durable outbox) and
// records them as sent only once the Notifier accepted them. All state is
// kept in a store.AlertState under "alert/" keys so a restart neither
// re-sends nor forgets an open incident.
package alert

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/munja-sms/munja/check"
	"github.com/munja-sms/munja/store"
)

var errNotFound = store.ErrNotFound

// Engine is the alert engine. Its methods are safe for concurrent use.
type Engine struct {
	state     store.AlertState
	notifier  Notifier
	clock     Clock
	log       *slog.Logger
	publicURL string
	retry     time.Duration
	timeout   time.Duration
	readOnly  bool
	// stopTimeout bounds the last save when Run ends.
	stopTimeout time.Duration

	tickMu sync.Mutex // one evaluation (and its Notify calls) at a time
	// holdUntil: after a failed Notify nothing is sent before this time,
	// however often Run is woken. Guarded by tickMu.
	holdUntil time.Time
	saveMu    sync.Mutex // writes reach the store in snapshot order
	// savedSeq is the dirtySeq whose changes are all written.
	savedSeq atomic.Uint64
	wake     chan struct{}

	mu              sync.Mutex
	cc              *compiled
	checks          checkTable
	incidents       map[string]*incident // by ID
	silences        map[string]*Silence  // runtime silences by ID
	tokens          map[string]*ackToken // by SHA-256 hex of the token
	dirty           map[string]bool      // keys to write or delete
	lazy            []*checkState        // new or healthy checks, written batch by batch (see saveKeys); checkState.lazy
	dirtySeq        uint64               // counts markDirty calls
	histDirty       int                  // checks whose result history changed since written
	histQueue       []*checkState        // checks the running history round is to write
	lastHistorySave time.Time
	hostCheck       string                         // Options.HostCheck
	hostDeps        map[string]map[string][]string // agent host → check → depends_on, as reported
	// awaiting: checks whose next result a first alert waits for
	// (notBefore); rebuilt by every collect.
	awaiting map[node]bool
}

// New builds an engine. Call Load before feeding it results.
func New(opts Options) (*Engine, error) {
	if opts.State == nil {
		return nil, fmt.Errorf("alert: Options.State is required")
	}
	if opts.Notifier == nil {
		return nil, fmt.Errorf("alert: Options.Notifier is required")
	}
	cc, err := compile(opts.Config)
	if err != nil {
		return nil, fmt.Errorf("alert: %w", err)
	}
	e := &Engine{
		state:       opts.State,
		notifier:    opts.Notifier,
		clock:       opts.Clock,
		log:         opts.Log,
		publicURL:   strings.TrimRight(opts.PublicURL, "/"),
		retry:       opts.RetryInterval,
		timeout:     opts.NotifyTimeout,
		readOnly:    opts.ReadOnly,
		stopTimeout: opts.StopTimeout,
		wake:        make(chan struct{}, 1),
		cc:          cc,
		checks:      newCheckTable(),
		incidents:   map[string]*incident{},
		silences:    map[string]*Silence{},
		tokens:      map[string]*ackToken{},
		dirty:       map[string]bool{},
		hostCheck:   opts.HostCheck,
		hostDeps:    map[string]map[string][]string{},
		awaiting:    map[node]bool{},
	}
	if e.hostCheck == "" {
		e.hostCheck = defaultHostCheck
	}
	if e.publicURL == "" {
		e.publicURL = strings.TrimRight(opts.Config.Server.PublicURL, "/")
	}
	if e.clock == nil {
		e.clock = SystemClock()
	}
	if e.log == nil {
		e.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if e.retry <= 0 {
		e.retry = 10 * time.Second
	}
	if e.timeout <= 0 {
		e.timeout = 10 * time.Second
	}
	if e.stopTimeout <= 0 {
		e.stopTimeout = 5 * time.Second
	}
	e.lastHistorySave = e.clock.Now()
	return e, nil
}

// defaultHostCheck is agent.LivenessCheck, which alert cannot import.
const defaultHostCheck = "agent"

// Observe feeds one check result to the engine. It only updates memory and
// wakes Run; it never blocks on the store or the notifier.
func (e *Engine) Observe(r check.Result) {
	if r.Check == "" || e.readOnly {
		return
	}
	now := e.clock.Now()
	e.mu.Lock()
	hadLight := e.histDirty > 0
	changed := e.observe(r, now)
	wake := changed || !hadLight && e.histDirty > 0
	e.mu.Unlock()
	if wake {
		e.wakeup()
	}
}

func (e *Engine) wakeup() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// Run evaluates the engine whenever a result changed something or a timer
// (group_wait, repeat, escalation, silence or quiet-hours end, retry) is
// due, until ctx ends. It returns nil when ctx ends.
func (e *Engine) Run(ctx context.Context) error {
	for {
		next := e.tick(ctx)
		var stop func() bool
		if !next.IsZero() {
			stop = e.clock.AfterFunc(max(next.Sub(e.clock.Now()), 0), e.wakeup)
		}
		select {
		case <-ctx.Done():
			if stop != nil {
				stop()
			}
			// Changes first (they are few: every evaluation writes them),
			// then the result history, as much as the deadline allows.
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), e.stopTimeout)
			defer cancel()
			_ = e.saveKeys(sctx, allHistory)
			return nil
		case <-e.wake:
		}
		if stop != nil {
			stop()
		}
	}
}

// Flush evaluates the engine once: every message due now is handed to the
// notifier and all state, result history included, is saved. `munja check --notify` uses it instead of Run.
// It returns the notifier's or the store's error, if any.
func (e *Engine) Flush(ctx context.Context) error {
	_, err := e.evaluate(ctx, true)
	// A short-lived process (cron mode) also keeps the result history.
	if serr := e.saveKeys(ctx, allHistory); err == nil {
		err = serr
	}
	return err
}

func (e *Engine) tick(ctx context.Context) time.Time {
	next, err := e.evaluate(ctx, false)
	if err != nil {
		next = earliest(next, e.clock.Now().Add(e.retry))
	}
	return next
}

// evaluate is one pass: time-based transitions, decisions, notifications,
// persistence. It returns when it next has something to do. final says no
// evaluation follows soon (Flush, after a run of every check): a first
// alert does not wait for the checks it depends on to be looked at again.
func (e *Engine) evaluate(ctx context.Context, final bool) (time.Time, error) {
	e.tickMu.Lock()
	defer e.tickMu.Unlock()
	now := e.clock.Now()
	e.mu.Lock()
	e.expireSilences(now)
	next := e.endFlapping(now)
	var msgs []outMsg
	if now.Before(e.holdUntil) {
		next = earliest(next, e.planNext(now, final))
		next = earliest(next, e.holdUntil)
	} else {
		var due time.Time
		msgs, due = e.plan(now, final)
		next = earliest(next, due)
	}
	e.prune(now)
	if len(e.histQueue) == 0 && e.histDirty > 0 && !now.Before(e.lastHistorySave.Add(historyFlush)) {
		e.queueHistory(now)
	}
	history := 0
	switch {
	case len(e.histQueue) > 0:
		history = historyPerTick
		if len(e.histQueue) > history {
			next = now // the rest of the round, right after
		}
	case e.histDirty > 0:
		next = earliest(next, e.lastHistorySave.Add(historyFlush))
	}
	e.mu.Unlock()

	// Ack-link tokens issued while composing must be stored before a
	// message carrying them goes out.
	saveErr := e.saveKeys(ctx, history)
	var notifyErr error
	for _, m := range msgs {
		nctx, cancel := context.WithTimeout(ctx, e.timeout)
		err := e.notifier.Notify(nctx, m.n)
		cancel()
		if err != nil {
			e.log.Error("alert notification not accepted, will retry", "reason", m.n.Reason,
				"incidents", len(m.n.Incidents), "first", keyList(m.n.Incidents, 5), "err", capText(err.Error(), 512))
			notifyErr = fmt.Errorf("alert: notify %s %d incidents (%s): %w", m.n.Reason, len(m.n.Incidents), keyList(m.n.Incidents, 5), err)
			continue
		}
		e.log.Info("alert notification queued", "reason", m.n.Reason, "incidents", len(m.n.Incidents),
			"first", keyList(m.n.Incidents, 5), "to", keyList(m.n.Recipients, 10))
		e.mu.Lock()
		e.record(m, e.clock.Now())
		e.mu.Unlock()
	}
	if len(msgs) > 0 {
		if err := e.save(ctx); err != nil && saveErr == nil {
			saveErr = err
		}
		// Recording changed what is due next (reminders, escalation).
		e.mu.Lock()
		next = earliest(next, e.planNext(now, final))
		e.mu.Unlock()
	}
	if notifyErr != nil {
		e.holdUntil = e.clock.Now().Add(e.retry)
		return next, notifyErr
	}
	return next, saveErr
}
