// Package solapi sends SMS/LMS through Solapi (api.solapi.com) — and
// CoolSMS (api.coolsms.co.kr), the same Nurigo "v4" REST API under its
// other brand — following aligo-api.md §9.1 and Solapi's own documents
// and SDKs: JSON over HTTPS, an HMAC-SHA256 Authorization header per
// request, POST /messages/v4/send-many/detail for a batch (one message per
// receiver, up to 10,000), GET /messages/v4/list for results and look-ups,
// GET /cash/v1/balance and /pricing/v1/messaging for the balance.
package solapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/munja-sms/munja/config"
	"github.com/munja-sms/munja/provider"
	"github.com/munja-sms/munja/provider/internal/gateway"
	"github.com/munja-sms/munja/sms"
)

// Limits of the v4 API.
const (
	// MaxMessages is the most messages one send-many call takes (Solapi's
	// SDK examples and samples: "1만건까지"); munja sends one per receiver.
	MaxMessages = 10000
	// maxSubjectBytes is Solapi's title limit (status code 1014: "제목은
	// 40byte까지"), below sms.MaxTitleBytes (Aligo's 44): a 41–44 byte title
	// munja accepts is cut to 40 rather than refused.
	maxSubjectBytes = 40
	maxBody         = 16 << 20 // a list page of 500 long LMS fits

	sendPath    = "/messages/v4/send-many/detail"
	listPath    = "/messages/v4/list"
	balancePath = "/cash/v1/balance"
	pricingPath = "/pricing/v1/messaging"

	// batchField is the customFields key carrying the id munja gives each
	// send, by which Lookup recognises its own messages (Solapi: keys up
	// to 30 characters, string values up to 100).
	batchField = "munjaBatch"
)

// brand is Solapi or CoolSMS: same API, different host and name.
type brand struct {
	typ     string // registry type and default provider name
	display string // in messages to operators
	baseURL string
}

var (
	solapiBrand  = brand{"solapi", "Solapi", "https://api.solapi.com"}
	coolsmsBrand = brand{"coolsms", "CoolSMS", "https://api.coolsms.co.kr"} // same v4 API per aligo-api.md §9.1 (not verified against that host)
)

// Options are the keys of a solapi (or coolsms) entry beyond the common
// ones. Both are secrets in munja's sense: masked in the effective
// config, readable from api_key_file / api_secret_file.
type Options struct {
	APIKey    config.Secret `yaml:"api_key"`    // "API Key" from the console (API Key 관리)
	APISecret config.Secret `yaml:"api_secret"` // its "API Secret"
}

// Client is one Solapi (or CoolSMS) account. It implements
// provider.Provider, provider.Balancer, provider.Reporter and
// provider.Looker.
type Client struct {
	name      string
	brand     brand
	base      string // without trailing slash
	apiKey    config.Secret
	apiSecret config.Secret
	sender    string
	test      bool
	timeout   time.Duration
	hc        *http.Client
	log       *slog.Logger
	now       func() time.Time // the clock signatures are dated with

	// listLimit is the page size asked of list calls; it falls back to
	// Solapi's default if a larger page is refused (the maximum is not
	// documented).
	listLimit atomic.Int32

	mu      sync.Mutex
	pending map[string][]pendingSend // uncertain sends by batchKey, for Lookup
}

var (
	_ provider.Provider = (*Client)(nil)
	_ provider.Balancer = (*Client)(nil)
	_ provider.Reporter = (*Client)(nil)
	_ provider.Looker   = (*Client)(nil)
)

// New builds a Solapi provider; it has the provider.Factory signature.
func New(cfg config.Provider, hc *http.Client, log *slog.Logger) (provider.Provider, error) {
	return build(solapiBrand, cfg, hc, log)
}

// NewCoolSMS builds a provider for CoolSMS, Solapi's API under its older
// brand, with api.coolsms.co.kr as the default base_url.
func NewCoolSMS(cfg config.Provider, hc *http.Client, log *slog.Logger) (provider.Provider, error) {
	return build(coolsmsBrand, cfg, hc, log)
}

// NewClient is New returning the concrete type.
func NewClient(cfg config.Provider, hc *http.Client, log *slog.Logger) (*Client, error) {
	return build(solapiBrand, cfg, hc, log)
}

// Validate checks the solapi keys of cfg; path is e.g. "sms.providers[0]".
func Validate(cfg config.Provider, path string) []error {
	_, errs := options(solapiBrand, cfg, path)
	return errs
}

// ValidateCoolSMS checks the keys of a coolsms entry.
func ValidateCoolSMS(cfg config.Provider, path string) []error {
	_, errs := options(coolsmsBrand, cfg, path)
	return errs
}

// options decodes and checks cfg's keys.
func options(br brand, cfg config.Provider, path string) (Options, []error) {
	var o Options
	errs := provider.DecodeConfig(cfg, path, &o)
	bad := func(key, msg string) { errs = append(errs, config.FieldError{Path: path + "." + key, Msg: msg}) }
	if provider.MissingSecret(cfg, o.APIKey, "api_key") {
		bad("api_key", "required (API Key from the "+br.display+" console, API Key 관리; or api_key_file)")
	}
	if provider.MissingSecret(cfg, o.APISecret, "api_secret") {
		bad("api_secret", "required (API Secret of that key; or api_secret_file)")
	}
	if s := cfg.Sender; s != "" {
		if _, err := sms.ParsePhone(s); err != nil {
			bad("sender", fmt.Sprintf("must be a Korean number registered in the %s console (발신번호), got %q", br.display, s))
		}
	}
	return o, errs
}

func build(br brand, cfg config.Provider, hc *http.Client, log *slog.Logger) (*Client, error) {
	o, errs := options(br, cfg, br.typ)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	s := gateway.NewSetup(cfg, hc, log, br.typ, br.baseURL)
	c := &Client{
		name:      s.Name,
		brand:     br,
		base:      s.Base,
		apiKey:    o.APIKey,
		apiSecret: o.APISecret,
		sender:    cfg.Sender,
		test:      cfg.TestMode,
		timeout:   s.Timeout,
		hc:        s.HTTP,
		log:       s.Log,
		now:       time.Now,
		pending:   map[string][]pendingSend{},
	}
	c.listLimit.Store(listPageSize)
	return c, nil
}

// Name is the configured provider name (default "solapi" or "coolsms").
func (c *Client) Name() string { return c.name }

// MaxBatch is the send-many message limit: one message per receiver.
func (c *Client) MaxBatch() int { return MaxMessages }

// message is a batch's content as it goes on the wire.
type message struct {
	sender  string
	kind    sms.Kind
	text    string
	subject string
}

// prepare checks b and decides what is sent: the sender (the batch's, else
// the provider's), the type — always explicit, SMS upgraded to LMS when
// the text exceeds 90 CP949 bytes rather than let the gateway cut an alert
// short — and the title (LMS only, cut to Solapi's 40 bytes).
func (c *Client) prepare(b provider.Batch) (message, error) {
	g := c.gw()
	if err := g.CheckReceivers(len(b.Receivers), MaxMessages); err != nil {
		return message{}, err
	}
	if strings.TrimSpace(b.Text) == "" {
		return message{}, g.EmptyText()
	}
	sender, err := g.Sender(b.Sender, c.sender, nil)
	if err != nil {
		return message{}, err
	}
	p, err := sms.ParsePhone(sender)
	if err != nil {
		return message{}, g.RequestError("bad sender",
			fmt.Sprintf("발신번호 %q가 올바르지 않습니다", sender),
			fmt.Sprintf("sender %q is not a number %s can register: %v", sender, c.brand.display, err))
	}
	// An MMS needs an image (imageId) munja does not upload; its text
	// goes as LMS.
	kind, err := g.Kind(b.Kind, b.Text, false)
	if err != nil {
		return message{}, err
	}
	m := message{sender: string(p), text: b.Text, kind: kind}
	if m.kind == sms.KindLMS && strings.TrimSpace(b.Title) != "" {
		m.subject = sms.TruncateBytes(b.Title, maxSubjectBytes)
	}
	return m, nil
}

// Send registers one message per receiver with send-many/detail. Each
// carries the call's own id in customFields, by which Lookup finds them
// if the answer is lost.
func (c *Client) Send(ctx context.Context, b provider.Batch) (provider.Result, error) {
	m, err := c.prepare(b)
	if err != nil {
		return provider.Result{}, err
	}
	if b.Test || c.test {
		return c.testSend(ctx, m, len(b.Receivers))
	}
	id := newID()
	fields := map[string]string{batchField: id}
	req := sendRequest{Messages: make([]wireMessage, len(b.Receivers))}
	for i, p := range b.Receivers {
		req.Messages[i] = wireMessage{To: string(p), From: m.sender, Text: m.text, Type: string(m.kind), Subject: m.subject, CustomFields: fields}
	}
	body, err := c.do(ctx, call{method: http.MethodPost, path: sendPath, body: req, send: true})
	var res provider.Result
	if err == nil {
		res, err = c.sendResult(body, m, b.Receivers)
	}
	if provider.IsUncertain(err) {
		c.remember(m, b.Receivers, id)
	}
	return res, err
}

// sendResult reads a send-many/detail answer. Receivers Solapi refused at
// registration are named in Result.Failed with its reason; when it refused
// every one for a reason of the message or the account (unregistered
// sender, balance, length…), the batch fails, permanently, so that it
// goes to the next provider.
func (c *Client) sendResult(body []byte, m message, receivers []sms.Phone) (provider.Result, error) {
	var r detailResponse
	if err := gateway.Unmarshal(body, &r); err != nil {
		return provider.Result{}, c.decodeError(body, err, true)
	}
	g := r.GroupInfo
	if g == nil {
		g = &r.group
	}
	groupID := g.id()
	if groupID == "" {
		return provider.Result{}, c.decodeError(body, errors.New("no groupId in the answer"), true)
	}
	want := gateway.PhoneSet(receivers, gateway.NormPhone)
	res := provider.Result{MessageID: groupID, Kind: m.kind}
	var worst *failedMessage
	for i, f := range r.FailedMessageList {
		p := gateway.NormPhone(string(f.To))
		if !want[p] {
			res.Rejected++
		} else if _, dup := res.Failed[p]; !dup {
			if res.Failed == nil {
				res.Failed = map[sms.Phone]string{}
			}
			res.Failed[p] = describe(string(f.StatusCode), string(f.StatusMessage))
		}
		if s := codeScope(string(f.StatusCode)); s != scopeReceiver && (worst == nil || s < codeScope(string(worst.StatusCode))) {
			worst = &r.FailedMessageList[i]
		}
	}
	res.Accepted = max(len(receivers)-len(res.Failed)-res.Rejected, 0)
	if n := g.Count; n != nil && (n.RegisteredSuccess > 0 || n.RegisteredFailed > 0) && int(n.RegisteredSuccess) < res.Accepted {
		// Refused without being listed: counted, not named.
		res.Rejected += res.Accepted - max(int(n.RegisteredSuccess), 0)
		res.Accepted = max(int(n.RegisteredSuccess), 0)
	}
	switch {
	case res.Accepted == 0 && worst != nil:
		// Nothing registered, and not because of the receivers: an account
		// or message problem that another gateway may not have.
		return provider.Result{}, c.registrationError(string(worst.StatusCode), string(worst.StatusMessage))
	case res.Accepted == 0 && len(res.Failed) == 0:
		return provider.Result{}, c.registrationError("registeredFailed",
			fmt.Sprintf("registered none of %d messages without naming one", len(receivers)))
	}
	if len(r.FailedMessageList) > 0 {
		c.log.Warn(c.brand.display+" refused some receivers", "group", groupID, "refused", len(r.FailedMessageList), "accepted", res.Accepted)
	}
	c.log.Debug(c.brand.display+" accepted", "group", groupID, "accepted", res.Accepted, "kind", m.kind)
	return res, nil
}

// testSend is test mode. Solapi has no documented test flag (nothing like
// Aligo's testmode_yn): a test batch is checked here — the batch itself,
// and the credentials with a signed balance call — and nothing is sent.
// It is reported accepted under a "test-" id that has no delivery results.
func (c *Client) testSend(ctx context.Context, m message, n int) (provider.Result, error) {
	if _, err := c.balance(ctx); err != nil {
		return provider.Result{}, err
	}
	id := testPrefix + newID()
	c.log.Info("test mode: "+c.brand.display+" has no test send; credentials and batch checked, nothing sent", "id", id, "receivers", n)
	return provider.Result{MessageID: id, Kind: m.kind, Accepted: n}, nil
}

const testPrefix = "test-"

// call is one HTTP request to Solapi.
type call struct {
	method string
	path   string
	query  url.Values
	body   any  // sent as JSON when not nil
	send   bool // a send: an answer lost after the request went out is Uncertain
}

// do makes one signed call and returns the body of a 2xx answer; anything
// else is a classified *provider.Error.
func (c *Client) do(ctx context.Context, r call) ([]byte, error) {
	req, err := gateway.JSONRequest(ctx, c.name, r.method, c.base+r.path, r.query, r.body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", authorization(c.apiKey.Reveal(), c.apiSecret.Reveal(), c.now(), newSalt()))
	req.Header.Set("Accept", "application/json")
	if r.body != nil {
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
	}
	// Whether a send's request was written decides what a failure means:
	// before, Solapi cannot have it; after, it may have accepted it.
	a, err := c.gw().Do(req, r.send)
	if err != nil {
		return nil, err
	}
	c.log.Debug(c.brand.display+" call", "method", r.method, "path", r.path, "status", a.Status, "bytes", len(a.Body), "took", a.Took)
	if a.Status < 200 || a.Status > 299 {
		return nil, c.statusError(a.Status, a.Body, r.send)
	}
	return a.Body, nil
}

// newID is a random id for a send: 24 hex characters.
func newID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
