// Package aligotest is a fake Aligo SMS gateway for tests. It speaks the
// real wire format (aligo-api.md §10): POST only, urlencoded or multipart
// forms, trailing-slash paths, HTTP 200 with a JSON body labelled
// text/html; charset=UTF-8, Korean escaped as \uXXXX like PHP does, and the
// observed mixed typing (string result_code and msg_id on /send/, numbers
// elsewhere). Failures can be injected while it runs.
//
// Where Aligo documents no behaviour the fake makes a choice, marked
// "(choice)" below; codes in that case are invented but negative, so a
// client treats them as application errors.
package aligotest

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/munja-sms/munja/config"
	"github.com/munja-sms/munja/provider/internal/fakegw"
)

// Default credentials of a new Server.
const (
	DefaultUserID = "munjatest"
	DefaultKey    = "0123456789abcdefghijklmnopqrstuv"
	DefaultSender = "0212345678"
)

// Request is one HTTP request the fake received.
type Request struct {
	Method    string
	Path      string
	Form      url.Values // POST form fields (files excluded)
	Files     []string   // multipart file field names, e.g. image1
	Multipart bool
	Receivers []string // /send/ receiver split on ",", /send_mass/ rec_1..rec_cnt
	At        time.Time
}

// Delivered is one receiver the fake accepted (Test: testmode_yn=Y, so a
// real gateway would not have delivered it).
type Delivered struct {
	Receiver string
	Msg      string // after %고객명% substitution
	Title    string
	MsgType  string
	MsgID    string
	Test     bool
	Reserve  time.Time // zero unless reserved
	Canceled bool      // reservation cancelled through /cancel/
}

// Server is the fake gateway. All methods are safe for concurrent use.
type Server struct {
	UserID string // accepted user_id / userid
	Key    string // accepted key
	Sender string // first registered sender

	gw       *fakegw.Server
	now      func() time.Time
	failure  fakegw.Injector[Failure, Mode]
	requests fakegw.Log[Request]

	mu        sync.Mutex
	senders   *fakegw.Numbers
	balance   int64 // in SMS units; LMS costs 3, MMS 7 (choice)
	nextID    int64
	nextDID   int64
	delivered []Delivered
	records   []*record // send requests, oldest first
}

// Option configures New.
type Option func(*Server)

// WithCredentials sets the accepted user_id and key.
func WithCredentials(userID, key string) Option {
	return func(s *Server) { s.UserID, s.Key = userID, key }
}

// WithSenders replaces the registered sender numbers (the first becomes Sender).
func WithSenders(numbers ...string) Option {
	return func(s *Server) { s.senders, s.Sender = fakegw.Senders(numbers, s.Sender) }
}

// WithBalance sets the starting balance in SMS units.
func WithBalance(sms int64) Option { return func(s *Server) { s.balance = sms } }

// WithClock makes the fake read time from now (reservations, dates).
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// New starts a fake gateway on 127.0.0.1; t.Cleanup closes it.
func New(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := Start(opts...)
	t.Cleanup(s.Close)
	return s
}

// Start starts a fake gateway on 127.0.0.1 outside a test (for the
// whole-process benchmarks in bench/); the caller closes it.
func Start(opts ...Option) *Server {
	s := &Server{
		UserID:  DefaultUserID,
		Key:     DefaultKey,
		Sender:  DefaultSender,
		senders: fakegw.NewNumbers(DefaultSender),
		balance: 1_000_000,
		now:     time.Now,
		nextID:  146645342,
		nextDID: 3246554254,
	}
	for _, o := range opts {
		o(s)
	}
	s.gw = fakegw.Start(s)
	return s
}

// Close stops the server; pending stalls (Timeout, latency) end at once.
// It is safe to call more than once.
func (s *Server) Close() { s.gw.Close() }

// URL is the base URL to put into config (no trailing slash).
func (s *Server) URL() string { return s.gw.URL() }

// ProviderConfig is a config.Provider of type aligo pointing at the fake.
func (s *Server) ProviderConfig() config.Provider {
	return config.Provider{
		Name:    "aligo",
		Type:    "aligo",
		Options: config.Opts("user_id", s.UserID, "key", s.Key),
		Sender:  s.Sender,
		BaseURL: s.URL(),
	}
}

// SetBalance sets the balance in SMS units.
func (s *Server) SetBalance(sms int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.balance = sms
}

// Balance is the current balance in SMS units.
func (s *Server) Balance() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.balance
}

// RegisterSender adds a registered sender number.
func (s *Server) RegisterSender(n string) { s.senders.Add(n) }

// SetLatency delays every answer by d (for benchmarks, e.g. 50ms).
func (s *Server) SetLatency(d time.Duration) { s.gw.SetLatency(d) }

// Requests returns a copy of every request received so far.
func (s *Server) Requests() []Request { return s.requests.Copy(Request.clone) }

func (r Request) clone() Request {
	r.Form = fakegw.CloneValues(r.Form)
	r.Files = slices.Clone(r.Files)
	r.Receivers = slices.Clone(r.Receivers)
	return r
}

// Delivered returns a copy of every receiver accepted so far.
func (s *Server) Delivered() []Delivered {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.delivered)
}

// Reset empties Requests and Delivered. The gateway's own state (send
// history for /list/, /sms_list/ and /cancel/, balance, failure) stays.
func (s *Server) Reset() {
	s.requests.Reset()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delivered = nil
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	req := Request{Method: r.Method, Path: r.URL.Path, At: s.now()}
	if r.Method != http.MethodPost {
		s.requests.Add(req)
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	form, files, multipart, err := fakegw.ReadForm(r)
	req.Form, req.Files, req.Multipart = form, files, multipart
	req.Receivers = receivers(r.URL.Path, form)
	s.requests.Add(req)

	if !s.gw.WaitLatency(r) {
		return
	}
	if err != nil {
		writeJSON(w, errorBody{ResultCode: codeParam, Message: "요청 형식 오류: " + err.Error()})
		return
	}
	handler, ok := s.route(r.URL.Path)
	if !ok {
		// (choice) a path without its trailing slash is not found, as seen
		// for /remain on the real gateway.
		fakegw.WriteBody(w, http.StatusNotFound, htmlType, "<html><body><h1>404 Not Found</h1></body></html>")
		return
	}
	if s.injectFailure(w, r) {
		return
	}
	if body, ok := s.authFail(r.URL.Path, form); !ok {
		writeJSON(w, body)
		return
	}
	if r.URL.Path != "/send/" {
		handler(w, r.URL.Path, form, files)
		return
	}
	if f, late := s.failure.Take(LateAnswer); late {
		s.gw.AnswerLate(w, f.Delay, func(w http.ResponseWriter) { handler(w, r.URL.Path, form, files) })
		return
	}
	handler(w, r.URL.Path, form, files)
}

type handlerFunc func(w http.ResponseWriter, path string, form url.Values, files []string)

func (s *Server) route(path string) (handlerFunc, bool) {
	switch path {
	case "/send/":
		return s.handleSend, true
	case "/send_mass/":
		return s.handleSendMass, true
	case "/list/":
		return s.handleList, true
	case "/sms_list/":
		return s.handleSMSList, true
	case "/remain/":
		return s.handleRemain, true
	case "/cancel/":
		return s.handleCancel, true
	}
	return nil, false
}

// authFail checks key + user_id (or userid). /remain/ errors carry zero
// counters, as observed.
func (s *Server) authFail(path string, form url.Values) (any, bool) {
	user := form.Get("user_id")
	if user == "" {
		user = form.Get("userid")
	}
	var msg string
	switch {
	case form.Get("key") == "":
		msg = "API 키가 입력되지 않았습니다."
	case form.Get("key") != s.Key || user != s.UserID:
		msg = "인증오류입니다."
	default:
		return nil, true
	}
	return failBody(path, codeAuth, msg), false
}

func failBody(path string, code int, msg string) any {
	if path == "/remain/" {
		return remainBody{ResultCode: code, Message: msg}
	}
	return errorBody{ResultCode: code, Message: msg}
}

func receivers(path string, form url.Values) []string {
	switch path {
	case "/send/":
		return splitReceivers(form.Get("receiver"))
	case "/send_mass/":
		cnt, _ := strconv.Atoi(form.Get("cnt"))
		var out []string
		for i := 1; i <= cnt && i <= maxMass; i++ {
			if v := form.Get("rec_" + strconv.Itoa(i)); v != "" {
				out = append(out, v)
			}
		}
		return out
	}
	return nil
}

func splitReceivers(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// htmlType labels every answer, JSON or not.
const htmlType = "text/html; charset=UTF-8"

// writeJSON answers 200, text/html, with Korean escaped as \uXXXX.
func writeJSON(w http.ResponseWriter, v any) {
	fakegw.WriteEscapedJSON(w, http.StatusOK, htmlType, v)
}
