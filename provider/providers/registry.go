// Package providers is the one place that knows every gateway: a map from
// config type name to the package's Factory, Validator and Options (its
// own config keys, which it decodes itself: config.Provider.Decode). Adding
// a gateway is its package plus one line in registry. (It cannot live in
// package provider: the gateway packages import provider.)
package providers

import (
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/munja-sms/munja/config"
	"github.com/munja-sms/munja/provider"
	"github.com/munja-sms/munja/provider/aligo"
	"github.com/munja-sms/munja/provider/alimtalk"
	"github.com/munja-sms/munja/provider/dryrun"
	"github.com/munja-sms/munja/provider/nhn"
	"github.com/munja-sms/munja/provider/sens"
	"github.com/munja-sms/munja/provider/solapi"
	"github.com/munja-sms/munja/provider/twilio"
	"github.com/munja-sms/munja/provider/webhook"
)

type entry struct {
	New      provider.Factory
	Validate provider.Validator
	// Options is the gateway's options struct (its keys beyond the
	// common ones), for the tests that keep every gateway's secrets
	// masked in the effective config.
	Options any
}

var registry = map[string]entry{
	"aligo":          {aligo.New, aligo.Validate, aligo.Options{}},
	"aligo_alimtalk": {alimtalk.New, alimtalk.Validate, alimtalk.Options{}},
	"coolsms":        {solapi.NewCoolSMS, solapi.ValidateCoolSMS, solapi.Options{}},
	"dryrun":         {dryrun.New, dryrun.Validate, struct{}{}},
	"nhn":            {nhn.New, nhn.Validate, nhn.Options{}},
	"sens":           {sens.New, sens.Validate, sens.Options{}},
	"solapi":         {solapi.New, solapi.Validate, solapi.Options{}},
	"twilio":         {twilio.New, twilio.Validate, twilio.Options{}},
	"webhook":        {webhook.New, webhook.Validate, webhook.Options{}},
}

// Types lists the known provider types, sorted.
func Types() []string { return slices.Sorted(maps.Keys(registry)) }

// New builds the providers in failover order. With no config it returns
// the single dryrun provider. hc is shared; each call's deadline comes from
// the provider's timeout and the caller's context.
func New(cfgs []config.Provider, hc *http.Client, log *slog.Logger) ([]provider.Provider, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if len(cfgs) == 0 {
		cfgs = []config.Provider{{Name: "dryrun", Type: "dryrun"}}
	}
	out := make([]provider.Provider, 0, len(cfgs))
	for i, c := range cfgs {
		e, ok := registry[c.Type]
		if !ok {
			return nil, fmt.Errorf("sms.providers[%d].type: %s", i, unknown(c.Type))
		}
		name := c.Name
		if name == "" {
			name = c.Type
		}
		p, err := e.New(c, hc, log.With("provider", name))
		if err != nil {
			return nil, fmt.Errorf("sms.providers[%d] (%s): %w", i, name, err)
		}
		out = append(out, p)
	}
	return out, nil
}

// Validate checks the type of every sms.providers entry and runs that
// type's own validator. It has the shape config.Config.Validate takes.
func Validate(c *config.Config) []error {
	var errs []error
	for i, p := range c.SMS.Providers {
		path := fmt.Sprintf("sms.providers[%d]", i)
		e, ok := registry[p.Type]
		if !ok {
			errs = append(errs, config.FieldError{Path: path + ".type", Msg: unknown(p.Type)})
			continue
		}
		errs = append(errs, e.Validate(p, path)...)
	}
	return errs
}

func unknown(typ string) string {
	known := strings.Join(Types(), ", ")
	if strings.TrimSpace(typ) == "" {
		return "required (known: " + known + ")"
	}
	return fmt.Sprintf("unknown provider type %q (known: %s)", typ, known)
}
