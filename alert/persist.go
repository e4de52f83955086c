package alert

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
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
	// historyFlush is how often history-only changes are written.
	historyFlush = time.Minute
)

func incidentKey(id string) string { return prefixIncident + id }
func silenceKey(id string) string  { return prefixSilence + id }
func tokenKey(hash string) string  { return prefixToken + hash }

// markDirty schedules key to be written (or deleted) by the next save.
// Caller holds e.mu.
func (e *Engine) markDirty(key string) {
	e.dirty[key] = true
	delete(e.lightDirty, key)
}

// value returns the JSON to store under key, or nil if it is to be deleted.
// Caller holds e.mu.
func (e *Engine) value(key string) ([]byte, error) {
	var v any
	switch {
	case strings.HasPrefix(key, prefixCheck):
		if st := e.checks[key]; st != nil {
			v = st
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

// save writes every dirty key; with history set it also writes checks whose
// only change is their result history. Failed writes stay dirty.
func (e *Engine) save(ctx context.Context) error {
	return e.saveKeys(ctx, false)
}

func (e *Engine) saveKeys(ctx context.Context, history bool) error {
	e.saveMu.Lock()
	defer e.saveMu.Unlock()
	type write struct {
		key string
		val []byte
	}
	e.mu.Lock()
	if history {
		for k := range e.lightDirty {
			e.dirty[k] = true
		}
		clear(e.lightDirty)
		e.lastHistorySave = e.clock.Now()
	}
	writes := make([]write, 0, len(e.dirty))
	var errs []error
	for k := range e.dirty {
		v, err := e.value(k)
		if err != nil {
			errs = append(errs, fmt.Errorf("encode %s: %w", k, err))
			continue
		}
		writes = append(writes, write{k, v})
	}
	clear(e.dirty)
	e.mu.Unlock()

	var failed []string
	for _, w := range writes {
		var err error
		if w.val == nil {
			err = e.state.DeleteState(ctx, w.key)
			if errors.Is(err, errNotFound) {
				err = nil
			}
		} else {
			err = e.state.PutState(ctx, w.key, w.val)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("save %s: %w", w.key, err))
			failed = append(failed, w.key)
		}
	}
	if len(failed) > 0 {
		e.mu.Lock()
		for _, k := range failed {
			e.dirty[k] = true
		}
		e.mu.Unlock()
	}
	if err := errors.Join(errs...); err != nil {
		e.log.Error("alert state not saved", "err", err)
		return fmt.Errorf("alert: %w", err)
	}
	return nil
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
			st := &checkState{}
			if err = json.Unmarshal(v, st); err == nil {
				e.checks[k] = st
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

// dropCheck deletes a check's state; its open incidents close without a
// message, noting why. Caller holds e.mu.
func (e *Engine) dropCheck(key string, st *checkState, now time.Time, note string) {
	for _, id := range []string{st.Incident, st.Blind} {
		if inc := e.incidents[id]; inc != nil && !inc.closed() {
			e.closeIncident(inc, now, note)
		}
	}
	delete(e.checks, key)
	delete(e.lightDirty, key)
	e.markDirty(key)
}

// reconcile applies the config to loaded state. Caller holds e.mu.
func (e *Engine) reconcile(now time.Time) {
	for key, st := range e.checks {
		cfg, configured := e.cc.checks[st.Check]
		var note string
		switch {
		case configured && cfg.hash != st.ConfigHash:
			note = "check config changed"
		case !configured && st.Configured:
			note = "check removed from config"
		default:
			continue
		}
		e.dropCheck(key, st, now, note)
		e.log.Info("alert state reset", "check", st.Check, "host", st.Host, "reason", note)
	}
	// Incidents whose check state is gone (never saved, or reset above)
	// cannot resolve any more: close them silently.
	open := map[string]bool{}
	for _, st := range e.checks {
		for _, id := range []string{st.Incident, st.Blind} {
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
