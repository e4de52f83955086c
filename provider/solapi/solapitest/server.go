// Package solapitest is a fake Solapi (Nurigo v4) gateway for tests. It
// speaks the wire format of aligo-api.md §9.1 and Solapi's documents: JSON
// bodies, HTTP status codes with {"errorCode","errorMessage"} for refusals,
// and the HMAC Authorization header checked exactly as Solapi computes it
// — hex(HMAC-SHA256 or HMAC-MD5 of date+salt keyed with the API secret),
// the date within 15 minutes of the fake's clock, the salt 12–64
// characters, no signature twice within 15 minutes. It implements
// send-many/detail (up to 10,000 messages, CP949 byte limits, per-message
// registration failures in failedMessageList), the message list, the
// balance and the prices, and failures can be injected while it runs.
//
// Where Solapi documents no behaviour the fake makes a choice, marked
// "(choice)" below.
package solapitest

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/munja-sms/munja/config"
	"github.com/munja-sms/munja/provider/internal/fakegw"
)

// Default credentials of a new Server. Solapi API keys are 16 characters
// (a malformed one is refused with "apiKey length must be 16 characters
// long"); secrets are 32 in Solapi's console.
const (
	DefaultAPIKey    = "NCSMUNJATESTKEY1"
	DefaultAPISecret = "munjatestsecret0123456789abcdefg"
	DefaultSender    = "0212345678"
	DefaultAccountID = "12925149"
)

// Time limits of the signature (authentication/api-key.md).
const (
	MaxSkew       = 15 * time.Minute
	ReuseWindow   = 15 * time.Minute
	minSalt       = 12
	maxSalt       = 64
	apiKeyLen     = 16
	maxMessages   = 10000
	maxListLimit  = 500 // (choice) Solapi documents no maximum
	defaultLimit  = 20  // the limit in Solapi's list samples
	maxBodyLength = 64 << 20
)

// Request is one HTTP request the fake received.
type Request struct {
	Method string
	Path   string
	Query  url.Values
	Header http.Header
	Body   []byte
	At     time.Time
}

// Message is one message the fake registered (accepted).
type Message struct {
	MessageID    string
	GroupID      string
	To           string
	From         string
	Text         string
	Subject      string
	Type         string
	CustomFields map[string]string
	StatusCode   string // final status: 4000 unless SetResult said otherwise
	Created      time.Time
}

// Server is the fake gateway. All methods are safe for concurrent use.
type Server struct {
	APIKey    string
	APISecret string
	Sender    string // first registered sender

	gw       *fakegw.Server
	now      func() time.Time
	failure  fakegw.Injector[Failure, Mode]
	requests fakegw.Log[Request]

	mu       sync.Mutex
	senders  *fakegw.Numbers
	balance  float64 // KRW
	point    float64 // bonus points, spent first (as in Solapi's send sample log)
	prices   map[string]float64
	results  map[string]string    // receiver → final status code
	seen     map[string]time.Time // signatures used
	seq      int
	maxLimit int // list page size limit
	messages []*Message
}

// Option configures New.
type Option func(*Server)

// WithCredentials sets the accepted API key and secret.
func WithCredentials(key, secret string) Option {
	return func(s *Server) { s.APIKey, s.APISecret = key, secret }
}

// WithSenders replaces the registered sender numbers (the first becomes Sender).
func WithSenders(numbers ...string) Option {
	return func(s *Server) { s.senders, s.Sender = fakegw.Senders(numbers, s.Sender) }
}

// WithBalance sets the starting balance (KRW) and points.
func WithBalance(balance, point float64) Option {
	return func(s *Server) { s.balance, s.point = balance, point }
}

// WithMaxListLimit sets the largest list page the fake serves (default
// 500); a larger limit is refused with a ValidationError.
func WithMaxListLimit(n int) Option { return func(s *Server) { s.maxLimit = n } }

// WithClock makes the fake read time from now (signature dates, message dates).
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// New starts a fake gateway on 127.0.0.1; t.Cleanup closes it.
func New(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := Start(opts...)
	t.Cleanup(s.Close)
	return s
}

// Start starts a fake gateway outside a test; the caller closes it.
func Start(opts ...Option) *Server {
	s := &Server{
		APIKey:    DefaultAPIKey,
		APISecret: DefaultAPISecret,
		Sender:    DefaultSender,
		senders:   fakegw.NewNumbers(DefaultSender),
		balance:   1_000_000,
		prices:    map[string]float64{"sms": 20, "lms": 50, "mms": 200},
		results:   map[string]string{},
		seen:      map[string]time.Time{},
		maxLimit:  maxListLimit,
		now:       time.Now,
	}
	for _, o := range opts {
		o(s)
	}
	s.gw = fakegw.Start(s)
	return s
}

// Close stops the server; pending stalls end at once. Safe to call twice.
func (s *Server) Close() { s.gw.Close() }

// URL is the base URL to put into config (no trailing slash).
func (s *Server) URL() string { return s.gw.URL() }

// ProviderConfig is a config.Provider of type solapi pointing at the fake.
func (s *Server) ProviderConfig() config.Provider {
	return config.Provider{
		Name:    "solapi",
		Type:    "solapi",
		Options: config.Opts("api_key", s.APIKey, "api_secret", s.APISecret),
		Sender:  s.Sender,
		BaseURL: s.URL(),
	}
}

// SetBalance sets the balance (KRW) and points.
func (s *Server) SetBalance(balance, point float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.balance, s.point = balance, point
}

// Balance is the current balance (KRW) and points.
func (s *Server) Balance() (balance, point float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.balance, s.point
}

// SetPrices sets the unit prices (KRW) of SMS, LMS and MMS.
func (s *Server) SetPrices(smsPrice, lms, mms float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.prices = map[string]float64{"sms": smsPrice, "lms": lms, "mms": mms}
}

// RegisterSender adds a registered sender number.
func (s *Server) RegisterSender(n string) { s.senders.Add(n) }

// SetResult makes messages to receiver registered from now on end with
// status code (e.g. "3000" still at the carrier, "3043" handset off);
// the default is "4000" (received).
func (s *Server) SetResult(receiver, code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.results[receiver] = code
}

// Deliver changes the status of the messages already registered to
// receiver (a carrier report arriving).
func (s *Server) Deliver(receiver, code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range s.messages {
		if m.To == receiver {
			m.StatusCode = code
		}
	}
}

// SetLatency delays every answer by d.
func (s *Server) SetLatency(d time.Duration) { s.gw.SetLatency(d) }

// Requests returns a copy of every request received so far.
func (s *Server) Requests() []Request { return s.requests.Copy(Request.clone) }

func (r Request) clone() Request {
	r.Query = fakegw.CloneValues(r.Query)
	r.Header = r.Header.Clone()
	r.Body = slices.Clone(r.Body)
	return r
}

// Sends returns the requests to send-many/detail so far.
func (s *Server) Sends() []Request {
	var out []Request
	for _, r := range s.Requests() {
		if r.Path == sendPath {
			out = append(out, r)
		}
	}
	return out
}

// Messages returns a copy of every message registered so far.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Message, len(s.messages))
	for i, m := range s.messages {
		out[i] = *m
		out[i].CustomFields = cloneMap(m.CustomFields)
	}
	return out
}

// Reset empties Requests. The gateway's own state (messages, balance,
// failure, used signatures) stays.
func (s *Server) Reset() { s.requests.Reset() }

const (
	sendPath    = "/messages/v4/send-many/detail"
	listPath    = "/messages/v4/list"
	balancePath = "/cash/v1/balance"
	pricingPath = "/pricing/v1/messaging"
	groupsPath  = "/messages/v4/groups/"
)

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, maxBodyLength))
	s.requests.Add(Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Header: r.Header.Clone(), Body: body, At: s.now()})
	if !s.gw.WaitLatency(r) {
		return
	}
	handler, ok := s.route(r.Method, r.URL.Path)
	if !ok {
		// (choice) unknown paths and methods: 404 with the envelope.
		writeError(w, http.StatusNotFound, "NotFound", "요청한 리소스를 찾을 수 없습니다: "+r.Method+" "+r.URL.Path)
		return
	}
	if s.injectFailure(w, r) {
		return
	}
	if status, code, msg := s.authenticate(r.Header.Get("Authorization")); status != 0 {
		writeError(w, status, code, msg)
		return
	}
	if r.URL.Path != sendPath {
		handler(w, r, body)
		return
	}
	if f, late := s.failure.Take(LateAnswer); late {
		s.gw.AnswerLate(w, f.Delay, func(w http.ResponseWriter) { handler(w, r, body) })
		return
	}
	handler(w, r, body)
}

type handlerFunc func(w http.ResponseWriter, r *http.Request, body []byte)

func (s *Server) route(method, path string) (handlerFunc, bool) {
	switch {
	case method == http.MethodPost && path == sendPath:
		return s.handleSend, true
	case method == http.MethodGet && path == listPath:
		return s.handleList, true
	case method == http.MethodGet && strings.HasPrefix(path, groupsPath) && strings.HasSuffix(path, "/messages"):
		return s.handleGroupMessages, true
	case method == http.MethodGet && path == balancePath:
		return s.handleBalance, true
	case method == http.MethodGet && path == pricingPath:
		return s.handlePricing, true
	}
	return nil, false
}

// authenticate checks the Authorization header as Solapi does; status 0
// means it passed.
//
//	Authorization: HMAC-SHA256 apiKey=<key>, date=<ISO 8601>, salt=<salt>, signature=<hex>
func (s *Server) authenticate(h string) (status int, code, msg string) {
	if strings.TrimSpace(h) == "" {
		return http.StatusUnauthorized, "Unauthorized", "Authorization 헤더가 없습니다."
	}
	method, rest, _ := strings.Cut(strings.TrimSpace(h), " ")
	var newHash func() hash.Hash
	switch method {
	case "HMAC-SHA256":
		newHash = sha256.New
	case "HMAC-MD5":
		newHash = md5.New
	default:
		// (choice) an unknown method is refused like a missing header.
		return http.StatusUnauthorized, "Unauthorized", "지원하지 않는 인증 방식입니다: " + method
	}
	params := map[string]string{}
	for _, part := range strings.Split(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if ok {
			params[k] = v
		}
	}
	for _, k := range []string{"apiKey", "date", "salt", "signature"} {
		if params[k] == "" {
			// (choice) a header missing a part is malformed.
			return http.StatusUnauthorized, "Unauthorized", "Authorization 헤더에 " + k + " 값이 없습니다."
		}
	}
	key, date, salt, sig := params["apiKey"], params["date"], params["salt"], params["signature"]
	if len(key) != apiKeyLen {
		return http.StatusBadRequest, "ValidationError", `"apiKey" length must be 16 characters long`
	}
	if key != s.APIKey {
		return http.StatusForbidden, "InvalidAPIKey", "유효한 API Key가 아닙니다."
	}
	t, err := time.Parse(time.RFC3339Nano, date)
	if err != nil {
		// (choice) an unreadable date is a validation error.
		return http.StatusBadRequest, "ValidationError", `"date" must be a valid ISO 8601 date`
	}
	now := s.now()
	if d := now.Sub(t); d > MaxSkew || d < -MaxSkew {
		return http.StatusForbidden, "RequestTimeTooSkewed", "요청 시간이 서버 시간과 15분 이상 차이가 납니다."
	}
	if n := len(salt); n < minSalt || n > maxSalt {
		// (choice) Solapi documents 12–64 bytes, not the refusal.
		return http.StatusBadRequest, "ValidationError", `"salt" length must be between 12 and 64 characters`
	}
	mac := hmac.New(newHash, []byte(s.APISecret))
	mac.Write([]byte(date + salt))
	want := hex.EncodeToString(mac.Sum(nil))
	if !hmac.Equal([]byte(strings.ToLower(sig)), []byte(want)) {
		return http.StatusForbidden, "SignatureDoesNotMatch", "생성한 Signature가 일치하지 않습니다."
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, at := range s.seen {
		if now.Sub(at) > ReuseWindow {
			delete(s.seen, k)
		}
	}
	if _, dup := s.seen[want]; dup {
		return http.StatusForbidden, "DuplicatedSignature", "15분 안에 같은 Signature가 사용되었습니다."
	}
	s.seen[want] = now
	return 0, "", ""
}

// writeJSON answers status with v as JSON (UTF-8, not escaped: Solapi is
// a Node service).
func writeJSON(w http.ResponseWriter, status int, v any) {
	fakegw.WriteJSON(w, status, jsonType, v)
}

// writeRaw answers status with b labelled as JSON, whatever b is.
func writeRaw(w http.ResponseWriter, status int, b []byte) {
	fakegw.WriteBody(w, status, jsonType, string(b))
}

const jsonType = "application/json; charset=utf-8"

// writeError answers Solapi's error envelope.
func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]string{"errorCode": code, "errorMessage": msg})
}

func cloneMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
