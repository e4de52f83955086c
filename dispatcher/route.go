package dispatcher

import (
	"strings"

	"github.com/munja-sms/munja/provider"
	"github.com/munja-sms/munja/sms"
)

// avoidPrefix starts the CreatedBy of an alert that must not go through
// the provider it names.
const avoidPrefix = "gateway-down:"

// AvoidActor is the actor (outbox.Request.Actor, stored as the message's
// CreatedBy) of the alert that provider name is down: an alert with it is
// never sent through that provider — which would otherwise take it as its
// trial call, or as the first in order once its down period is over — but
// only through the others, in order. The rule travels with the stored
// message, so it holds after a restart and on every replica.
func AvoidActor(name string) string { return avoidPrefix + name }

// Avoided is the provider m must not go through ("" = none): m is an
// alert made with AvoidActor.
func Avoided(m sms.Message) string {
	if m.Source != "alert" {
		return ""
	}
	name, _ := strings.CutPrefix(m.CreatedBy, avoidPrefix)
	if name == m.CreatedBy {
		return ""
	}
	return name
}

// route is the providers m may go through, in failover order.
func (d *Dispatcher) route(m sms.Message) []provider.Provider {
	avoid := Avoided(m)
	if avoid == "" {
		return d.opt.Providers
	}
	out := make([]provider.Provider, 0, len(d.opt.Providers))
	for _, p := range d.opt.Providers {
		if p.Name() != avoid {
			out = append(out, p)
		}
	}
	return out
}
