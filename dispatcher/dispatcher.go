// Package dispatcher drains the outbox: it claims due deliveries from the
// store, batches receivers of the same message into one gateway call (up to
// the provider's MaxBatch), sends with a deadline, fails over to the next
// provider, retries retryable failures with exponential backoff and jitter,
// and records every recipient's outcome. Claims carry a lease, so a
// dispatcher killed mid-call leaves its deliveries to be claimed again
// (at-least-once).
package dispatcher

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/munja-sms/munja/internal/tick"
	"github.com/munja-sms/munja/provider"
	"github.com/munja-sms/munja/sms"
	"github.com/munja-sms/munja/store"
)

// Options configure a Dispatcher. Zero values take the defaults noted.
type Options struct {
	Store     store.Messages
	Providers []provider.Provider // tried in order
	Log       *slog.Logger
	Now       func() time.Time

	CallTimeout  time.Duration // per gateway call (default 10s)
	Lease        time.Duration // claim lease (default max(2m, twice the longest a batch can be in flight))
	ClaimLimit   int           // deliveries per claim (default 2000)
	Concurrency  int           // gateway calls in flight (default 4)
	Poll         time.Duration // idle re-check when nothing woke it (default 1s)
	RetryInitial time.Duration // first backoff (default 2s)
	RetryMax     time.Duration // backoff cap (default 5m)
	GiveUpAfter  time.Duration // fail a delivery after trying this long (default 24h)
	// Observe, when set, is told about every gateway call (for metrics).
	Observe func(provider string, receivers int, err error, took time.Duration)
	// Uncertain, when set, is told what became of receivers of calls
	// whose answer never came (settle): "found" (the gateway had them),
	// "not_found" (it did not: sent again), "resent" (the gateway cannot
	// be asked, or could not be: sent again, possibly twice).
	Uncertain func(provider, outcome string, receivers int)
	// LookupWait is how long after an uncertain call the gateway is asked
	// whether it accepted it, and between tries (default CallTimeout).
	LookupWait time.Duration
}

// Dispatcher sends queued deliveries. Safe for concurrent use.
type Dispatcher struct {
	opt  Options
	wake chan struct{}

	mu     sync.Mutex
	health StoreHealth

	gateways *breaker // each provider's health (health.go)

	// turned is when Run's loop last came round (Unix ns; 0 while Run is
	// not running), for Running.
	turned atomic.Int64
}

// When the store refuses a write, Run tries again after storeRetryInitial,
// doubling up to storeRetryMax (with jitter), and record retries an
// outcome on the same schedule.
const (
	storeRetryInitial = 100 * time.Millisecond
	storeRetryMax     = 5 * time.Second
)

// StoreHealth is what the dispatcher last saw of its writes to the store.
type StoreHealth struct {
	Writable bool
	Since    time.Time // when it last changed (zero while it never failed)
	Err      error     // the latest failure, while not Writable
}

func New(opt Options) *Dispatcher {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	if opt.CallTimeout <= 0 {
		opt.CallTimeout = 10 * time.Second
	}
	if opt.LookupWait <= 0 {
		opt.LookupWait = opt.CallTimeout
	}
	if opt.Lease <= 0 {
		opt.Lease = max(2*time.Minute, 2*inFlight(opt))
	}
	if opt.ClaimLimit <= 0 {
		opt.ClaimLimit = 2000
	}
	if opt.Concurrency <= 0 {
		opt.Concurrency = 4
	}
	if opt.Poll <= 0 {
		opt.Poll = time.Second
	}
	if opt.RetryInitial <= 0 {
		opt.RetryInitial = 2 * time.Second
	}
	if opt.RetryMax <= 0 {
		opt.RetryMax = 5 * time.Minute
	}
	if opt.GiveUpAfter <= 0 {
		opt.GiveUpAfter = 24 * time.Hour
	}
	return &Dispatcher{opt: opt, wake: make(chan struct{}, 1), health: StoreHealth{Writable: true}, gateways: newBreaker(opt.Providers)}
}

// StoreHealth reports whether the dispatcher's last write to the store
// (a claim, or recording outcomes) worked; /healthz and the console say so.
func (d *Dispatcher) StoreHealth() StoreHealth {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.health
}

// storeFailed records a write the store refused. Only the first failure
// after a success is logged: Run retries with backoff, and a store that
// stays broken would otherwise log every attempt.
func (d *Dispatcher) storeFailed(err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.health.Err = err
	if !d.health.Writable {
		return
	}
	d.health.Writable, d.health.Since = false, time.Now()
	d.opt.Log.Error("store not writable: dispatching paused, retrying with backoff", "err", err)
}

// storeWorked records a round whose writes all worked, and logs the
// recovery of a store that had failed.
func (d *Dispatcher) storeWorked() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.health.Writable {
		return
	}
	d.opt.Log.Info("store writable again", "down", time.Since(d.health.Since).Round(time.Millisecond))
	d.health = StoreHealth{Writable: true, Since: time.Now()}
}

// Running reports whether Run is running and its loop came round within
// the claim lease: a round that takes longer is stuck (its claims go back
// to the queue). munja's outgoing heartbeat is sent only while it is.
func (d *Dispatcher) Running() bool {
	t := d.turned.Load()
	return t != 0 && time.Since(time.Unix(0, t)) < d.opt.Lease
}

// Wake makes Run look for work now instead of at its next poll.
func (d *Dispatcher) Wake() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// reapEvery is how often Run hands back the claims of replicas that are
// gone (a store.ClaimReaper: PostgreSQL).
const reapEvery = 5 * time.Second

// inFlight is the longest one batch can be in flight: for each provider a
// call and, when it gets no answer, the lookups that settle it (settle).
// A live dispatcher starts a claimed batch within Lease/3 or hands it back
// (DispatchOnce), so a claim younger than Lease/3 + inFlight may belong to
// a replica that is still sending.
func inFlight(opt Options) time.Duration {
	per := opt.CallTimeout + lookupTries*(opt.LookupWait+opt.CallTimeout)
	return time.Duration(max(1, len(opt.Providers)))*per + 5*time.Second
}

// reap hands back the claims of replicas that are gone, when the store can
// tell, at most every reapEvery; it reports whether any came back.
func (d *Dispatcher) reap(ctx context.Context, last *time.Time) bool {
	r, ok := d.opt.Store.(store.ClaimReaper)
	if !ok || time.Since(*last) < reapEvery {
		return false
	}
	*last = time.Now()
	n, err := r.ReleaseDeadClaims(ctx, d.opt.Now(), d.opt.Lease/3+inFlight(d.opt))
	if err != nil {
		if ctx.Err() == nil {
			d.opt.Log.Warn("cannot hand back the claims of stopped replicas; their lease will", "err", err)
		}
		return false
	}
	if n > 0 {
		d.opt.Log.Warn("a replica stopped while sending: its deliveries are sent again now (a batch in flight may go out twice)", "deliveries", n)
	}
	return n > 0
}

// Run dispatches until ctx ends. Gateway calls already in flight when ctx
// ends are allowed to finish (each is bounded by CallTimeout); Run returns
// after they did. Deliveries not yet claimed stay queued for the next start.
func (d *Dispatcher) Run(ctx context.Context) error {
	// Claiming is a write transaction, so an idle dispatcher only reads the
	// earliest due time, and claims when something is due, when woken, or
	// every leaseSweep to pick up claims whose lease ran out (a replica
	// that died mid-call).
	const leaseSweep = 30 * time.Second
	claim := true
	var lastClaim time.Time
	failures := 0        // rounds in a row that failed
	readFailing := false // NextDue fails (logged once)
	var lastReap time.Time
	defer d.turned.Store(0)
	for {
		d.turned.Store(time.Now().UnixNano())
		if d.reap(ctx, &lastReap) {
			claim = true
		}
		if claim || time.Since(lastClaim) >= leaseSweep {
			lastClaim = time.Now()
			n, err := d.DispatchOnce(ctx, store.ClaimFilter{})
			if ctx.Err() != nil {
				return nil
			}
			if err != nil {
				// A store refusing writes was logged once, when it began
				// (storeFailed). Whatever failed, try again after a
				// backoff, not at the next wake-up: the due deliveries
				// are still due, and going again at once is a busy loop.
				if d.StoreHealth().Writable {
					d.opt.Log.Error("dispatch", "err", err)
				}
				failures++
				t := time.NewTimer(backoff(storeRetryInitial, storeRetryMax, failures))
				select {
				case <-ctx.Done():
					t.Stop()
					return nil
				case <-t.C:
				}
				claim = true
				continue
			}
			failures = 0
			if n > 0 {
				continue // there may be more
			}
		}
		// Idle polls fall on whole multiples of Poll, with the process's
		// other periodic work (one wake-up instead of several).
		wait := tick.Until(time.Now(), d.opt.Poll)
		next, err := d.opt.Store.NextDue(ctx)
		switch {
		case err != nil && ctx.Err() == nil && !readFailing:
			d.opt.Log.Error("dispatch: cannot read the next due time; polling", "err", err)
			readFailing = true
		case err == nil && readFailing:
			d.opt.Log.Info("dispatch: next due time readable again")
			readFailing = false
		}
		claim = false
		if !next.IsZero() {
			until := next.Sub(d.opt.Now())
			if until <= 0 {
				claim = true
				continue
			}
			wait = min(wait, max(until, 10*time.Millisecond))
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-d.wake:
			t.Stop()
			claim = true
		case <-t.C:
			claim = !next.IsZero() && !next.After(d.opt.Now())
		}
	}
}

// DispatchOnce claims what is due (optionally for one message only), sends
// it and records the outcomes. It returns the number of deliveries handled.
// Gateway calls use a context detached from ctx's cancellation so that a
// shutdown never abandons a call whose result would then be unknown.
func (d *Dispatcher) DispatchOnce(ctx context.Context, f store.ClaimFilter) (int, error) {
	claims, err := d.opt.Store.ClaimDeliveries(ctx, d.opt.Now(), d.opt.ClaimLimit, d.opt.Lease, f)
	if err != nil {
		err = fmt.Errorf("claim: %w", err)
		if ctx.Err() == nil {
			d.storeFailed(err)
		}
		return 0, err
	}
	if len(claims) == 0 {
		d.storeWorked()
		return 0, nil
	}
	jobs := d.batches(claims)
	sem := make(chan struct{}, d.opt.Concurrency)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	callCtx := context.WithoutCancel(ctx)
	start := time.Now()
	for i, j := range jobs {
		sem <- struct{}{}
		// Whatever cannot be started within a third of the lease goes back
		// to the queue now, so that no claim outlives its lease while this
		// dispatcher is still alive (another replica would send it too).
		if time.Since(start) > d.opt.Lease/3 || ctx.Err() != nil {
			<-sem
			if err := d.handBack(callCtx, jobs[i:]); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
			break
		}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			updates := d.send(callCtx, j)
			if err := d.record(callCtx, updates); err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("record results of message %d: %w", j.msg.ID, err))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return len(claims), err
	}
	d.storeWorked()
	return len(claims), nil
}

// handBack returns claimed but unsent deliveries to the queue, due now.
func (d *Dispatcher) handBack(ctx context.Context, jobs []job) error {
	var ups []store.DeliveryUpdate
	now := d.opt.Now()
	for _, j := range jobs {
		for _, del := range j.deliveries {
			ups = append(ups, store.DeliveryUpdate{ID: del.ID, Attempt: del.Attempts, Status: sms.StatusQueued, NextAttemptAt: now, Error: del.LastError})
		}
	}
	if err := d.record(ctx, ups); err != nil {
		return fmt.Errorf("hand back %d deliveries: %w", len(ups), err)
	}
	return nil
}

// record writes outcomes, retrying a failing store (a busy SQLite file, a
// PostgreSQL blip) for up to a third of the lease: an outcome that is known
// but not written would otherwise fall back to lease expiry and the SMS
// would be sent again. Outcomes are fenced by their claim's attempt: when
// this dispatcher lost a claim (it stalled past the lease and another
// dispatcher claimed the delivery again), its outcome is dropped, and the
// newer claim's stands.
func (d *Dispatcher) record(ctx context.Context, ups []store.DeliveryUpdate) error {
	deadline := time.Now().Add(d.opt.Lease / 3)
	for attempt := 1; ; attempt++ {
		wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		err := d.opt.Store.CompleteDeliveries(wctx, ups)
		cancel()
		if errors.Is(err, store.ErrStale) {
			d.opt.Log.Warn("outcomes not recorded: another dispatcher claimed these deliveries again after this one's lease ran out; the recipient may get the message twice",
				"err", err, "lease", d.opt.Lease)
			return nil
		}
		if err == nil || errors.Is(err, store.ErrNotFound) {
			return err
		}
		d.storeFailed(fmt.Errorf("record delivery results: %w", err))
		wait := backoff(storeRetryInitial, storeRetryMax, attempt)
		if time.Now().Add(wait).After(deadline) {
			d.opt.Log.Error("delivery results not recorded: these deliveries will be claimed again when their lease runs out, and the sent ones may reach their recipients twice",
				"deliveries", len(ups), "err", err)
			return err
		}
		time.Sleep(wait)
	}
}

// job is the claimed deliveries of one message.
type job struct {
	msg        sms.Message
	deliveries []sms.Delivery
}

func (d *Dispatcher) batches(claims []store.Claim) []job {
	idx := map[int64]int{}
	var jobs []job
	for _, c := range claims {
		i, ok := idx[c.Message.ID]
		if !ok {
			i = len(jobs)
			idx[c.Message.ID] = i
			jobs = append(jobs, job{msg: c.Message})
		}
		if c.Delivery.Attempts > 1 && c.Delivery.LastError == "" {
			d.opt.Log.Warn("resuming a delivery whose earlier attempt was interrupted; it may be sent twice",
				"message", c.Message.ID, "delivery", c.Delivery.ID, "attempt", c.Delivery.Attempts)
		}
		jobs[i].deliveries = append(jobs[i].deliveries, c.Delivery)
	}
	return jobs
}

// send tries each provider in order (but the one an alert avoids: route.go)
// for the job's receivers, splitting them into the provider's batch size,
// and returns one update per delivery.
func (d *Dispatcher) send(ctx context.Context, j job) []store.DeliveryUpdate {
	pending := j.deliveries
	var updates []store.DeliveryUpdate
	var reasons []string
	permanentOnly := true
	// answered: a provider's call failed (not a decline: provider.Error
	// Skip, a provider that does not take this message); down: one was
	// passed over as marked down. A message every provider declined
	// fails; one declined while a provider that may take it is down waits
	// for that provider.
	answered, down := false, false
	providers := d.route(j.msg)
	if len(providers) == 0 {
		// The alert that the only provider is down (configured when there
		// were others): there is no other way to send it.
		reasons = append(reasons, "no provider other than "+Avoided(j.msg)+", which this alert is about")
		answered = true
	}
	for i, p := range providers {
		if len(pending) == 0 {
			break
		}
		// A provider marked down is skipped until its trial call is due
		// (health.go) while a later one can take the batch; the last
		// resort is called anyway: there is no other way to deliver.
		if !d.gateways.allow(p.Name(), d.opt.Now()) && d.gateways.anyUp(providers[i+1:], d.opt.Now()) {
			reasons = append(reasons, p.Name()+": marked down after failing calls")
			down = true
			continue
		}
		var failed []sms.Delivery
		for _, chunk := range chunks(pending, max(1, p.MaxBatch())) {
			since := d.opt.Now()
			ups, err := d.call(ctx, p, j.msg, chunk)
			if err != nil && provider.IsUncertain(err) {
				// The gateway may have it: ask before anything is sent
				// again; only what it does not have goes on.
				var found []store.DeliveryUpdate
				found, chunk, err = d.settle(ctx, p, j.msg, chunk, since, err)
				updates = append(updates, found...)
				if len(chunk) == 0 {
					continue
				}
			}
			if err != nil {
				// A decline hands the chunk to the next provider too.
				failed = append(failed, chunk...)
				reasons = append(reasons, err.Error())
				if provider.IsSkip(err) {
					continue
				}
				answered = true
				if !provider.IsPermanent(err) {
					permanentOnly = false
				}
				continue
			}
			updates = append(updates, ups...)
		}
		pending = failed
	}
	if len(pending) == 0 {
		return updates
	}
	reason := strings.Join(dedup(reasons), "; ")
	switch {
	case !answered && !down:
		reason = "no provider takes this message: " + reason
	case !answered:
		permanentOnly = false
	}
	now := d.opt.Now()
	for _, del := range pending {
		u := store.DeliveryUpdate{ID: del.ID, Attempt: del.Attempts, Error: reason}
		switch {
		case permanentOnly:
			u.Status = sms.StatusFailed
		case now.Sub(laterOf(j.msg.CreatedAt, j.msg.At)) >= d.opt.GiveUpAfter:
			u.Status = sms.StatusFailed
			u.Error = fmt.Sprintf("gave up after %s: %s", d.opt.GiveUpAfter, reason)
		default:
			u.Status = sms.StatusQueued
			u.NextAttemptAt = now.Add(backoff(d.opt.RetryInitial, d.opt.RetryMax, del.Attempts))
		}
		updates = append(updates, u)
	}
	if permanentOnly {
		d.opt.Log.Error("message failed permanently", "message", j.msg.ID, "recipients", len(pending), "reason", reason)
	} else {
		d.opt.Log.Warn("gateway call failed, will retry", "message", j.msg.ID, "recipients", len(pending), "reason", reason)
	}
	return updates
}

// call makes one gateway call and turns a success into per-delivery updates.
// A provider declining the message (provider.Error.Skip) made no call:
// it is neither observed nor counted in the provider's health.
func (d *Dispatcher) call(ctx context.Context, p provider.Provider, m sms.Message, ds []sms.Delivery) ([]store.DeliveryUpdate, error) {
	b := batchOf(m, ds)
	cctx, cancel := context.WithTimeout(ctx, d.opt.CallTimeout)
	start := time.Now()
	res, err := p.Send(cctx, b)
	cancel()
	if provider.IsSkip(err) {
		return nil, err
	}
	if d.opt.Observe != nil {
		d.opt.Observe(p.Name(), len(ds), err, time.Since(start))
	}
	d.noteChange(p.Name(), d.gateways.record(p.Name(), err, d.opt.Now()), err)
	if err != nil {
		return nil, err
	}
	now := d.opt.Now()
	note := ""
	if res.Rejected > 0 {
		note = fmt.Sprintf("%s accepted %d of %d receivers (error_cnt %d); per-recipient results follow from the gateway",
			p.Name(), res.Accepted, len(ds), res.Rejected)
	}
	status := sms.StatusSent
	if res.Reserved {
		status = sms.StatusReserved
	}
	ups := make([]store.DeliveryUpdate, 0, len(ds))
	for _, del := range ds {
		u := store.DeliveryUpdate{ID: del.ID, Attempt: del.Attempts, Status: status, Provider: p.Name(), ProviderMsgID: res.MessageID, SentAt: now, Error: note}
		if reason, ok := res.Failed[del.Phone]; ok {
			u.Status, u.Error, u.SentAt = sms.StatusFailed, p.Name()+": "+reason, time.Time{}
		}
		ups = append(ups, u)
	}
	return ups, nil
}

// batchOf is the gateway call for m to ds.
func batchOf(m sms.Message, ds []sms.Delivery) provider.Batch {
	b := provider.Batch{Sender: m.Sender, Text: m.Text, Title: m.Title, Kind: m.Kind, Test: m.Test,
		Source: m.Source, Actor: m.CreatedBy, Template: m.Template}
	for _, del := range ds {
		b.Receivers = append(b.Receivers, del.Phone)
	}
	return b
}

// backoff is the wait after the attempts-th failed try: exponential from initial,
// capped at limit, with ±20% jitter.
func backoff(initial, limit time.Duration, attempts int) time.Duration {
	b := initial
	for i := 1; i < attempts && b < limit; i++ {
		b *= 2
	}
	b = min(b, limit)
	jitter := time.Duration(rand.Int64N(int64(b)/5+1)) * 2
	return b - b/5 + jitter
}

// laterOf is the later of two times: a scheduled message starts its
// give-up clock when it becomes due, not when it was stored.
func laterOf(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func chunks(ds []sms.Delivery, n int) [][]sms.Delivery {
	var out [][]sms.Delivery
	for len(ds) > n {
		out = append(out, ds[:n])
		ds = ds[n:]
	}
	return append(out, ds)
}

func dedup(ss []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
