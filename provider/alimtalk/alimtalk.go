// Package alimtalk sends Kakao Alimtalk (알림톡) through Aligo's Kakao API
// (kakaoapi.aligo.in, aligo-api.md §7), with SMS/LMS failover: a message
// goes through the APPROVED template configured for its kind (alert,
// resolved, or the munja template it was written from), and Aligo is asked
// to send the same text by SMS/LMS to a recipient KakaoTalk cannot reach
// (failover=Y). A message no template is configured for is not this
// provider's (provider.Error.Skip): the next provider sends it as SMS.
//
// The wire format is Aligo's: POST form fields to paths with a trailing
// slash, auth fields apikey and userid (not the SMS API's key and
// user_id), a token from /akv10/token/create/ sent along (§7.1: whether
// the server still requires it is unconfirmed, so a token that cannot be
// had is left out and one refused is renewed once), JSON answers with
// HTTP 200 and a "code" of 0 (or 1 on some endpoints) for success.
package alimtalk

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/munja-sms/munja/config"
	"github.com/munja-sms/munja/provider"
	"github.com/munja-sms/munja/provider/internal/gateway"
	"github.com/munja-sms/munja/sms"
)

// Limits of the Aligo Kakao API.
const (
	DefaultBaseURL = "https://kakaoapi.aligo.in"
	MaxReceivers   = 500     // receiver_1 … receiver_500 per /akv10/alimtalk/send/
	maxBody        = 8 << 20 // a 500-row history page fits
)

// Client is one Aligo Kakao account and channel. It implements
// provider.Provider, Balancer, Reporter, Looker and TemplateTaker.
type Client struct {
	name      string
	base      string // without trailing slash
	userID    string
	key       config.Secret
	senderKey config.Secret
	sender    string
	test      bool
	timeout   time.Duration
	templates map[string]Template // by Template.For
	hc        *http.Client
	log       *slog.Logger
	now       func() time.Time

	tokens tokenCache
}

var (
	_ provider.Provider      = (*Client)(nil)
	_ provider.Balancer      = (*Client)(nil)
	_ provider.Reporter      = (*Client)(nil)
	_ provider.Looker        = (*Client)(nil)
	_ provider.TemplateTaker = (*Client)(nil)
)

// New builds an Alimtalk provider; it has the provider.Factory signature.
func New(cfg config.Provider, hc *http.Client, log *slog.Logger) (provider.Provider, error) {
	return NewClient(cfg, hc, log)
}

// Validate checks the aligo_alimtalk keys of cfg; path is e.g.
// "sms.providers[1]".
func Validate(cfg config.Provider, path string) []error {
	_, _, errs := options(cfg, path)
	return errs
}

// NewClient is New returning the concrete type.
func NewClient(cfg config.Provider, hc *http.Client, log *slog.Logger) (*Client, error) {
	o, ts, errs := options(cfg, "aligo_alimtalk")
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	s := gateway.NewSetup(cfg, hc, log, "aligo_alimtalk", DefaultBaseURL)
	c := &Client{
		name:      s.Name,
		base:      s.Base,
		userID:    o.UserID,
		key:       o.Key,
		senderKey: o.SenderKey,
		sender:    strings.ReplaceAll(cfg.Sender, "-", ""),
		test:      cfg.TestMode,
		timeout:   s.Timeout,
		templates: map[string]Template{},
		hc:        s.HTTP,
		log:       s.Log,
		now:       time.Now,
	}
	for _, t := range ts {
		c.templates[t.For] = t
	}
	return c, nil
}

// Name is the configured provider name (default "aligo_alimtalk").
func (c *Client) Name() string { return c.name }

// MaxBatch is the receiver_N limit of one send.
func (c *Client) MaxBatch() int { return MaxReceivers }

// TakesTemplate reports whether a template:NAME entry is configured.
func (c *Client) TakesTemplate(name string) bool {
	_, ok := c.templates[forTemplate+strings.TrimSpace(name)]
	return ok && strings.TrimSpace(name) != ""
}

// Send calls /akv10/alimtalk/send/: the batch's text through its approved
// template to up to 500 receivers, with SMS/LMS failover of the same text.
func (c *Client) Send(ctx context.Context, b provider.Batch) (provider.Result, error) {
	m, err := c.render(b)
	if err != nil {
		return provider.Result{}, err
	}
	switch n := len(b.Receivers); {
	case n == 0:
		return provider.Result{}, c.gw().RequestError("no receivers", "수신번호가 없습니다", "batch has no receivers")
	case n > MaxReceivers:
		return provider.Result{}, c.gw().RequestError("batch too large",
			fmt.Sprintf("알림톡은 한 번에 최대 %d명까지 보낼 수 있습니다 (요청: %d명)", MaxReceivers, n),
			fmt.Sprintf("batch has %d receivers, Aligo accepts at most %d per Alimtalk call", n, MaxReceivers))
	}
	form, err := c.sendForm(b, m)
	if err != nil {
		return provider.Result{}, err
	}
	var r sendResponse
	if err := c.call(ctx, "/akv10/alimtalk/send/", form, &r, &r.envelope); err != nil {
		return provider.Result{}, err
	}
	info := r.Info.V
	ok, fail := max(int(info.SCnt), 0), max(int(info.FCnt), 0)
	if ok == 0 && fail > 0 {
		e := c.gw().RequestError(fmt.Sprintf("fcnt %d", fail), "Aligo가 알림톡 수신번호를 모두 거부했습니다", "Aligo rejected every receiver of the Alimtalk")
		e.Message = c.redact(string(r.Message))
		return provider.Result{}, e
	}
	if ok == 0 && fail == 0 {
		ok = len(b.Receivers) // accepted without counts, as in the spec's example
	}
	if info.MID == "" {
		c.log.Warn("alimtalk accepted without a mid: its delivery results cannot be fetched")
	}
	c.log.Debug("alimtalk accepted", "mid", string(info.MID), "template", m.tpl.Code, "accepted", ok, "rejected", fail)
	return provider.Result{MessageID: string(info.MID), Accepted: ok, Rejected: fail}, nil
}

// sendForm builds the send fields but the auth ones.
func (c *Client) sendForm(b provider.Batch, m message) (url.Values, error) {
	sender := strings.ReplaceAll(b.Sender, "-", "")
	if sender == "" {
		sender = c.sender
	}
	if sender == "" {
		return nil, c.gw().RequestError("no sender", "대체 문자 발신번호가 설정되어 있지 않습니다 (sender)",
			"no sender number for the failover SMS (sender)")
	}
	_, ftitle := failover(b, m)
	subject := strings.TrimSpace(b.Title)
	if subject == "" {
		subject = defaultTitle(m.tpl.For)
	}
	form := url.Values{}
	form.Set("senderkey", c.senderKey.Reveal())
	form.Set("tpl_code", m.tpl.Code)
	form.Set("sender", sender)
	form.Set("failover", "Y")
	for i, p := range b.Receivers {
		n := strconv.Itoa(i + 1)
		form.Set("receiver_"+n, string(p))
		form.Set("subject_"+n, sms.TruncateBytes(subject, sms.MaxTitleBytes))
		form.Set("message_"+n, m.text)
		if ftitle != "" {
			form.Set("fsubject_"+n, ftitle)
		}
		form.Set("fmessage_"+n, m.text)
	}
	if b.Test || c.test {
		form.Set("testMode", "Y")
	}
	return form, nil
}

// call POSTs form (plus auth and, when one can be had, the token) to path
// and decodes the JSON answer into out; env must point into out. A code
// other than success becomes a classified *provider.Error. A refused
// token is renewed once and the call made again: the refusal says the
// request was not taken.
func (c *Client) call(ctx context.Context, path string, form url.Values, out any, env *envelope) error {
	for attempt := 0; ; attempt++ {
		tok, err := c.token(ctx)
		if err != nil {
			return err
		}
		err = c.post(ctx, path, form, tok, out, env)
		var pe *provider.Error
		if attempt == 0 && tok != "" && errors.As(err, &pe) && tokenRefused(pe) {
			c.log.Info("alimtalk token refused: renewing it", "path", path, "message", pe.Message)
			c.tokens.drop(tok)
			continue
		}
		return err
	}
}

// post makes one request with token tok ("" = none).
func (c *Client) post(ctx context.Context, path string, form url.Values, tok string, out any, env *envelope) error {
	body := url.Values{}
	for k, v := range form {
		body[k] = v
	}
	body.Set("apikey", c.key.Reveal())
	body.Set("userid", c.userID)
	if tok != "" {
		body.Set("token", tok)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+path, strings.NewReader(body.Encode()))
	if err != nil {
		return fmt.Errorf("alimtalk: building request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=UTF-8")
	req.Header.Set("Accept", "application/json, text/html")
	// Every call is a POST Aligo may act on: one whose answer is lost
	// after the request went out is Uncertain.
	a, err := c.gw().Do(req, true)
	if err != nil {
		return err
	}
	c.log.Debug("alimtalk call", "path", path, "status", a.Status, "bytes", len(a.Body), "took", a.Took)
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
	code, ok := env.status()
	switch {
	case !ok:
		return c.decodeError(body, errors.New("code missing"))
	case code == 0 || code == 1:
		return nil
	}
	return c.gatewayError(code, env.Message)
}

// tokenCache holds the token of /akv10/token/create/ until it is about to
// expire. A token is per server (§7.1), so it lives in memory only.
type tokenCache struct {
	mu      sync.Mutex
	token   string
	expires time.Time
	// missing is set when the token endpoint answered with something
	// that is no token (404, not JSON): the server does not offer one, so
	// calls go without until retry.
	missingUntil time.Time
}

// Token lifetime asked for, and how long before its end it is renewed.
const (
	tokenLife    = 30 * time.Minute
	tokenPath    = "/akv10/token/create/30/i/" // 30 minutes (unit i)
	tokenRenew   = 2 * time.Minute
	tokenRecheck = 10 * time.Minute // after an endpoint without tokens
)

// token returns a valid token, creating one when there is none or it
// expires within tokenRenew. It returns "" without error when the server
// offers no token (the current spec no longer lists it): calls are made
// without. An auth refusal is returned: no call can work.
func (c *Client) token(ctx context.Context) (string, error) {
	c.tokens.mu.Lock()
	defer c.tokens.mu.Unlock()
	now := c.now()
	if c.tokens.token != "" && now.Add(tokenRenew).Before(c.tokens.expires) {
		return c.tokens.token, nil
	}
	if now.Before(c.tokens.missingUntil) {
		return "", nil
	}
	var r tokenResponse
	err := c.post(ctx, tokenPath, url.Values{}, "", &r, &r.envelope)
	var pe *provider.Error
	switch {
	case err == nil && strings.TrimSpace(r.Token) != "":
		c.tokens.token, c.tokens.expires = strings.TrimSpace(r.Token), now.Add(tokenLife)
		c.log.Debug("alimtalk token created", "valid", tokenLife)
		return c.tokens.token, nil
	case err == nil:
		c.log.Warn("alimtalk token endpoint answered without a token: calling without one")
	case errors.As(err, &pe) && (strings.HasPrefix(pe.Code, "HTTP 4") || pe.Code == "bad response"):
		// No token endpoint (any more) at base_url: the send itself
		// tells whether base_url is right.
		c.log.Warn("alimtalk token not available: calling without one", "err", err)
	case errors.As(err, &pe) && pe.Account != "":
		return "", err // a bad key or IP: the send would be refused too
	case errors.As(err, &pe) && pe.Permanent:
		c.log.Warn("alimtalk token refused: calling without one", "err", err)
	default:
		// A network failure or 5xx: the call itself will meet it and
		// be retried; no token this time.
		return "", nil
	}
	c.tokens.token, c.tokens.missingUntil = "", now.Add(tokenRecheck)
	return "", nil
}

// drop forgets tok if it is still the cached one.
func (t *tokenCache) drop(tok string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.token == tok {
		t.token, t.expires = "", time.Time{}
	}
}
