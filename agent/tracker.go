package agent

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/munja-sms/munja/check"
	"github.com/munja-sms/munja/config"
	"github.com/munja-sms/munja/internal/tick"
)

// Tracker is the server's side: it passes reported results on and records
// when each host last reported. Run pages (a failing LivenessCheck result
// of that host) while a host is overdue, and Report resolves it.
type Tracker struct {
	observe func(check.Result)
	depends func(host string, deps map[string][]string)
	now     func() time.Time

	mu    sync.Mutex
	hosts map[string]*host
}

type host struct {
	last  time.Time
	grace time.Duration
	down  bool
}

// DefaultGrace applies to hosts known from before a restart until they
// report again: their report interval is not known then, and an agent
// reporting every minute (grace 3m) must not be paged because the server
// restarted between two of its reports.
const DefaultGrace = 3 * time.Minute

// NewTracker returns a Tracker feeding observe (the alert engine's
// Observe). known are hosts seen before (from the engine's state) with
// when they last reported: a host that died while the server was down is
// still noticed. now may be nil.
func NewTracker(observe func(check.Result), known map[string]time.Time, now func() time.Time) *Tracker {
	if now == nil {
		now = time.Now
	}
	t := &Tracker{observe: observe, now: now, hosts: map[string]*host{}}
	for h, last := range known {
		t.hosts[h] = &host{last: last, grace: DefaultGrace}
	}
	return t
}

// OnDepends sets where Report passes what a host's checks depend on (the
// alert engine's SetDepends). Call it before the tracker takes reports.
func (t *Tracker) OnDepends(f func(host string, deps map[string][]string)) {
	t.depends = f
}

// Report takes a validated report: what the host's checks depend on (its
// depends_on), then its results.
func (t *Tracker) Report(hostName string, grace time.Duration, deps map[string][]string, results []check.Result) {
	now := t.now()
	t.mu.Lock()
	h := t.hosts[hostName]
	if h == nil {
		h = &host{}
		t.hosts[hostName] = h
	}
	h.last, h.grace, h.down = now, grace, false
	t.mu.Unlock()
	if t.depends != nil {
		t.depends(hostName, deps)
	}
	for _, r := range results {
		t.observe(r)
	}
	t.observe(alive(hostName, now))
}

// Forget stops watching a host (its agent was retired).
func (t *Tracker) Forget(hostName string) {
	t.mu.Lock()
	delete(t.hosts, hostName)
	t.mu.Unlock()
}

// Hosts returns the hosts known, with when each last reported.
func (t *Tracker) Hosts() map[string]time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make(map[string]time.Time, len(t.hosts))
	for n, h := range t.hosts {
		out[n] = h.last
	}
	return out
}

// Check reports every overdue host as failing (once per call while overdue,
// like a check run; the engine pages once per incident).
func (t *Tracker) Check() {
	now := t.now()
	var overdue []check.Result
	t.mu.Lock()
	for n, h := range t.hosts {
		if silent := now.Sub(h.last); silent > h.grace {
			h.down = true
			overdue = append(overdue, silentResult(n, now, silent))
		}
	}
	t.mu.Unlock()
	for _, r := range overdue {
		t.observe(r)
	}
}

// Run calls Check every second until ctx ends.
func (t *Tracker) Run(ctx context.Context) {
	tk := tick.NewTicker(time.Second)
	defer tk.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tk.C():
			t.Check()
		}
	}
}

func alive(hostName string, now time.Time) check.Result {
	return check.Result{
		Check: LivenessCheck, Host: hostName, OK: true, At: now, Severity: config.SeverityCritical,
		// Messages name the host already ("[web01] [경고] …").
		Firing:   "[경고] munja agent 보고가 없습니다.",
		Resolved: "[복구] munja agent 보고가 다시 들어옵니다.",
		Detail:   "agent reported",
		DetailKo: "agent 보고 수신",
	}
}

func silentResult(hostName string, now time.Time, silent time.Duration) check.Result {
	r := alive(hostName, now)
	r.OK = false
	r.Detail = fmt.Sprintf("no report for %s (host down, network cut, or agent stopped)", silent.Round(time.Second))
	r.DetailKo = fmt.Sprintf("%s 동안 보고 없음 (호스트 다운, 네트워크 단절 또는 agent 중지)", check.DurationKo(silent))
	return r
}
