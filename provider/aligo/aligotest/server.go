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
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/munja-sms/munja/config"
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

	srv  *httptest.Server
	done chan struct{}
	now  func() time.Time

	mu        sync.Mutex
	senders   map[string]bool
	balance   int64 // in SMS units; LMS costs 3, MMS 7 (choice)
	failure   Failure
	latency   time.Duration
	nextID    int64
	nextDID   int64
	requests  []Request
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
	return func(s *Server) {
		s.senders = map[string]bool{}
		for _, n := range numbers {
			s.senders[n] = true
		}
		if len(numbers) > 0 {
			s.Sender = numbers[0]
		}
	}
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
		senders: map[string]bool{DefaultSender: true},
		balance: 1_000_000,
		now:     time.Now,
		nextID:  146645342,
		nextDID: 3246554254,
		done:    make(chan struct{}),
	}
	for _, o := range opts {
		o(s)
	}
	s.srv = httptest.NewServer(s)
	return s
}

// Close stops the server; pending stalls (Timeout, latency) end at once.
// It is safe to call more than once.
func (s *Server) Close() {
	s.mu.Lock()
	select {
	case <-s.done:
		s.mu.Unlock()
		return
	default:
		close(s.done)
	}
	s.mu.Unlock()
	s.srv.Close()
}

// URL is the base URL to put into config (no trailing slash).
func (s *Server) URL() string { return s.srv.URL }

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
func (s *Server) RegisterSender(n string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.senders[n] = true
}

// SetLatency delays every answer by d (for benchmarks, e.g. 50ms).
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = d
}

// Requests returns a copy of every request received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.requests))
	for i, r := range s.requests {
		r.Form = cloneValues(r.Form)
		r.Files = slices.Clone(r.Files)
		r.Receivers = slices.Clone(r.Receivers)
		out[i] = r
	}
	return out
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
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests, s.delivered = nil, nil
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	req := Request{Method: r.Method, Path: r.URL.Path, At: s.now()}
	if r.Method != http.MethodPost {
		s.record(req)
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	form, files, multipart, err := parseForm(r)
	req.Form, req.Files, req.Multipart = form, files, multipart
	req.Receivers = receivers(r.URL.Path, form)
	s.record(req)

	s.mu.Lock()
	latency := s.latency
	s.mu.Unlock()
	if !s.sleep(r, latency) {
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
		w.Header().Set("Content-Type", "text/html; charset=UTF-8")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte("<html><body><h1>404 Not Found</h1></body></html>"))
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
	if f, late := s.takeFailure(LateAnswer); late {
		rec := httptest.NewRecorder()
		handler(rec, r.URL.Path, form, files)
		d := f.Delay
		if d <= 0 {
			d = 30 * time.Second
		}
		t := time.NewTimer(d) // the client going away does not undo the send
		defer t.Stop()
		select {
		case <-t.C:
		case <-s.done:
			return
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
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

func (s *Server) record(r Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, r)
}

// sleep waits d unless the client goes away or the server closes.
func (s *Server) sleep(r *http.Request, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
	case <-s.done:
	}
	return false
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

func parseForm(r *http.Request) (url.Values, []string, bool, error) {
	ct := r.Header.Get("Content-Type")
	if strings.HasPrefix(strings.ToLower(ct), "multipart/form-data") {
		if err := r.ParseMultipartForm(32 << 20); err != nil {
			return url.Values{}, nil, true, err
		}
		var files []string
		for name := range r.MultipartForm.File {
			files = append(files, name)
		}
		slices.Sort(files)
		return cloneValues(r.PostForm), files, true, nil
	}
	if err := r.ParseForm(); err != nil {
		return url.Values{}, nil, false, err
	}
	return cloneValues(r.PostForm), nil, false, nil
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

func cloneValues(v url.Values) url.Values {
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = slices.Clone(vs)
	}
	return out
}

// writeJSON answers 200, text/html, with Korean escaped as \uXXXX.
func writeJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=UTF-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(asciiJSON(b))
}

// asciiJSON escapes every non-ASCII rune the way PHP's json_encode does.
func asciiJSON(b []byte) []byte {
	var out bytes.Buffer
	for _, r := range string(b) {
		if r < 0x80 {
			out.WriteRune(r)
			continue
		}
		for _, u := range utf16.Encode([]rune{r}) {
			out.WriteString(`\u`)
			out.WriteString(strconv.FormatUint(uint64(u)|0x10000, 16)[1:])
		}
	}
	return out.Bytes()
}
