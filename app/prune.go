package app

import (
	"context"
	"time"

	"github.com/munja-sms/munja/internal/tick"
)

// RunPrune deletes history older than `retention` (only messages whose
// deliveries are all final), check history older than
// `alerting.history_retention` and expired console sessions: once at start,
// then every interval, until ctx ends.
func RunPrune(ctx context.Context, a *App, every time.Duration) {
	tick.Every(ctx, every, func() { PruneOnce(ctx, a, time.Now()) })
}

// PruneOnce is one pass of RunPrune.
func PruneOnce(ctx context.Context, a *App, now time.Time) {
	if keep := a.Config.Retention.D(); keep > 0 {
		n, err := a.Store.PruneMessages(ctx, now.Add(-keep))
		switch {
		case err != nil && ctx.Err() == nil:
			a.Log.Error("prune history", "err", err)
		case n > 0:
			a.Log.Info("pruned history", "messages", n, "older_than", now.Add(-keep).Format(time.DateOnly))
		}
	}
	if keep := a.Config.Alerting.HistoryRetention.D(); keep > 0 {
		n, err := a.Store.PruneCheckHistory(ctx, now.Add(-keep))
		switch {
		case err != nil && ctx.Err() == nil:
			a.Log.Error("prune check history", "err", err)
		case n > 0:
			a.Log.Info("pruned check history", "rows", n, "older_than", now.Add(-keep).Format(time.DateOnly))
		}
	}
	if _, err := a.Store.DeleteExpiredSessions(ctx, now); err != nil && ctx.Err() == nil {
		a.Log.Error("prune sessions", "err", err)
	}
}
