// Package balance watches what each gateway's balance still buys: it polls
// every provider that reports a balance, keeps the last answer in the store
// (for the console, the metrics and restarts) and alerts once when it falls
// below sms.low_balance. The console's balance page asks it too, so one
// lookup serves every reader and every lookup can raise the alert.
package balance

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/munja-sms/munja/internal/tick"
	"github.com/munja-sms/munja/outbox"
	"github.com/munja-sms/munja/provider"
	"github.com/munja-sms/munja/store"
)

// State is the last balance seen for a provider, kept in the store (key
// Key(provider)).
type State struct {
	SMS int64     `json:"sms"`
	LMS int64     `json:"lms"`
	MMS int64     `json:"mms"`
	At  time.Time `json:"at"`
	// Low is set when a low-balance alert was sent, and cleared when the
	// balance is back at or above sms.low_balance: one alert per dip.
	Low bool `json:"low"`
}

// Key is the store state key of a provider's State.
func Key(provider string) string { return "balance/" + provider }

// Load returns the stored balance of a provider (store.ErrNotFound before
// the first successful lookup).
func Load(ctx context.Context, st store.AlertState, provider string) (State, error) {
	var b State
	raw, err := st.GetState(ctx, Key(provider))
	if err != nil {
		return b, err
	}
	if err := json.Unmarshal(raw, &b); err != nil {
		return b, fmt.Errorf("balance of %s: %w", provider, err)
	}
	return b, nil
}

// Timeout bounds one gateway lookup.
const Timeout = 15 * time.Second

// Options configure a Watch.
type Options struct {
	Store     store.AlertState
	Providers []provider.Provider
	// LowBalance (sms.low_balance) is the SMS count below which one alert
	// goes to Recipients through Outbox; 0 turns the alert off.
	LowBalance int
	Outbox     *outbox.Outbox
	Recipients []string
	// AlertsHere reports whether this process sends the alert (nil:
	// always). Replicas sharing a PostgreSQL store all record the balance,
	// but only the one leading the monitor alerts, so that two replicas
	// looking at the same moment do not both page.
	AlertsHere func() bool
	Log        *slog.Logger
	Now        func() time.Time
}

// Watch looks balances up, stores them and alerts. Safe for concurrent use.
type Watch struct {
	opt Options
	mu  sync.Mutex // serializes check (read Low, alert, store)

	cacheMu sync.Mutex
	cache   map[string]*entry // provider → latest lookup, for Get
}

// entry is the latest lookup of one provider.
type entry struct {
	bal     provider.Balance
	err     error
	at      time.Time     // when bal/err were fetched (zero: never)
	running chan struct{} // closed when the lookup in flight ends; nil when none
}

// New builds a Watch; it does nothing until Run, Once or Get.
func New(opt Options) *Watch {
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	return &Watch{opt: opt, cache: map[string]*entry{}}
}

// Any reports whether some provider reports a balance.
func (w *Watch) Any() bool {
	for _, p := range w.opt.Providers {
		if _, ok := p.(provider.Balancer); ok {
			return true
		}
	}
	return false
}

// Run looks every balance up every interval (default 10m) until ctx ends,
// starting at once. It returns at once when no provider reports a balance.
func (w *Watch) Run(ctx context.Context, every time.Duration) {
	if !w.Any() {
		w.opt.Log.Debug("balance watch: no provider reports a balance")
		return
	}
	if every <= 0 {
		every = 10 * time.Minute
	}
	tick.Every(ctx, every, func() {
		if err := w.Once(ctx); err != nil && ctx.Err() == nil {
			w.opt.Log.Error("balance watch", "err", err)
		}
	})
}

// Once asks each provider that reports a balance how many SMS it still
// buys and records the answer (see record). A gateway that fails is logged
// and skipped: the last known balance stays, and a gateway outage is the
// dispatcher's to report.
func (w *Watch) Once(ctx context.Context) error {
	var errs []error
	for _, p := range w.opt.Providers {
		bp, ok := p.(provider.Balancer)
		if !ok {
			continue
		}
		bal, err := w.lookup(ctx, p.Name(), bp)
		if err != nil {
			w.opt.Log.Warn("balance watch: gateway call failed", "provider", p.Name(), "err", err)
			continue
		}
		if err := w.record(ctx, p.Name(), bal); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// lookup asks the gateway and keeps the answer (or error) for Get.
func (w *Watch) lookup(ctx context.Context, name string, bp provider.Balancer) (provider.Balance, error) {
	cctx, cancel := context.WithTimeout(ctx, Timeout)
	bal, err := bp.Remain(cctx)
	cancel()
	w.cacheMu.Lock()
	e := w.entry(name)
	e.bal, e.err, e.at = bal, err, w.opt.Now()
	w.cacheMu.Unlock()
	return bal, err
}

// record stores a balance just seen. When sms.low_balance is set and the
// count is below it, one alert goes to the recipients through the outbox
// (source "alert"); no further alert is sent for that provider until the
// balance has been back at or above the threshold. An alert that could not
// be queued is tried again at the next lookup.
func (w *Watch) record(ctx context.Context, name string, b provider.Balance) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	prev, err := Load(ctx, w.opt.Store, name)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		w.opt.Log.Warn("balance watch: stored balance unreadable; starting afresh", "provider", name, "err", err)
	}
	now := State{SMS: b.SMS, LMS: b.LMS, MMS: b.MMS, At: w.opt.Now(), Low: prev.Low}
	threshold := int64(w.opt.LowBalance)
	switch {
	case threshold <= 0 || b.SMS >= threshold:
		now.Low = false
	case now.Low:
	case w.opt.AlertsHere != nil && !w.opt.AlertsHere():
		// Another replica leads the monitor and alerts; keep Low as it was.
	default:
		if err := w.alert(ctx, name, b.SMS, threshold); err != nil {
			w.opt.Log.Error("balance watch: low-balance alert not queued; will retry", "provider", name, "err", err)
		} else {
			now.Low = true
		}
	}
	raw, err := json.Marshal(now)
	if err != nil {
		return fmt.Errorf("balance of %s: %w", name, err)
	}
	if err := w.opt.Store.PutState(ctx, Key(name), raw); err != nil {
		return fmt.Errorf("store balance of %s: %w", name, err)
	}
	return nil
}

// Text is the low-balance alert.
func Text(provider string, left, threshold int64) string {
	return fmt.Sprintf("[경고] %s 문자 잔여 %d건 (기준 %d건). 충전이 필요합니다.", provider, left, threshold)
}

func (w *Watch) alert(ctx context.Context, name string, left, threshold int64) error {
	if len(w.opt.Recipients) == 0 {
		return errors.New("alerting.recipients is empty")
	}
	if w.opt.Outbox == nil {
		return errors.New("no outbox to send the alert through")
	}
	m, err := w.opt.Outbox.Submit(ctx, outbox.Request{
		To: w.opt.Recipients, Text: Text(name, left, threshold), Type: "auto", Source: "alert", Actor: "balance:" + name,
	})
	if err != nil {
		return err
	}
	w.opt.Log.Warn("low balance: alert queued", "provider", name, "sms_left", left, "threshold", threshold, "message", m.ID)
	return nil
}
