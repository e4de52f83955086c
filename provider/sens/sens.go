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

// Limits of SENS SMS v2.
const (
	DefaultBaseURL = "https://sens.apigw.ntruss.com" // gov cloud: https://sens.apigw.gov-ntruss.com
	MaxMessages    = 100                             // messages per send
	// MaxTitleBytes is the LMS subject SENS accepts (40 bytes; munja
	// allows 44, Aligo's limit, so a longer title is cut here).
	MaxTitleBytes = 40
	// MaxSkew is how far the gateway lets x-ncp-apigw-timestamp be from
	// its clock.
	MaxSkew = 5 * time.Minute
	maxBody = 8 << 20
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
	s := gateway.NewSetup(cfg, hc, log, "sens", DefaultBaseURL)
	return &Client{
		name:      s.Name,
		base:      s.Base,
		serviceID: strings.TrimSpace(o.ServiceID),
		accessKey: strings.TrimSpace(o.AccessKey),
		secret:    o.SecretKey,
		sender:    cfg.Sender,
		timeout:   s.Timeout,
		hc:        s.HTTP,
		log:       s.Log,
		now:       time.Now,
	}, nil
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
	g := c.gw()
	if b.Test {
		return prepared{}, g.NoTestMode()
	}
	if strings.TrimSpace(b.Text) == "" {
		return prepared{}, g.EmptyText()
	}
	from, err := g.Sender(b.Sender, c.sender, senderNo)
	if err != nil {
		return prepared{}, err
	}
	// munja attaches no file, and SENS sends an MMS without one as LMS.
	kind, err := g.Kind(b.Kind, b.Text, false)
	if err != nil {
		return prepared{}, err
	}
	p := prepared{kind: kind, from: from, content: b.Text}
	if kind == sms.KindLMS {
		p.subject = sms.TruncateBytes(strings.TrimSpace(b.Title), MaxTitleBytes)
	}
	return p, nil
}

// Send posts one request of up to 100 recipients.
func (c *Client) Send(ctx context.Context, b provider.Batch) (provider.Result, error) {
	if err := c.gw().CheckReceivers(len(b.Receivers), MaxMessages); err != nil {
		return provider.Result{}, err
	}
	p, err := c.prepare(b)
	if err != nil {
		return provider.Result{}, err
	}
	req := sendRequest{Type: string(p.kind), ContentType: "COMM", CountryCode: "82", From: p.from, Subject: p.subject, Content: p.content}
	for _, ph := range b.Receivers {
		req.Messages = append(req.Messages, message{To: gateway.Digits(string(ph))})
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
	u := c.base + "/sms/v2/services/" + url.PathEscape(c.serviceID) + path
	req, err := gateway.JSONRequest(ctx, "sens", method, u, query, in)
	if err != nil {
		return err
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
	// A POST sends: one whose answer is lost after the request went out
	// is Uncertain. A GET only reads.
	a, err := c.gw().Do(req, method == http.MethodPost)
	if err != nil {
		return err
	}
	c.log.Debug("sens call", "method", method, "path", path, "status", a.Status, "bytes", len(a.Body), "took", a.Took)
	return c.decode(a.Status, a.Header.Get("Date"), a.Body, out)
}

// decode reads an answer: a 2xx is JSON into out; anything else is
// classified by status and error body (date is the answer's Date header,
// which tells a clock problem apart from a wrong key).
func (c *Client) decode(status int, date string, raw []byte, out any) error {
	if status < 200 || status > 299 {
		return c.statusError(status, date, raw)
	}
	if err := gateway.Unmarshal(raw, out); err != nil {
		return c.decodeError(raw, err)
	}
	return nil
}
