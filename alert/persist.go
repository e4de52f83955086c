package alert

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
	"unique"

	"github.com/munja-sms/munja/check"
	"github.com/munja-sms/munja/store"
)

// Keys under which the engine keeps its state (store.AlertState).
const (
	prefixAll      = "alert/"
	prefixCheck    = "alert/check/"
	prefixIncident = "alert/incident/"
	prefixSilence  = "alert/silence/"
	prefixToken    = "alert/token/"

	// incidentRetention is how long finished incidents stay readable.
	incidentRetention = 30 * 24 * time.Hour
	// historyFlush is how often history-only changes are written (see
	// saveKeys).
	historyFlush = time.Minute
)

func incidentKey(id string) string { return prefixIncident + id }
func silenceKey(id string) string  { return prefixSilence + id }
func tokenKey(hash string) string  { return prefixToken + hash }

// markDirty schedules key to be written (or deleted) by the next save.
// Caller holds e.mu.
func (e *Engine) markDirty(key string) {
	e.dirty[key] = true
	e.dirtySeq++
}

// SaveChanges writes what results observed so far changed (failures,
// incidents; not new or healthy checks, which the next report would bring
// back the same), unless a save has written it already. The agent report
// handler calls it before answering 202, so a kill -9 after the answer
// loses nothing the report changed. Concurrent callers share saves (group
// commit): while one save writes, the reports arriving meanwhile wait for
// saveMu, and the first of them writes all their changes in one
// transaction; the others find them written and return.
func (e *Engine) SaveChanges(ctx context.Context) error {
	e.mu.Lock()
	want := e.dirtySeq
	e.mu.Unlock()
	// Read without saveMu: a report that changed nothing must not wait
	// for a save in progress.
	if e.savedSeq.Load() >= want {
		return nil
	}
	e.saveMu.Lock()
	defer e.saveMu.Unlock()
	if e.savedSeq.Load() >= want {
		return nil // written by the save this call waited for
	}
	var f saveFailures
	e.saveDirty(ctx, &f, 0)
	return e.failed(&f)
}

// ChangeSeq counts the changes SaveChanges writes (failures, incidents)
// observed so far: a report handler reads it before and after observing a
// report and calls SaveChanges only when it moved, so the reports that
// changed nothing (nearly all of them) never wait for a write.
func (e *Engine) ChangeSeq() uint64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.dirtySeq
}

// value returns the JSON to store under key, or nil if it is to be deleted.
// A check's result history goes with it. Caller holds e.mu.
func (e *Engine) value(key string) ([]byte, error) {
	var v any
	switch {
	case strings.HasPrefix(key, prefixCheck):
		// Only under its own key: a record under another spelling of it
		// (see Load) is deleted.
		if st := e.checks.checkAt(key); st != nil && st.key() == key {
			return e.encodeCheck(st)
		}
	case strings.HasPrefix(key, prefixIncident):
		if inc := e.incidents[strings.TrimPrefix(key, prefixIncident)]; inc != nil {
			v = inc
		}
	case strings.HasPrefix(key, prefixSilence):
		if s := e.silences[strings.TrimPrefix(key, prefixSilence)]; s != nil {
			v = s
		}
	case strings.HasPrefix(key, prefixToken):
		if t := e.tokens[strings.TrimPrefix(key, prefixToken)]; t != nil {
			v = t
		}
	case strings.HasPrefix(key, prefixDeps):
		if h, ok := hostOfDepsKey(key); ok && e.hostDeps[h] != nil {
			v = e.hostDeps[h]
		}
	}
	if v == nil {
		return nil, nil
	}
	return json.Marshal(v)
}

// encodeCheck is the JSON of st as it is stored; its result history goes
// with it. Caller holds e.mu.
func (e *Engine) encodeCheck(st *checkState) ([]byte, error) {
	if st.histDirty {
		st.histDirty = false
		e.histDirty--
	}
	return json.Marshal(st.stored())
}

// markLazy schedules st, new or back to health, to be written by a later
// save, batch by batch (see saveKeys). Caller holds e.mu.
func (e *Engine) markLazy(st *checkState) {
	if !st.lazy {
		st.lazy = true
		e.lazy = append(e.lazy, st)
	}
}

// Saving: changed records (dirty) are written by every evaluation, in
// batches of saveBatch records, one store transaction each where the store
// takes batches (store.StateBatcher); Observe only marks them. Checks whose
// only change is their result history are written once a historyFlush, at
// most historyPerTick of them per evaluation (a server taking 10,000 agents'
// reports has 200,000), the rest by the evaluations right after.
const (
	saveBatch      = 500
	historyPerTick = 4 * saveBatch
	// allHistory makes saveKeys write every check whose history changed.
	allHistory = -1
)

// save writes every dirty key. Failed writes stay dirty.
func (e *Engine) save(ctx context.Context) error {
	return e.saveKeys(ctx, 0)
}

// queueHistory starts a round of history writes: every check whose history
// changed, in key order (so a round is resumed where it stopped). Caller
// holds e.mu.
func (e *Engine) queueHistory(now time.Time) {
	e.lastHistorySave = now
	// A new array: a save may still be writing the last round's checks.
	e.histQueue = make([]*checkState, 0, max(e.histDirty, 0))
	for st := range e.checks.all() {
		if st.histDirty {
			e.histQueue = append(e.histQueue, st)
		}
	}
	// In store key order, which keeps the store's writes near each other.
	slices.SortFunc(e.histQueue, func(a, b *checkState) int {
		return cmp.Or(strings.Compare(a.Check, b.Check), strings.Compare(a.Host, b.Host))
	})
}

// saveKeys writes every dirty key, then the new and healthy checks (lazy),
// then up to history checks of the history round (allHistory: every check
// whose history changed, queued or not). It stops at ctx's end; what was
// not written stays to be written.
func (e *Engine) saveKeys(ctx context.Context, history int) error {
	var f saveFailures
	e.saveMu.Lock()
	hist := e.saveDirty(ctx, &f, history)
	e.saveMu.Unlock()
	// The lazy and history-only records take saveMu batch by batch, so a
	// report waiting in SaveChanges waits for one batch of them, not for
	// all: in the first 10 s of 10,000 agents reporting, 200,000 checks are
	// new, and a round of history is as many.
	e.mu.Lock()
	lazy := e.lazy
	e.lazy = nil
	for _, st := range lazy {
		st.lazy = false
	}
	e.mu.Unlock()
	e.writeStates(ctx, lazy, false, &f)
	e.writeStates(ctx, hist, true, &f)
	return e.failed(&f)
}

// emptied returns m cleared, or a new map when m held many keys: a
// cleared map keeps its size, and the 200,000 checks that change in the
// first seconds after a restart would keep about 8 MB of it.
func emptied(m map[string]bool) map[string]bool {
	if len(m) > 1024 {
		return map[string]bool{}
	}
	clear(m)
	return m
}

// saveFailures collects the keys a save could not write and the first
// error.
type saveFailures struct {
	keys  []string
	first error
}

func (f *saveFailures) add(ks []string, err error) {
	f.keys = append(f.keys, ks...)
	if f.first == nil {
		f.first = err
	}
}

// saveDirty writes every dirty key and, when all are written, records
// their sequence as saved; it returns up to history keys of the history
// round, for the caller to write. Caller holds e.saveMu.
func (e *Engine) saveDirty(ctx context.Context, f *saveFailures, history int) []*checkState {
	e.mu.Lock()
	seq := e.dirtySeq
	keys := make([]string, 0, len(e.dirty))
	for k := range e.dirty {
		keys = append(keys, k)
	}
	e.dirty = emptied(e.dirty)
	if history == allHistory {
		e.queueHistory(e.clock.Now())
		history = len(e.histQueue)
	}
	n := min(history, len(e.histQueue))
	hist := e.histQueue[:n:n]
	e.histQueue = e.histQueue[n:]
	if len(e.histQueue) == 0 {
		e.histQueue = nil
	}
	e.mu.Unlock()

	failedBefore := len(f.keys)
	e.writeKeys(ctx, keys, f)
	if len(f.keys) == failedBefore {
		e.savedSeq.Store(seq)
	}
	return hist
}

// writeStates writes lazy or history-only check states, taking e.saveMu
// for each batch. A state dropped since it was listed is skipped (its
// deletion is a dirty key), and so is one of history written meanwhile
// with a change.
func (e *Engine) writeStates(ctx context.Context, sts []*checkState, fromHistory bool, f *saveFailures) {
	for len(sts) > 0 {
		chunk := sts[:min(saveBatch, len(sts))]
		sts = sts[len(chunk):]
		e.saveMu.Lock()
		e.writeChunks(ctx, len(chunk), func(i int) (string, bool) {
			st := chunk[i]
			if fromHistory && !st.histDirty || !e.checks.holds(st) {
				return "", false
			}
			return st.key(), true
		}, func(i int) ([]byte, error) { return e.encodeCheck(chunk[i]) }, f)
		e.saveMu.Unlock()
	}
}

// writeKeys writes the records of ks in batches of saveBatch (see
// writeChunks).
func (e *Engine) writeKeys(ctx context.Context, ks []string, f *saveFailures) {
	e.writeChunks(ctx, len(ks), func(i int) (string, bool) { return ks[i], true },
		func(i int) ([]byte, error) { return e.value(ks[i]) }, f)
}

// writeChunks writes n records in batches of saveBatch, each encoded and
// written under e.saveMu (held by the caller), so records reach the store
// in the order they were encoded. key(i) is record i's store key (false:
// nothing to write), value(i) its JSON (nil: delete it), both called under
// e.mu. Records not written are dirty again before e.saveMu is released,
// so no save after this one takes them for saved.
func (e *Engine) writeChunks(ctx context.Context, n int, key func(i int) (string, bool), value func(i int) ([]byte, error), f *saveFailures) {
	batch := make([]store.StateWrite, 0, min(saveBatch, n))
	before := len(f.keys)
	for lo := 0; lo < n; lo += saveBatch {
		hi := min(lo+saveBatch, n)
		batch = batch[:0]
		stopped := ctx.Err()
		e.mu.Lock()
		for i := lo; i < hi; i++ {
			k, ok := key(i)
			switch {
			case !ok:
			case stopped != nil:
				batch = append(batch, store.StateWrite{Key: k}) // only its key, for f
			default:
				v, err := value(i)
				if err != nil {
					f.add([]string{k}, fmt.Errorf("encode %s: %w", k, err))
					continue
				}
				batch = append(batch, store.StateWrite{Key: k, Value: v})
			}
		}
		e.mu.Unlock()
		err := stopped
		if err == nil {
			err = e.writeBatch(ctx, batch)
		}
		if err != nil {
			names := make([]string, len(batch))
			for i, w := range batch {
				names[i] = w.Key
			}
			f.add(names, err)
		}
	}
	if failed := f.keys[before:]; len(failed) > 0 {
		e.mu.Lock()
		for _, k := range failed {
			e.dirty[k] = true
		}
		e.mu.Unlock()
	}
}

// failed returns nil, or one error for the keys a save could not write
// (logged as one line, however many keys failed: a stop cut short with
// 200,000 checks must not log every key).
func (e *Engine) failed(f *saveFailures) error {
	if len(f.keys) == 0 {
		return nil
	}
	first := keyList(f.keys, 3)
	e.log.Error("alert state not saved", "records", len(f.keys), "first", first, "err", capText(f.first.Error(), 512))
	return fmt.Errorf("alert: %d state records not saved (first: %s): %w", len(f.keys), first, f.first)
}

// writeBatch stores one batch: in one transaction where the store takes
// batches, else record by record.
func (e *Engine) writeBatch(ctx context.Context, batch []store.StateWrite) error {
	if len(batch) == 0 {
		return nil
	}
	if b, ok := e.state.(store.StateBatcher); ok {
		return b.WriteStates(ctx, batch)
	}
	for _, w := range batch {
		var err error
		if w.Value == nil {
			err = e.state.DeleteState(ctx, w.Key)
			if errors.Is(err, errNotFound) {
				err = nil
			}
		} else {
			err = e.state.PutState(ctx, w.Key, w.Value)
		}
		if err != nil {
			return fmt.Errorf("save %s: %w", w.Key, err)
		}
	}
	return nil
}

// keyList is "a, b, c" for the first n keys, "…" after them when there
// are more.
func keyList(keys []string, n int) string {
	s := strings.Join(keys[:min(n, len(keys))], ", ")
	if len(keys) > n {
		s += ", …"
	}
	return capText(s, 512)
}

// capText cuts s to at most n bytes (on a UTF-8 boundary), saying so.
func capText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + fmt.Sprintf("… (%d bytes)", len(s))
}

// Load restores checks, incidents, silences, ack links and what agents'
// checks depend on from the store, then applies the current config: checks
// whose settings changed start afresh, checks no longer configured are
// dropped (their open incident is closed without a message). Call it once
// before Observe and Run.
func (e *Engine) Load(ctx context.Context) error {
	all, err := e.state.ListState(ctx, prefixAll)
	if err != nil {
		return fmt.Errorf("alert: load state: %w", err)
	}
	e.mu.Lock()
	for k, v := range all {
		var err error
		switch {
		case strings.HasPrefix(k, prefixCheck):
			var sc storedCheck
			if err = json.Unmarshal(v, &sc); err == nil {
				st := sc.state()
				if st.key() != k {
					// Not where this version keeps it: moved there.
					e.dirty[k], e.dirty[st.key()] = true, true
				}
				e.checks.put(st)
			}
		case strings.HasPrefix(k, prefixIncident):
			inc := &incident{}
			if err = json.Unmarshal(v, inc); err == nil {
				e.incidents[inc.ID] = inc
			}
		case strings.HasPrefix(k, prefixSilence):
			s := &Silence{}
			if err = json.Unmarshal(v, s); err == nil {
				e.silences[s.ID] = s
			}
		case strings.HasPrefix(k, prefixToken):
			t := &ackToken{}
			if err = json.Unmarshal(v, t); err == nil {
				e.tokens[strings.TrimPrefix(k, prefixToken)] = t
			}
		case strings.HasPrefix(k, prefixDeps):
			var deps map[string][]string
			h, ok := hostOfDepsKey(k)
			if err = json.Unmarshal(v, &deps); err == nil && ok && len(deps) > 0 {
				e.hostDeps[h] = deps
			}
		}
		if err != nil {
			// A record this version cannot read is dropped rather than
			// blocking start-up; the check rebuilds its state from results.
			e.log.Warn("alert state record unreadable, dropping it", "key", k, "err", err)
			e.dirty[k] = true
		}
	}
	e.reconcile(e.clock.Now())
	e.mu.Unlock()
	if e.readOnly {
		return nil
	}
	e.wakeup()
	return e.save(ctx)
}

// storedCheck is a checkState as it is stored under
// "alert/check/CHECK/HOST", the form every version wrote (the last result
// a whole check.Result), read with the result history of versions before
// "hist" (OldHistory).
type storedCheck struct {
	Check      string       `json:"check"`
	Host       string       `json:"host,omitempty"`
	Configured bool         `json:"configured,omitempty"`
	ConfigHash string       `json:"config_hash,omitempty"`
	Status     string       `json:"status"`
	Since      time.Time    `json:"since"`
	Fails      int32        `json:"fails,omitempty"`
	Oks        int32        `json:"oks,omitempty"`
	Incident   string       `json:"incident,omitempty"`
	Flips      []time.Time  `json:"flips,omitempty"`
	BlindSince time.Time    `json:"blind_since,omitzero"`
	Unknowns   int32        `json:"unknowns,omitempty"`
	Sees       int32        `json:"sees,omitempty"`
	Blind      string       `json:"blind,omitempty"`
	Last       check.Result `json:"last"`
	History    history      `json:"hist,omitzero"`
	// OldHistory is read only.
	OldHistory []HistoryPoint `json:"history,omitempty"`
}

// stored is st as it is written.
func (st *checkState) stored() *storedCheck {
	sc := &storedCheck{
		Check: st.Check, Host: st.Host, Configured: st.Configured, ConfigHash: st.ConfigHash.Value(),
		Status: st.Status.String(), Since: st.Since, Fails: st.Fails, Oks: st.Oks, Incident: st.incident(), Flips: st.flips(),
		Last: st.Last.result(st), History: st.History,
	}
	if s := st.sight; s != nil {
		sc.BlindSince, sc.Unknowns, sc.Sees, sc.Blind = s.BlindSince, s.Unknowns, s.Sees, s.Blind
	}
	return sc
}

// state is the checkState sc stored, its shared texts interned.
func (sc *storedCheck) state() *checkState {
	st := &checkState{
		Check: intern(sc.Check), Host: intern(sc.Host), Configured: sc.Configured,
		ConfigHash: unique.Make(sc.ConfigHash), Status: parseStatus(sc.Status), Since: sc.Since,
		Fails: sc.Fails, Oks: sc.Oks, History: sc.History,
	}
	if s := (sight{BlindSince: sc.BlindSince, Unknowns: sc.Unknowns, Sees: sc.Sees, Blind: sc.Blind}); s != (sight{}) {
		st.sight = &s
	}
	st.setFailing(sc.Incident, sc.Flips)
	st.Last.set(&sc.Last)
	if st.History.len() == 0 && len(sc.OldHistory) > 0 {
		st.History.setPoints(sc.OldHistory)
	}
	return st
}

// dropCheck deletes a check's state; its open incidents close without a
// message, noting why. Caller holds e.mu.
func (e *Engine) dropCheck(st *checkState, now time.Time, note string) {
	for _, id := range []string{st.incident(), st.blind()} {
		if inc := e.incidents[id]; inc != nil && !inc.closed() {
			e.closeIncident(inc, now, note)
		}
	}
	if st.histDirty {
		st.histDirty = false
		e.histDirty--
	}
	e.checks.remove(st)
	e.markDirty(st.key())
}

// reconcile applies the config to loaded state. Caller holds e.mu.
func (e *Engine) reconcile(now time.Time) {
	type reset struct {
		st   *checkState
		note string
	}
	var resets []reset
	for st := range e.checks.all() {
		cfg, configured := e.cc.checks[st.Check]
		switch {
		case configured && cfg.hash != st.ConfigHash.Value():
			resets = append(resets, reset{st, "check config changed"})
		case !configured && st.Configured:
			resets = append(resets, reset{st, "check removed from config"})
		}
	}
	for _, r := range resets {
		e.dropCheck(r.st, now, r.note)
		e.log.Info("alert state reset", "check", r.st.Check, "host", r.st.Host, "reason", r.note)
	}
	// Incidents whose check state is gone (never saved, or reset above)
	// cannot resolve any more: close them silently.
	open := map[string]bool{}
	for st := range e.checks.all() {
		for _, id := range []string{st.incident(), st.blind()} {
			if id != "" {
				open[id] = true
			}
		}
	}
	for _, inc := range e.incidents {
		if !inc.closed() && !open[inc.ID] {
			e.closeIncident(inc, now, "check state reset")
		}
	}
}

// prune forgets finished incidents older than incidentRetention. Caller
// holds e.mu.
func (e *Engine) prune(now time.Time) {
	cut := now.Add(-incidentRetention)
	for id, inc := range e.incidents {
		if inc.Done && inc.closed() && inc.Resolved.Before(cut) {
			delete(e.incidents, id)
			e.markDirty(incidentKey(id))
		}
	}
}
