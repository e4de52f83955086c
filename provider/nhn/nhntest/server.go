// Package nhntest is a fake NHN Cloud SMS API v3.0 for tests. It speaks
// the wire format of TOAST-DOCS/SMS ko/api-guide.md (aligo-api.md §9.2):
//
//	POST /sms/v3.0/appKeys/{appKey}/sender/sms   SMS send
//	POST /sms/v3.0/appKeys/{appKey}/sender/mms   LMS send (title + body)
//	GET  the same paths                          발송 목록 검색 (by requestId or by date, paged)
//
// Every call needs the app key in the path and the secret key in the
// X-Secret-Key header, compared exactly; answers are JSON with
// {"header":{"isSuccessful","resultCode","resultMessage"},"body":…}, one
// result per recipient on sends. It enforces the documented limits (1,000
// recipients, 255 characters of SMS body, 120/4,000 of LMS title/body,
// registered sendNo, characters EUC-KR lacks) and marks what a handset
// would see cut (SMS over 90 bytes, title over 40). Failures can be
// injected while it runs.
//
// Where NHN documents no behaviour the fake makes a choice, marked
// "(choice)": notably the answer to a wrong secret key, which NHN does not
// document for SMS (see SecretError).
package nhntest

import (
	"crypto/subtle"
	"encoding/json"
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

// Default credentials of a new Server.
const (
	DefaultAppKey    = "MunjaTestAppKey01"
	DefaultSecretKey = "MunjaTestSecretKey"
	DefaultSender    = "0212345678"
)

// Result codes and messages the fake answers (TOAST-DOCS/SMS
// ko/error-code.md unless marked).
const (
	CodeInvalidAppKey = -1000 // "Invalid appKey."
	CodeIPNotAllowed  = -1004 // "Not allow ip."
	CodeSearchParam   = -1005 // "Service parameter is invalid."
	CodeDateFormat    = -2000 // "Date format error."
	CodeNoRecipients  = -2001 // "RecipientList can not be null."
	CodeSearchNeeds   = -2011 // requestId or dates required
	CodeEmpty         = -2014 // title or body empty
	CodeTooLong       = -2015 // "Title or Body exceed maximum byte."
	CodeTooMany       = -2016 // "The max recipient size is 1000."
	CodeBadRecipient  = -2019 // "RecipientNo is invalid."
	CodeBadChars      = -2023 // "Unacceptable characters in title and body"
	CodeNoSender      = -2312 // "Not regist sendno."
	CodeOptedOut      = -6001 // "Recipient Number is refused."
	CodeRange         = -4000 // "Search is possible within one month."
	CodeContentType   = -9996 // only application/json
	CodeBadJSON       = -9997 // "Invalid API parameters."
	CodeNoAPI         = -9998 // "Not exist API."
	CodeSystem        = -9999 // "System error. …"
	// SecretError is the (choice) answer to a missing or wrong X-Secret-Key:
	// HTTP 401 with resultCode -1004 and "Invalid secretKey.", the pair NHN's
	// Email API documents. What the SMS API answers is not documented.
	SecretError = -1004
)

// Request is one HTTP request the fake received.
type Request struct {
	Method      string
	Path        string
	Query       url.Values
	ContentType string
	SecretOK    bool   // X-Secret-Key matched
	Body        []byte // raw JSON of a POST
	Recipients  []string
	At          time.Time
}

// Delivered is one recipient the fake accepted.
type Delivered struct {
	RequestID   string
	Recipient   string
	Body        string
	Title       string // LMS
	SendNo      string
	MessageType string // SMS or LMS
	GroupingKey string // senderGroupingKey
	// Truncated: what a handset would show is cut (an SMS body over 90
	// bytes, an LMS title over 40 or body over 2,000; NHN's "표준 규격").
	Truncated bool
	At        time.Time
}

// Server is the fake gateway. All methods are safe for concurrent use.
type Server struct {
	AppKey    string
	SecretKey string
	Sender    string // first registered sendNo

	gw       *fakegw.Server
	now      func() time.Time
	failure  fakegw.Injector[Failure, Mode]
	requests fakegw.Log[Request]

	mu        sync.Mutex
	senders   *fakegw.Numbers
	seq       int64
	delivered []Delivered
	rows      []*row // one per recipient, oldest first
}

// row is one recipient of one request, as the list endpoints show it.
type row struct {
	endpoint       string // sms or mms
	requestID      string
	requestDate    time.Time
	resultDate     time.Time
	title, body    string
	sendNo         string
	recipientNo    string
	recipientSeq   int
	groupingKey    string
	msgStatus      string
	resultCode     string
	resultCodeName string
}

// Option configures New.
type Option func(*Server)

// WithCredentials sets the accepted app key and secret key.
func WithCredentials(appKey, secretKey string) Option {
	return func(s *Server) { s.AppKey, s.SecretKey = appKey, secretKey }
}

// WithSenders replaces the registered sender numbers (the first becomes Sender).
func WithSenders(numbers ...string) Option {
	return func(s *Server) { s.senders, s.Sender = fakegw.Senders(numbers, s.Sender) }
}

// WithClock makes the fake read time from now (request dates, searches).
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
		AppKey:    DefaultAppKey,
		SecretKey: DefaultSecretKey,
		Sender:    DefaultSender,
		senders:   fakegw.NewNumbers(DefaultSender),
		now:       time.Now,
	}
	for _, o := range opts {
		o(s)
	}
	s.gw = fakegw.Start(s)
	return s
}

// Close stops the server; pending stalls end at once. It is safe to call
// more than once.
func (s *Server) Close() { s.gw.Close() }

// URL is the base URL to put into config (no trailing slash).
func (s *Server) URL() string { return s.gw.URL() }

// ProviderConfig is a config.Provider of type nhn pointing at the fake.
func (s *Server) ProviderConfig() config.Provider {
	return config.Provider{
		Name:    "nhn",
		Type:    "nhn",
		Options: config.Opts("app_key", s.AppKey, "secret_key", s.SecretKey),
		Sender:  s.Sender,
		BaseURL: s.URL(),
	}
}

// RegisterSender adds a registered sender number.
func (s *Server) RegisterSender(n string) { s.senders.Add(n) }

// SetLatency delays every answer by d.
func (s *Server) SetLatency(d time.Duration) { s.gw.SetLatency(d) }

// Requests returns a copy of every request received so far.
func (s *Server) Requests() []Request { return s.requests.Copy(Request.clone) }

func (r Request) clone() Request {
	r.Query = fakegw.CloneValues(r.Query)
	r.Body = slices.Clone(r.Body)
	r.Recipients = slices.Clone(r.Recipients)
	return r
}

// Sends returns the POST requests only.
func (s *Server) Sends() []Request {
	var out []Request
	for _, r := range s.Requests() {
		if r.Method == http.MethodPost {
			out = append(out, r)
		}
	}
	return out
}

// Delivered returns a copy of every recipient accepted so far.
func (s *Server) Delivered() []Delivered {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.delivered)
}

// SetReport sets the delivery state the list endpoints show for every row
// of recipient: msgStatus (0 failed, 1 requested, 2 processing, 3 success)
// and the carrier's resultCode ("1000" success, "3006" refused …, "" none
// yet). New rows start as msgStatus 3, resultCode 1000.
func (s *Server) SetReport(recipient, msgStatus, resultCode string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.rows {
		if r.recipientNo == recipient {
			r.msgStatus, r.resultCode, r.resultCodeName = msgStatus, resultCode, resultName(resultCode)
			r.resultDate = time.Time{}
			if resultCode != "" {
				r.resultDate = s.now()
			}
		}
	}
}

// resultName is the resultCodeName of a carrier result code.
func resultName(code string) string {
	switch code {
	case "":
		return ""
	case "1000":
		return "성공"
	case "3003":
		return "수신 번호 형식 오류 또는 결번(없는 번호)"
	case "3006":
		return "착신 거절"
	case "3019":
		return "발신 번호 사전 등록제에 의해 등록되지 않은 번호"
	}
	return "실패"
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 32<<20))
	secretOK := subtle.ConstantTimeCompare([]byte(r.Header.Get("X-Secret-Key")), []byte(s.SecretKey)) == 1
	req := Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), ContentType: r.Header.Get("Content-Type"),
		SecretOK: secretOK, Body: body, At: s.now()}
	if r.Method == http.MethodPost {
		var sb sendBody
		if json.Unmarshal(body, &sb) == nil {
			for _, rc := range sb.RecipientList {
				req.Recipients = append(req.Recipients, rc.RecipientNo)
			}
		}
	}
	s.requests.Add(req)

	if !s.gw.WaitLatency(r) {
		return
	}
	appKey, endpoint, ok := route(r.URL.Path)
	if !ok {
		writeJSON(w, http.StatusNotFound, failBody(CodeNoAPI, "Not exist API."))
		return
	}
	if r.Method != http.MethodPost && r.Method != http.MethodGet {
		w.Header().Set("Allow", "GET, POST")
		writeJSON(w, http.StatusMethodNotAllowed, failBody(CodeNoAPI, "Not exist API."))
		return
	}
	if s.injectFailure(w, r) {
		return
	}
	if appKey != s.AppKey {
		writeJSON(w, http.StatusOK, failBody(CodeInvalidAppKey, "Invalid appKey."))
		return
	}
	if !secretOK {
		writeJSON(w, http.StatusUnauthorized, failBody(SecretError, "Invalid secretKey."))
		return
	}
	if r.Method == http.MethodGet {
		s.handleList(w, endpoint, r.URL.Query())
		return
	}
	if ct := strings.ToLower(r.Header.Get("Content-Type")); !strings.HasPrefix(ct, "application/json") {
		writeJSON(w, http.StatusOK, failBody(CodeContentType, "Only application/json Content-type is supported."))
		return
	}
	if f, late := s.failure.Take(LateAnswer); late {
		s.gw.AnswerLate(w, f.Delay, func(w http.ResponseWriter) { s.handleSend(w, endpoint, body) })
		return
	}
	s.handleSend(w, endpoint, body)
}

// route splits /sms/v3.0/appKeys/{appKey}/sender/{sms|mms}.
func route(path string) (appKey, endpoint string, ok bool) {
	rest, ok := strings.CutPrefix(path, "/sms/v3.0/appKeys/")
	if !ok {
		return "", "", false
	}
	appKey, tail, ok := strings.Cut(rest, "/")
	if !ok || appKey == "" {
		return "", "", false
	}
	switch tail {
	case "sender/sms":
		return appKey, "sms", true
	case "sender/mms":
		return appKey, "mms", true
	}
	return "", "", false
}

// header is the envelope's header.
type header struct {
	IsSuccessful  bool   `json:"isSuccessful"`
	ResultCode    int    `json:"resultCode"`
	ResultMessage string `json:"resultMessage"`
}

type answer struct {
	Header header `json:"header"`
	Body   any    `json:"body"`
}

func failBody(code int, msg string) answer {
	return answer{Header: header{ResultCode: code, ResultMessage: msg}}
}

func okBody(body any) answer {
	return answer{Header: header{IsSuccessful: true, ResultMessage: "SUCCESS"}, Body: body}
}

// writeJSON answers status with JSON (UTF-8, Korean unescaped, as a Java
// server writes it).
func writeJSON(w http.ResponseWriter, status int, v any) {
	fakegw.WriteJSON(w, status, "application/json;charset=UTF-8", v)
}
