package alert

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/munja-sms/munja/sms"
)

// reasonOrder is the order messages of one tick are handed to the notifier.
var reasonOrder = []Reason{ReasonFirst, ReasonEscalation, ReasonFlapping, ReasonRepeat, ReasonResolved}

// ref is an item of a particular incident.
type ref struct {
	ID string
	item
}

// outMsg is a composed notification and the items it delivers; the items
// are recorded as sent only after Notify succeeds.
type outMsg struct {
	n    Notification
	refs []ref
}

// collect runs decide for every unfinished incident and returns the items
// due now by reason, and the next time a decision may change. Caller holds
// e.mu.
func (e *Engine) collect(now time.Time, final bool) (map[Reason][]ref, time.Time) {
	var next time.Time
	incs := make([]*incident, 0, len(e.incidents))
	for _, inc := range e.incidents {
		if !inc.Done {
			incs = append(incs, inc)
		}
	}
	slices.SortFunc(incs, func(a, b *incident) int {
		if c := a.Started.Compare(b.Started); c != 0 {
			return c
		}
		if c := e.cc.position(a.Check) - e.cc.position(b.Check); c != 0 {
			return c
		}
		if c := strings.Compare(a.Host, b.Host); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	byReason := map[Reason][]ref{}
	clear(e.awaiting)
	for _, inc := range incs {
		cfg := e.effective(inc, now)
		e.hold(inc, &cfg, now, final)
		d := decide(*inc, cfg, now)
		if d.Done {
			inc.Done = true
			e.markDirty(incidentKey(inc.ID))
			continue
		}
		next = earliest(next, d.Next)
		for _, it := range d.Items {
			byReason[it.Reason] = append(byReason[it.Reason], ref{ID: inc.ID, item: it})
		}
	}
	return byReason, next
}

// flushAt is when the items of one reason go out: first and resolved
// messages wait group_wait after the earliest of them, so alerts firing
// together share one message.
func (e *Engine) flushAt(reason Reason, refs []ref) time.Time {
	first := refs[0].Due
	for _, r := range refs[1:] {
		if r.Due.Before(first) {
			first = r.Due
		}
	}
	if reason == ReasonFirst || reason == ReasonResolved {
		return first.Add(e.cc.groupWait)
	}
	return first
}

// plan turns what is due into messages: per reason, the alerts due to each
// recipient go out in one message. Caller holds e.mu.
func (e *Engine) plan(now time.Time, final bool) ([]outMsg, time.Time) {
	byReason, next := e.collect(now, final)
	foldRecoveries(byReason, e.incidents)
	var msgs []outMsg
	for _, reason := range reasonOrder {
		refs := byReason[reason]
		if len(refs) == 0 {
			continue
		}
		if at := e.flushAt(reason, refs); at.After(now) {
			next = earliest(next, at)
			continue
		}
		msgs = append(msgs, e.group(reason, refs, now)...)
	}
	return msgs, next
}

// planNext returns the next future time anything becomes due, ignoring
// items due now (those are being sent or wait for the retry interval).
// Caller holds e.mu.
func (e *Engine) planNext(now time.Time, final bool) time.Time {
	byReason, next := e.collect(now, final)
	foldRecoveries(byReason, e.incidents)
	for reason, refs := range byReason {
		if at := e.flushAt(reason, refs); at.After(now) {
			next = earliest(next, at)
		}
	}
	return next
}

// foldRecoveries moves a recovery into the first message of another
// incident of the same check and host when both are due to the same
// recipient now, ahead of that incident's line: a check that could not
// look and now sees a failure (or the other way round, within group_wait)
// sends one message, "[복구] oom 점검이 다시 동작합니다.\n[경고] 시스템 로그에서
// 'Out of memory' 탐지됨.", not two in one interval. It only regroups the
// items decide found due.
func foldRecoveries(byReason map[Reason][]ref, incs map[string]*incident) {
	// Only across kinds (cannot check ↔ failing): a failing check that
	// recovers and fails again keeps its two messages, as before.
	type key struct{ check, host, to, kind string }
	firsts := map[key]bool{}
	for _, r := range byReason[ReasonFirst] {
		if inc := incs[r.ID]; inc != nil {
			firsts[key{inc.Check, inc.Host, r.To, inc.Kind}] = true
		}
	}
	if len(firsts) == 0 {
		return
	}
	other := func(kind string) string {
		if kind == KindCannotCheck {
			return KindFailing
		}
		return KindCannotCheck
	}
	var moved, kept []ref
	for _, r := range byReason[ReasonResolved] {
		if inc := incs[r.ID]; inc != nil && firsts[key{inc.Check, inc.Host, r.To, other(inc.Kind)}] {
			moved = append(moved, r)
		} else {
			kept = append(kept, r)
		}
	}
	if len(moved) == 0 {
		return
	}
	byReason[ReasonFirst] = append(moved, byReason[ReasonFirst]...)
	if len(kept) == 0 {
		delete(byReason, ReasonResolved)
	} else {
		byReason[ReasonResolved] = kept
	}
}

func earliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

// group builds one message per set of recipients that are due the same
// incidents.
func (e *Engine) group(reason Reason, refs []ref, now time.Time) []outMsg {
	type bucket struct {
		to   []string
		refs []ref
	}
	var order []string
	perTo := map[string][]ref{}
	for _, r := range refs {
		if _, ok := perTo[r.To]; !ok {
			order = append(order, r.To)
		}
		perTo[r.To] = append(perTo[r.To], r)
	}
	var keys []string
	buckets := map[string]*bucket{}
	for _, to := range order {
		var k strings.Builder
		for _, r := range perTo[to] {
			fmt.Fprintf(&k, "%s#%d,", r.ID, r.Step)
		}
		b := buckets[k.String()]
		if b == nil {
			b = &bucket{}
			buckets[k.String()] = b
			keys = append(keys, k.String())
		}
		b.to = append(b.to, to)
		b.refs = append(b.refs, perTo[to]...)
	}
	msgs := make([]outMsg, 0, len(keys))
	for _, k := range keys {
		b := buckets[k]
		var incs []*incident
		for _, r := range b.refs {
			if inc := e.incidents[r.ID]; inc != nil && !slices.Contains(incs, inc) {
				incs = append(incs, inc)
			}
		}
		n := e.compose(reason, incs, now)
		n.Recipients = b.to
		msgs = append(msgs, outMsg{n: n, refs: b.refs})
	}
	return msgs
}

// compose renders the message for incs. Caller holds e.mu.
func (e *Engine) compose(reason Reason, incs []*incident, now time.Time) Notification {
	n := Notification{Reason: reason}
	for _, inc := range incs {
		n.Checks = append(n.Checks, inc.Check)
		n.Hosts = append(n.Hosts, inc.Host)
		n.Incidents = append(n.Incidents, inc.ID)
		if inc.Severity.Rank() > n.Severity.Rank() || n.Severity == "" {
			n.Severity = inc.Severity
		}
		if n.Started.IsZero() || inc.Started.Before(n.Started) {
			n.Started = inc.Started
		}
	}
	ackable := e.publicURL != "" && reason != ReasonResolved
	const tokenLen = 22
	linkLen := sms.Len("\n확인: "+e.publicURL+"/ack/") + tokenLen
	var text string
	withLink := false
	for k := len(incs); k >= 1; k-- {
		// Characters CP949 lacks become '?': an odd character in a log
		// line must never block an alert (the outbox would refuse the
		// text on every retry).
		text = sms.Sanitize(e.body(reason, incs[:k], len(incs)-k))
		size := sms.Len(text)
		withLink = ackable && size > sms.MaxSMSBytes && size+linkLen <= sms.MaxLMSBytes
		if withLink {
			size += linkLen
		}
		if size <= sms.MaxLMSBytes {
			break
		}
		if k == 1 {
			// One alert longer than an LMS: cut it rather than have the
			// outbox refuse it on every retry.
			text = sms.Truncate(text, sms.MaxLMSBytes)
			withLink = false
		}
	}
	if withLink {
		if tok := e.issueToken(n.Incidents, now); tok != "" {
			text += "\n확인: " + e.publicURL + "/ack/" + tok
		}
	}
	n.Text = text
	if sms.FitKind(sms.KindSMS, sms.Len(text)) == sms.KindLMS {
		n.Title = title(reason, len(incs))
	}
	return n
}

// body renders the alert lines of one message, through the configured
// template when there is one. omitted > 0 adds a line counting alerts left
// out to stay within an LMS.
func (e *Engine) body(reason Reason, incs []*incident, omitted int) string {
	remote := false
	hosts := map[string]bool{}
	for _, inc := range incs {
		if inc.Host != "" {
			remote = true
		}
		hosts[e.hostName(inc.Host)] = true
	}
	data := TemplateData{Count: len(incs)}
	if len(hosts) == 1 {
		for h := range hosts {
			data.Host = h
		}
	}
	lines := make([]string, 0, len(incs)+1)
	for _, inc := range incs {
		var t string
		switch reason {
		case ReasonResolved:
			t = resolvedText(inc)
		case ReasonFlapping:
			t = flappingText(inc.Check)
		default:
			t = firingText(inc)
			if inc.closed() { // a recovery folded in by foldRecoveries
				t = resolvedText(inc)
			}
		}
		a := TemplateAlert{Check: inc.Check, Host: e.hostName(inc.Host), Text: t, Detail: inc.Detail, DetailKo: inc.DetailKo, Severity: inc.Severity}
		data.Alerts = append(data.Alerts, a)
		if remote {
			t = "[" + a.Host + "] " + t
		}
		lines = append(lines, t)
	}
	tmpl := e.cc.firing
	switch reason {
	case ReasonResolved:
		tmpl = e.cc.resolvedT
	case ReasonFlapping:
		tmpl = nil
	}
	out := strings.Join(lines, "\n")
	if tmpl != nil {
		var buf bytes.Buffer
		if err := tmpl.Execute(&buf, data); err != nil {
			e.log.Error("alert template failed, using the default text", "template", tmpl.Name(), "err", err)
		} else {
			out = strings.TrimRight(buf.String(), "\n")
		}
	}
	if omitted > 0 {
		out += fmt.Sprintf("\n(외 %d건)", omitted)
	}
	return out
}

// hostName is how a host is named in messages: "" is this host.
func (e *Engine) hostName(h string) string {
	if h == "" {
		return e.cc.localHost
	}
	return h
}

// record marks the items of a message accepted by the notifier as sent.
// Caller holds e.mu.
func (e *Engine) record(m outMsg, at time.Time) {
	perInc := map[string][]string{}
	why := map[string]Reason{} // a recovery folded into a first message is recorded as one
	var order []string
	for _, r := range m.refs {
		inc := e.incidents[r.ID]
		if inc == nil {
			continue
		}
		switch r.Reason {
		case ReasonFirst, ReasonRepeat:
			if inc.Fired == nil {
				inc.Fired = map[string]time.Time{}
			}
			inc.Fired[r.To] = at
			if inc.FirstNotified.IsZero() {
				inc.FirstNotified = at
			}
		case ReasonFlapping:
			if inc.Flap == nil {
				inc.Flap = map[string]time.Time{}
			}
			inc.Flap[r.To] = at
		case ReasonEscalation:
			inc.Esc = append(inc.Esc, escSent{Step: r.Step, To: r.To, At: at})
		case ReasonResolved:
			if inc.ResolvedTo == nil {
				inc.ResolvedTo = map[string]time.Time{}
			}
			inc.ResolvedTo[r.To] = at
		}
		if _, ok := perInc[r.ID]; !ok {
			order = append(order, r.ID)
			why[r.ID] = r.Reason
		}
		if !slices.Contains(perInc[r.ID], r.To) {
			perInc[r.ID] = append(perInc[r.ID], r.To)
		}
	}
	for _, id := range order {
		inc := e.incidents[id]
		inc.Notifications = append(inc.Notifications, SentNotification{At: at, Reason: why[id], Recipients: perInc[id]})
		if n := len(inc.Notifications); n > maxSentRecords {
			inc.Notifications = append(inc.Notifications[:0:0], inc.Notifications[n-maxSentRecords:]...)
		}
		inc.NotificationCount++
		e.markDirty(incidentKey(id))
	}
}

const maxSentRecords = 50
