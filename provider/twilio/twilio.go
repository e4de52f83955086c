// Package twilio sends SMS through Twilio Programmable Messaging, following
// aligo-api.md §9.4:
//
//	POST {base_url}/2010-04-01/Accounts/{account_sid}/Messages.json
//	Authorization: Basic base64(account_sid:auth_token)
//	Content-Type: application/x-www-form-urlencoded
//
//	To=+821012345678&From=+15017122661&Body=…
//
// One receiver per call (MaxBatch 1). Twilio answers 201 with the Message
// resource (sid SM…, status queued, num_segments as a string) and errors
// with a 4xx/5xx status and {"code","message","more_info","status"}.
//
// Twilio has no SMS/LMS type and no title: the text goes as it is (UCS-2
// when it holds Hangul) and Twilio splits it into segments; the segment
// count (Twilio's num_segments, else computed: Segments) is recorded in the
// message id as "SM…;segments=N", the only per-send field munja keeps.
//
// Capabilities: delivery results (provider.Reporter) by fetching the
// Message resource. Not offered, because aligo-api.md §9.4 does not describe
// them: the balance (provider.Balancer), and the look-up of a send whose
// answer never came (provider.Looker) — Messages take no idempotency key, so
// such a send can only be found by listing messages, which §9.4 does not
// cover; munja sends it again (the recipient may get it twice; counted as
// "resent" in munja_gateway_uncertain_total).
package twilio

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/munja-sms/munja/config"
	"github.com/munja-sms/munja/provider"
	"github.com/munja-sms/munja/provider/internal/gateway"
	"github.com/munja-sms/munja/sms"
)

// Limits of the Twilio Messages API (aligo-api.md §9.4).
const (
	DefaultBaseURL = "https://api.twilio.com"
	APIVersion     = "2010-04-01"
	MaxReceivers   = 1    // one To per Messages.json call
	MaxBodyChars   = 1600 // Body, in characters
	maxAnswer      = 1 << 20
)

// Options are the keys of a twilio entry beyond the common ones; the
// sender (the Twilio number, E.164) is the common sender key.
type Options struct {
	AccountSID string        `yaml:"account_sid"` // AC… (Twilio console → Account info)
	AuthToken  config.Secret `yaml:"auth_token"`  // or auth_token_file
}

// Client is one Twilio account. It implements provider.Provider and
// provider.Reporter.
type Client struct {
	name    string
	base    string // without trailing slash
	sid     string
	token   config.Secret
	from    string // E.164
	timeout time.Duration
	hc      *http.Client
	log     *slog.Logger
}

var (
	_ provider.Provider = (*Client)(nil)
	_ provider.Reporter = (*Client)(nil)
)

// accountSID and e164 are compiled on first use, not in the start-up of
// every munja command (each links every gateway).
var (
	accountSID = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^AC[0-9a-fA-F]{32}$`) })
	e164       = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`) })
)

// options decodes and checks cfg's keys; path is e.g. "sms.providers[0]".
func options(cfg config.Provider, path string) (Options, string, []error) {
	var o Options
	errs := provider.DecodeConfig(cfg, path, &o)
	bad := func(key, msg string) { errs = append(errs, config.FieldError{Path: path + "." + key, Msg: msg}) }
	switch sid := strings.TrimSpace(o.AccountSID); {
	case sid == "":
		bad("account_sid", "required (your Account SID, AC…, from the Twilio console)")
	case !accountSID().MatchString(sid):
		bad("account_sid", fmt.Sprintf("must be an Account SID: AC followed by 32 hex digits, got %q", sid))
	}
	if provider.MissingSecret(cfg, o.AuthToken, "auth_token") {
		bad("auth_token", "required (the Auth Token from the Twilio console, or auth_token_file)")
	}
	from, err := senderE164(cfg.Sender)
	if err != "" {
		bad("sender", err)
	}
	if cfg.TestMode {
		// Twilio has no per-request test flag (§9.4 documents none).
		bad("test_mode", "Twilio has no test mode: leave it false (Twilio's test credentials go in account_sid and auth_token)")
	}
	return o, from, errs
}

// senderE164 normalizes the configured sender to E.164, or says what is
// wrong with it. Spaces, hyphens, dots and parentheses are allowed.
func senderE164(s string) (string, string) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", "required for twilio: your Twilio number in E.164, e.g. +15017122661"
	}
	n := strings.Map(func(r rune) rune {
		switch r {
		case ' ', '-', '.', '(', ')':
			return -1
		}
		return r
	}, s)
	if e164().MatchString(n) {
		return n, ""
	}
	msg := fmt.Sprintf("must be a number in E.164 (+ country code and number, e.g. +15017122661), got %q", s)
	if p, err := sms.ParsePhone(s); err == nil {
		msg += fmt.Sprintf(" (did you mean %q?)", E164(p))
	}
	return "", msg
}

// E164 writes a Korean number in E.164: 010-1234-5678 → +821012345678,
// 1588-1234 → +8215881234. p is parsed again, so any written form works;
// an unparsable p is returned as it is.
func E164(p sms.Phone) string {
	n, err := sms.ParsePhone(string(p))
	if err != nil {
		return string(p)
	}
	return "+82" + strings.TrimPrefix(string(n), "0")
}

// New builds a Twilio provider; it has the provider.Factory signature.
func New(cfg config.Provider, hc *http.Client, log *slog.Logger) (provider.Provider, error) {
	return NewClient(cfg, hc, log)
}

// NewClient is New returning the concrete type.
func NewClient(cfg config.Provider, hc *http.Client, log *slog.Logger) (*Client, error) {
	o, from, errs := options(cfg, "twilio")
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	s := gateway.NewSetup(cfg, hc, log, "twilio", DefaultBaseURL)
	return &Client{
		name:    s.Name,
		base:    s.Base,
		sid:     strings.TrimSpace(o.AccountSID),
		token:   o.AuthToken,
		from:    from,
		timeout: s.Timeout,
		hc:      s.HTTP,
		log:     s.Log,
	}, nil
}

// Validate checks the twilio keys of cfg; path is e.g. "sms.providers[0]".
func Validate(cfg config.Provider, path string) []error {
	_, _, errs := options(cfg, path)
	return errs
}

// Name is the configured provider name (default "twilio").
func (c *Client) Name() string { return c.name }

// MaxBatch is 1: a Messages.json call has one To.
func (c *Client) MaxBatch() int { return MaxReceivers }

// Send creates one Message for the batch's one receiver. The batch's sender
// (a Korean number registered at the Korean gateways) is not used: Twilio
// sends from its own number, the configured sender. The title is dropped
// (an SMS has none) and the kind ignored: Twilio splits the text itself.
// A receiver Twilio refuses as a number (21211, 21614, 21610) is returned
// in Result.Failed; everything else Twilio refuses is a *provider.Error.
func (c *Client) Send(ctx context.Context, b provider.Batch) (provider.Result, error) {
	g := c.gw()
	switch n := len(b.Receivers); {
	case n == 0:
		return provider.Result{}, g.RequestError("no receivers", "수신번호가 없습니다", "batch has no receivers")
	case n > MaxReceivers:
		return provider.Result{}, g.RequestError("batch too large",
			fmt.Sprintf("Twilio는 호출마다 수신번호 1개만 받습니다 (요청: %d개)", n),
			fmt.Sprintf("batch has %d receivers, Twilio takes one per call", n))
	}
	if b.Test {
		return provider.Result{}, g.RequestError("no test mode",
			"Twilio에는 테스트 발송이 없습니다 (실제로 발송되므로 보내지 않았습니다)",
			"Twilio has no test mode: a test send would be delivered, so it was not sent")
	}
	if b.Text == "" {
		return provider.Result{}, g.EmptyText()
	}
	if n := utf8.RuneCountInString(b.Text); n > MaxBodyChars {
		return provider.Result{}, g.RequestError("message too long",
			fmt.Sprintf("Twilio 메시지는 최대 %d자입니다 (%d자)", MaxBodyChars, n),
			fmt.Sprintf("message has %d characters, Twilio accepts at most %d", n, MaxBodyChars))
	}
	rcv := b.Receivers[0]
	if b.Title != "" {
		c.log.Debug("twilio has no title: dropped", "title", b.Title)
	}
	form := url.Values{}
	form.Set("To", E164(rcv))
	form.Set("From", c.from)
	form.Set("Body", b.Text)

	status, body, err := c.do(ctx, http.MethodPost, c.accountPath("/Messages.json"), form)
	if err != nil {
		return provider.Result{}, err
	}
	m, rej, err := c.answer(status, body, true)
	if err != nil {
		return provider.Result{}, err
	}
	if rej != nil {
		c.log.Info("twilio refused the receiver", "to", form.Get("To"), "code", rej.Code, "message", rej.Message)
		return provider.Result{Failed: map[sms.Phone]string{rcv: rej.Error()}}, nil
	}
	segs, _ := Segments(b.Text)
	if n := int(m.NumSegments); n > 0 {
		if n != segs {
			c.log.Debug("twilio counted other segments", "sid", m.SID, "twilio", n, "munja", segs)
		}
		segs = n
	}
	if st := strings.ToLower(m.Status); st == "failed" || st == "undelivered" {
		// Not seen on creation, but a Message that is already final and
		// failed has not been accepted.
		return provider.Result{Failed: map[sms.Phone]string{rcv: c.stateText(m)}}, nil
	}
	c.log.Debug("twilio accepted", "sid", m.SID, "status", m.Status, "segments", segs)
	return provider.Result{MessageID: MessageID(m.SID, segs), Accepted: 1}, nil
}

// MessageID is the id munja records for an accepted send: the Message SID
// and its segment count, "SM…;segments=2".
func MessageID(sid string, segments int) string {
	if segments <= 0 {
		return sid
	}
	return sid + ";segments=" + strconv.Itoa(segments)
}

// SplitMessageID is the reverse of MessageID (segments 0 when absent).
func SplitMessageID(id string) (sid string, segments int) {
	sid, rest, _ := strings.Cut(strings.TrimSpace(id), ";")
	if v, ok := strings.CutPrefix(rest, "segments="); ok {
		segments, _ = strconv.Atoi(v)
	}
	return sid, segments
}

func (c *Client) accountPath(rest string) string {
	return "/" + APIVersion + "/Accounts/" + url.PathEscape(c.sid) + rest
}

// do makes one authenticated call and reads the answer. A failure before an
// answer came is a classified *provider.Error; for a POST whose request was
// written it is Uncertain (Twilio may have created the Message).
func (c *Client) do(ctx context.Context, method, path string, form url.Values) (int, []byte, error) {
	var rd io.Reader
	if form != nil {
		rd = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return 0, nil, fmt.Errorf("twilio: building request: %w", err)
	}
	req.SetBasicAuth(c.sid, c.token.Reveal())
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("Accept", "application/json")
	a, err := c.gw().Do(req, method == http.MethodPost)
	if err != nil {
		return 0, nil, err
	}
	c.log.Debug("twilio call", "method", method, "path", path, "status", a.Status, "bytes", len(a.Body), "took", a.Took)
	return a.Status, a.Body, nil
}
