// Package twiliotest is a fake Twilio Programmable Messaging API for tests.
// It speaks the wire format of aligo-api.md §9.4:
//
//	POST /2010-04-01/Accounts/{AccountSid}/Messages.json   (form To, From, Body)
//	GET  /2010-04-01/Accounts/{AccountSid}/Messages/{Sid}.json
//
// with HTTP Basic authentication (Account SID : Auth Token, compared
// exactly), 201 and the Message resource (sid SM + 32 hex, status queued,
// num_segments as a string, RFC 2822 dates) on success, and Twilio's error
// envelope {"code","message","more_info","status"} with a 4xx status on
// failure. Failures can be injected while it runs (failure.go).
//
// Where §9.4 is silent the fake makes a choice, marked "(choice)"; its
// error codes then are Twilio's public catalogue codes (21604, 21606,
// 21617, 20404 …), not confirmed by §9.4.
package twiliotest

import (
	"crypto/subtle"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/munja-sms/munja/config"
	"github.com/munja-sms/munja/provider/internal/fakegw"
)

// Default credentials and number of a new Server.
const (
	DefaultAccountSID = "AC0123456789abcdef0123456789abcdef"
	DefaultAuthToken  = "f0e1d2c3b4a5968778695a4b3c2d1e0f"
	DefaultSender     = "+15017122661"
	APIVersion        = "2010-04-01"
	MaxBodyChars      = 1600
)

// Request is one HTTP request the fake received.
type Request struct {
	Method string
	Path   string
	Form   url.Values // POST form fields
	User   string     // Basic auth user, "" without
	Auth   bool       // the credentials were right
	At     time.Time
}

// Message is one Message the fake created (it accepted the send).
type Message struct {
	SID          string
	To, From     string
	Body         string
	Segments     int
	Status       string // queued until SetStatus
	ErrorCode    int
	ErrorMessage string
	Created      time.Time
	Updated      time.Time
	Sent         time.Time // zero until a status past sending
}

// Server is the fake API. All methods are safe for concurrent use.
type Server struct {
	AccountSID string
	AuthToken  string
	Sender     string // first number of the account

	gw       *fakegw.Server
	now      func() time.Time
	failure  fakegw.Injector[Failure, Mode]
	requests fakegw.Log[Request]

	mu       sync.Mutex
	numbers  *fakegw.Numbers // the account's SMS-capable numbers (From)
	rejected map[string]int  // To → error code (21211, 21614, 21610 …)
	nextID   uint64
	messages []*Message
}

// Option configures New.
type Option func(*Server)

// WithCredentials sets the accepted Account SID and Auth Token.
func WithCredentials(sid, token string) Option {
	return func(s *Server) { s.AccountSID, s.AuthToken = sid, token }
}

// WithNumbers replaces the account's numbers (the first becomes Sender).
func WithNumbers(numbers ...string) Option {
	return func(s *Server) { s.numbers, s.Sender = fakegw.Senders(numbers, s.Sender) }
}

// WithClock makes the fake read time from now.
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// New starts a fake on 127.0.0.1; t.Cleanup closes it.
func New(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := Start(opts...)
	t.Cleanup(s.Close)
	return s
}

// Start starts a fake on 127.0.0.1 outside a test; the caller closes it.
func Start(opts ...Option) *Server {
	s := &Server{
		AccountSID: DefaultAccountSID,
		AuthToken:  DefaultAuthToken,
		Sender:     DefaultSender,
		numbers:    fakegw.NewNumbers(DefaultSender),
		rejected:   map[string]int{},
		now:        time.Now,
		nextID:     0x5a17,
	}
	for _, o := range opts {
		o(s)
	}
	s.gw = fakegw.Start(s)
	return s
}

// Close stops the server; pending stalls end at once. Safe to call twice.
func (s *Server) Close() { s.gw.Close() }

// URL is the base URL to put into config.
func (s *Server) URL() string { return s.gw.URL() }

// ProviderConfig is a config.Provider of type twilio pointing at the fake.
func (s *Server) ProviderConfig() config.Provider {
	return config.Provider{
		Name:    "twilio",
		Type:    "twilio",
		Options: config.Opts("account_sid", s.AccountSID, "auth_token", s.AuthToken),
		Sender:  s.Sender,
		BaseURL: s.URL(),
	}
}

// Reject makes Twilio refuse sends to the E.164 number to with code
// (21211 not a valid number, 21614 not a mobile number, 21610
// unsubscribed …).
func (s *Server) Reject(to string, code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rejected[to] = code
}

// SetLatency delays every answer by d.
func (s *Server) SetLatency(d time.Duration) { s.gw.SetLatency(d) }

// SetStatus moves a Message to status (delivered, undelivered, failed …)
// with an error code and message (0, "" for none). It reports whether the
// Message exists.
func (s *Server) SetStatus(sid, status string, code int, msg string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range s.messages {
		if m.SID == sid {
			m.Status, m.ErrorCode, m.ErrorMessage = status, code, msg
			m.Updated = s.now()
			if status != "queued" && status != "accepted" && status != "sending" && m.Sent.IsZero() {
				m.Sent = m.Updated
			}
			return true
		}
	}
	return false
}

// Requests returns a copy of every request received so far.
func (s *Server) Requests() []Request {
	return s.requests.Copy(func(r Request) Request {
		r.Form = fakegw.CloneValues(r.Form)
		return r
	})
}

// Sends counts the POSTs to Messages.json received so far.
func (s *Server) Sends() int {
	n := 0
	for _, r := range s.Requests() {
		if r.Method == http.MethodPost {
			n++
		}
	}
	return n
}

// Messages returns a copy of every Message created so far, oldest first.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Message, len(s.messages))
	for i, m := range s.messages {
		out[i] = *m
	}
	return out
}

// Reset empties Requests. Messages (and their statuses) stay.
func (s *Server) Reset() { s.requests.Reset() }

var (
	sendPath = regexp.MustCompile(`^/2010-04-01/Accounts/([^/]+)/Messages\.json$`)
	getPath  = regexp.MustCompile(`^/2010-04-01/Accounts/([^/]+)/Messages/([^/]+)\.json$`)
	e164     = regexp.MustCompile(`^\+[1-9][0-9]{1,14}$`)
)

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	req := Request{Method: r.Method, Path: r.URL.Path, At: s.now()}
	if r.Method == http.MethodPost {
		_ = r.ParseForm()
		req.Form = fakegw.CloneValues(r.PostForm)
	}
	user, pass, hasAuth := r.BasicAuth()
	req.User = user
	req.Auth = hasAuth && s.credentialsOK(user, pass)
	s.requests.Add(req)

	if !s.gw.WaitLatency(r) {
		return
	}
	if s.injectFailure(w, r) {
		return
	}
	if !req.Auth {
		// Twilio checks credentials before it looks at the path.
		w.Header().Set("WWW-Authenticate", `Basic realm="Twilio API"`)
		writeError(w, http.StatusUnauthorized, 20003, "Authentication Error - invalid username")
		return
	}
	var handler func(http.ResponseWriter, *http.Request, []string)
	var m []string
	switch {
	case r.Method == http.MethodPost:
		if m = sendPath.FindStringSubmatch(r.URL.Path); m != nil {
			handler = s.handleSend
		}
	case r.Method == http.MethodGet:
		if m = getPath.FindStringSubmatch(r.URL.Path); m != nil {
			handler = s.handleGet
		} else if m = sendPath.FindStringSubmatch(r.URL.Path); m != nil {
			handler = s.handleList
		}
	}
	if handler == nil || m[1] != s.AccountSID {
		// (choice) another account's path and unknown paths are 20404.
		writeError(w, http.StatusNotFound, 20404, "The requested resource "+r.URL.Path+" was not found")
		return
	}
	if r.Method == http.MethodPost {
		if f, ok := s.failure.Take(APIError); ok {
			st := f.Status
			if st == 0 {
				st = http.StatusBadRequest
			}
			writeError(w, st, f.Code, f.Message)
			return
		}
		if f, late := s.failure.Take(LateAnswer); late {
			s.gw.AnswerLate(w, f.Delay, func(w http.ResponseWriter) { handler(w, r, m) })
			return
		}
	}
	handler(w, r, m)
}

func (s *Server) credentialsOK(user, pass string) bool {
	u := subtle.ConstantTimeCompare([]byte(user), []byte(s.AccountSID))
	p := subtle.ConstantTimeCompare([]byte(pass), []byte(s.AuthToken))
	return u&p == 1
}

func (s *Server) handleSend(w http.ResponseWriter, r *http.Request, _ []string) {
	f := r.PostForm
	tos, from, body := f["To"], f.Get("From"), f.Get("Body")
	switch {
	case len(tos) == 0 || tos[0] == "":
		writeError(w, http.StatusBadRequest, 21604, "A 'To' phone number is required.")
		return
	case len(tos) > 1:
		// (choice) one To per Message: repeating it is refused.
		writeError(w, http.StatusBadRequest, 21211, fmt.Sprintf("The 'To' number %s is not a valid phone number.", strings.Join(tos, ",")))
		return
	}
	to := tos[0]
	s.mu.Lock()
	code, rejected := s.rejected[to]
	s.mu.Unlock()
	owned := s.numbers.Has(from)
	switch {
	case !e164.MatchString(to) || code == 21211:
		writeError(w, http.StatusBadRequest, 21211, fmt.Sprintf("The 'To' number %s is not a valid phone number.", to))
		return
	case code == 21614 || (strings.HasPrefix(to, "+82") && !koreanMobile(to)):
		// (choice) a Korean number that is not 01x is not a mobile.
		writeError(w, http.StatusBadRequest, 21614, fmt.Sprintf("'To' number %s is not a valid mobile number", to))
		return
	case rejected:
		writeError(w, http.StatusBadRequest, code, fmt.Sprintf("Twilio refused 'To' number %s (code %d)", to, code))
		return
	case from == "" && f.Get("MessagingServiceSid") == "":
		writeError(w, http.StatusBadRequest, 21603, "A 'From' phone number is required.")
		return
	case !owned:
		writeError(w, http.StatusBadRequest, 21606, fmt.Sprintf("The From phone number %s is not a valid, SMS-capable inbound phone number or short code for your account.", from))
		return
	case body == "" && f.Get("MediaUrl") == "":
		writeError(w, http.StatusBadRequest, 21602, "Message body is required.")
		return
	case len(utf16.Encode([]rune(body))) > MaxBodyChars:
		writeError(w, http.StatusBadRequest, 21617, "The concatenated message body exceeds the 1600 character limit.")
		return
	}
	now := s.now()
	s.mu.Lock()
	s.nextID++
	m := &Message{
		SID:  fmt.Sprintf("SM%032x", s.nextID),
		To:   to,
		From: from,
		Body: body, Segments: segments(body), Status: "queued",
		Created: now, Updated: now,
	}
	s.messages = append(s.messages, m)
	res := s.resource(m)
	s.mu.Unlock()
	writeJSON(w, http.StatusCreated, res)
}

func (s *Server) handleGet(w http.ResponseWriter, r *http.Request, match []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range s.messages {
		if m.SID == match[2] {
			writeJSON(w, http.StatusOK, s.resource(m))
			return
		}
	}
	writeError(w, http.StatusNotFound, 20404, "The requested resource "+r.URL.Path+" was not found")
}

// handleList answers GET …/Messages.json, Twilio's list of Messages, newest
// first, filtered by To and From (exact) and DateSent>= (YYYY-MM-DD, on
// date_sent, which a queued Message does not have yet), one page of
// PageSize (default 50).
func (s *Server) handleList(w http.ResponseWriter, r *http.Request, _ []string) {
	q := r.URL.Query()
	size := 50
	if v, err := strconv.Atoi(q.Get("PageSize")); err == nil && v > 0 && v <= 1000 {
		size = v
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	list := []map[string]any{}
	for i := len(s.messages) - 1; i >= 0 && len(list) < size; i-- {
		m := s.messages[i]
		if to := q.Get("To"); to != "" && to != m.To {
			continue
		}
		if from := q.Get("From"); from != "" && from != m.From {
			continue
		}
		if d := q.Get("DateSent>"); d != "" && (m.Sent.IsZero() || m.Sent.UTC().Format(time.DateOnly) < d) {
			continue
		}
		list = append(list, s.resource(m))
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"messages": list, "page": 0, "page_size": size, "next_page_uri": nil,
		"uri": r.URL.RequestURI(), "first_page_uri": r.URL.RequestURI(), "previous_page_uri": nil,
	})
}

// koreanMobile: +82 1[016789] + 7 or 8 digits.
func koreanMobile(to string) bool {
	d := strings.TrimPrefix(to, "+82")
	return len(d) >= 9 && len(d) <= 10 && d[0] == '1' && strings.ContainsRune("016789", rune(d[1]))
}

// resource is the Message as Twilio's JSON shows it (§9.4). s.mu is held.
func (s *Server) resource(m *Message) map[string]any {
	uri := fmt.Sprintf("/%s/Accounts/%s/Messages/%s", APIVersion, s.AccountSID, m.SID)
	var code, msg, sent any
	if m.ErrorCode != 0 {
		code = m.ErrorCode
	}
	if m.ErrorMessage != "" {
		msg = m.ErrorMessage
	}
	if !m.Sent.IsZero() {
		sent = rfc2822(m.Sent)
	}
	return map[string]any{
		"account_sid":           s.AccountSID,
		"api_version":           APIVersion,
		"body":                  m.Body,
		"date_created":          rfc2822(m.Created),
		"date_sent":             sent,
		"date_updated":          rfc2822(m.Updated),
		"direction":             "outbound-api",
		"error_code":            code,
		"error_message":         msg,
		"from":                  m.From,
		"messaging_service_sid": nil,
		"num_media":             "0",
		"num_segments":          fmt.Sprint(m.Segments),
		"price":                 nil,
		"price_unit":            "USD",
		"sid":                   m.SID,
		"status":                m.Status,
		"subresource_uris":      map[string]string{"media": uri + "/Media.json"},
		"to":                    m.To,
		"uri":                   uri + ".json",
	}
}

func rfc2822(t time.Time) string { return t.UTC().Format("Mon, 02 Jan 2006 15:04:05 +0000") }

func writeJSON(w http.ResponseWriter, status int, v any) {
	fakegw.WriteJSON(w, status, "application/json; charset=utf-8", v)
}

// writeError answers Twilio's error envelope.
func writeError(w http.ResponseWriter, status, code int, msg string) {
	writeJSON(w, status, map[string]any{
		"code":      code,
		"message":   msg,
		"more_info": fmt.Sprintf("https://www.twilio.com/docs/errors/%d", code),
		"status":    status,
	})
}
