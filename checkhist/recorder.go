// Package checkhist keeps what checks found over time: it sums results into
// a sample per check and minute plus every change of status
// (store.CheckHistory), and reads them back as uptimes, chart points and a
// status timeline for the console and the API.
package checkhist

import (
	"context"
	"log/slog"
	"sync"
	"time"
	"unique"

	"github.com/munja-sms/munja/check"
	"github.com/munja-sms/munja/internal/tick"
	"github.com/munja-sms/munja/store"
)

// FlushEvery is how often a Recorder writes changes of status and the
// minutes that ended: a crash loses at most the running minute and this
// much of history (never an alert: the alert engine keeps its own state).
const FlushEvery = 10 * time.Second

// DefaultRetention is how long check history is kept unless configured.
const DefaultRetention = 90 * 24 * time.Hour

type key struct{ check, host string }

// series is what a Recorder keeps of one check.
type series struct {
	status string            // last status seen; "" until known
	sample store.CheckSample // minute deltas since the last flush; At zero: none
}

// Recorder gathers results in memory and writes them every FlushEvery. It
// is safe for concurrent use; Observe never waits on the store.
type Recorder struct {
	st        store.CheckHistory
	localHost string
	log       *slog.Logger
	now       func() time.Time

	mu sync.Mutex
	// series holds, per check, its last status and the running minute's
	// sample: one entry (names interned) for each of the 200,000 checks of
	// 10,000 agents.
	series  map[key]*series
	pending []store.CheckSample // minutes a check moved on from, not yet written
	changes []store.CheckChange
	loaded  bool // series' status holds the stored last changes

	flushMu sync.Mutex
}

// New returns a Recorder writing to st. Results whose Host is localHost are
// this host's ("" in the store), as the alert engine counts them.
func New(st store.CheckHistory, localHost string, log *slog.Logger) *Recorder {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Recorder{st: st, localHost: localHost, log: log, now: time.Now,
		series: map[key]*series{}}
}

// Status is the history status of a result.
func Status(r check.Result) string {
	switch {
	case r.Unknown:
		return store.CheckCannotCheck
	case r.OK:
		return store.CheckOK
	}
	return store.CheckFailing
}

// Observe adds one result.
func (r *Recorder) Observe(res check.Result) {
	host := res.Host
	if host == r.localHost {
		host = ""
	}
	at := res.At
	if at.IsZero() {
		at = time.Now()
	}
	at = at.UTC()
	minute := at.Truncate(time.Minute)
	status := Status(res)

	r.mu.Lock()
	defer r.mu.Unlock()
	se := r.series[key{res.Check, host}]
	if se == nil {
		k := key{unique.Make(res.Check).Value(), unique.Make(host).Value()}
		se = &series{}
		r.series[k] = se
	}
	s := &se.sample
	if !s.At.IsZero() && !s.At.Equal(minute) {
		r.pending = append(r.pending, *s)
		s.At = time.Time{}
	}
	if s.At.IsZero() {
		*s = store.CheckSample{Check: unique.Make(res.Check).Value(), Host: unique.Make(host).Value(), At: minute}
	}
	switch status {
	case store.CheckOK:
		s.OK++
	case store.CheckFailing:
		s.Failing++
	default:
		s.Unknown++
	}
	if res.Duration > 0 && !res.Unknown {
		s.Add(store.CheckSample{LatencyN: 1, LatencySum: res.Duration, LatencyMax: res.Duration})
	}
	if se.status != status {
		se.status = status
		r.changes = append(r.changes, store.CheckChange{Check: s.Check, Host: s.Host, At: at, Status: status, Detail: res.Detail, DetailKo: res.DetailKo})
	}
}

// load fills status with the stored last change of each check, so that a
// restart does not record a change that did not happen; changes observed
// before it finished are kept only where they differ from what was stored.
func (r *Recorder) load(ctx context.Context) error {
	last, err := r.st.LastCheckChanges(ctx)
	if err != nil {
		return err
	}
	stored := make(map[key]string, len(last))
	for _, c := range last {
		stored[key{c.Check, c.Host}] = c.Status
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	seen := map[key]bool{}
	kept := r.changes[:0]
	for _, c := range r.changes {
		k := key{c.Check, c.Host}
		if !seen[k] {
			seen[k] = true
			if stored[k] == c.Status {
				continue // the status it already had
			}
		}
		kept = append(kept, c)
	}
	r.changes = kept
	for k, s := range stored {
		if r.series[k] == nil {
			r.series[k] = &series{status: s}
		}
	}
	r.loaded = true
	return nil
}

// Flush writes everything gathered, the minutes still running too (a
// minute written in parts adds up in the store).
func (r *Recorder) Flush(ctx context.Context) error { return r.flush(ctx, time.Time{}) }

// FlushEnded is one of Run's periodic writes at now: the changes and the
// minutes that ended before now's.
func (r *Recorder) FlushEnded(ctx context.Context, now time.Time) error {
	return r.flush(ctx, now.UTC().Truncate(time.Minute))
}

// flush writes the changes and the samples of minutes before until (all of
// them when until is zero). What could not be written is kept for the next
// flush (bounded: see keepMax).
func (r *Recorder) flush(ctx context.Context, until time.Time) error {
	r.flushMu.Lock()
	defer r.flushMu.Unlock()
	r.mu.Lock()
	loaded := r.loaded
	r.mu.Unlock()
	if !loaded {
		if err := r.load(ctx); err != nil {
			return err
		}
	}
	r.mu.Lock()
	samples := r.pending
	for _, se := range r.series {
		if s := &se.sample; !s.At.IsZero() && (until.IsZero() || s.At.Before(until)) {
			samples = append(samples, *s)
			s.At = time.Time{}
		}
	}
	changes := r.changes
	r.pending, r.changes = nil, nil
	r.mu.Unlock()
	if len(samples) == 0 && len(changes) == 0 {
		return nil
	}

	// In parts of flushBatch: the store's one writer is not held for the
	// seconds 200,000 checks' minute takes in one transaction.
	var err error
	for len(samples) > 0 || len(changes) > 0 {
		ns := min(len(samples), flushBatch)
		nc := min(len(changes), flushBatch-ns)
		if err = r.st.AddCheckHistory(ctx, samples[:ns], changes[:nc]); err != nil {
			break
		}
		samples, changes = samples[ns:], changes[nc:]
	}
	if err != nil {
		// Put what was not written back in front of what came meanwhile;
		// an outage longer than keepMax minutes of samples drops the oldest.
		r.mu.Lock()
		r.pending = append(samples, r.pending...)
		if n := len(r.pending) - keepMax; n > 0 {
			r.pending = r.pending[n:]
		}
		r.changes = append(changes, r.changes...)
		if n := len(r.changes) - keepMax; n > 0 {
			r.changes = r.changes[n:]
		}
		r.mu.Unlock()
	}
	return err
}

// flushBatch is how many samples and changes one store write carries.
const flushBatch = 2000

// keepMax bounds what a Recorder holds while the store refuses writes.
const keepMax = 100_000

// Run writes, every FlushEvery until ctx ends, the changes and the minutes
// that have ended (each minute is written once, an insert: no row is
// rewritten every few seconds), then everything once more.
func (r *Recorder) Run(ctx context.Context) {
	tick.Every(ctx, FlushEvery, func() {
		if err := r.FlushEnded(ctx, r.now()); err != nil && ctx.Err() == nil {
			r.log.Warn("check history not written; kept for the next try", "err", err)
		}
	})
	final, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := r.Flush(final); err != nil {
		r.log.Warn("check history: last write failed", "err", err)
	}
}
