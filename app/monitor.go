package app

import (
	"context"
	"fmt"
	"time"

	"github.com/munja-sms/munja/alert"
	"github.com/munja-sms/munja/check"
	"github.com/munja-sms/munja/check/checks"
	"github.com/munja-sms/munja/config"
	"github.com/munja-sms/munja/outbox"
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
type outboxNotifier struct{ ob *outbox.Outbox }

func (n outboxNotifier) Notify(ctx context.Context, msg alert.Notification) error {
	_, err := n.ob.Submit(ctx, outbox.Request{
		To: msg.Recipients, Text: msg.Text, Title: msg.Title, Type: "auto",
		Source: "alert", Actor: "alert:" + string(msg.Reason),
	})
	return err
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
	eng, err := alert.New(alert.Options{
		Config: cfg, State: a.Store, Notifier: outboxNotifier{a.Outbox},
		Log: a.Log.With("part", "alert"), PublicURL: cfg.Server.PublicURL,
	})
	if err != nil {
		return nil, fmt.Errorf("alert engine: %w", err)
	}
	if err := eng.Load(ctx); err != nil {
		return nil, fmt.Errorf("alert engine: restore state: %w", err)
	}
	return &Monitor{Checks: scheduled, Engine: eng}, nil
}

// runMonitor runs checks and the engine until ctx ends.
func (a *App) runMonitor(ctx context.Context, m *Monitor) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := m.Engine.Run(ctx); err != nil {
			a.Log.Error("alert engine stopped", "err", err)
		}
	}()
	if len(m.Checks) > 0 {
		check.NewRunner(m.Checks, a.Log.With("part", "check")).Run(ctx, m.Engine.Observe)
	}
	<-done
}
