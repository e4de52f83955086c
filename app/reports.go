package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/munja-sms/munja/outbox"
	"github.com/munja-sms/munja/provider"
	"github.com/munja-sms/munja/sms"
	"github.com/munja-sms/munja/store"
)

// Background jobs: delivery reports and the balance watch.

const (
	// reportWindow: deliveries sent longer ago than this are not asked
	// about any more (gateways keep results for a few days at most).
	reportWindow = 24 * time.Hour
	// reportPage is how many pending deliveries one store query returns;
	// reportPages bounds one pass.
	reportPage  = 1000
	reportPages = 50
	// gatewayTimeout bounds one report or balance call.
	gatewayTimeout = 30 * time.Second
)

// ReportStats counts what one ReportsOnce pass did.
type ReportStats struct {
	Requests  int // gateway calls (one per provider message id)
	Delivered int // deliveries recorded as delivered
	Failed    int // deliveries recorded as failed
	Pending   int // deliveries the gateway has no final result for yet
}

// RunReports fetches delivery results every interval (default 5m) until ctx
// ends, starting with one pass at once. It returns at once when no
// configured provider reports results.
func RunReports(ctx context.Context, a *App, every time.Duration) {
	if !hasCapability[provider.Reporter](a.Providers) {
		a.Log.Debug("delivery reports: no provider reports delivery results")
		return
	}
	if every <= 0 {
		every = 5 * time.Minute
	}
	runEvery(ctx, every, func() {
		st, err := ReportsOnce(ctx, a)
		if err != nil && ctx.Err() == nil {
			a.Log.Error("delivery reports", "err", err)
		}
		if st.Requests > 0 {
			a.Log.Info("delivery reports", "requests", st.Requests, "delivered", st.Delivered, "failed", st.Failed, "pending", st.Pending)
		}
	})
}

// ReportsOnce asks the gateways about every delivery in status sent within
// the last 24 hours — one call per provider message id — and records
// "delivered", or "failed" with the gateway's words (e.g. Aligo's
// "발/착신 번호 에러"), so the history shows what became of each message.
// A gateway that fails is logged and skipped; its deliveries are asked
// about again next pass.
func ReportsOnce(ctx context.Context, a *App) (ReportStats, error) {
	var st ReportStats
	reporters := map[string]provider.Reporter{}
	for _, p := range a.Providers {
		if r, ok := p.(provider.Reporter); ok {
			reporters[p.Name()] = r
		}
	}
	if len(reporters) == 0 {
		return st, nil
	}
	type key struct{ provider, msgID string }
	fetched := map[key]map[sms.Phone]provider.RecipientReport{}
	seen := map[int64]bool{}
	since := time.Now().Add(-reportWindow)
	for range reportPages {
		ds, err := a.Store.PendingReports(ctx, since, reportPage)
		if err != nil {
			return st, fmt.Errorf("pending reports: %w", err)
		}
		for _, d := range ds {
			if seen[d.ID] {
				continue
			}
			seen[d.ID] = true
			rep, ok := reporters[d.Provider]
			if !ok {
				continue
			}
			k := key{d.Provider, d.ProviderMsgID}
			byPhone, done := fetched[k]
			if !done {
				st.Requests++
				byPhone, err = fetchReports(ctx, rep, d.ProviderMsgID)
				if err != nil {
					if ctx.Err() != nil {
						return st, ctx.Err()
					}
					a.Log.Warn("delivery reports: gateway call failed", "provider", d.Provider, "msg_id", d.ProviderMsgID, "err", err)
				}
				fetched[k] = byPhone // nil after an error: not asked again this pass
			}
			r, ok := byPhone[d.Phone]
			status := sms.StatusDelivered
			switch {
			case !ok || !r.Delivered && !r.Failed:
				st.Pending++
				continue
			case r.Failed:
				status = sms.StatusFailed
			}
			at := r.At
			if at.IsZero() {
				at = time.Now()
			}
			if err := a.Store.RecordReport(ctx, d.ID, status, r.State, at); err != nil && !errors.Is(err, store.ErrNotFound) {
				return st, fmt.Errorf("record report of delivery %d: %w", d.ID, err)
			}
			if status == sms.StatusFailed {
				st.Failed++
			} else {
				st.Delivered++
			}
		}
		if len(ds) < reportPage {
			break
		}
		last := ds[len(ds)-1].SentAt
		if !last.After(since) {
			break // a whole page sent at one instant and still pending: the rest next pass
		}
		since = last
	}
	return st, nil
}

// fetchReports calls the gateway for one message id and indexes the
// results by normalized phone.
func fetchReports(ctx context.Context, rep provider.Reporter, msgID string) (map[sms.Phone]provider.RecipientReport, error) {
	cctx, cancel := context.WithTimeout(ctx, gatewayTimeout)
	defer cancel()
	rs, err := rep.Reports(cctx, msgID)
	if err != nil {
		return nil, err
	}
	out := make(map[sms.Phone]provider.RecipientReport, len(rs))
	for _, r := range rs {
		p := r.Phone
		if n, err := sms.ParsePhone(string(p)); err == nil {
			p = n
		}
		out[p] = r
	}
	return out, nil
}

// BalanceState is the last balance seen for a provider, kept in the store
// (key BalanceKey) for the console, the metrics and restarts.
type BalanceState struct {
	SMS int64     `json:"sms"`
	LMS int64     `json:"lms"`
	MMS int64     `json:"mms"`
	At  time.Time `json:"at"`
	// Low is set when a low-balance alert was sent, and cleared when the
	// balance is back at or above sms.low_balance: one alert per dip.
	Low bool `json:"low"`
}

// BalanceKey is the store state key of a provider's BalanceState.
func BalanceKey(provider string) string { return "balance/" + provider }

// LoadBalance returns the stored balance of a provider (ErrNotFound before
// the first successful poll).
func LoadBalance(ctx context.Context, st store.AlertState, provider string) (BalanceState, error) {
	var b BalanceState
	raw, err := st.GetState(ctx, BalanceKey(provider))
	if err != nil {
		return b, err
	}
	if err := json.Unmarshal(raw, &b); err != nil {
		return b, fmt.Errorf("balance of %s: %w", provider, err)
	}
	return b, nil
}

// RunBalanceWatch polls every provider's balance every interval (default
// 10m) until ctx ends, starting at once. See BalanceOnce.
func RunBalanceWatch(ctx context.Context, a *App, every time.Duration) {
	if !hasCapability[provider.Balancer](a.Providers) {
		a.Log.Debug("balance watch: no provider reports a balance")
		return
	}
	if every <= 0 {
		every = 10 * time.Minute
	}
	runEvery(ctx, every, func() {
		if err := BalanceOnce(ctx, a); err != nil && ctx.Err() == nil {
			a.Log.Error("balance watch", "err", err)
		}
	})
}

// BalanceOnce asks each provider that reports a balance how many SMS it
// still buys and stores the answer. When sms.low_balance is set and the
// count is below it, one alert goes to alerting.recipients through the
// outbox (source "alert"); no further alert is sent for that provider until
// the balance has been back at or above the threshold.
func BalanceOnce(ctx context.Context, a *App) error {
	var errs []error
	for _, p := range a.Providers {
		bal, ok := p.(provider.Balancer)
		if !ok {
			continue
		}
		if err := a.checkBalance(ctx, p.Name(), bal); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (a *App) checkBalance(ctx context.Context, name string, bal provider.Balancer) error {
	cctx, cancel := context.WithTimeout(ctx, gatewayTimeout)
	b, err := bal.Remain(cctx)
	cancel()
	if err != nil {
		a.Log.Warn("balance watch: gateway call failed", "provider", name, "err", err)
		return nil // a gateway outage is the dispatcher's to report; try again next time
	}
	prev, err := LoadBalance(ctx, a.Store, name)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		a.Log.Warn("balance watch: stored balance unreadable; starting afresh", "provider", name, "err", err)
	}
	now := BalanceState{SMS: b.SMS, LMS: b.LMS, MMS: b.MMS, At: time.Now(), Low: prev.Low}
	threshold := int64(a.Config.SMS.LowBalance)
	switch {
	case threshold <= 0 || b.SMS >= threshold:
		now.Low = false
	case !now.Low && !a.alertsHere():
		// Another replica leads the monitor and alerts; keep Low as it was.
	case !now.Low:
		if err := a.lowBalanceAlert(ctx, name, b.SMS, threshold); err != nil {
			a.Log.Error("balance watch: low-balance alert not queued; will retry", "provider", name, "err", err)
		} else {
			now.Low = true
		}
	}
	raw, err := json.Marshal(now)
	if err != nil {
		return fmt.Errorf("balance of %s: %w", name, err)
	}
	if err := a.Store.PutState(ctx, BalanceKey(name), raw); err != nil {
		return fmt.Errorf("store balance of %s: %w", name, err)
	}
	return nil
}

func (a *App) lowBalanceAlert(ctx context.Context, name string, left, threshold int64) error {
	to := a.Config.Alerting.Recipients
	if len(to) == 0 {
		return errors.New("alerting.recipients is empty")
	}
	text := fmt.Sprintf("[경고] %s 문자 잔여 %d건 (기준 %d건). 충전이 필요합니다.", name, left, threshold)
	m, err := a.Outbox.Submit(ctx, outbox.Request{To: to, Text: text, Type: "auto", Source: "alert", Actor: "balance:" + name})
	if err != nil {
		return err
	}
	a.Log.Warn("low balance: alert queued", "provider", name, "sms_left", left, "threshold", threshold, "message", m.ID)
	return nil
}

// runEvery calls fn now and then every interval until ctx ends.
func runEvery(ctx context.Context, every time.Duration, fn func()) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		fn()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func hasCapability[C any](ps []provider.Provider) bool {
	for _, p := range ps {
		if _, ok := p.(C); ok {
			return true
		}
	}
	return false
}
