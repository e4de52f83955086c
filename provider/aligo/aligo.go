// Package aligo sends SMS/LMS through the Aligo HTTP API (apis.aligo.in),
// following the wire format in aligo-api.md: POST form fields to paths with
// a trailing slash, JSON answers with HTTP 200 even for errors, numbers
// that may be strings, and a text/html content type that is ignored.
package aligo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/munja-sms/munja/config"
	"github.com/munja-sms/munja/provider"
	"github.com/munja-sms/munja/provider/internal/gateway"
	"github.com/munja-sms/munja/sms"
)

// Limits of the Aligo SMS API.
const (
	DefaultBaseURL = "https://apis.aligo.in"
	MaxReceivers   = 1000    // receivers per /send/
	maxBody        = 8 << 20 // a 500-row /list/ page of long LMS fits
)

// Client is one Aligo account. It implements provider.Provider,
// provider.Balancer and provider.Reporter, plus List.
type Client struct {
	name    string
	base    string // without trailing slash
	userID  string
	key     config.Secret
	sender  string
	test    bool
	timeout time.Duration
	hc      *http.Client
	log     *slog.Logger
}

var (
	_ provider.Provider = (*Client)(nil)
	_ provider.Balancer = (*Client)(nil)
	_ provider.Reporter = (*Client)(nil)
	_ provider.Looker   = (*Client)(nil)
)

// New builds an Aligo provider; it has the provider.Factory signature.
func New(cfg config.Provider, hc *http.Client, log *slog.Logger) (provider.Provider, error) {
	return NewClient(cfg, hc, log)
}

// Options are the keys of an aligo entry beyond the common ones.
type Options struct {
	UserID string        `yaml:"user_id"` // the Aligo login ID
	Key    config.Secret `yaml:"key"`     // API key (or key_file)
}

// options decodes and checks cfg's keys; path is e.g. "sms.providers[0]".
func options(cfg config.Provider, path string) (Options, []error) {
	var o Options
	errs := provider.DecodeConfig(cfg, path, &o)
	bad := func(key, msg string) { errs = append(errs, config.FieldError{Path: path + "." + key, Msg: msg}) }
	if strings.TrimSpace(o.UserID) == "" {
		bad("user_id", "required (your Aligo login ID)")
	}
	if provider.MissingSecret(cfg, o.Key, "key") {
		bad("key", "required (API key from the Aligo console, or key_file)")
	}
	if s := cfg.Sender; s != "" && (len(s) > 16 || strings.Trim(s, "0123456789-") != "") {
		bad("sender", fmt.Sprintf("must be a registered number (digits, at most 16), got %q", s))
	}
	return o, errs
}

// NewClient is New returning the concrete type, for List.
func NewClient(cfg config.Provider, hc *http.Client, log *slog.Logger) (*Client, error) {
	o, errs := options(cfg, "aligo")
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	s := gateway.NewSetup(cfg, hc, log, "aligo", DefaultBaseURL)
	return &Client{
		name:    s.Name,
		base:    s.Base,
		userID:  o.UserID,
		key:     o.Key,
		sender:  cfg.Sender,
		test:    cfg.TestMode,
		timeout: s.Timeout,
		hc:      s.HTTP,
		log:     s.Log,
	}, nil
}

// Validate checks the aligo keys of cfg; path is e.g. "sms.providers[0]".
func Validate(cfg config.Provider, path string) []error {
	_, errs := options(cfg, path)
	return errs
}

// Name is the configured provider name (default "aligo").
func (c *Client) Name() string { return c.name }

// MaxBatch is the /send/ receiver limit.
func (c *Client) MaxBatch() int { return MaxReceivers }

// Send calls /send/: the same text to up to 1000 receivers.
func (c *Client) Send(ctx context.Context, b provider.Batch) (provider.Result, error) {
	if err := c.gw().CheckReceivers(len(b.Receivers), MaxReceivers); err != nil {
		return provider.Result{}, err
	}
	if b.Text == "" {
		return provider.Result{}, c.gw().EmptyText()
	}
	form, kind, err := c.messageForm(b)
	if err != nil {
		return provider.Result{}, err
	}
	recv := make([]string, len(b.Receivers))
	for i, p := range b.Receivers {
		recv[i] = string(p)
	}
	form.Set("receiver", strings.Join(recv, ","))

	var r sendResponse
	if err := c.call(ctx, "/send/", form, &r, &r.envelope); err != nil {
		return provider.Result{}, err
	}
	return c.sendResult(r, kind, len(b.Receivers))
}

// messageForm builds the /send/ fields other than the receivers. It always
// sets msg_type, and upgrades SMS to LMS when the text exceeds 90 bytes
// rather than let the gateway cut the alert short. It never sets rdate and
// rtime: a scheduled message waits in munja's outbox until it is due.
func (c *Client) messageForm(b provider.Batch) (url.Values, sms.Kind, error) {
	sender, text, title := b.Sender, b.Text, b.Title
	if sender == "" {
		sender = c.sender
	}
	sender = strings.ReplaceAll(sender, "-", "")
	if sender == "" {
		return nil, "", c.gw().NoSender()
	}
	kind, err := c.gw().Kind(b.Kind, text, true)
	if err != nil {
		return nil, "", err
	}
	form := url.Values{}
	form.Set("sender", sender)
	form.Set("msg_type", string(kind))
	if text != "" {
		form.Set("msg", text)
	}
	if title != "" && kind != sms.KindSMS {
		form.Set("title", sms.TruncateBytes(title, sms.MaxTitleBytes))
	}
	if b.Test || c.test {
		form.Set("testmode_yn", "Y")
	}
	return form, kind, nil
}

// sendResult turns an accepted /send/ answer into a Result.
func (c *Client) sendResult(r sendResponse, kind sms.Kind, total int) (provider.Result, error) {
	ok, fail := max(int(r.SuccessCnt), 0), max(int(r.ErrorCnt), 0)
	if ok == 0 && fail > 0 {
		e := c.gw().RequestError(fmt.Sprintf("error_cnt %d", fail), koAll, enAll)
		e.Message = c.redact(r.Message)
		return provider.Result{}, e
	}
	if ok == 0 && fail == 0 {
		ok = total // success without counts, as on the spec page sample
	}
	res := provider.Result{
		MessageID: string(r.MsgID),
		Kind:      kind,
		Accepted:  ok,
		Rejected:  fail,
		Reserved:  strings.EqualFold(strings.TrimSpace(r.Message), "reserved"),
	}
	if t := sms.Kind(strings.ToUpper(strings.TrimSpace(r.MsgType))); t == sms.KindSMS || t == sms.KindLMS || t == sms.KindMMS {
		if t != kind {
			c.log.Warn("gateway used another message type", "requested", kind, "used", t, "msg_id", res.MessageID)
		}
		res.Kind = t
	}
	c.log.Debug("aligo accepted", "msg_id", res.MessageID, "accepted", ok, "rejected", fail, "reserved", res.Reserved)
	return res, nil
}

// call POSTs form (plus auth) to path and decodes the JSON answer into out;
// env must point into out. A result_code other than 1 becomes a classified
// *provider.Error.
func (c *Client) call(ctx context.Context, path string, form url.Values, out any, env *envelope) error {
	form.Set("key", c.key.Reveal())
	form.Set("user_id", c.userID)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		return fmt.Errorf("aligo: building request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=UTF-8")
	req.Header.Set("Accept", "application/json, text/html")
	// Every call is a POST Aligo may act on: one whose answer is lost
	// after the request went out is Uncertain.
	a, err := c.gw().Do(req, true)
	if err != nil {
		return err
	}
	c.log.Debug("aligo call", "path", path, "status", a.Status, "bytes", len(a.Body), "took", a.Took)
	if a.Status != http.StatusOK {
		// Aligo answers its own errors with 200: this status came from
		// the infrastructure in front of it (a proxy's 504 may hide an
		// accepted request).
		return c.gw().StatusError(a.Status, a.Body, true)
	}
	return c.decode(a.Body, out, env)
}

// decode parses a 200 answer into out (env points into out). The content
// type (text/html in production) is ignored on purpose.
func (c *Client) decode(body []byte, out any, env *envelope) error {
	if err := gateway.Unmarshal(body, out); err != nil {
		return c.decodeError(body, err)
	}
	switch env.ResultCode {
	case 1:
		return nil
	case 0:
		return c.decodeError(body, errors.New("result_code missing"))
	default:
		return c.gatewayError(int64(env.ResultCode), env.Message)
	}
}
