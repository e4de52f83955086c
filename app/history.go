package app

import (
	"context"
	"sync"

	"github.com/munja-sms/munja/check"
	"github.com/munja-sms/munja/checkhist"
)

// recordHistory starts a check history recorder that runs until ctx ends
// (flushing once more then) and returns observe wrapped to feed it every
// result too. wait returns once the last flush is done.
func (a *App) recordHistory(ctx context.Context, observe func(check.Result)) (wrapped func(check.Result), wait func()) {
	rec := checkhist.New(a.Store, a.Config.HostName(), a.Log.With("part", "history"))
	var wg sync.WaitGroup
	wg.Go(func() { rec.Run(ctx) })
	return func(r check.Result) {
		observe(r)
		rec.Observe(r)
	}, wg.Wait
}
