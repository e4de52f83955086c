package dispatcher

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/munja-sms/munja/internal/tick"
	"github.com/munja-sms/munja/provider"
	"github.com/munja-sms/munja/sms"
	"github.com/munja-sms/munja/store"
)

// Delivery reports: what became of each delivery the gateway accepted.

const (
	// reportWindow: deliveries sent longer ago than this are not asked
	// about any more (gateways keep results for a few days at most).
	reportWindow = 24 * time.Hour
	// reportPage is how many pending deliveries one store query returns;
	// reportPages bounds one pass.
	reportPage  = 1000
	reportPages = 50
	// reportTimeout bounds one report call.
	reportTimeout = 30 * time.Second
)

// ReportStats counts what one ReportsOnce pass did.
type ReportStats struct {
	Requests  int // gateway calls (one per provider message id)
	Delivered int // deliveries recorded as delivered
	Failed    int // deliveries recorded as failed
	Pending   int // deliveries the gateway has no final result for yet
}

// Reports reports whether some provider reports delivery results.
func (d *Dispatcher) Reports() bool { return len(d.reporters()) > 0 }

func (d *Dispatcher) reporters() map[string]provider.Reporter {
	out := map[string]provider.Reporter{}
	for _, p := range d.opt.Providers {
		if r, ok := p.(provider.Reporter); ok {
			out[p.Name()] = r
		}
	}
	return out
}

// RunReports fetches delivery results every interval (default 5m) until
// ctx ends, starting with one pass at once. It returns at once when no
// provider reports results.
func (d *Dispatcher) RunReports(ctx context.Context, every time.Duration) {
	if !d.Reports() {
		d.opt.Log.Debug("delivery reports: no provider reports delivery results")
		return
	}
	if every <= 0 {
		every = 5 * time.Minute
	}
	tick.Every(ctx, every, func() {
		st, err := d.ReportsOnce(ctx)
		if err != nil && ctx.Err() == nil {
			d.opt.Log.Error("delivery reports", "err", err)
		}
		if st.Requests > 0 {
			d.opt.Log.Info("delivery reports", "requests", st.Requests, "delivered", st.Delivered, "failed", st.Failed, "pending", st.Pending)
		}
	})
}

// ReportsOnce asks the gateways about every delivery in status sent within
// the last 24 hours — one call per provider message id — and records
// "delivered", or "failed" with the gateway's words (e.g. Aligo's
// "발/착신 번호 에러"), so the history shows what became of each message.
// A gateway that fails is logged and skipped; its deliveries are asked
// about again next pass. Deliveries of test-mode messages are not pending
// (store.PendingReports): the gateway never delivers them, so its
// "canceled" or "failed" is no result.
func (d *Dispatcher) ReportsOnce(ctx context.Context) (ReportStats, error) {
	var st ReportStats
	reporters := d.reporters()
	if len(reporters) == 0 {
		return st, nil
	}
	type key struct{ provider, msgID string }
	fetched := map[key]map[sms.Phone]provider.RecipientReport{}
	seen := map[int64]bool{}
	since := d.opt.Now().Add(-reportWindow)
	for range reportPages {
		ds, err := d.opt.Store.PendingReports(ctx, since, reportPage)
		if err != nil {
			return st, fmt.Errorf("pending reports: %w", err)
		}
		for _, dl := range ds {
			if seen[dl.ID] {
				continue
			}
			seen[dl.ID] = true
			rep, ok := reporters[dl.Provider]
			if !ok {
				continue
			}
			k := key{dl.Provider, dl.ProviderMsgID}
			byPhone, done := fetched[k]
			if !done {
				st.Requests++
				byPhone, err = fetchReports(ctx, rep, dl.ProviderMsgID)
				if err != nil {
					if ctx.Err() != nil {
						return st, ctx.Err()
					}
					d.opt.Log.Warn("delivery reports: gateway call failed", "provider", dl.Provider, "msg_id", dl.ProviderMsgID, "err", err)
				}
				fetched[k] = byPhone // nil after an error: not asked again this pass
			}
			r, ok := byPhone[dl.Phone]
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
				at = d.opt.Now()
			}
			if err := d.opt.Store.RecordReport(ctx, dl.ID, status, r.State, at); err != nil && !errors.Is(err, store.ErrNotFound) {
				return st, fmt.Errorf("record report of delivery %d: %w", dl.ID, err)
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
	cctx, cancel := context.WithTimeout(ctx, reportTimeout)
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
