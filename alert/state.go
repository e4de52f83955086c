package alert

import (
	"cmp"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"time"
	"unique"

	"github.com/munja-sms/munja/check"
)

const historySize = 50

// checkState is the state machine of one check on one host; persisted as
// JSON under "alert/check/CHECK/HOST" (storedCheck). A server taking
// 10,000 agents' reports holds 200,000 of them: it is 184 bytes, its
// result history 128 more (history), its last result's details one string
// (lastResult).
//
// It is two machines side by side. Status, Fails, Oks and Incident (fail) follow
// what the check watches, from the results that could look (ok or
// failing). BlindSince, Unknowns, Sees and Blind (sight) follow whether
// the check can look at all, from every result:
//   - results that cannot check (check.Result Unknown), failures of them
//     in a row, open a cannot-check incident ("[경고] oom 점검 불가: …");
//   - successes results in a row that could look (ok or failing) resolve
//     it ("[복구] oom 점검이 다시 동작합니다.");
//   - a result that cannot check says nothing about what the check
//     watches: a failing incident stays open (no recovery is claimed, no
//     second alert sent), pending failures keep their count, and only a
//     streak of successes is broken.
//
// So a check going from cannot-check to failing closes one incident and
// opens the other; both messages, due together, go out as one (see
// foldSeesAgain). Cannot-check incidents do not flap (alerting.flapping
// counts changes of the failing machine only).
type checkState struct {
	Check      string // interned, as Host
	Host       string
	ConfigHash unique.Handle[string] // of the check's settings (checkCfg.hash)
	Since      time.Time
	fail       *failing // its open incident and flips; nil while none
	sight      *sight   // the cannot-check machine; nil while it is all zero
	Fails      int32    // consecutive, capped at the threshold
	Oks        int32
	Last       lastResult
	History    history
	Status     checkStatus
	Configured bool
	// histDirty: its result history changed since it was last written
	// (the engine's histDirty counts these).
	histDirty bool
	// lazy: it is in the engine's lazy list, to be written by a later
	// save (markLazy).
	lazy bool
}

// failing is what the failing machine of a check state keeps beyond its
// status and counts, only while some of it is set (a check that never
// fired keeps none of it).
type failing struct {
	Incident string      // open failing incident ID
	Flips    []time.Time // firing<->ok changes within the flapping window
}

// incident is the ID of st's open failing incident, if any.
func (st *checkState) incident() string {
	if st.fail == nil {
		return ""
	}
	return st.fail.Incident
}

// flips are st's firing<->ok changes within the flapping window.
func (st *checkState) flips() []time.Time {
	if st.fail == nil {
		return nil
	}
	return st.fail.Flips
}

func (st *checkState) setIncident(id string) {
	st.setFailing(id, st.flips())
}

func (st *checkState) setFlips(flips []time.Time) {
	st.setFailing(st.incident(), flips)
}

func (st *checkState) setFailing(id string, flips []time.Time) {
	if len(flips) == 0 {
		flips = nil
	}
	switch {
	case id == "" && flips == nil:
		st.fail = nil
	case st.fail == nil:
		st.fail = &failing{Incident: id, Flips: flips}
	default:
		st.fail.Incident, st.fail.Flips = id, flips
	}
}

// sight is what the cannot-check machine of a check state keeps, only
// while some of it is set: a check whose results can look and that has no
// cannot-check incident open (nearly every one) keeps none of it.
type sight struct {
	BlindSince time.Time // since when results cannot check; zero when the last could
	Unknowns   int32     // cannot-check results in a row, capped at failures
	Sees       int32     // results that could look in a row while Blind is open
	Blind      string    // open cannot-check incident ID
}

// blindSince is since when st's results cannot check (zero when its last
// could).
func (st *checkState) blindSince() time.Time {
	if st.sight == nil {
		return time.Time{}
	}
	return st.sight.BlindSince
}

// blind is the ID of st's open cannot-check incident, if any.
func (st *checkState) blind() string {
	if st.sight == nil {
		return ""
	}
	return st.sight.Blind
}

// checkStatus is a check state's status (what Checks reports as its State
// unless it cannot check) in one byte.
type checkStatus uint8

const (
	statusUnknown checkStatus = iota
	statusOK
	statusPending
	statusFiring
)

var statusNames = [...]string{statusUnknown: StateUnknown, statusOK: StateOK, statusPending: StatePending, statusFiring: StateFiring}

func (s checkStatus) String() string { return statusNames[s] }

// parseStatus reads a stored status; one this version does not know is
// unknown (no result seen: the next result sets it).
func parseStatus(s string) checkStatus {
	for i, name := range statusNames {
		if name == s {
			return checkStatus(i)
		}
	}
	return statusUnknown
}

// quiet reports whether the check is healthy with nothing pending or open.
func (st *checkState) quiet() bool {
	return st.Status == statusOK && st.Fails == 0 && (st.sight == nil || st.sight.Unknowns == 0) &&
		st.blindSince().IsZero() && st.incident() == "" && st.blind() == ""
}

// checkKey is the store key of check name on host: "alert/check/NAME/HOST",
// each part path-escaped (parseCheckKey reads it back).
func checkKey(name, host string) string {
	return prefixCheck + url.PathEscape(name) + "/" + url.PathEscape(host)
}

// observe feeds one result into the check's state machine. It reports
// whether something that must be persisted and acted on changed (a
// transition), or a first alert waits for this result (notBefore);
// history-only updates return false. Caller holds e.mu.
func (e *Engine) observe(r check.Result, now time.Time) bool {
	host := r.Host
	if host == e.cc.localHost {
		host = ""
	}
	cfg := e.cc.check(r.Check)
	st := e.checks.get(r.Check, host)
	changed := false
	if st == nil {
		st = &checkState{Check: intern(r.Check), Host: intern(host), Configured: cfg.configured,
			ConfigHash: unique.Make(cfg.hash), Status: statusUnknown, Since: now}
		e.checks.put(st)
		changed = true
	}
	at := r.At
	if at.IsZero() {
		at = now
	}
	r.Host = host
	if r.Unknown {
		r.OK = false // never counted healthy
	}
	st.Last.set(&r)
	st.History.add(at, r.OK, r.Unknown)

	if e.observeSight(st, cfg, r, now) {
		changed = true
	}
	switch {
	case r.Unknown:
		// Says nothing about what the check watches: only a streak of
		// successes is broken.
		if st.Oks != 0 {
			st.Oks, changed = 0, true
		}
	case !r.OK:
		if st.Oks != 0 {
			st.Oks, changed = 0, true
		}
		if int(st.Fails) < cfg.failures {
			st.Fails, changed = st.Fails+1, true
		}
		inc := e.incidents[st.incident()]
		open := inc != nil && !inc.closed()
		switch {
		case st.Status == statusFiring && open:
			if r.Firing != "" && inc.Text != r.Firing || inc.Detail != r.Detail || inc.DetailKo != r.DetailKo {
				inc.Text = cmp.Or(r.Firing, inc.Text)
				inc.Detail, inc.DetailKo = r.Detail, r.DetailKo
				e.markDirty(incidentKey(inc.ID))
			}
		case int(st.Fails) >= cfg.failures:
			// Also a firing check whose incident record was lost: it
			// must not stay firing without anyone being told.
			e.fire(st, cfg, r, now)
			changed = true
		case st.Status != statusPending:
			st.Status, st.Since, changed = statusPending, now, true
		}
	default:
		if st.Fails != 0 {
			st.Fails, changed = 0, true
		}
		switch {
		case st.Status == statusFiring:
			if int(st.Oks) < cfg.successes {
				st.Oks, changed = st.Oks+1, true
			}
			if int(st.Oks) >= cfg.successes {
				e.resolve(st, r, now)
			}
		case st.Status != statusOK:
			st.Status, st.Since, changed = statusOK, now, true
		}
	}
	switch {
	case changed && st.quiet():
		// A new check, or one back to health: written by the next
		// evaluation, not before the report is acknowledged (a report
		// lost to a kill -9 here would find it the same again).
		e.markLazy(st)
	case changed:
		e.markDirty(st.key())
	case !st.histDirty:
		st.histDirty = true
		e.histDirty++
	}
	if n := (node{r.Check, host}); e.awaiting[n] {
		delete(e.awaiting, n)
		return true
	}
	return changed
}

// observeSight runs the cannot-check machine (see checkState) on r and
// reports whether it changed. Caller holds e.mu.
func (e *Engine) observeSight(st *checkState, cfg checkCfg, r check.Result, now time.Time) bool {
	if st.sight == nil {
		if !r.Unknown {
			return false // it sees, and no cannot-check incident is open
		}
		st.sight = &sight{}
	}
	s := st.sight
	defer func() {
		if *s == (sight{}) {
			st.sight = nil
		}
	}()
	changed := false
	blind := e.incidents[s.Blind]
	open := blind != nil && !blind.closed()
	if !open && s.Blind != "" {
		s.Blind, s.Sees, changed = "", 0, true // its record was lost
	}
	if r.Unknown {
		if s.BlindSince.IsZero() {
			s.BlindSince, changed = now, true
		}
		if s.Sees != 0 {
			s.Sees, changed = 0, true
		}
		if int(s.Unknowns) < cfg.failures {
			s.Unknowns, changed = s.Unknowns+1, true
		}
		switch {
		case open:
			if r.Firing != "" && blind.Text != r.Firing || blind.Detail != r.Detail || blind.DetailKo != r.DetailKo {
				blind.Text = cmp.Or(r.Firing, blind.Text)
				blind.Detail, blind.DetailKo = r.Detail, r.DetailKo
				e.markDirty(incidentKey(blind.ID))
			}
		case int(s.Unknowns) >= cfg.failures:
			e.openBlind(st, cfg, r, now)
			changed = true
		}
		return changed
	}
	if !s.BlindSince.IsZero() {
		s.BlindSince, changed = time.Time{}, true
	}
	if s.Unknowns != 0 {
		s.Unknowns, changed = 0, true
	}
	if open {
		if int(s.Sees) < cfg.successes {
			s.Sees, changed = s.Sees+1, true
		}
		if int(s.Sees) >= cfg.successes {
			e.noteHeldAtClose(blind, st)
			e.closeIncident(blind, now, "")
			s.Blind, s.Sees, changed = "", 0, true
			e.log.Info("alert resolved: the check can look again", "check", st.Check, "host", st.Host, "incident", blind.ID)
		}
	}
	return changed
}

// openBlind opens the cannot-check incident of st, with the texts of r.
func (e *Engine) openBlind(st *checkState, cfg checkCfg, r check.Result, now time.Time) {
	sev := cmp.Or(cfg.severity, r.Severity).OrDefault()
	inc := &incident{
		Incident: Incident{
			ID: e.newIncidentID(now), Kind: KindCannotCheck, Check: st.Check, Host: st.Host, Severity: sev,
			Text:   cmp.Or(r.Firing, check.CannotCheckText(st.Check, "점검 대상을 볼 수 없습니다")),
			Detail: r.Detail, DetailKo: r.DetailKo, Started: now,
		},
		ResolvedText: cmp.Or(r.Resolved, check.SeesAgainText(st.Check)),
	}
	e.incidents[inc.ID] = inc
	st.sight.Blind, st.sight.Sees = inc.ID, 0
	e.markDirty(incidentKey(inc.ID))
	e.log.Warn("alert firing: the check cannot check", "check", st.Check, "host", st.Host, "incident", inc.ID, "text", inc.Text, "detail", r.Detail)
}

// flip records a firing<->ok change and reports whether the check is now
// flapping.
func (e *Engine) flip(st *checkState, now time.Time) bool {
	if e.cc.flapChange <= 0 {
		st.setFlips(nil)
		return false
	}
	flips := append(st.flips(), now)
	cut := now.Add(-e.cc.flapWindow)
	for len(flips) > 0 && flips[0].Before(cut) {
		flips = flips[1:]
	}
	st.setFlips(flips)
	return len(flips) >= e.cc.flapChange
}

func (e *Engine) fire(st *checkState, cfg checkCfg, r check.Result, now time.Time) {
	st.Status, st.Since, st.Oks = statusFiring, now, 0
	flapping := e.flip(st, now)
	if inc := e.incidents[st.incident()]; inc != nil && !inc.closed() {
		// Kept open across flips while flapping.
		inc.Text, inc.Detail, inc.DetailKo = cmp.Or(r.Firing, inc.Text), r.Detail, r.DetailKo
		e.startFlapping(inc, flapping, now)
		e.markDirty(incidentKey(inc.ID))
		return
	}
	sev := cmp.Or(cfg.severity, r.Severity).OrDefault()
	inc := &incident{Incident: Incident{
		ID: e.newIncidentID(now), Check: st.Check, Host: st.Host, Severity: sev,
		Text: r.Firing, Detail: r.Detail, DetailKo: r.DetailKo, Started: now,
	}}
	e.startFlapping(inc, flapping, now)
	e.incidents[inc.ID] = inc
	st.setIncident(inc.ID)
	e.markDirty(incidentKey(inc.ID))
	e.log.Info("alert firing", "check", st.Check, "host", st.Host, "incident", inc.ID, "text", r.Firing)
}

func (e *Engine) startFlapping(inc *incident, flapping bool, now time.Time) {
	if flapping && !inc.Flapping {
		inc.Flapping, inc.FlapStart = true, now
		e.log.Warn("alert flapping", "check", inc.Check, "host", inc.Host, "incident", inc.ID)
	}
}

func (e *Engine) resolve(st *checkState, r check.Result, now time.Time) {
	st.Status, st.Since, st.Oks, st.Fails = statusOK, now, 0, 0
	flapping := e.flip(st, now)
	inc := e.incidents[st.incident()]
	if inc == nil || inc.closed() {
		st.setIncident("")
		return
	}
	inc.ResolvedText = r.Resolved
	e.markDirty(incidentKey(inc.ID))
	e.startFlapping(inc, flapping, now)
	if inc.Flapping {
		return
	}
	e.noteHeldAtClose(inc, st)
	e.closeIncident(inc, now, "")
	st.setIncident("")
	e.log.Info("alert resolved", "check", st.Check, "host", st.Host, "incident", inc.ID)
}

// closeIncident resolves inc and invalidates its ack links. A non-empty
// note closes it silently (no recovery message).
func (e *Engine) closeIncident(inc *incident, now time.Time, note string) {
	inc.Resolved = now
	inc.Flapping = false
	if note != "" {
		inc.Note, inc.Done = note, true
	}
	e.markDirty(incidentKey(inc.ID))
	for h, t := range e.tokens {
		if t.drop(inc.ID) {
			delete(e.tokens, h)
			e.markDirty(tokenKey(h))
		}
	}
}

// endFlapping closes flapping periods that have been stable for a window:
// the incident then reports its final state once. It returns when the
// next flapping period may end.
func (e *Engine) endFlapping(now time.Time) time.Time {
	var next time.Time
	// By incident: a server taking agents' reports has 200,000 checks
	// and a handful of flapping incidents.
	for _, inc := range e.incidents {
		if !inc.Flapping {
			continue
		}
		st := e.checks.get(inc.Check, inc.Host)
		if st == nil || st.incident() != inc.ID {
			continue
		}
		var last time.Time
		if flips := st.flips(); len(flips) > 0 {
			last = flips[len(flips)-1]
		}
		end := last.Add(e.cc.flapWindow)
		if now.Before(end) {
			if next.IsZero() || end.Before(next) {
				next = end
			}
			continue
		}
		st.setFlips(nil)
		inc.Flapping = false
		e.markDirty(st.key())
		e.markDirty(incidentKey(inc.ID))
		if st.Status == statusFiring {
			inc.Fired = nil // the final state goes out as a fresh firing message
			e.log.Info("alert stopped flapping, still firing", "check", st.Check, "incident", inc.ID)
			continue
		}
		e.noteHeldAtClose(inc, st)
		e.closeIncident(inc, now, "")
		st.setIncident("")
		e.log.Info("alert stopped flapping, resolved", "check", st.Check, "incident", inc.ID)
	}
	return next
}

func (e *Engine) newIncidentID(now time.Time) string {
	var b [3]byte
	_, _ = rand.Read(b[:])
	return now.In(e.cc.loc).Format("20060102-150405") + "-" + hex.EncodeToString(b[:])
}
