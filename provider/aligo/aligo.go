// Package aligo sends SMS/LMS through the Aligo HTTP API (apis.aligo.in),
// following the wire format in aligo-api.md: POST form fields to paths with
// a trailing slash, JSON answers with HTTP 200 even for errors, numbers
// that may be strings, and a text/html content type that is ignored.
package aligo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/munja-sms/munja/config"
	"github.com/munja-sms/munja/provider"
	"github.com/munja-sms/munja/sms"
)

// Limits of the Aligo SMS API.
const (
	DefaultBaseURL = "https://apis.aligo.in"
	MaxReceivers   = 1000    // receivers per /send/
	maxBody        = 8 << 20 // a 500-row /list/ page of long LMS fits
	defaultTimeout = 10 * time.Second
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
	if hc == nil {
		hc = &http.Client{}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Client{
		name:    cfg.Name,
		base:    strings.TrimRight(cfg.BaseURL, "/"),
		userID:  o.UserID,
		key:     o.Key,
		sender:  cfg.Sender,
		test:    cfg.TestMode,
		timeout: cfg.Timeout.D(),
		hc:      hc,
		log:     log,
	}
	if c.name == "" {
		c.name = "aligo"
	}
	if c.base == "" {
		c.base = DefaultBaseURL
	}
	if c.timeout <= 0 {
		c.timeout = defaultTimeout
	}
	return c, nil
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
	switch n := len(b.Receivers); {
	case n == 0:
		return provider.Result{}, c.requestError("no receivers", "수신번호가 없습니다", "batch has no receivers")
	case n > MaxReceivers:
		return provider.Result{}, c.requestError("batch too large",
			fmt.Sprintf("한 번에 최대 %d명까지 보낼 수 있습니다 (요청: %d명)", MaxReceivers, n),
			fmt.Sprintf("batch has %d receivers, Aligo accepts at most %d per call", n, MaxReceivers))
	}
	if b.Text == "" {
		return provider.Result{}, c.requestError("empty message", "메시지 내용이 없습니다", "batch has an empty text")
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
	sender, text, title, kind := b.Sender, b.Text, b.Title, b.Kind
	if sender == "" {
		sender = c.sender
	}
	sender = strings.ReplaceAll(sender, "-", "")
	if sender == "" {
		return nil, "", c.requestError("no sender", "발신번호가 설정되어 있지 않습니다 (sms.sender)",
			"no sender number configured (sms.sender)")
	}
	n := sms.Len(text)
	if n > sms.MaxLMSBytes {
		return nil, "", c.requestError("message too long",
			fmt.Sprintf("메시지가 너무 깁니다 (%d바이트, 최대 %d)", n, sms.MaxLMSBytes),
			fmt.Sprintf("message is %d bytes, Aligo accepts at most %d", n, sms.MaxLMSBytes))
	}
	switch kind {
	case sms.KindSMS, sms.KindLMS, sms.KindMMS:
	case "":
		kind = sms.KindSMS
	default:
		return nil, "", c.requestError("bad kind", "알 수 없는 메시지 종류: "+string(kind), "unknown message kind "+string(kind))
	}
	if fit := sms.FitKind(kind, n); fit != kind {
		c.log.Warn("text exceeds 90 bytes, sending as LMS", "bytes", n)
		kind = fit
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
		e := c.requestError(fmt.Sprintf("error_cnt %d", fail), koAll, enAll)
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
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	form.Set("key", c.key.Reveal())
	form.Set("user_id", c.userID)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		return fmt.Errorf("aligo: building request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=UTF-8")
	req.Header.Set("Accept", "application/json, text/html")
	// Whether the request was written decides what a failure means: before,
	// Aligo cannot have it; after, it may have accepted it (Uncertain).
	var wrote atomic.Bool
	req = req.WithContext(httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		WroteRequest: func(i httptrace.WroteRequestInfo) { wrote.Store(i.Err == nil) },
	}))
	start := time.Now()
	resp, err := c.hc.Do(req)
	if err != nil {
		return c.transportError(ctx, err, wrote.Load())
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return c.transportError(ctx, err, true)
	}
	c.log.Debug("aligo call", "path", path, "status", resp.StatusCode, "bytes", len(body), "took", time.Since(start))
	if len(body) > maxBody {
		return c.decodeError(nil, fmt.Errorf("response larger than %d bytes", maxBody))
	}
	if resp.StatusCode != http.StatusOK {
		return c.statusError(resp.StatusCode, body)
	}
	return c.decode(body, out, env)
}

// decode parses a 200 answer into out (env points into out). The content
// type (text/html in production) is ignored on purpose.
func (c *Client) decode(body []byte, out any, env *envelope) error {
	trimmed := strings.TrimPrefix(strings.TrimSpace(string(body)), "\ufeff")
	if err := json.Unmarshal([]byte(trimmed), out); err != nil {
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
