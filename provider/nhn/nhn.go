// Package nhn sends SMS/LMS through the NHN Cloud (formerly TOAST)
// Notification SMS API v3.0 (aligo-api.md §9.2):
//
//	POST {base}/sms/v3.0/appKeys/{app_key}/sender/sms   SMS (body ≤ 90 bytes)
//	POST {base}/sms/v3.0/appKeys/{app_key}/sender/mms   LMS (title + body, no attachment)
//	X-Secret-Key: {secret_key}
//	Content-Type: application/json;charset=UTF-8
//
// with at most 1,000 recipients per call (recipientList). Every answer is
// {"header":{"isSuccessful","resultCode","resultMessage"},"body":…}; a
// send answers one result per recipient (sendResultList), so a rejected
// number fails alone. Delivery results and the look-up of an uncertain
// send use the list endpoints (GET on the same paths, results.go). NHN
// offers no balance API and no test mode.
package nhn

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
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

// Limits of the NHN Cloud SMS API v3.0.
const (
	DefaultBaseURL = "https://api-sms.cloud.toast.com"
	MaxRecipients  = 1000 // recipientList per send (-2016 beyond)
	// MaxTitleBytes is the LMS title NHN carries uncut ("표준 규격" 40 bytes;
	// munja allows 44, Aligo's limit, so a longer title is cut here).
	MaxTitleBytes = 40
	maxSendNo     = 13 // sendNo
	apiVersion    = "v3.0"
	maxBody       = 8 << 20 // a 1,000-row list page of long LMS fits
	// userID marks munja's sends in the NHN console (발송 구분자).
	userID = "munja"
)

// Options are the keys of an nhn entry beyond the common ones.
type Options struct {
	AppKey    string        `yaml:"app_key"`    // the SMS service's app key (an identifier, not secret)
	SecretKey config.Secret `yaml:"secret_key"` // X-Secret-Key (or secret_key_file)
}

// Client is one NHN Cloud SMS service (app key). It implements
// provider.Provider, provider.Reporter and provider.Looker; NHN offers no
// balance API, so it is no provider.Balancer.
type Client struct {
	name    string
	base    string // without trailing slash
	appKey  string
	secret  config.Secret
	sender  string
	timeout time.Duration
	hc      *http.Client
	log     *slog.Logger
	now     func() time.Time
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
	switch k := strings.TrimSpace(o.AppKey); {
	case k == "":
		bad("app_key", "required (the app key of the SMS service in the NHN Cloud console, URL & Appkey)")
	case strings.ContainsAny(k, "/?#% "):
		bad("app_key", fmt.Sprintf("%q is not an app key (letters and digits)", o.AppKey))
	}
	if provider.MissingSecret(cfg, o.SecretKey, "secret_key") {
		bad("secret_key", "required (the secret key shown beside the app key in the NHN Cloud console, or secret_key_file)")
	}
	if cfg.Sender != "" {
		if _, err := senderNo(cfg.Sender); err != nil {
			bad("sender", err.Error())
		}
	}
	if cfg.TestMode {
		bad("test_mode", "not offered by NHN Cloud (it has no test mode: every send is delivered and charged); remove it")
	}
	return o, errs
}

// senderNo is a sender number as NHN's sendNo: national digits, at most 13.
func senderNo(s string) (string, error) {
	p, err := sms.ParsePhone(s)
	if err != nil {
		return "", fmt.Errorf("must be a Korean number registered as a sender (발신번호) in the NHN Cloud console: %w", err)
	}
	if len(p) > maxSendNo {
		return "", fmt.Errorf("%s is longer than the %d digits NHN accepts", p, maxSendNo)
	}
	return string(p), nil
}

// New builds an NHN provider; it has the provider.Factory signature.
func New(cfg config.Provider, hc *http.Client, log *slog.Logger) (provider.Provider, error) {
	return NewClient(cfg, hc, log)
}

// NewClient is New returning the concrete type.
func NewClient(cfg config.Provider, hc *http.Client, log *slog.Logger) (*Client, error) {
	o, errs := options(cfg, "nhn")
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	s := gateway.NewSetup(cfg, hc, log, "nhn", DefaultBaseURL)
	return &Client{
		name:    s.Name,
		base:    s.Base,
		appKey:  strings.TrimSpace(o.AppKey),
		secret:  o.SecretKey,
		sender:  cfg.Sender,
		timeout: s.Timeout,
		hc:      s.HTTP,
		log:     s.Log,
		now:     time.Now,
	}, nil
}

// Validate checks the nhn keys of cfg; path is e.g. "sms.providers[0]".
func Validate(cfg config.Provider, path string) []error {
	_, errs := options(cfg, path)
	return errs
}

// Name is the configured provider name (default "nhn").
func (c *Client) Name() string { return c.name }

// MaxBatch is the recipientList limit.
func (c *Client) MaxBatch() int { return MaxRecipients }

// message is a batch as NHN gets it: the endpoint its kind picks and the
// fields both Send and Lookup derive from it.
type message struct {
	kind   sms.Kind // SMS or LMS
	sendNo string
	title  string // LMS only
	text   string
	group  string // senderGroupingKey
}

// endpoint is the path segment of m's kind: sms for SMS, mms for LMS.
func (m message) endpoint() string {
	if m.kind == sms.KindSMS {
		return "sms"
	}
	return "mms"
}

// prepare checks b and decides what is sent: always an explicit type,
// chosen by the CP949 byte count (package sms), an SMS over 90 bytes going
// as LMS rather than being cut on the handset.
func (c *Client) prepare(b provider.Batch) (message, error) {
	g := c.gw()
	if b.Test {
		return message{}, g.NoTestMode()
	}
	if strings.TrimSpace(b.Text) == "" {
		return message{}, g.EmptyText()
	}
	no, err := g.Sender(b.Sender, c.sender, senderNo)
	if err != nil {
		return message{}, err
	}
	kind, err := g.Kind(b.Kind, b.Text, false)
	if err != nil {
		return message{}, err
	}
	m := message{kind: kind, sendNo: no, text: b.Text}
	if kind == sms.KindLMS {
		// NHN requires a title for LMS; without one the first line stands in.
		title := strings.TrimSpace(b.Title)
		if title == "" {
			title, _, _ = strings.Cut(strings.TrimSpace(b.Text), "\n")
		}
		m.title = sms.TruncateBytes(strings.TrimSpace(title), MaxTitleBytes)
	}
	m.group = groupingKey(m)
	return m, nil
}

// groupingKey is the senderGroupingKey of a send: a digest of what is
// sent, so that Lookup finds the requests of a batch by this key even after
// a restart, without munja remembering anything.
func groupingKey(m message) string {
	h := sha256.Sum256([]byte(string(m.kind) + "\x00" + m.sendNo + "\x00" + m.title + "\x00" + gateway.NormText(m.text)))
	return "munja-" + hex.EncodeToString(h[:12])
}

// Send posts one request of up to 1,000 recipients.
func (c *Client) Send(ctx context.Context, b provider.Batch) (provider.Result, error) {
	if err := c.gw().CheckReceivers(len(b.Receivers), MaxRecipients); err != nil {
		return provider.Result{}, err
	}
	m, err := c.prepare(b)
	if err != nil {
		return provider.Result{}, err
	}
	req := sendRequest{Title: m.title, Body: m.text, SendNo: m.sendNo, SenderGroupingKey: m.group, UserID: userID}
	for _, p := range b.Receivers {
		req.RecipientList = append(req.RecipientList, recipient{RecipientNo: gateway.Digits(string(p))})
	}
	var r sendResponse
	if err := c.call(ctx, http.MethodPost, "/sender/"+m.endpoint(), nil, req, &r); err != nil {
		return provider.Result{}, err
	}
	return c.sendResult(r, m.kind, b.Receivers)
}

// sendResult turns an accepted send into a Result: recipients whose own
// resultCode is not 0 are Failed with NHN's reason.
func (c *Client) sendResult(r sendResponse, kind sms.Kind, receivers []sms.Phone) (provider.Result, error) {
	if r.Body == nil || r.Body.Data == nil {
		return provider.Result{}, c.decodeError(nil, errors.New("successful answer without body.data"))
	}
	d := r.Body.Data
	if d.StatusCode == "3" {
		// The request failed as a whole (요청 실패) although the header
		// says success; nothing was sent, so a retry is safe.
		return provider.Result{}, &provider.Error{Provider: c.name, Code: "statusCode 3",
			Korean: "NHN Cloud가 발송 요청을 처리하지 못했습니다 (다시 시도합니다)", English: "NHN Cloud could not process the request (will retry)"}
	}
	res := provider.Result{MessageID: string(d.RequestID), Kind: kind}
	if res.MessageID == "" {
		return provider.Result{}, c.decodeError(nil, errors.New("successful answer without requestId"))
	}
	byNo := map[string]sms.Phone{}
	for _, p := range receivers {
		byNo[gateway.Digits(string(p))] = p
	}
	for _, row := range d.SendResultList {
		if row.ResultCode == 0 {
			continue
		}
		p, ok := byNo[gateway.Digits(row.RecipientNo)]
		if !ok {
			res.Rejected++ // a number NHN rewrote: counted, not named
			continue
		}
		if res.Failed == nil {
			res.Failed = map[sms.Phone]string{}
		}
		res.Failed[p] = fmt.Sprintf("[%d] %s", row.ResultCode, recipientReason(int64(row.ResultCode), row.ResultMessage))
	}
	res.Accepted = len(receivers) - len(res.Failed) - res.Rejected
	if res.Accepted <= 0 {
		// Every recipient was refused: the batch as such failed, for a
		// reason no other attempt changes.
		e := c.gw().RequestError("all rejected", "NHN Cloud가 모든 수신번호를 거부했습니다", "NHN Cloud rejected every recipient")
		for _, reason := range res.Failed {
			e.Message = reason
			break
		}
		return provider.Result{}, e
	}
	c.log.Debug("nhn accepted", "request_id", res.MessageID, "accepted", res.Accepted, "failed", len(res.Failed))
	return res, nil
}

// call sends one request (in as JSON when not nil, query for GETs) to
// /sms/v3.0/appKeys/{appKey}+path and decodes the answer into out. An
// answer whose header says isSuccessful false, or that is not NHN's,
// becomes a classified *provider.Error.
func (c *Client) call(ctx context.Context, method, path string, query url.Values, in any, out enveloped) error {
	u := c.base + "/sms/" + apiVersion + "/appKeys/" + url.PathEscape(c.appKey) + path
	req, err := gateway.JSONRequest(ctx, "nhn", method, u, query, in)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json;charset=UTF-8")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("X-Secret-Key", c.secret.Reveal())
	// A POST sends: one whose answer is lost after the request went out
	// is Uncertain. A GET only reads.
	a, err := c.gw().Do(req, method == http.MethodPost)
	if err != nil {
		return err
	}
	c.log.Debug("nhn call", "method", method, "path", path, "status", a.Status, "bytes", len(a.Body), "took", a.Took)
	return c.decode(a.Status, a.Body, out)
}

// decode reads an answer of any status: NHN's envelope decides when there
// is one, the HTTP status otherwise.
func (c *Client) decode(status int, raw []byte, out enveloped) error {
	if err := gateway.Unmarshal(raw, out); err != nil || out.head().IsSuccessful == nil {
		if status != http.StatusOK {
			return c.statusError(status, raw)
		}
		if err == nil {
			err = errors.New("no header.isSuccessful")
		}
		return c.decodeError(raw, err)
	}
	h := out.head()
	if !*h.IsSuccessful {
		return c.gatewayError(status, int64(h.ResultCode), h.ResultMessage)
	}
	if status != http.StatusOK {
		// isSuccessful with an error status: trust the status.
		return c.statusError(status, raw)
	}
	return nil
}
