package app

import (
	"context"
	"errors"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/munja-sms/munja/console"
	"github.com/munja-sms/munja/dispatcher"
	"github.com/munja-sms/munja/selfwatch"
	"github.com/munja-sms/munja/store"
)

// Store health, as /healthz and the console's banner report it.
const (
	probeKey   = "health/probe"  // the state key the probe writes
	probeEvery = 2 * time.Second // the probe's result is reused this long
)

// writeProbe answers "does the store take writes?" cheaply enough for every
// /healthz and every console page: from the dispatcher's last write (a
// claim or outcomes: it fails while the store refuses writes), and, since
// an idle dispatcher writes nothing, from a real write (probeKey) made at
// most every probeEvery. /healthz is public, so the error it returns has
// the database setting (a path, a DSN, its password) cut out.
type writeProbe struct {
	state  store.AlertState
	health func() dispatcher.StoreHealth
	dsn    string // config database
	log    *slog.Logger

	mu  sync.Mutex
	at  time.Time // of the last probe
	err error     // its result
}

// check is web.Options.StoreWritable and console.Options.StoreWritable.
func (p *writeProbe) check(ctx context.Context) error {
	if h := p.health(); !h.Writable {
		return p.public(h.Err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.at.IsZero() || time.Since(p.at) >= probeEvery {
		// Detached from the request: a client that hangs up is no
		// failed write.
		pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), probeEvery)
		err := p.state.PutState(pctx, probeKey, []byte(time.Now().UTC().Format(time.RFC3339)))
		cancel()
		switch { // once per change, not per probe
		case err != nil && p.err == nil:
			p.log.Error("store not writable: the health probe's write failed", "err", err)
		case err == nil && p.err != nil:
			p.log.Info("store writable again: the health probe's write worked")
		}
		p.at, p.err = time.Now(), err
	}
	return p.public(p.err)
}

// fresh is check with a write made now, whatever the last probe's age.
func (p *writeProbe) fresh(ctx context.Context) error {
	p.mu.Lock()
	p.at = time.Time{}
	p.mu.Unlock()
	return p.check(ctx)
}

// healthy is what the outgoing heartbeat (server.heartbeat_url) vouches
// for: the dispatcher's loop running and the store taking a write now.
func (a *App) healthy(ctx context.Context) error {
	if !a.Dispatcher.Running() {
		return errors.New("the dispatcher is not running")
	}
	return a.probe.fresh(ctx)
}

// public is err with the database setting cut out of its text.
func (p *writeProbe) public(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if p.dsn != "" {
		msg = strings.ReplaceAll(msg, p.dsn, "<database>")
	}
	if u, perr := url.Parse(p.dsn); perr == nil {
		pw, _ := u.User.Password()
		for _, s := range []string{pw, u.Query().Get("password")} {
			if s != "" {
				msg = strings.ReplaceAll(msg, s, "xxxxx")
				msg = strings.ReplaceAll(msg, url.QueryEscape(s), "xxxxx")
			}
		}
	}
	return errors.New(msg)
}

// gatewaysDown is console.Options.GatewaysDown: the providers that have
// failed every call for sms.down_after, by selfwatch's rule, with why.
func (a *App) gatewaysDown() []console.GatewayDown {
	after := a.Config.SMS.DownAfter.D()
	if a.Dispatcher == nil || after <= 0 {
		return nil
	}
	now := time.Now()
	var out []console.GatewayDown
	for _, st := range a.Dispatcher.Providers() {
		if selfwatch.Decide(st, selfwatch.GatewayState{}, now, after) == selfwatch.WentDown {
			out = append(out, console.GatewayDown{Name: st.Name, Since: st.FailingSince, Reason: selfwatch.Reason(st, now)})
		}
	}
	return out
}
