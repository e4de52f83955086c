// Package checkhist keeps what checks found over time: it sums results into
// a sample per check and minute plus every change of status
// (store.CheckHistory), and reads them back as uptimes, chart points and a
// status timeline for the console and the API.
package checkhist

import (
	"context"
	"log/slog"
	"math"
	"slices"
	"strings"
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

// hostSeries is what a Recorder keeps of one host's checks: their series,
// ordered by check name. An agent's check costs 64 bytes (checkSeries);
// a map entry per check took about 110 more (200,000 of them at 10,000
// agents).
type hostSeries struct {
	host   string // interned
	checks []checkSeries
}

type checkSeries struct {
	check string // interned
	series
}

// get returns the series of check, added if new. Its address holds until
// the next get.
func (hs *hostSeries) get(check string) *checkSeries {
	i, found := slices.BinarySearchFunc(hs.checks, check, func(c checkSeries, name string) int {
		return strings.Compare(c.check, name)
	})
	if !found {
		if n := len(hs.checks); n == cap(hs.checks) {
			// Grown by an eighth, not doubled: a host's checks come
			// in its first report and stay.
			grown := make([]checkSeries, n, n+n/8+1)
			copy(grown, hs.checks)
			hs.checks = grown
		}
		hs.checks = slices.Insert(hs.checks, i, checkSeries{check: unique.Make(check).Value()})
	}
	return &hs.checks[i]
}

// host returns the series of host's checks, added if new. Caller holds
// r.mu.
func (r *Recorder) host(host string) *hostSeries {
	hs := r.hosts[host]
	if hs == nil {
		hs = &hostSeries{host: unique.Make(host).Value()}
		r.hosts[hs.host] = hs
	}
	return hs
}

// series is what a Recorder keeps of one check: 40 bytes.
type series struct {
	cur minuteSample // the running minute's sample
	// prev is the minute cur moved on from, until a flush writes it: the
	// minute ends for every check within a few seconds, and a slice of
	// 200,000 store.CheckSamples (21 MB, more as it grew) was garbage
	// every minute. 24 bytes until the flush.
	prev   *minuteSample
	status uint8 // last status seen (statusOf); 0 until known
}

// minuteSample is a store.CheckSample without its names: its minute and
// counts, 24 bytes. It is empty (no result) when its counts are zero. The
// counts stop at 65,535 results of a check in a minute (a check runs at
// most every second).
type minuteSample struct {
	minute                     int32 // Unix minutes
	ok, failing, unknown, latN uint16
	// latMax is the longest latency in microseconds, what the stores
	// keep of it (up to 71 minutes).
	latMax uint32
	latSum time.Duration
}

// micros is d in microseconds, at most math.MaxUint32.
func micros(d time.Duration) uint32 {
	return uint32(min(d/time.Microsecond, math.MaxUint32))
}

// count adds one to n, up to its maximum, and reports whether it did.
func count(n *uint16) bool {
	if *n == math.MaxUint16 {
		return false
	}
	*n++
	return true
}

func (m *minuteSample) empty() bool { return m.ok == 0 && m.failing == 0 && m.unknown == 0 }

func (m *minuteSample) sample(check, host string) store.CheckSample {
	return store.CheckSample{Check: check, Host: host, At: time.Unix(int64(m.minute)*60, 0).UTC(),
		OK: int(m.ok), Failing: int(m.failing), Unknown: int(m.unknown),
		LatencyN: int(m.latN), LatencySum: m.latSum, LatencyMax: time.Duration(m.latMax) * time.Microsecond}
}

// statuses are the history statuses as series keep them (index 0: none).
var statuses = [...]string{"", store.CheckOK, store.CheckFailing, store.CheckCannotCheck}

func statusCode(s string) uint8 {
	for i, x := range statuses {
		if x == s {
			return uint8(i)
		}
	}
	return 0
}

// Recorder gathers results in memory and writes them every FlushEvery. It
// is safe for concurrent use; Observe never waits on the store.
type Recorder struct {
	st        store.CheckHistory
	localHost string
	log       *slog.Logger
	now       func() time.Time

	mu sync.Mutex
	// hosts holds, by host, per check its last status and the running
	// minute's sample (names interned): the 200,000 checks of 10,000
	// agents.
	hosts map[string]*hostSeries
	// pending are samples not written: of a failed write, or a minute that
	// ended while the one before it was still not written.
	pending []store.CheckSample
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
		hosts: map[string]*hostSeries{}}
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
	minute := int32(at.Unix() / 60)
	if at.Unix() < 0 && at.Unix()%60 != 0 {
		minute-- // towards the past, as time.Truncate
	}
	status := Status(res)
	code := statusCode(status)

	r.mu.Lock()
	defer r.mu.Unlock()
	hs := r.host(host)
	se := hs.get(res.Check)
	s := &se.cur
	if !s.empty() && s.minute != minute {
		if se.prev != nil {
			// Not written yet (a write failed, or it was not due).
			r.pending = append(r.pending, se.prev.sample(se.check, hs.host))
		}
		p := *s
		se.prev = &p
		*s = minuteSample{}
	}
	if s.empty() {
		s.minute = minute
	}
	switch code {
	case 1:
		count(&s.ok)
	case 2:
		count(&s.failing)
	default:
		count(&s.unknown)
	}
	if res.Duration > 0 && !res.Unknown && count(&s.latN) {
		s.latSum += res.Duration
		s.latMax = max(s.latMax, micros(res.Duration))
	}
	if se.status != code {
		se.status = code
		r.changes = append(r.changes, store.CheckChange{Check: se.check, Host: hs.host, At: at, Status: status, Detail: res.Detail, DetailKo: res.DetailKo})
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
		if se := r.host(k.host).get(k.check); se.status == 0 {
			se.status = statusCode(s)
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
	samples, changes := r.pending, r.changes
	r.pending, r.changes = nil, nil
	// The hosts whose checks may have a minute to write; their samples
	// are taken a batch at a time (the series stay: a Recorder never drops
	// one). A list of the 10,000 hosts, not of the 200,000 checks (8 MB
	// and more every minute).
	due := make([]dueHost, 0, len(r.hosts))
	for _, hs := range r.hosts {
		due = append(due, dueHost{hs: hs})
	}
	r.mu.Unlock()

	// In parts of flushBatch: the store's one writer is not held for the
	// seconds 200,000 checks' minute takes in one transaction.
	var err error
	batch := make([]store.CheckSample, 0, flushBatch)
	for len(samples) > 0 || len(changes) > 0 || len(due) > 0 {
		ns := min(len(samples), flushBatch)
		batch = append(batch[:0], samples[:ns]...)
		samples = samples[ns:]
		if len(due) > 0 && len(batch) < flushBatch {
			r.mu.Lock()
			for len(due) > 0 && len(batch) < flushBatch-1 {
				d := &due[0]
				if d.next >= len(d.hs.checks) {
					due = due[1:]
					continue
				}
				// A check added meanwhile shifts the ones after it: one
				// may be looked at twice (its minute is taken once) or
				// not at all (taken by the next flush).
				se := &d.hs.checks[d.next]
				d.next++
				if p := se.prev; p != nil {
					batch = append(batch, p.sample(se.check, d.hs.host))
					se.prev = nil
				}
				if c := &se.cur; !c.empty() && r.ended(c, until) {
					batch = append(batch, c.sample(se.check, d.hs.host))
					*c = minuteSample{}
				}
			}
			r.mu.Unlock()
		}
		nc := min(len(changes), max(flushBatch-len(batch), 0))
		if len(batch) == 0 && nc == 0 {
			continue
		}
		if err = r.st.AddCheckHistory(ctx, batch, changes[:nc]); err != nil {
			samples = append(batch, samples...)
			break
		}
		changes = changes[nc:]
	}
	if err != nil {
		// Put what was not written back in front of what came meanwhile;
		// an outage longer than keepMax minutes of samples drops the oldest.
		// The checks not reached yet keep their samples.
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

// dueHost is a host whose checks a flush goes through, and the index of
// the next one.
type dueHost struct {
	hs   *hostSeries
	next int
}

// ended reports whether m's minute is before until's (every minute when
// until is zero).
func (r *Recorder) ended(m *minuteSample, until time.Time) bool {
	return until.IsZero() || int64(m.minute)*60 < until.Unix()
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
