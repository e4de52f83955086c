package console

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/munja-sms/munja/provider"
)

// balanceWait is how long a page waits for a gateway before it shows the
// last known value (the lookup finishes in the background; balance.Watch).
const balanceWait = 2 * time.Second

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
		if _, ok := p.(provider.Balancer); !ok {
			continue
		}
		out[i].Supported = true
		wg.Add(1)
		go func() {
			defer wg.Done()
			e, _ := c.opt.Balance.Get(ctx, p.Name(), force, balanceWait)
			v := &out[i]
			v.Pending, v.At = e.Pending, e.At
			if e.Err != nil {
				v.Err = c.providerErr(lang, e.Err)
			} else if !e.At.IsZero() {
				v.Balance, v.Known = e.Balance, true
				low := c.opt.Config.SMS.LowBalance
				v.Low = low > 0 && e.Balance.SMS < int64(low)
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
