package dispatcher

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/munja-sms/munja/provider"
)

// Circuit breaker: a gateway that hangs costs every batch a full call
// timeout (and an uncertain call a lookup on top), so one that timed out,
// or failed breakerFailures times in a row (a refusal of the account — a
// bad key, an unregistered IP — counts: it fails every call until an
// operator fixes it), is marked down for a while and
// batches go straight to the next provider that is up. When the while is
// over, one batch tries it (a trial call): success brings it back, failure
// marks it down again for twice as long (up to breakerMaxDown). A provider
// with none up after it is still called: the last resort is the only way
// to deliver.
const (
	breakerFailures = 3
	breakerDown     = 30 * time.Second
	breakerMaxDown  = 5 * time.Minute
)

// ProviderState is one provider's health as the dispatcher sees it (for
// metrics, and the gateway-down alert).
type ProviderState struct {
	Name string
	Up   bool // false while marked down
	// DownUntil is when a marked-down provider gets its trial call.
	DownUntil time.Time
	// Failures is the number of calls in a row that failed.
	Failures int
	// FailingSince is the first failure of the current run (zero when the
	// last call worked); LastFailure its latest, LastError why.
	FailingSince time.Time
	LastFailure  time.Time
	LastError    error
	LastSuccess  time.Time
}

// LastCall is when the provider was last called (or probed).
func (s ProviderState) LastCall() time.Time {
	if s.LastSuccess.After(s.LastFailure) {
		return s.LastSuccess
	}
	return s.LastFailure
}

type breaker struct {
	mu    sync.Mutex
	state map[string]*providerHealth
}

type providerHealth struct {
	ProviderState
	downFor time.Duration // the last down period (doubles)
	trial   bool          // a trial call is in flight
}

func newBreaker(ps []provider.Provider) *breaker {
	b := &breaker{state: map[string]*providerHealth{}}
	for _, p := range ps {
		b.state[p.Name()] = &providerHealth{ProviderState: ProviderState{Name: p.Name(), Up: true}}
	}
	return b
}

// allow reports whether a batch may be sent to name now: it is up, or its
// down period is over and no trial is in flight (this batch is the trial).
func (b *breaker) allow(name string, now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	h := b.state[name]
	if h == nil || h.Up {
		return true
	}
	if now.Before(h.DownUntil) || h.trial {
		return false
	}
	h.trial = true
	return true
}

// anyUp reports whether one of ps could take a batch now (up, or its
// trial due), without taking the trial.
func (b *breaker) anyUp(ps []provider.Provider, now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, p := range ps {
		h := b.state[p.Name()]
		if h == nil || h.Up || (!now.Before(h.DownUntil) && !h.trial) {
			return true
		}
	}
	return false
}

// record notes the outcome of a call to name; it returns true when this
// call marked the provider down or brought it back (a state change).
func (b *breaker) record(name string, err error, now time.Time) (changed bool) {
	return b.note(name, err, now, false)
}

// note records a call's outcome (record) or a probe's: a probe is no
// batch, so it neither ends a trial in flight nor, failing, pushes the
// next trial further away.
func (b *breaker) note(name string, err error, now time.Time, probe bool) (changed bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	h := b.state[name]
	if h == nil {
		return false
	}
	if !probe {
		h.trial = false
	}
	if _, account := provider.AccountFailure(err); err == nil || (provider.IsPermanent(err) && !account) {
		// A permanent refusal of the request (an invalid number) is an
		// answer: the gateway is up.
		changed = !h.Up
		h.Up, h.Failures, h.FailingSince, h.LastError, h.downFor = true, 0, time.Time{}, nil, 0
		if err == nil {
			h.LastSuccess = now
		}
		return changed
	}
	if h.Failures == 0 {
		h.FailingSince = now
	}
	h.Failures++
	h.LastFailure, h.LastError = now, err
	switch {
	case !h.Up && probe: // still down; the trial keeps its time
		return false
	case !h.Up: // a failed trial
		h.downFor = min(2*h.downFor, breakerMaxDown)
	case timedOut(err) || h.Failures >= breakerFailures:
		h.Up, h.downFor, changed = false, breakerDown, true
	default:
		return false
	}
	h.DownUntil = now.Add(h.downFor)
	return changed
}

// Probe asks provider name whether it answers, when it can be asked
// without sending anything (a provider.Balancer: Aligo's /remain/), and
// records the outcome in its health like a call's: a failure counts (and
// marks it down as calls do), an answer brings it back. A probe is how a
// failing gateway's state stays known while nothing is sent through it
// (the gateway-down alert, selfwatch); it takes no trial and does not
// delay one. It reports whether the provider was asked; a probe cut short
// by ctx records nothing. A gateway that answers the probe but refuses
// every send is judged by its sends alone while there are some.
func (d *Dispatcher) Probe(ctx context.Context, name string) bool {
	for _, p := range d.opt.Providers {
		if p.Name() != name {
			continue
		}
		bp, ok := p.(provider.Balancer)
		if !ok {
			return false
		}
		cctx, cancel := context.WithTimeout(ctx, d.opt.CallTimeout)
		_, err := bp.Remain(cctx)
		cancel()
		if ctx.Err() != nil {
			return false
		}
		d.noteChange(p.Name(), d.gateways.note(name, err, d.opt.Now(), true), err)
		return true
	}
	return false
}

// noteChange logs a provider marked down or back up.
func (d *Dispatcher) noteChange(name string, changed bool, err error) {
	switch {
	case !changed:
	case err != nil:
		d.opt.Log.Warn("gateway marked down: batches go to the next provider until a trial call works", "provider", name, "err", err)
	default:
		d.opt.Log.Info("gateway works again", "provider", name)
	}
}

// timedOut reports whether err is a call that got no answer in time.
func timedOut(err error) bool {
	var pe *provider.Error
	return provider.IsUncertain(err) || (errors.As(err, &pe) && pe.Code == "timeout")
}

// Providers returns each provider's health, in failover order.
func (d *Dispatcher) Providers() []ProviderState {
	st := d.gateways.states()
	out := make([]ProviderState, 0, len(st))
	for _, p := range d.opt.Providers {
		out = append(out, st[p.Name()])
	}
	return out
}

// states returns every provider's state by name.
func (b *breaker) states() map[string]ProviderState {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make(map[string]ProviderState, len(b.state))
	for name, h := range b.state {
		out[name] = h.ProviderState
	}
	return out
}
