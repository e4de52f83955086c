package alert

import (
	"maps"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/munja-sms/munja/config"
)

// Dependencies: one page for one cause.
//
// A check may depend on others of its host (checks[*].depends_on for this
// host, what its agent reports for another) and on an agent's host
// ("host:NAME", the HostCheck of that host). A check on an agent's host
// always depends on that host. While a check it depends on fails (pending
// or firing) or cannot check, the alerts of the check's incidents (first,
// reminders, escalation, flapping, cannot-check) are held and the check
// and incident show SuppressedBy; recoveries are never held (decide sends
// them to whoever was paged, and to nobody when the first alert never
// went out). When the dependencies recover while the check still fails,
// its alert goes out then. A dependency in a cycle with the check (only an
// agent can report one; the config refuses them) never holds it, so the
// root cause is never hidden.
//
// Because a dependency may fail a moment after its dependent noticed (a
// process's exit is seen at once, the port it listened on at the next
// run), a dependent's first alert also waits until each check it depends
// on has been looked at since the dependent fired, at most that check's
// interval and timeout (notBefore); after a hold ends it waits likewise
// for the dependent itself to be looked at again. Flush, which follows a
// run of every check (munja check --notify), does not wait.

const prefixDeps = "alert/deps/"

func depsKey(host string) string { return prefixDeps + url.PathEscape(host) }

// node is one check on one host ("" = this host).
type node struct{ check, host string }

// SetDepends records what the checks of an agent's host depend on, as its
// agent reported (check name → depends_on as written in its config); the
// latest report replaces the previous one. Checks of this host take theirs
// from the config.
func (e *Engine) SetDepends(host string, deps map[string][]string) {
	if e.readOnly {
		return
	}
	e.mu.Lock()
	if host == "" || host == e.cc.localHost {
		e.mu.Unlock()
		return
	}
	clean := map[string][]string{}
	for name, list := range deps {
		if len(list) > 0 {
			clean[name] = slices.Clone(list)
		}
	}
	if maps.EqualFunc(clean, e.hostDeps[host], slices.Equal) {
		e.mu.Unlock()
		return
	}
	if len(clean) == 0 {
		delete(e.hostDeps, host)
	} else {
		e.hostDeps[host] = clean
	}
	e.markDirty(depsKey(host))
	e.mu.Unlock()
	e.wakeup()
}

// depsOf lists what a check depends on, as written; a check of an agent's
// host depends on that host first. Caller holds e.mu.
func (e *Engine) depsOf(n node) []string {
	if n.host == "" {
		return e.cc.check(n.check).dependsOn
	}
	if n.check == e.hostCheck {
		return nil
	}
	return append([]string{config.HostDependency + n.host}, e.hostDeps[n.host][n.check]...)
}

// target is the check a dependency of a check on host names, if any.
// Caller holds e.mu.
func (e *Engine) target(dep, host string) (node, bool) {
	if h, ok := strings.CutPrefix(dep, config.HostDependency); ok {
		if h == "" || h == e.cc.localHost {
			return node{}, false // this host has no agent to be silent
		}
		return node{e.hostCheck, h}, true
	}
	return node{dep, host}, dep != ""
}

// failing reports whether a check fails (pending or firing) or cannot check
// now. Caller holds e.mu.
func (e *Engine) failing(n node) bool {
	st := e.checks.get(n.check, n.host)
	return st != nil && (st.Status == statusFiring || st.Status == statusPending || !st.blindSince().IsZero())
}

// heldBy lists the dependencies of n that fail or cannot check now and do
// not themselves depend on n. Caller holds e.mu.
func (e *Engine) heldBy(n node) []string {
	var out []string
	for _, dep := range e.depsOf(n) {
		t, ok := e.target(dep, n.host)
		if !ok || t == n || slices.Contains(out, dep) {
			continue
		}
		if e.failing(t) && !e.reaches(t, n, map[node]bool{}) {
			out = append(out, dep)
		}
	}
	return out
}

// reaches reports whether from depends on to, directly or through others.
// Caller holds e.mu.
func (e *Engine) reaches(from, to node, seen map[node]bool) bool {
	if from == to {
		return true
	}
	seen[from] = true
	for _, dep := range e.depsOf(from) {
		if t, ok := e.target(dep, from.host); ok && !seen[t] && e.reaches(t, to, seen) {
			return true
		}
	}
	return false
}

// settle is how long n may take to report again. Caller holds e.mu.
func (e *Engine) settle(n node) time.Duration {
	if n.host == "" {
		return e.cc.check(n.check).settle
	}
	return e.cc.settle
}

// notBefore is when the first alert of inc (of check n, state st) may go
// out: once each check n depends on was looked at since inc started, and,
// after a hold ended, once n was looked at again, each at most its settle
// time. It marks the checks waited for in e.awaiting, so their next result
// wakes Run. Host dependencies are not waited for: an agent's silence is
// noticed only after its grace. Caller holds e.mu.
func (e *Engine) notBefore(inc *incident, n node, st *checkState, now time.Time) time.Time {
	if !inc.FirstNotified.IsZero() {
		return time.Time{}
	}
	var nb time.Time
	wait := func(w node, since time.Time) {
		if ws := e.checks.get(w.check, w.host); ws != nil && !ws.Last.At.Before(since) {
			return
		}
		until := since.Add(e.settle(w))
		if now.Before(until) {
			e.awaiting[w] = true
			if until.After(nb) {
				nb = until
			}
		}
	}
	for _, dep := range e.depsOf(n) {
		if strings.HasPrefix(dep, config.HostDependency) {
			continue
		}
		if t, ok := e.target(dep, n.host); ok && t != n {
			wait(t, inc.Started)
		}
	}
	if !inc.Released.IsZero() && st.Last.At.Before(inc.Released) {
		wait(n, inc.Released)
	}
	return nb
}

// stateOf returns the check state an open incident belongs to, or nil.
// Caller holds e.mu.
func (e *Engine) stateOf(inc *incident) *checkState {
	st := e.checks.get(inc.Check, inc.Host)
	if st == nil || (st.incident() != inc.ID && st.blind() != inc.ID) {
		return nil
	}
	return st
}

// hold fills in the dependency part of cfg for inc, and records it on inc
// (noteHold): who holds it, and how long its first alert waits (no wait
// when final). Caller holds e.mu.
func (e *Engine) hold(inc *incident, cfg *effectiveCfg, now time.Time, final bool) {
	if inc.closed() {
		return // recoveries are never held
	}
	st := e.stateOf(inc)
	if st == nil {
		return
	}
	n := node{st.Check, st.Host}
	cfg.HeldBy = e.heldBy(n)
	e.noteHold(inc, cfg.HeldBy, now)
	if len(cfg.HeldBy) == 0 && !final {
		cfg.FirstNotBefore = e.notBefore(inc, n, st, now)
	}
}

// noteHold records on an open incident who holds it now (SuppressedBy),
// who held it last and when that hold ended. Caller holds e.mu.
func (e *Engine) noteHold(inc *incident, held []string, now time.Time) {
	if inc.closed() || slices.Equal(inc.SuppressedBy, held) {
		return
	}
	if len(held) == 0 {
		inc.Released = now
		e.log.Info("alert no longer held: the checks it depends on recovered", "check", inc.Check, "host", inc.Host, "incident", inc.ID, "was_held_by", inc.SuppressedBy)
	} else {
		inc.HeldBy = slices.Clone(held)
		e.log.Info("alert held: a check it depends on fails", "check", inc.Check, "host", inc.Host, "incident", inc.ID, "held_by", held)
	}
	inc.SuppressedBy = slices.Clone(held)
	e.markDirty(incidentKey(inc.ID))
}

// noteHeldAtClose sets SuppressedBy of an incident of st about to resolve:
// those holding it now, or, when its first alert never went out, those
// that held it. Caller holds e.mu.
func (e *Engine) noteHeldAtClose(inc *incident, st *checkState) {
	held := e.heldBy(node{st.Check, st.Host})
	switch {
	case len(held) > 0:
		inc.HeldBy = held
	case inc.FirstNotified.IsZero() && len(inc.HeldBy) > 0:
		held = inc.HeldBy
	}
	inc.SuppressedBy = slices.Clone(held)
}

// suppressedBy is what Checks shows for st: who holds its alerts while it
// fails or cannot check. Caller holds e.mu.
func (e *Engine) suppressedBy(st *checkState) []string {
	if st.Status != statusFiring && st.Status != statusPending && st.blindSince().IsZero() {
		return nil
	}
	return e.heldBy(node{st.Check, st.Host})
}

// forgetDepends drops what host's agent reported. Caller holds e.mu.
func (e *Engine) forgetDepends(host string) {
	if _, ok := e.hostDeps[host]; ok {
		delete(e.hostDeps, host)
		e.markDirty(depsKey(host))
	}
}

// hostOfDepsKey is the host whose dependencies are stored under key.
func hostOfDepsKey(key string) (string, bool) {
	h, err := url.PathUnescape(strings.TrimPrefix(key, prefixDeps))
	return h, err == nil && h != ""
}
