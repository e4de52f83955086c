package alert

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/munja-sms/munja/store"
)

// Checks returns the status of every check on every host that reported,
// plus configured checks that have not reported yet (state unknown),
// ordered by check then host. A check whose latest result could not look
// is in state cannot_check, since the first of such results in a row.
func (e *Engine) Checks() []CheckStatus {
	now := e.clock.Now()
	e.mu.Lock()
	defer e.mu.Unlock()
	seen := map[string]bool{}
	out := make([]CheckStatus, 0, e.checks.len())
	for st := range e.checks.all() {
		seen[st.Check] = true
		cs := CheckStatus{
			Check: st.Check, Host: st.Host, State: st.Status.String(), Since: st.Since,
			Last: st.Last.result(st), History: st.History.points(),
		}
		if since := st.blindSince(); !since.IsZero() {
			cs.State, cs.Since = StateCannotCheck, since
		}
		if inc := e.incidents[st.incident()]; inc != nil && !inc.closed() {
			cs.Incident, cs.Flapping = inc.ID, inc.Flapping
		}
		if inc := e.incidents[st.blind()]; inc != nil && !inc.closed() && (cs.State == StateCannotCheck || cs.Incident == "") {
			cs.Incident = inc.ID
		}
		cs.Silenced, _ = e.silenced(st.Check, e.hostName(st.Host), now)
		cs.SuppressedBy = e.suppressedBy(st)
		out = append(out, cs)
	}
	for name := range e.cc.checks {
		if !seen[name] {
			silenced, _ := e.silenced(name, e.cc.localHost, now)
			out = append(out, CheckStatus{Check: name, State: StateUnknown, Silenced: silenced})
		}
	}
	slices.SortFunc(out, func(a, b CheckStatus) int {
		if c := strings.Compare(a.Check, b.Check); c != 0 {
			return c
		}
		return strings.Compare(a.Host, b.Host)
	})
	return out
}

// Incidents returns incidents newest first; openOnly limits them to those
// not resolved. Finished incidents are kept for 30 days.
func (e *Engine) Incidents(openOnly bool) []Incident {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]Incident, 0, len(e.incidents))
	for _, inc := range e.incidents {
		if openOnly && inc.closed() {
			continue
		}
		out = append(out, e.public(inc))
	}
	slices.SortFunc(out, func(a, b Incident) int {
		if c := b.Started.Compare(a.Started); c != 0 {
			return c
		}
		return strings.Compare(b.ID, a.ID)
	})
	return out
}

// Incident returns one incident, or an error wrapping store.ErrNotFound.
func (e *Engine) Incident(id string) (Incident, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	inc := e.incidents[id]
	if inc == nil {
		return Incident{}, fmt.Errorf("incident %q: %w", id, store.ErrNotFound)
	}
	return e.public(inc), nil
}

// public is the Incident of inc as shown; an open one is suppressed by
// the checks that hold it now. Caller holds e.mu.
func (e *Engine) public(inc *incident) Incident {
	p := inc.public()
	if st := e.stateOf(inc); st != nil && !inc.closed() {
		p.SuppressedBy = e.heldBy(node{st.Check, st.Host})
	}
	return p
}

func (i *incident) public() Incident {
	p := i.Incident
	p.SuppressedBy = slices.Clone(i.SuppressedBy)
	p.Notifications = slices.Clone(i.Notifications)
	for k := range p.Notifications {
		p.Notifications[k].Recipients = slices.Clone(p.Notifications[k].Recipients)
	}
	return p
}

// Forget drops every check state of a host whose agent was retired; its
// open incidents close without a message. It returns how many checks it
// dropped, or an error wrapping store.ErrNotFound when it knows nothing of
// host (this host, "", cannot be forgotten).
func (e *Engine) Forget(ctx context.Context, host string) (int, error) {
	if e.readOnly {
		return 0, ErrReadOnly
	}
	now := e.clock.Now()
	e.mu.Lock()
	n := 0
	if host != "" && host != e.cc.localHost {
		for _, st := range slices.Clone(e.checks.host(host)) {
			e.dropCheck(st, now, "host forgotten")
			n++
		}
		e.forgetDepends(host)
	}
	e.mu.Unlock()
	if n == 0 {
		return 0, fmt.Errorf("host %q: %w", host, store.ErrNotFound)
	}
	e.log.Info("host forgotten", "host", host, "checks", n)
	e.wakeup()
	return n, e.save(ctx)
}
