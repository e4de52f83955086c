// Package sens sends SMS/LMS through Naver Cloud Platform's SENS (Simple &
// Easy Notification Service) SMS API v2 (aligo-api.md §9.3):
//
//	POST {base}/sms/v2/services/{service_id}/messages
//	Content-Type: application/json; charset=utf-8
//	x-ncp-apigw-timestamp: {epoch milliseconds}
//	x-ncp-iam-access-key: {access_key}
//	x-ncp-apigw-signature-v2: Base64(HMAC-SHA256(secret_key,
//	    "POST /sms/v2/services/{service_id}/messages\n{timestamp}\n{access_key}"))
//
// with at most 100 recipients per call (messages), type SMS or LMS chosen
// by CP949 bytes, contentType COMM. A send answers 202 with a requestId;
// delivery results come from GET …/messages?requestId= and
// …/messages/{messageId}, and an uncertain send is looked up by request
// time (results.go). The API gateway refuses a timestamp more than 5
// minutes off its clock. SENS offers no balance API and no test mode.
package sens

import (
	"bytes"
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

// Limits of SENS SMS v2.
const (
	DefaultBaseURL = "https://sens.apigw.ntruss.com" // gov cloud: https://sens.apigw.gov-ntruss.com
	MaxMessages    = 100                             // messages per send
	// MaxTitleBytes is the LMS subject SENS accepts (40 bytes; munja
	// allows 44, Aligo's limit, so a longer title is cut here).
	MaxTitleBytes = 40
	// MaxSkew is how far the gateway lets x-ncp-apigw-timestamp be from
	// its clock.
	MaxSkew        = 5 * time.Minute
	maxBody        = 8 << 20
	defaultTimeout = 10 * time.Second
)

// Options are the keys of a sens entry beyond the common ones.
type Options struct {
	ServiceID string        `yaml:"service_id"` // the SMS project's service ID, e.g. ncp:sms:kr:123456789012:munja
	AccessKey string        `yaml:"access_key"` // API access key ID (an identifier, not secret)
	SecretKey config.Secret `yaml:"secret_key"` // its secret key (or secret_key_file)
}

// Client is one SENS SMS project. It implements provider.Provider,
// provider.Reporter and provider.Looker; SENS offers no balance API, so it
// is no provider.Balancer.
type Client struct {
	name      string
	base      string // without trailing slash
	serviceID string
	accessKey string
	secret    config.Secret
	sender    string
	timeout   time.Duration
	hc        *http.Client
	log       *slog.Logger
	now       func() time.Time // signs requests; tests move it
}

var (
	_ provider.Provider = (*Client)(nil)
	_ provider.Reporter = (*Client)(nil)
	_ provider.Looker   = (*Client)(nil)
)

// options decodes and checks cfg's keys; path is e.g. "sms.providers[0]".
func options(cfg config.Provider, path string) (Options, []error) {
	var o Options
	errs := provider.DecodeConfig(cfg, path, &o)
	bad := func(key, msg string) { errs = append(errs, config.FieldError{Path: path + "." + key, Msg: msg}) }
	switch id := strings.TrimSpace(o.ServiceID); {
	case id == "":
		bad("service_id", "required (the SMS project's service ID in the SENS console, e.g. ncp:sms:kr:123456789012:munja)")
	case strings.ContainsAny(id, "/?# "):
		bad("service_id", fmt.Sprintf("%q is not a service ID (e.g. ncp:sms:kr:123456789012:munja)", o.ServiceID))
	}
	if strings.TrimSpace(o.AccessKey) == "" {
		bad("access_key", "required (an API access key ID from Naver Cloud's 인증키 관리, or a sub account's)")
	}
	if provider.MissingSecret(cfg, o.SecretKey, "secret_key") {
		bad("secret_key", "required (the secret key of access_key, or secret_key_file)")
	}
	if cfg.Sender != "" {
		if _, err := senderNo(cfg.Sender); err != nil {
			bad("sender", err.Error())
		}
	}
	if cfg.TestMode {
		bad("test_mode", "not offered by SENS (it has no test mode: every send is delivered and charged); remove it")
	}
	return o, errs
}

// senderNo is a sender number as SENS's from: national digits.
func senderNo(s string) (string, error) {
	p, err := sms.ParsePhone(s)
	if err != nil {
		return "", fmt.Errorf("must be a Korean number registered as a calling number (발신번호) in the SENS console: %w", err)
	}
	return string(p), nil
}

// New builds a SENS provider; it has the provider.Factory signature.
func New(cfg config.Provider, hc *http.Client, log *slog.Logger) (provider.Provider, error) {
	return NewClient(cfg, hc, log)
}

// NewClient is New returning the concrete type.
func NewClient(cfg config.Provider, hc *http.Client, log *slog.Logger) (*Client, error) {
	o, errs := options(cfg, "sens")
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
		name:      cfg.Name,
		base:      strings.TrimRight(cfg.BaseURL, "/"),
		serviceID: strings.TrimSpace(o.ServiceID),
		accessKey: strings.TrimSpace(o.AccessKey),
		secret:    o.SecretKey,
		sender:    cfg.Sender,
		timeout:   cfg.Timeout.D(),
		hc:        hc,
		log:       log,
		now:       time.Now,
	}
	if c.name == "" {
		c.name = "sens"
	}
	if c.base == "" {
		c.base = DefaultBaseURL
	}
	if c.timeout <= 0 {
		c.timeout = defaultTimeout
	}
	return c, nil
}

// Validate checks the sens keys of cfg; path is e.g. "sms.providers[0]".
func Validate(cfg config.Provider, path string) []error {
	_, errs := options(cfg, path)
	return errs
}

// Name is the configured provider name (default "sens").
func (c *Client) Name() string { return c.name }

// MaxBatch is the messages limit of one send.
func (c *Client) MaxBatch() int { return MaxMessages }

// prepared is a batch as SENS gets it, shared by Send and Lookup.
type prepared struct {
	kind    sms.Kind // SMS or LMS
	from    string
	subject string // LMS only, may be empty
	content string
}

// prepare checks b and decides what is sent: always an explicit type,
// chosen by the CP949 byte count (package sms), an SMS over 90 bytes going
// as LMS.
func (c *Client) prepare(b provider.Batch) (prepared, error) {
	if b.Test {
		return prepared{}, c.requestError("test mode not offered",
			"SENS에는 테스트 발송이 없습니다 (보내면 실제로 전달되고 과금됩니다): 테스트 메시지는 이 게이트웨이로 보내지 않습니다",
			"SENS has no test mode (a send is delivered and charged): a test message is not sent through it")
	}
	if strings.TrimSpace(b.Text) == "" {
		return prepared{}, c.requestError("empty message", "메시지 내용이 없습니다", "batch has an empty text")
	}
	sender := b.Sender
	if sender == "" {
		sender = c.sender
	}
	if sender == "" {
		return prepared{}, c.requestError("no sender", "발신번호가 설정되어 있지 않습니다 (sms.sender)",
			"no sender number configured (sms.sender)")
	}
	from, err := senderNo(sender)
	if err != nil {
		return prepared{}, c.requestError("bad sender", "발신번호 오류: "+err.Error(), "sender "+err.Error())
	}
	n := sms.Len(b.Text)
	if n > sms.MaxLMSBytes {
		return prepared{}, c.requestError("message too long",
			fmt.Sprintf("메시지가 너무 깁니다 (%d바이트, 최대 %d)", n, sms.MaxLMSBytes),
			fmt.Sprintf("message is %d bytes, SENS accepts at most %d", n, sms.MaxLMSBytes))
	}
	kind := b.Kind
	switch kind {
	case sms.KindSMS, sms.KindLMS:
	case "":
		kind = sms.KindSMS
	case sms.KindMMS:
		// munja attaches no file, and SENS sends an MMS without one as LMS.
		kind = sms.KindLMS
	default:
		return prepared{}, c.requestError("bad kind", "알 수 없는 메시지 종류: "+string(kind), "unknown message kind "+string(kind))
	}
	if fit := sms.FitKind(kind, n); fit != kind {
		c.log.Warn("text exceeds 90 bytes, sending as LMS", "bytes", n)
		kind = fit
	}
	p := prepared{kind: kind, from: from, content: b.Text}
	if kind == sms.KindLMS {
		p.subject = sms.TruncateBytes(strings.TrimSpace(b.Title), MaxTitleBytes)
	}
	return p, nil
}

// Send posts one request of up to 100 recipients.
func (c *Client) Send(ctx context.Context, b provider.Batch) (provider.Result, error) {
	switch n := len(b.Receivers); {
	case n == 0:
		return provider.Result{}, c.requestError("no receivers", "수신번호가 없습니다", "batch has no receivers")
	case n > MaxMessages:
		return provider.Result{}, c.requestError("batch too large",
			fmt.Sprintf("한 번에 최대 %d명까지 보낼 수 있습니다 (요청: %d명)", MaxMessages, n),
			fmt.Sprintf("batch has %d receivers, SENS accepts at most %d per call", n, MaxMessages))
	}
	p, err := c.prepare(b)
	if err != nil {
		return provider.Result{}, err
	}
	req := sendRequest{Type: string(p.kind), ContentType: "COMM", CountryCode: "82", From: p.from, Subject: p.subject, Content: p.content}
	for _, ph := range b.Receivers {
		req.Messages = append(req.Messages, message{To: digits(string(ph))})
	}
	var r sendResponse
	if err := c.call(ctx, http.MethodPost, "/messages", nil, req, &r); err != nil {
		return provider.Result{}, err
	}
	return c.sendResult(r, p.kind, len(b.Receivers))
}

// sendResult turns an accepted send into a Result. SENS answers for the
// request as a whole (no per-recipient results until Reports); a 2xx
// without a requestId or with a statusName other than success is not an
// acceptance munja can stand on, and is retried.
func (c *Client) sendResult(r sendResponse, kind sms.Kind, n int) (provider.Result, error) {
	if strings.TrimSpace(r.RequestID) == "" || (r.StatusName != "" && !strings.EqualFold(r.StatusName, "success")) {
		return provider.Result{}, c.decodeError(nil, fmt.Errorf("send answered statusCode %q statusName %q requestId %q", r.StatusCode, r.StatusName, r.RequestID))
	}
	c.log.Debug("sens accepted", "request_id", r.RequestID, "receivers", n)
	return provider.Result{MessageID: strings.TrimSpace(r.RequestID), Kind: kind, Accepted: n}, nil
}

// call signs and sends one request to /sms/v2/services/{serviceId}+path
// (query for GETs, in as JSON when not nil) and decodes a 2xx answer into
// out; anything else becomes a classified *provider.Error.
func (c *Client) call(ctx context.Context, method, path string, query url.Values, in, out any) error {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	u := c.base + "/sms/v2/services/" + url.PathEscape(c.serviceID) + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("sens: encoding request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return fmt.Errorf("sens: building request: %w", err)
	}
	ts := timestamp(c.now())
	if in != nil {
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("x-ncp-apigw-timestamp", ts)
	req.Header.Set("x-ncp-iam-access-key", c.accessKey)
	// The signed URI is the one written on the wire: path and query as
	// encoded in req.URL.
	req.Header.Set("x-ncp-apigw-signature-v2", signature(c.secret.Reveal(), method, req.URL.RequestURI(), ts, c.accessKey))
	// Whether the request was written decides what a failure means: before,
	// SENS cannot have it; after, it may have accepted it (Uncertain).
	var wrote atomic.Bool
	req = req.WithContext(httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		WroteRequest: func(i httptrace.WroteRequestInfo) { wrote.Store(i.Err == nil) },
	}))
	start := time.Now()
	resp, err := c.hc.Do(req)
	if err != nil {
		return c.transportError(ctx, err, wrote.Load() && method == http.MethodPost)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return c.transportError(ctx, err, method == http.MethodPost)
	}
	c.log.Debug("sens call", "method", method, "path", path, "status", resp.StatusCode, "bytes", len(raw), "took", time.Since(start))
	if len(raw) > maxBody {
		return c.decodeError(nil, fmt.Errorf("response larger than %d bytes", maxBody))
	}
	return c.decode(resp.StatusCode, resp.Header.Get("Date"), raw, out)
}

// decode reads an answer: a 2xx is JSON into out; anything else is
// classified by status and error body (date is the answer's Date header,
// which tells a clock problem apart from a wrong key).
func (c *Client) decode(status int, date string, raw []byte, out any) error {
	if status < 200 || status > 299 {
		return c.statusError(status, date, raw)
	}
	trimmed := bytes.TrimPrefix(bytes.TrimSpace(raw), []byte("\ufeff"))
	if err := json.Unmarshal(trimmed, out); err != nil {
		return c.decodeError(raw, err)
	}
	return nil
}

// digits keeps the digits of a number (SENS's to must be numeric).
func digits(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}

// normText compares texts as SENS may store them (line endings, edges).
func normText(s string) string {
	return strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n"))
}
