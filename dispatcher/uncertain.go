package dispatcher

import (
	"context"
	"fmt"
	"time"

	"github.com/munja-sms/munja/provider"
	"github.com/munja-sms/munja/sms"
	"github.com/munja-sms/munja/store"
)

// lookupTries is how many times the gateway is asked about an uncertain
// call before munja gives up knowing and sends again. With the defaults
// (10 s calls) a claim spends at most 10 + 2 × (10 + 10) s on it, well
// inside its lease. A lookup that gets no answer either is not tried again:
// a gateway that hangs would only cost another timeout.
const lookupTries = 2

// settle decides what became of ds after an uncertain call to p made at
// since (callErr): a gateway that can be asked (provider.Looker) is asked,
// after LookupWait, which of them it accepted. Those it has are returned
// as sent updates, with its message id; those it does not have are
// returned in rest with an error saying so (they go on to the next
// provider or a retry, like a failed call). A gateway that cannot be asked,
// or could not be within lookupTries, leaves every delivery in rest with
// callErr: munja sends again, and the recipient may get the message twice
// (counted in Options.Uncertain as "resent" and logged).
func (d *Dispatcher) settle(ctx context.Context, p provider.Provider, m sms.Message, ds []sms.Delivery, since time.Time, callErr error) (sent []store.DeliveryUpdate, rest []sms.Delivery, err error) {
	lk, ok := p.(provider.Looker)
	if !ok {
		d.countUncertain(p.Name(), "resent", len(ds))
		d.opt.Log.Warn("gateway call without an answer, and this gateway cannot be asked whether it accepted it: sending again; recipients may get the message twice",
			"provider", p.Name(), "message", m.ID, "recipients", len(ds), "err", callErr)
		return nil, ds, callErr
	}
	b := batchOf(m, ds)
	var lookErr error
	for range lookupTries {
		t := time.NewTimer(d.opt.LookupWait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ds, callErr
		case <-t.C:
		}
		lctx, cancel := context.WithTimeout(ctx, d.opt.CallTimeout)
		got, err := lk.Lookup(lctx, b, since)
		cancel()
		if err != nil {
			lookErr = err
			if timedOut(err) {
				break
			}
			continue
		}
		now := d.opt.Now()
		for _, del := range ds {
			if id, ok := got[del.Phone]; ok {
				sent = append(sent, store.DeliveryUpdate{ID: del.ID, Attempt: del.Attempts, Status: sms.StatusSent,
					Provider: p.Name(), ProviderMsgID: id, SentAt: now})
			} else {
				rest = append(rest, del)
			}
		}
		d.countUncertain(p.Name(), "found", len(sent))
		d.countUncertain(p.Name(), "not_found", len(rest))
		d.opt.Log.Info("gateway call without an answer: asked the gateway", "provider", p.Name(), "message", m.ID,
			"accepted", len(sent), "not_accepted", len(rest))
		if len(rest) == 0 {
			return sent, nil, nil
		}
		return sent, rest, fmt.Errorf("%w; %s does not have %d of them", callErr, p.Name(), len(rest))
	}
	d.countUncertain(p.Name(), "resent", len(ds))
	d.opt.Log.Warn("gateway call without an answer, and the gateway could not be asked whether it accepted it: sending again; recipients may get the message twice",
		"provider", p.Name(), "message", m.ID, "recipients", len(ds), "err", callErr, "lookup_err", lookErr)
	return nil, ds, callErr
}

func (d *Dispatcher) countUncertain(p, outcome string, n int) {
	if d.opt.Uncertain != nil && n > 0 {
		d.opt.Uncertain(p, outcome, n)
	}
}
