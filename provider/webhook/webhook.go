// Package webhook hands batches to any HTTP endpoint as JSON, for gateways
// munja has no package for (or an in-house SMS relay):
//
//	POST cfg.URL
//	Content-Type: application/json
//	X-Munja-Signature: sha256=<hex HMAC-SHA256 of the body with cfg.Secret>
//
//	{"sender":"0212345678","text":"…","title":"","type":"SMS",
//	 "receivers":["01012345678"],"test":false}
//
// A 2xx answer accepts the batch; an optional JSON body {"id":"…"} becomes
// the message id. 4xx (except 408 and 429) is permanent; 5xx, 408, 429 and
// network failures are retried.
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/munja-sms/munja/config"
	"github.com/munja-sms/munja/provider"
	"github.com/munja-sms/munja/provider/internal/gateway"
)

// Limits and header names.
const (
	MaxBatch        = 1000
	SignatureHeader = "X-Munja-Signature"
	maxBody         = 64 << 10
)

// Payload is the JSON body of every call.
type Payload struct {
	Sender    string   `json:"sender"`
	Text      string   `json:"text"`
	Title     string   `json:"title"`
	Type      string   `json:"type"`
	Receivers []string `json:"receivers"`
	Test      bool     `json:"test"`
}

// Provider posts batches to one URL.
type Provider struct {
	name    string
	url     string
	headers map[string]config.Secret
	secret  config.Secret
	sender  string
	test    bool
	timeout time.Duration
	hc      *http.Client
	log     *slog.Logger
}

// Options are the keys of a webhook entry beyond the common ones.
type Options struct {
	URL     string                   `yaml:"url"`     // the endpoint that receives the JSON
	Headers map[string]config.Secret `yaml:"headers"` // sent with every call (Authorization …)
	Secret  config.Secret            `yaml:"secret"`  // HMAC-SHA256 of the body, X-Munja-Signature (or secret_file)
}

// options decodes and checks cfg's keys; path is e.g. "sms.providers[0]".
func options(cfg config.Provider, path string) (Options, []error) {
	var o Options
	errs := provider.DecodeConfig(cfg, path, &o)
	bad := func(key, msg string) { errs = append(errs, config.FieldError{Path: path + "." + key, Msg: msg}) }
	if o.URL == "" {
		bad("url", "required (the endpoint that receives the JSON)")
	} else if u, err := url.Parse(o.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("url", fmt.Sprintf("must be an http(s) URL, got %q", o.URL))
	}
	for name := range o.Headers {
		if name == "" || strings.ContainsAny(name, " :\r\n") {
			bad("headers", fmt.Sprintf("invalid header name %q", name))
		}
	}
	if cfg.BaseURL != "" {
		bad("base_url", "not used by type webhook (did you mean url?)")
	}
	return o, errs
}

// New builds a webhook provider; it has the provider.Factory signature.
func New(cfg config.Provider, hc *http.Client, log *slog.Logger) (provider.Provider, error) {
	o, errs := options(cfg, "webhook")
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	s := gateway.NewSetup(cfg, hc, log, "webhook", "")
	return &Provider{
		name: s.Name, url: o.URL, headers: o.Headers, secret: o.Secret, sender: cfg.Sender,
		test: cfg.TestMode, timeout: s.Timeout, hc: s.HTTP, log: s.Log,
	}, nil
}

// Validate checks the webhook keys of cfg; path is e.g. "sms.providers[0]".
func Validate(cfg config.Provider, path string) []error {
	_, errs := options(cfg, path)
	return errs
}

// Name is the configured name (default "webhook").
func (p *Provider) Name() string { return p.name }

// MaxBatch is 1000.
func (p *Provider) MaxBatch() int { return MaxBatch }

// Send posts b as one JSON payload.
func (p *Provider) Send(ctx context.Context, b provider.Batch) (provider.Result, error) {
	if n := len(b.Receivers); n == 0 || n > MaxBatch {
		return provider.Result{}, &provider.Error{
			Provider: p.name, Code: "bad batch", Permanent: true,
			English: fmt.Sprintf("batch has %d receivers (1–%d allowed)", n, MaxBatch),
			Korean:  fmt.Sprintf("수신번호 수가 잘못되었습니다 (%d명, 1–%d명 가능)", n, MaxBatch),
		}
	}
	pl := Payload{Sender: b.Sender, Text: b.Text, Title: b.Title, Type: string(b.Kind), Test: b.Test || p.test}
	if pl.Sender == "" {
		pl.Sender = p.sender
	}
	for _, r := range b.Receivers {
		pl.Receivers = append(pl.Receivers, string(r))
	}
	body, err := json.Marshal(pl)
	if err != nil {
		return provider.Result{}, fmt.Errorf("webhook: encoding payload: %w", err)
	}

	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url, bytes.NewReader(body))
	if err != nil {
		return provider.Result{}, fmt.Errorf("webhook: building request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "munja")
	for k, v := range p.headers {
		req.Header.Set(k, v.Reveal())
	}
	if !p.secret.IsZero() {
		req.Header.Set(SignatureHeader, Sign(p.secret.Reveal(), body))
	}
	resp, err := p.hc.Do(req)
	if err != nil {
		return provider.Result{}, p.transportError(ctx, err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return provider.Result{}, p.statusError(resp.StatusCode, answer)
	}
	res := provider.Result{MessageID: messageID(answer), Kind: b.Kind, Accepted: len(b.Receivers)}
	p.log.Debug("webhook accepted", "status", resp.StatusCode, "id", res.MessageID, "receivers", res.Accepted)
	return res, nil
}

// Sign is the X-Munja-Signature value for body: "sha256=" + hex HMAC-SHA256.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Verify reports whether sig is the signature of body (constant time), for
// receivers written in Go.
func Verify(secret string, body []byte, sig string) bool {
	return hmac.Equal([]byte(Sign(secret, body)), []byte(sig))
}

// messageID reads {"id": "…"} (or a number) from an optional JSON answer.
func messageID(b []byte) string {
	var v struct {
		ID json.RawMessage `json:"id"`
	}
	if json.Unmarshal(b, &v) != nil || len(v.ID) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(v.ID, &s) == nil {
		return s
	}
	var n json.Number
	if json.Unmarshal(v.ID, &n) == nil {
		return n.String()
	}
	return ""
}

func (p *Provider) statusError(status int, body []byte) *provider.Error {
	e := &provider.Error{Provider: p.name, Code: fmt.Sprintf("HTTP %d", status), Message: gateway.Snippet(p.redact(string(body)))}
	if gateway.Retryable(status) {
		e.English = fmt.Sprintf("webhook answered HTTP %d (will retry)", status)
		e.Korean = fmt.Sprintf("웹훅이 HTTP %d로 응답했습니다 (다시 시도합니다)", status)
		return e
	}
	e.Permanent = true
	switch status {
	case http.StatusUnauthorized, http.StatusForbidden:
		e.Account = fmt.Sprintf("인증 실패 (HTTP %d)", status)
	case http.StatusNotFound, http.StatusMethodNotAllowed:
		e.Account = fmt.Sprintf("HTTP %d 응답 (url 확인)", status)
	}
	e.English = fmt.Sprintf("webhook refused the message with HTTP %d", status)
	e.Korean = fmt.Sprintf("웹훅이 HTTP %d로 메시지를 거부했습니다", status)
	return e
}

// words are the webhook's for a call without an answer. munja never asks
// a webhook whether it took a batch: a failure is retried as it is.
var words = gateway.Texts{
	Timeout:     gateway.Text{Ko: "웹훅 응답 시간 초과 (다시 시도합니다)", En: "webhook did not answer in time (will retry)"},
	Canceled:    gateway.Text{Ko: "웹훅 호출이 취소되었습니다", En: "the webhook call was cancelled"},
	Unreachable: gateway.Text{Ko: "웹훅에 연결할 수 없습니다 (다시 시도합니다)", En: "cannot reach the webhook (will retry)"},
}

func (p *Provider) transportError(ctx context.Context, err error) *provider.Error {
	return gateway.Client{Provider: p.name, Texts: words}.TransportError(ctx, err, false)
}

// redact removes header secrets and the signing secret from echoed text.
func (p *Provider) redact(s string) string {
	secrets := make([]string, 0, len(p.headers)+1)
	for _, v := range p.headers {
		secrets = append(secrets, v.Reveal())
	}
	return gateway.Redact(s, append(secrets, p.secret.Reveal())...)
}
