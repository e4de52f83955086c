package balance

import (
	"context"
	"time"

	"github.com/munja-sms/munja/provider"
)

// TTL is how long a lookup answers Get before the gateway is asked again.
const TTL = 60 * time.Second

// Latest is one provider's latest lookup, for pages.
type Latest struct {
	Balance provider.Balance
	Err     error     // the lookup failed (Balance is the one before, if any)
	At      time.Time // when it was looked up (zero: never)
	Pending bool      // a lookup is still running
}

// Get returns the named provider's latest balance, asking the gateway again
// when the last answer is older than TTL (or when force) and waiting up to
// wait for it: a lookup still running after that goes on in the
// background (bounded by Timeout) and Pending says so. A successful lookup
// is recorded like Once records it (store, low-balance alert). ok is false
// when no such provider reports a balance.
func (w *Watch) Get(ctx context.Context, name string, force bool, wait time.Duration) (l Latest, ok bool) {
	var bp provider.Balancer
	for _, p := range w.opt.Providers {
		if b, is := p.(provider.Balancer); is && p.Name() == name {
			bp = b
		}
	}
	if bp == nil {
		return l, false
	}
	w.cacheMu.Lock()
	e := w.entry(name)
	stale := e.at.IsZero() || w.opt.Now().Sub(e.at) >= TTL || force
	if stale && e.running == nil {
		done := make(chan struct{})
		e.running = done
		go w.background(name, bp, done)
	}
	running := e.running
	w.cacheMu.Unlock()
	if running != nil && stale {
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-running:
		case <-t.C:
		case <-ctx.Done():
		}
	}
	w.cacheMu.Lock()
	defer w.cacheMu.Unlock()
	return Latest{Balance: e.bal, Err: e.err, At: e.at, Pending: e.running != nil}, true
}

// background is a lookup Get started: it outlives the page that asked.
func (w *Watch) background(name string, bp provider.Balancer, done chan struct{}) {
	defer close(done)
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	bal, err := w.lookup(ctx, name, bp)
	if err != nil {
		w.opt.Log.Warn("balance lookup failed", "provider", name, "err", err)
	} else if err := w.record(ctx, name, bal); err != nil {
		w.opt.Log.Error("balance lookup", "err", err)
	}
	w.cacheMu.Lock()
	w.entry(name).running = nil
	w.cacheMu.Unlock()
}

// entry returns name's cache entry, creating it; cacheMu must be held.
func (w *Watch) entry(name string) *entry {
	e := w.cache[name]
	if e == nil {
		e = &entry{}
		w.cache[name] = e
	}
	return e
}
