package alert

import (
	"slices"
	"time"

	"github.com/munja-sms/munja/config"
)

// incident is an Incident plus what has been sent for it; persisted as JSON
// under "alert/incident/ID".
type incident struct {
	Incident
	ResolvedText  string    `json:"resolved_text,omitempty"`
	FlapStart     time.Time `json:"flap_start,omitzero"`
	FirstNotified time.Time `json:"first_notified,omitzero"`
	// Fired is the last first/repeat message per recipient.
	Fired map[string]time.Time `json:"fired,omitempty"`
	// Flap is when each recipient got the flapping message.
	Flap map[string]time.Time `json:"flap,omitempty"`
	// Esc lists the escalation messages sent.
	Esc []escSent `json:"esc,omitempty"`
	// ResolvedTo is when each recipient got the recovery message.
	ResolvedTo map[string]time.Time `json:"resolved_to,omitempty"`
	// Done: nothing more will ever be sent for this incident.
	Done bool `json:"done,omitempty"`
	// HeldBy is who held its alerts last (SuppressedBy while it was held);
	// Released is when that hold ended. See Engine.noteHold.
	HeldBy   []string  `json:"held_by,omitempty"`
	Released time.Time `json:"released,omitzero"`
}

type escSent struct {
	Step int       `json:"step"`
	To   string    `json:"to"`
	At   time.Time `json:"at"`
}

func (i *incident) closed() bool { return !i.Resolved.IsZero() }

func (i *incident) escalated(step int, to string) bool {
	return slices.ContainsFunc(i.Esc, func(e escSent) bool { return e.Step == step && e.To == to })
}

// paged lists everyone who got a message about this incident, in a stable
// order, minus those who already got the recovery.
func (i *incident) resolvedTargets() []string {
	seen := map[string]bool{}
	var out []string
	add := func(to string) {
		if _, done := i.ResolvedTo[to]; done || seen[to] {
			return
		}
		seen[to] = true
		out = append(out, to)
	}
	for _, to := range sortedKeys(i.Fired) {
		add(to)
	}
	for _, to := range sortedKeys(i.Flap) {
		add(to)
	}
	for _, e := range i.Esc {
		add(e.To)
	}
	return out
}

func sortedKeys(m map[string]time.Time) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// effectiveCfg is everything decide needs besides the incident: the
// check's alerting settings and the silences and quiet hours that apply.
type effectiveCfg struct {
	Repeat     time.Duration
	Resolved   bool
	Recipients []string
	Escalation []escStep
	// Silenced is true while a silence matches the incident's check and
	// host; SilencedUntil is when the last matching silence ends.
	Silenced      bool
	SilencedUntil time.Time
	Quiet         map[string]quietHours
	Loc           *time.Location
	// HeldBy lists the checks the incident's check depends on that fail
	// or cannot check now: its alerts wait for them, its recovery does not.
	HeldBy []string
	// FirstNotBefore delays the first alert until the checks it depends on
	// (or, after a hold, the check itself) were looked at again; zero =
	// no wait.
	FirstNotBefore time.Time
}

// item is one message due to one recipient about one incident.
type item struct {
	Reason Reason
	To     string
	Due    time.Time
	Step   int // escalation step; -1 otherwise
}

// decision is what decide found: items due now, the next time anything may
// become due (zero = nothing scheduled) and whether the incident is finished.
type decision struct {
	Items []item
	Next  time.Time
	Done  bool
}

func (d *decision) wake(t time.Time) {
	if !t.IsZero() && (d.Next.IsZero() || t.Before(d.Next)) {
		d.Next = t
	}
}

// decide answers "should we notify now?" for one incident. It is a pure
// function of the incident, the effective config and now.
func decide(inc incident, cfg effectiveCfg, now time.Time) decision {
	var d decision
	if inc.Done {
		return d
	}
	if cfg.Silenced {
		if inc.closed() {
			// A recovery while silenced sends nothing, not even later.
			d.Done = true
			return d
		}
		d.wake(cfg.SilencedUntil)
		return d
	}
	loc := cfg.Loc
	if loc == nil {
		loc = time.UTC
	}
	critical := inc.Severity == config.SeverityCritical
	add := func(reason Reason, to string, due time.Time, step int) {
		if due.After(now) {
			d.wake(due)
			return
		}
		if q, ok := cfg.Quiet[to]; ok && !critical {
			if end, in := q.until(now, loc); in {
				d.wake(end)
				return
			}
		}
		d.Items = append(d.Items, item{Reason: reason, To: to, Due: due, Step: step})
	}

	if inc.closed() {
		targets := inc.resolvedTargets()
		if !cfg.Resolved || len(targets) == 0 {
			d.Done = true
			return d
		}
		for _, to := range targets {
			add(ReasonResolved, to, inc.Resolved, -1)
		}
		return d
	}

	if len(cfg.HeldBy) > 0 {
		// One page for one cause: the dependency's own alert says it. The
		// engine evaluates again when the dependency's state changes.
		return d
	}

	if inc.Flapping {
		for _, to := range cfg.Recipients {
			if _, sent := inc.Flap[to]; !sent {
				add(ReasonFlapping, to, inc.FlapStart, -1)
			}
		}
		return d
	}

	acked := !inc.AckedAt.IsZero()
	for _, to := range cfg.Recipients {
		last, sent := inc.Fired[to]
		switch {
		case !sent:
			due := inc.Started
			if cfg.FirstNotBefore.After(due) {
				due = cfg.FirstNotBefore
			}
			add(ReasonFirst, to, due, -1)
		case cfg.Repeat > 0 && !acked:
			add(ReasonRepeat, to, last.Add(cfg.Repeat), -1)
		}
	}
	if !acked && !inc.FirstNotified.IsZero() {
		for step, s := range cfg.Escalation {
			for _, to := range s.To {
				if !inc.escalated(step, to) {
					add(ReasonEscalation, to, inc.FirstNotified.Add(s.After), step)
				}
			}
		}
	}
	return d
}
