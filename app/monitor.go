package app

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/munja-sms/munja/agent"
	"github.com/munja-sms/munja/alert"
	"github.com/munja-sms/munja/check"
	"github.com/munja-sms/munja/check/checks"
	"github.com/munja-sms/munja/config"
	"github.com/munja-sms/munja/oncall/roster"
	"github.com/munja-sms/munja/outbox"
	"github.com/munja-sms/munja/store"
)

// validateChecks validates checks[*] with the check registry.
func validateChecks(c *config.Config) []error { return checks.Validate(c) }

// Monitor is the checks and the alert engine of one host.
type Monitor struct {
	Checks []check.Scheduled
	Engine *alert.Engine
}

// outboxNotifier stores the engine's messages in the durable outbox: an
// alert takes the same path as every other message.
type outboxNotifier struct {
	ob     *outbox.Outbox
	log    *slog.Logger
	onCall *roster.Roster // nil without schedules
	now    func() time.Time
}

func (n outboxNotifier) Notify(ctx context.Context, msg alert.Notification) error {
	if line := handedOver(ctx, n.onCall, msg, n.now()); line != "" {
		msg.Text += "\n" + line
	}
	m, err := n.ob.Submit(ctx, outbox.Request{
		To: msg.Recipients, Text: msg.Text, Title: msg.Title, Type: "auto",
		Source: "alert", Actor: notifyActor(msg), DropLimited: true,
	})
	if err == nil && len(m.Dropped) > 0 {
		n.log.Warn("alert not sent to recipients over sms.limits.per_recipient_per_hour", "recipients", m.Dropped, "checks", msg.Checks)
	}
	return err
}

// notifyActor names who sent an alert for the audit log and history:
// agent:HOST:REASON when every alert in it came from one agent's report,
// else alert:REASON (first, repeat, resolved, escalation, flapping). The
// reason stays last: Kakao Alimtalk picks its resolved template by it.
func notifyActor(msg alert.Notification) string {
	reason := string(msg.Reason)
	if len(msg.Hosts) == 0 || msg.Hosts[0] == "" {
		return "alert:" + reason
	}
	for _, h := range msg.Hosts[1:] {
		if h != msg.Hosts[0] {
			return "alert:" + reason
		}
	}
	return "agent:" + msg.Hosts[0] + ":" + reason
}

// NewMonitor builds the configured checks and the alert engine (state
// restored from the store).
func (a *App) NewMonitor(ctx context.Context) (*Monitor, error) {
	cfg := a.Config
	defaults := check.Defaults{Interval: cfg.Alerting.Interval.D()}
	scheduled, err := checks.Build(cfg.Checks, defaults, check.Deps{
		Host: cfg.HostName(), State: a.Store, Log: a.Log.With("part", "check"), Now: time.Now,
	})
	if err != nil {
		return nil, fmt.Errorf("checks: %w", err)
	}
	eng, err := a.newEngine(ctx, false)
	if err != nil {
		return nil, err
	}
	return &Monitor{Checks: scheduled, Engine: eng}, nil
}

// newEngine builds the alert engine on the store's state, loaded; readOnly
// makes the view a replica that does not run it shows (alert.Options).
func (a *App) newEngine(ctx context.Context, readOnly bool) (*alert.Engine, error) {
	log := a.Log.With("part", "alert")
	eng, err := alert.New(alert.Options{
		Config: a.Config, State: a.Store, Notifier: outboxNotifier{a.Outbox, log, a.OnCall, time.Now},
		Log: log, PublicURL: a.Config.Server.PublicURL, ReadOnly: readOnly,
		HostCheck: agent.LivenessCheck,
		// The engine's last save at a stop, within server.shutdown_timeout:
		// half of it, the rest is the check history's and the store's.
		StopTimeout: max(a.Config.Server.ShutdownTimeout.D()/2, time.Second),
	})
	if err != nil {
		return nil, fmt.Errorf("alert engine: %w", err)
	}
	if err := eng.Load(ctx); err != nil {
		return nil, fmt.Errorf("alert engine: restore state: %w", err)
	}
	return eng, nil
}

// monitorLeader is the leader lock that replicas sharing a PostgreSQL
// store take to run the checks and the alert engine.
const monitorLeader = "munja-monitor"

// leaderRetry is how often a replica that does not lead tries to.
const leaderRetry = 5 * time.Second

// runMonitor runs checks and the engine until ctx ends. On a shared
// PostgreSQL store only the replica holding the monitor leader lock runs
// them, with a monitor built afresh when it takes over (m is not run);
// otherwise this process owns the store and runs m.
func (a *App) runMonitor(ctx context.Context, m *Monitor) {
	if l, ok := a.Store.(store.Leaser); ok {
		a.leadMonitor(ctx, l)
		return
	}
	a.runChecks(ctx, m)
}

// shared reports whether replicas share the store and elect who runs the
// monitor (PostgreSQL).
func (a *App) shared() bool {
	_, ok := a.Store.(store.Leaser)
	return ok
}

// runChecks runs m's checks and engine, and takes agents' reports, until
// ctx ends.
func (a *App) runChecks(ctx context.Context, m *Monitor) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := m.Engine.Run(ctx); err != nil {
			a.Log.Error("alert engine stopped", "err", err)
		}
	}()
	// Hosts whose agents reported before (the engine's state) are watched
	// from the start: one that died while munja was down is noticed too.
	known := map[string]time.Time{}
	for _, st := range m.Engine.Checks() {
		if st.Check == agent.LivenessCheck && st.Host != "" {
			known[st.Host] = st.Since
			if st.Last.At.After(st.Since) {
				known[st.Host] = st.Last.At
			}
		}
	}
	// Every result goes to the engine and to the check history.
	observe, flushed := a.recordHistory(ctx, m.Engine.Observe)
	defer flushed()
	agents := agent.NewTracker(observe, known, nil)
	agents.OnDepends(m.Engine.SetDepends)
	a.Agents.Set(agents)
	defer a.Agents.Set(nil)
	go agents.Run(ctx)
	if len(m.Checks) > 0 {
		check.NewRunner(m.Checks, a.Log.With("part", "check")).Run(ctx, observe)
	}
	<-done
}

// leadMonitor tries every leaderRetry to take the monitor leader lock, and
// runs the monitor while it holds it, until ctx ends.
func (a *App) leadMonitor(ctx context.Context, leaser store.Leaser) {
	log := a.Log.With("part", "monitor")
	for {
		l, err := leaser.Lead(ctx, monitorLeader)
		switch {
		case err != nil && ctx.Err() == nil:
			log.Warn("monitor: leader election failed; retrying", "err", err, "retry", leaderRetry)
		case l != nil:
			a.lead(ctx, l, log)
		}
		if ctx.Err() != nil {
			return
		}
		// Not leading (any more): show the leader's state, fresh from the
		// store, read-only, until the next election round.
		if v, err := a.monitorView(ctx); err != nil {
			log.Warn("monitor: cannot read the alert state for this replica's console and API", "err", err)
		} else {
			a.Shown.Set(v)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(leaderRetry):
		}
	}
}

// lead runs a fresh monitor (its engine loads the state the previous leader
// saved) until ctx ends or the lock is lost, then gives the lock up once the
// engine has saved its state.
func (a *App) lead(ctx context.Context, l store.Lease, log *slog.Logger) {
	defer l.Release()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-l.Lost():
			cancel()
		case <-ctx.Done():
		}
	}()
	m, err := a.NewMonitor(ctx)
	if err != nil {
		log.Error("monitor: cannot start as leader; giving the lock up", "err", err)
		return
	}
	log.Info("monitor: leading; running the checks and the alert engine", "checks", len(m.Checks))
	a.Shown.Set(m.Engine)
	a.leading.Store(m)
	defer a.leading.Store(nil)
	a.runChecks(ctx, m)
	select {
	case <-l.Lost():
		log.Warn("monitor: leader lock lost; stopped the checks and the alert engine")
	default:
		log.Info("monitor: stopped leading")
	}
}

// monitorView is a read-only engine over the alert state in the store, for
// a replica that does not run the engine: its console and API show the
// leader's incidents (as of the last election round, 5 s at most) and
// refuse acknowledgements and silences with alert.ErrReadOnly instead of
// recording them where the leader would never see them.
func (a *App) monitorView(ctx context.Context) (*alert.Engine, error) {
	return a.newEngine(ctx, true)
}

// alertsHere reports whether this process sends alerts of its own (the
// low-balance alert): on a shared PostgreSQL store only the replica leading
// the monitor does, so that replicas checking the balance at the same
// moment do not both page; the others only record what they saw.
func (a *App) alertsHere() bool {
	if a.shared() {
		return a.leading.Load() != nil
	}
	return true
}

// activeMonitor is the monitor this process runs, for the metrics: on a
// shared PostgreSQL store the one it runs as leader (nil while another
// replica leads), otherwise a.Monitor.
func (a *App) activeMonitor() *Monitor {
	if a.shared() {
		return a.leading.Load()
	}
	return a.Monitor
}
