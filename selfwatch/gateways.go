// Package selfwatch watches munja's own paging path (DESIGN §7): a gateway
// that has failed every call for sms.down_after is paged to
// alerting.recipients through the other providers (Gateways), and an
// outgoing heartbeat lets a monitor outside notice when munja itself, or
// its host, is dead (Heartbeat).
package selfwatch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/munja-sms/munja/dispatcher"
	"github.com/munja-sms/munja/outbox"
	"github.com/munja-sms/munja/provider"
	"github.com/munja-sms/munja/store"
)

// GatewayState is a provider's outage as kept in the store (key
// GatewayKey): one [경고] per outage and one [복구], across restarts and
// whichever PostgreSQL replica leads.
type GatewayState struct {
	Down    bool      `json:"down"`
	Since   time.Time `json:"since"`   // when the outage was declared
	Failing time.Time `json:"failing"` // the first failed call of it
	Reason  string    `json:"reason"`
	// Alerted: a [경고] was queued (Message); a [복구] follows the end.
	// False for an outage nobody could be paged about (no other
	// provider, no recipients): it is logged, and its end too.
	Alerted bool  `json:"alerted"`
	Message int64 `json:"message,omitempty"`
}

// GatewayKey is the store state key of a provider's GatewayState.
func GatewayKey(provider string) string { return "gateway/" + provider }

// LoadGateway returns a provider's stored outage state (the zero state when
// none was stored).
func LoadGateway(ctx context.Context, st store.AlertState, provider string) (GatewayState, error) {
	var g GatewayState
	raw, err := st.GetState(ctx, GatewayKey(provider))
	if errors.Is(err, store.ErrNotFound) {
		return g, nil
	}
	if err != nil {
		return g, err
	}
	if err := json.Unmarshal(raw, &g); err != nil {
		return g, fmt.Errorf("gateway state of %s: %w", provider, err)
	}
	return g, nil
}

// Health is what Gateways needs of the dispatcher.
type Health interface {
	// Providers is each provider's health, in failover order.
	Providers() []dispatcher.ProviderState
	// Probe asks a provider whether it answers, without sending.
	Probe(ctx context.Context, name string) bool
}

// GatewayOptions configure Gateways.
type GatewayOptions struct {
	Store      store.AlertState
	Outbox     *outbox.Outbox
	Dispatcher Health
	// DownAfter (sms.down_after): how long a provider must have failed
	// every call before it is paged; 0 turns the watch off.
	DownAfter  time.Duration
	Recipients []string // alerting.recipients
	// AlertsHere reports whether this process pages (nil: always): on a
	// shared PostgreSQL store only the replica leading the monitor does.
	AlertsHere func() bool
	Log        *slog.Logger
	Now        func() time.Time
}

// Gateways pages a provider that has failed every call for DownAfter, and
// its recovery. Safe for concurrent use.
type Gateways struct {
	opt GatewayOptions

	mu     sync.Mutex
	logged map[string]string // provider → the problem last logged
}

// NewGateways builds the watch; it does nothing until Run or Once.
func NewGateways(opt GatewayOptions) *Gateways {
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	return &Gateways{opt: opt, logged: map[string]string{}}
}

// Every is how often the watch looks (and probes a failing gateway):
// a tenth of DownAfter, between 100 ms and 30 s.
func (g *Gateways) Every() time.Duration {
	return min(max(g.opt.DownAfter/10, 100*time.Millisecond), 30*time.Second)
}

// Run looks every Every until ctx ends; it returns at once when DownAfter
// is 0.
func (g *Gateways) Run(ctx context.Context) {
	if g.opt.DownAfter <= 0 {
		return
	}
	t := time.NewTicker(g.Every())
	defer t.Stop()
	for {
		g.Once(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// minFailures is the fewest failed calls an outage is made of: one lone
// failure (a timeout, then nothing sent for a while) is no outage.
const minFailures = 2

// Verdict is what Decide makes of a provider's health.
type Verdict int

const (
	Steady   Verdict = iota // nothing to send
	WentDown                // page it: [경고]
	CameBack                // its outage is over: [복구]
)

// Decide is the watch's rule, a function of the provider's health as the
// dispatcher sees it, the stored outage and the time: a provider is down
// once it has failed every call (at least minFailures of them) for
// downAfter, and back once a call worked after the outage was declared.
func Decide(st dispatcher.ProviderState, saved GatewayState, now time.Time, downAfter time.Duration) Verdict {
	switch {
	case !saved.Down && st.Failures >= minFailures && !st.FailingSince.IsZero() && now.Sub(st.FailingSince) >= downAfter:
		return WentDown
	case saved.Down && st.Failures == 0 && st.LastSuccess.After(saved.Since):
		return CameBack
	}
	return Steady
}

// Once looks at every provider: a failing one (or one stored as down, which
// a restart knows nothing of yet) not called for Every is probed, so that
// its state is known while nothing is sent; then, where this process pages,
// an outage that began is paged and one that ended is resolved.
func (g *Gateways) Once(ctx context.Context) {
	every := g.Every()
	for _, st := range g.opt.Dispatcher.Providers() {
		saved, err := LoadGateway(ctx, g.opt.Store, st.Name)
		if err != nil {
			if ctx.Err() == nil {
				g.problem(st.Name, "gateway watch: cannot read the stored outage state; trying again", err)
			}
			continue
		}
		if (st.Failures > 0 || saved.Down) && g.opt.Now().Sub(st.LastCall()) >= every {
			if g.opt.Dispatcher.Probe(ctx, st.Name) {
				st = g.state(st.Name)
			}
		}
		if ctx.Err() != nil {
			return
		}
		if g.opt.AlertsHere != nil && !g.opt.AlertsHere() {
			continue
		}
		now := g.opt.Now()
		switch Decide(st, saved, now, g.opt.DownAfter) {
		case WentDown:
			g.down(ctx, st, now)
		case CameBack:
			g.up(ctx, st, saved, now)
		}
	}
}

// state is name's health now.
func (g *Gateways) state(name string) dispatcher.ProviderState {
	for _, st := range g.opt.Dispatcher.Providers() {
		if st.Name == name {
			return st
		}
	}
	return dispatcher.ProviderState{Name: name}
}

// others are the providers but name, in failover order.
func (g *Gateways) others(name string) []string {
	var out []string
	for _, st := range g.opt.Dispatcher.Providers() {
		if st.Name != name {
			out = append(out, st.Name)
		}
	}
	return out
}

// down pages an outage that began: through the other providers (the
// message is made with dispatcher.AvoidActor), stored before it counts as
// sent. An alert that could not be queued is tried again at the next look;
// an outage nobody can be paged about is logged, once.
func (g *Gateways) down(ctx context.Context, st dispatcher.ProviderState, now time.Time) {
	reason := Reason(st, now)
	saved := GatewayState{Down: true, Since: now, Failing: st.FailingSince, Reason: reason}
	others := g.others(st.Name)
	log := g.opt.Log.With("provider", st.Name, "reason", reason, "failing_since", st.FailingSince, "err", st.LastError)
	switch {
	case len(others) == 0:
		log.Error("gateway down and no other provider to page through: nobody is paged about it (configure a second provider in sms.providers); messages wait for it",
			"down_after", g.opt.DownAfter)
	case len(g.opt.Recipients) == 0:
		log.Error("gateway down, but alerting.recipients is empty: nobody is paged about it")
	default:
		m, err := g.opt.Outbox.Submit(ctx, outbox.Request{
			To: g.opt.Recipients, Text: DownText(st.Name, reason), Type: "auto",
			Source: "alert", Actor: dispatcher.AvoidActor(st.Name), DropLimited: true,
		})
		if err != nil {
			g.problem(st.Name, "gateway down: alert not queued; trying again", err)
			return
		}
		saved.Alerted, saved.Message = true, m.ID
		log.Warn("gateway down: alert queued, sent through the other providers", "message", m.ID, "through", strings.Join(others, ","))
	}
	g.save(ctx, st.Name, saved)
}

// up resolves an outage that ended: a [복구] when a [경고] went out.
func (g *Gateways) up(ctx context.Context, st dispatcher.ProviderState, saved GatewayState, now time.Time) {
	took := now.Sub(saved.Failing)
	if saved.Failing.IsZero() {
		took = now.Sub(saved.Since)
	}
	if saved.Alerted {
		m, err := g.opt.Outbox.Submit(ctx, outbox.Request{
			To: g.opt.Recipients, Text: UpText(st.Name, took), Type: "auto",
			Source: "alert", Actor: "gateway-up:" + st.Name, DropLimited: true,
		})
		if err != nil {
			g.problem(st.Name, "gateway works again: recovery message not queued; trying again", err)
			return
		}
		g.opt.Log.Info("gateway works again: recovery message queued", "provider", st.Name, "outage", took.Round(time.Second), "message", m.ID)
	} else {
		g.opt.Log.Info("gateway works again", "provider", st.Name, "outage", took.Round(time.Second))
	}
	g.save(ctx, st.Name, GatewayState{})
}

func (g *Gateways) save(ctx context.Context, name string, s GatewayState) {
	raw, err := json.Marshal(s)
	if err == nil {
		err = g.opt.Store.PutState(ctx, GatewayKey(name), raw)
	}
	if err != nil {
		// A queued alert whose state is lost is sent again at the next
		// look: twice rather than never.
		g.problem(name, "gateway watch: outage state not stored; a message may be sent twice", err)
		return
	}
	g.mu.Lock()
	delete(g.logged, name)
	g.mu.Unlock()
}

// problem logs a failure of the watch once until it changes or clears.
func (g *Gateways) problem(name, msg string, err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	key := msg + ": " + err.Error()
	if g.logged[name] == key {
		return
	}
	g.logged[name] = key
	g.opt.Log.Error(msg, "provider", name, "err", err)
}

// DownText is the gateway-down alert (DESIGN §5).
func DownText(provider, reason string) string {
	return fmt.Sprintf("[경고] 문자 게이트웨이 %s 장애: %s", provider, reason)
}

// UpText is its recovery.
func UpText(provider string, outage time.Duration) string {
	return fmt.Sprintf("[복구] 문자 게이트웨이 %s 정상화 (장애 %s).", provider, span(outage))
}

// Reason is why a provider is down, in a few Korean words: the refusal
// of the account ("인증 실패"), or how long it has failed and how
// ("5분째 응답 없음").
func Reason(st dispatcher.ProviderState, now time.Time) string {
	if r, ok := provider.AccountFailure(st.LastError); ok {
		return r
	}
	since := span(now.Sub(st.FailingSince)) + "째"
	var pe *provider.Error
	if !errors.As(st.LastError, &pe) {
		return since + " 발송 실패"
	}
	switch {
	case pe.Code == "timeout" || pe.Uncertain:
		return since + " 응답 없음"
	case pe.Code == "network":
		return since + " 연결 불가"
	case strings.HasPrefix(pe.Code, "HTTP "):
		return since + " " + pe.Code + " 오류"
	case pe.Code == "bad response":
		return since + " 응답 해석 불가"
	}
	return since + " 발송 실패"
}

// span is d in Korean, to the minute past a minute: "40초", "5분",
// "1시간 5분".
func span(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%d초", int(max(d, 0)/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%d분", int(d/time.Minute))
	case d%time.Hour < time.Minute:
		return fmt.Sprintf("%d시간", int(d/time.Hour))
	}
	return fmt.Sprintf("%d시간 %d분", int(d/time.Hour), int(d%time.Hour/time.Minute))
}
