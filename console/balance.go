package console

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/munja-sms/munja/provider"
)

// Balance lookups are cached for balanceTTL; a page waits at most
// balanceWait for a gateway and otherwise shows the last known value (the
// lookup finishes in the background, bounded by balanceTimeout).
const (
	balanceTTL     = 60 * time.Second
	balanceWait    = 2 * time.Second
	balanceTimeout = 15 * time.Second
)

type balanceEntry struct {
	bal     provider.Balance
	err     error
	at      time.Time     // when bal/err were fetched (zero: never)
	running chan struct{} // closed when the lookup in flight ends; nil when none
}

type balanceCache struct {
	now func() time.Time
	log *slog.Logger
	mu  sync.Mutex
	m   map[string]*balanceEntry
}

func newBalanceCache(now func() time.Time, log *slog.Logger) *balanceCache {
	return &balanceCache{now: now, log: log, m: map[string]*balanceEntry{}}
}

// balanceView is one provider's line on the dashboard and balance page.
type balanceView struct {
	Name      string
	Type      string
	Supported bool
	Balance   provider.Balance
	Known     bool
	At        time.Time
	Err       string
	Pending   bool // still asking the gateway
	Low       bool // buys fewer SMS than sms.low_balance
}

// get returns p's balance, refreshing it when older than balanceTTL (or
// when force), waiting up to wait for the gateway.
func (b *balanceCache) get(ctx context.Context, name string, p provider.Balancer, force bool, wait time.Duration) (balanceEntry, bool) {
	b.mu.Lock()
	e := b.m[name]
	if e == nil {
		e = &balanceEntry{}
		b.m[name] = e
	}
	stale := e.at.IsZero() || b.now().Sub(e.at) >= balanceTTL || force
	if stale && e.running == nil {
		done := make(chan struct{})
		e.running = done
		go b.fetch(name, p, e, done)
	}
	running := e.running
	b.mu.Unlock()
	if running != nil && stale {
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-running:
		case <-t.C:
		case <-ctx.Done():
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return balanceEntry{bal: e.bal, err: e.err, at: e.at}, e.running != nil
}

func (b *balanceCache) fetch(name string, p provider.Balancer, e *balanceEntry, done chan struct{}) {
	ctx, cancel := context.WithTimeout(context.Background(), balanceTimeout)
	defer cancel()
	bal, err := p.Remain(ctx)
	if err != nil {
		b.log.Warn("console: balance lookup failed", "provider", name, "err", err)
	}
	b.mu.Lock()
	e.bal, e.err, e.at, e.running = bal, err, b.now(), nil
	b.mu.Unlock()
	close(done)
}

// balances looks up every provider's balance (in parallel, each within
// balanceWait).
func (c *Console) balances(ctx context.Context, lang string, force bool) []balanceView {
	cfgs := c.opt.Config.EffectiveProviders()
	out := make([]balanceView, len(c.opt.Providers))
	var wg sync.WaitGroup
	for i, p := range c.opt.Providers {
		out[i] = balanceView{Name: p.Name()}
		for _, pc := range cfgs {
			if pc.Name == p.Name() || (pc.Name == "" && pc.Type == p.Name()) {
				out[i].Type = pc.Type
			}
		}
		bp, ok := p.(provider.Balancer)
		if !ok {
			continue
		}
		out[i].Supported = true
		wg.Add(1)
		go func() {
			defer wg.Done()
			e, pending := c.balanceCache.get(ctx, p.Name(), bp, force, balanceWait)
			v := &out[i]
			v.Pending, v.At = pending, e.at
			if e.err != nil {
				v.Err = c.providerErr(lang, e.err)
			} else if !e.at.IsZero() {
				v.Balance, v.Known = e.bal, true
				low := c.opt.Config.SMS.LowBalance
				v.Low = low > 0 && e.bal.SMS < int64(low)
			}
		}()
	}
	wg.Wait()
	return out
}

// providerErr is a gateway failure in the user's language.
func (c *Console) providerErr(lang string, err error) string {
	var pe *provider.Error
	if errors.As(err, &pe) {
		msg := pe.Korean
		if lang == langEN || msg == "" {
			msg = pe.English
		}
		if msg == "" {
			msg = pe.Message
		}
		if pe.Code != "" {
			msg = "[" + pe.Code + "] " + msg
		}
		return msg
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return c.t(lang, "balance.timeout")
	}
	return c.t(lang, "balance.failed")
}

type balanceData struct {
	Balances   []balanceView
	LowBalance int
}

func (c *Console) balancePage(w http.ResponseWriter, r *http.Request, q *request) {
	force := r.URL.Query().Get("refresh") != ""
	c.render(w, r, q, "balance", "balance.title", "balance", balanceData{
		Balances: c.balances(r.Context(), q.Lang, force), LowBalance: c.opt.Config.SMS.LowBalance})
}
