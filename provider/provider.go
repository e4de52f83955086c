// Package provider defines the seam between the dispatcher and SMS gateways.
//
// A provider is one package (provider/aligo, provider/webhook, …) with a
// Factory and a Validator, listed in the one registry map in
// provider/providers — adding a gateway is that package plus one line there.
package provider

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/munja-sms/munja/config"
	"github.com/munja-sms/munja/sms"
)

// Batch is one gateway call: the same text to up to MaxBatch receivers, to
// be sent now. A scheduled message waits in the outbox until it is due, so
// no provider is asked to hold one (no gateway reservation).
type Batch struct {
	Sender    string
	Text      string
	Title     string
	Kind      sms.Kind
	Receivers []sms.Phone
	Test      bool // gateway test mode (Aligo testmode_yn=Y)
	// What the message is, for a provider that takes only some messages
	// (Kakao Alimtalk sends through approved templates): the message's
	// Source ("alert" for the alert engine, "console", "api" …), its
	// Actor as stored (CreatedBy: "alert:first", "alert:resolved" …)
	// and the munja message template it was written from ("" = none).
	Source   string
	Actor    string
	Template string
}

// Result is what a gateway said about an accepted batch.
type Result struct {
	MessageID string   // gateway's id for the request (Aligo msg_id)
	Kind      sms.Kind // type the gateway actually used, if it says
	Accepted  int      // receivers accepted (Aligo success_cnt)
	Rejected  int      // receivers rejected without naming them (Aligo error_cnt)
	Reserved  bool     // the gateway says it holds the batch as a reservation
	// Failed names receivers the gateway rejected individually, with the reason.
	Failed map[sms.Phone]string
}

// Balance is what the remaining balance still buys.
type Balance struct {
	SMS, LMS, MMS int64
	Alimtalk      int64 // Kakao Alimtalk messages (aligo_alimtalk; 0 elsewhere)
}

// RecipientReport is a delivery result fetched from the gateway after sending.
type RecipientReport struct {
	Phone     sms.Phone
	Delivered bool   // reached the handset
	Failed    bool   // final failure
	State     string // gateway's own words, e.g. 발송완료
	At        time.Time
}

// Provider sends batches through one gateway account.
type Provider interface {
	Name() string
	// MaxBatch is the most receivers one Send accepts (Aligo: 1000).
	MaxBatch() int
	Send(ctx context.Context, b Batch) (Result, error)
}

// Capabilities a provider may have beyond sending; each is checked with a
// type assertion so that a minimal provider stays minimal.
type (
	// Balancer reports the remaining balance.
	Balancer interface {
		Remain(ctx context.Context) (Balance, error)
	}
	// Reporter fetches per-recipient delivery results of an accepted request.
	Reporter interface {
		Reports(ctx context.Context, messageID string) ([]RecipientReport, error)
	}
	// Looker tells whether the gateway accepted a send whose answer never
	// came (an Uncertain error): the receivers of b it accepted from a
	// request with b's text made at or after since, each with the
	// gateway's message id. A receiver it does not return was not
	// accepted and may be sent again. An error means the gateway could not
	// be asked.
	Looker interface {
		Lookup(ctx context.Context, b Batch, since time.Time) (map[sms.Phone]string, error)
	}
	// TemplateTaker is a provider that takes only the messages it has an
	// approved template for (Kakao Alimtalk; others Skip): it tells
	// whether it takes a message written from the munja message
	// template name (Batch.Template), so the console's send form can say
	// so.
	TemplateTaker interface {
		TakesTemplate(name string) bool
	}
)

// Error is a classified gateway failure. Every provider returns *Error (or
// wraps one) for failures the gateway reported or the network caused.
type Error struct {
	Provider  string
	Code      string // gateway code, e.g. "-101", "HTTP 503", "timeout"
	Message   string // gateway's own message, verbatim
	Korean    string // operator-friendly explanation in Korean
	English   string // the same in English
	Permanent bool   // retrying the same request cannot succeed (bad key, IP, sender, number)
	// Uncertain: the request reached the gateway but no answer telling its
	// outcome came back (a timeout after the request was written, a
	// connection cut while reading the answer, a proxy's 504): the gateway
	// may have accepted it. Ask it (Looker) before sending again.
	Uncertain bool
	// Account, when set, says the gateway refused the account, not this
	// request (a bad key, this server's IP not registered, the API not
	// enabled, no balance, a base_url that answers 4xx): every call fails
	// until an operator fixes it. It holds the reason in a few Korean
	// words for the gateway-down alert ("인증 실패", "발송 IP 미등록").
	// The dispatcher counts such a failure against the gateway's health
	// like an outage; a request-level refusal (an invalid number, an
	// unregistered sender) is an answer and does not.
	Account string
	// Skip, when set, says the provider does not take this message at
	// all (Kakao Alimtalk has no approved template for it): no request
	// was made, the gateway's health is untouched, and the dispatcher
	// hands the batch to the next provider; the message fails only when
	// no provider takes it.
	Skip bool
	Err  error // underlying error, if any
}

func (e *Error) Error() string {
	msg := e.English
	if msg == "" {
		msg = e.Message
	}
	s := fmt.Sprintf("%s: %s", e.Provider, msg)
	if e.Code != "" {
		s = fmt.Sprintf("%s: [%s] %s", e.Provider, e.Code, msg)
	}
	if e.Message != "" && e.Message != msg {
		s += " (" + e.Message + ")"
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// IsPermanent reports whether err is a gateway failure that retrying cannot fix.
// Unclassified errors are treated as retryable: a lost alert is worse than a retry.
func IsPermanent(err error) bool {
	var pe *Error
	return errors.As(err, &pe) && pe.Permanent
}

// AccountFailure returns the short reason of an account-level refusal
// (Error.Account) and whether err is one.
func AccountFailure(err error) (string, bool) {
	var pe *Error
	if errors.As(err, &pe) && pe.Account != "" {
		return pe.Account, true
	}
	return "", false
}

// IsSkip reports whether err is a provider declining a message it does
// not take (Error.Skip).
func IsSkip(err error) bool {
	var pe *Error
	return errors.As(err, &pe) && pe.Skip
}

// IsUncertain reports whether err is a gateway call whose outcome is
// unknown: the gateway may have accepted it.
func IsUncertain(err error) bool {
	var pe *Error
	return errors.As(err, &pe) && pe.Uncertain
}

// Factory builds a provider from its config. hc carries no timeout of its
// own; every call gets its deadline from ctx.
type Factory func(cfg config.Provider, hc *http.Client, log *slog.Logger) (Provider, error)

// Validator checks a provider's type-specific keys; path is e.g.
// "sms.providers[0]". It returns every problem found.
type Validator func(cfg config.Provider, path string) []error

// DecodeConfig reads cfg's own keys into opts (a pointer to the gateway's
// options struct: see config.Provider.Decode, which refuses keys the
// struct does not have and reads KEY_file secrets) and checks the keys
// every gateway shares: base_url an http(s) URL, timeout not negative.
// Errors name the key path under path, e.g. "sms.providers[1].api_secret".
func DecodeConfig(cfg config.Provider, path string, opts any) []error {
	errs := cfg.Decode(path, opts)
	if cfg.BaseURL != "" {
		if u, err := url.Parse(cfg.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, config.FieldError{Path: path + ".base_url", Msg: fmt.Sprintf("must be an http(s) URL, got %q", cfg.BaseURL)})
		}
	}
	if cfg.Timeout < 0 {
		errs = append(errs, config.FieldError{Path: path + ".timeout", Msg: "must not be negative"})
	}
	return errs
}

// MissingSecret reports whether the secret key is neither set (v) nor given
// as key_file (whose problems DecodeConfig reports).
func MissingSecret(cfg config.Provider, v config.Secret, key string) bool {
	_, file := cfg.Options[key+"_file"]
	return v.IsZero() && !file
}
