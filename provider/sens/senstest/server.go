// Package senstest is a fake Naver Cloud SENS SMS v2 API for tests. It
// speaks the wire format of aligo-api.md §9.3 and the SENS guides:
//
//	POST /sms/v2/services/{serviceId}/messages            send (≤ 100 messages) → 202 {requestId…}
//	GET  /sms/v2/services/{serviceId}/messages?requestId= the messages of a request
//	GET  /sms/v2/services/{serviceId}/messages?requestStartTime=&requestEndTime=  search by time
//	GET  /sms/v2/services/{serviceId}/messages/{messageId} one message's result
//
// Every call is authenticated as Naver Cloud's API gateway does it:
// x-ncp-apigw-timestamp (epoch ms, refused more than 5 minutes from the
// fake's clock), x-ncp-iam-access-key, and x-ncp-apigw-signature-v2 =
// Base64(HMAC-SHA256(secretKey, METHOD + " " + URI + "\n" + timestamp +
// "\n" + accessKey)), URI being the request target exactly as sent (path
// and query). Gateway errors are {"error":{"errorCode","message","details"}}
// (401/200 Authentication Failed, 401/210 Permission Denied, 429/420 …),
// SENS's own {"status","errorMessage","errors":[…]}. Answers carry a Date
// header from the fake's clock. Failures can be injected while it runs.
//
// Where the guides are silent the fake makes a choice, marked "(choice)":
// the details of each authentication failure, the answer to an
// unregistered sender, and the search's paging fields.
package senstest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
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

// Default credentials of a new Server (shaped like real ones: a 20
// character access key ID, a 40 character secret key).
const (
	DefaultServiceID = "ncp:sms:kr:263092132141:munja"
	DefaultAccessKey = "MUNJATESTACCESSKEY01"
	DefaultSecretKey = "MunjaTestSecretKey0123456789abcdefghijkl"
	DefaultSender    = "0212345678"
	// MaxSkew is how far x-ncp-apigw-timestamp may be from the fake's clock.
	MaxSkew = 5 * time.Minute
)

// Gateway error details (choice: the guides give the codes, not these
// words).
const (
	DetailsMissing   = "Required authentication headers are missing."
	DetailsTimestamp = "The timestamp is invalid or more than 5 minutes off."
	DetailsAccessKey = "Invalid access key."
	DetailsSignature = "Invalid authentication information."
)

// Request is one HTTP request the fake received.
type Request struct {
	Method      string
	URI         string // request target as sent (path and query)
	Path        string
	Query       url.Values
	ContentType string
	Timestamp   string
	AccessKey   string
	AuthOK      bool // timestamp, access key and signature all accepted
	Body        []byte
	To          []string // messages[].to of a send
	At          time.Time
}

// Delivered is one message (recipient) the fake accepted.
type Delivered struct {
	RequestID   string
	MessageID   string
	To          string
	From        string
	Type        string // SMS or LMS
	ContentType string
	Subject     string
	Content     string
	At          time.Time
}

// Server is the fake gateway. All methods are safe for concurrent use.
type Server struct {
	ServiceID string
	AccessKey string
	SecretKey string
	Sender    string // first registered calling number

	gw       *fakegw.Server
	now      func() time.Time
	failure  fakegw.Injector[Failure, Mode]
	requests fakegw.Log[Request]

	mu        sync.Mutex
	senders   *fakegw.Numbers
	seq       int64
	delivered []Delivered
	msgs      []*msg // oldest first
}

// msg is one message as the list and result endpoints show it.
type msg struct {
	Delivered
	status, statusCode, statusName, statusMessage string
	complete                                      time.Time
}

// Option configures New.
type Option func(*Server)

// WithCredentials sets the service ID and the accepted access key and secret.
func WithCredentials(serviceID, accessKey, secretKey string) Option {
	return func(s *Server) { s.ServiceID, s.AccessKey, s.SecretKey = serviceID, accessKey, secretKey }
}

// WithSenders replaces the registered calling numbers (the first becomes Sender).
func WithSenders(numbers ...string) Option {
	return func(s *Server) { s.senders, s.Sender = fakegw.Senders(numbers, s.Sender) }
}

// WithClock makes the fake read time from now: the timestamp check, the
// Date header, request and search times.
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
		ServiceID: DefaultServiceID,
		AccessKey: DefaultAccessKey,
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

// ProviderConfig is a config.Provider of type sens pointing at the fake.
func (s *Server) ProviderConfig() config.Provider {
	return config.Provider{
		Name:    "sens",
		Type:    "sens",
		Options: config.Opts("service_id", s.ServiceID, "access_key", s.AccessKey, "secret_key", s.SecretKey),
		Sender:  s.Sender,
		BaseURL: s.URL(),
	}
}

// RegisterSender adds a registered calling number.
func (s *Server) RegisterSender(n string) { s.senders.Add(n) }

// SetLatency delays every answer by d.
func (s *Server) SetLatency(d time.Duration) { s.gw.SetLatency(d) }

// Requests returns a copy of every request received so far.
func (s *Server) Requests() []Request { return s.requests.Copy(Request.clone) }

func (r Request) clone() Request {
	r.Query = fakegw.CloneValues(r.Query)
	r.Body = slices.Clone(r.Body)
	r.To = slices.Clone(r.To)
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

// Delivered returns a copy of every message accepted so far.
func (s *Server) Delivered() []Delivered {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.delivered)
}

// SetReport sets the result the fake shows for every message to
// recipient: status READY, PROCESSING or COMPLETED; for COMPLETED the
// carrier's statusCode ("0" success, anything else a failure) and
// statusMessage. New messages start COMPLETED with statusCode 0, 성공.
func (s *Server) SetReport(recipient, status, statusCode, statusMessage string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range s.msgs {
		if m.To != recipient {
			continue
		}
		m.status, m.statusCode, m.statusMessage, m.statusName, m.complete = status, "", "", "", time.Time{}
		if status == "COMPLETED" {
			m.statusCode, m.statusMessage, m.statusName, m.complete = statusCode, statusMessage, "fail", s.now()
			if statusCode == "0" {
				m.statusName = "success"
			}
		}
	}
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 32<<20))
	now := s.now()
	w.Header().Set("Date", now.UTC().Format(http.TimeFormat))
	req := Request{Method: r.Method, URI: r.RequestURI, Path: r.URL.Path, Query: r.URL.Query(),
		ContentType: r.Header.Get("Content-Type"), Timestamp: r.Header.Get("x-ncp-apigw-timestamp"),
		AccessKey: r.Header.Get("x-ncp-iam-access-key"), Body: body, At: now}
	details := s.authenticate(r, now)
	req.AuthOK = details == ""
	if r.Method == http.MethodPost {
		var sb sendBody
		if json.Unmarshal(body, &sb) == nil {
			for _, m := range sb.Messages {
				req.To = append(req.To, m.To)
			}
		}
	}
	s.requests.Add(req)

	if !s.gw.WaitLatency(r) {
		return
	}
	if s.injectFailure(w, r) {
		return
	}
	if details != "" {
		gatewayError(w, http.StatusUnauthorized, "200", "Authentication Failed", details)
		return
	}
	serviceID, messageID, ok := route(r.URL.Path)
	switch {
	case !ok:
		gatewayError(w, http.StatusNotFound, "300", "Not Found Exception", "")
		return
	case serviceID != s.ServiceID:
		// (choice) an unknown service ID.
		sensError(w, http.StatusNotFound, "Not Found", "serviceId "+serviceID+" does not exist.")
		return
	}
	switch {
	case r.Method == http.MethodPost && messageID == "":
		if f, late := s.failure.Take(LateAnswer); late {
			// (choice) the late send is taken as JSON whatever its Content-Type.
			s.gw.AnswerLate(w, f.Delay, func(w http.ResponseWriter) { s.handleSend(w, "application/json", body) })
			return
		}
		s.handleSend(w, r.Header.Get("Content-Type"), body)
	case r.Method == http.MethodGet && messageID == "":
		s.handleList(w, r.URL.Query())
	case r.Method == http.MethodGet:
		s.handleResult(w, messageID)
	default:
		w.Header().Set("Allow", "GET, POST")
		sensError(w, http.StatusMethodNotAllowed, "Method Not Allowed", r.Method+" is not supported.")
	}
}

// authenticate checks the three headers as the API gateway does; it
// returns the details of the refusal, or "".
func (s *Server) authenticate(r *http.Request, now time.Time) string {
	ts := r.Header.Get("x-ncp-apigw-timestamp")
	ak := r.Header.Get("x-ncp-iam-access-key")
	sig := r.Header.Get("x-ncp-apigw-signature-v2")
	if ts == "" || ak == "" || sig == "" {
		return DetailsMissing
	}
	ms, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return DetailsTimestamp
	}
	if off := now.Sub(time.UnixMilli(ms)); off > MaxSkew || off < -MaxSkew {
		return DetailsTimestamp
	}
	if ak != s.AccessKey {
		return DetailsAccessKey
	}
	// The string to sign, written out from the guide rather than shared
	// with the client: method, a space, the URI as sent, newline,
	// timestamp, newline, access key.
	mac := hmac.New(sha256.New, []byte(s.SecretKey))
	mac.Write([]byte(r.Method + " " + r.RequestURI + "\n" + ts + "\n" + ak))
	want := base64.StdEncoding.EncodeToString(mac.Sum(nil))
	if !hmac.Equal([]byte(sig), []byte(want)) {
		return DetailsSignature
	}
	return ""
}

// route splits /sms/v2/services/{serviceId}/messages[/{messageId}].
func route(path string) (serviceID, messageID string, ok bool) {
	rest, ok := strings.CutPrefix(path, "/sms/v2/services/")
	if !ok {
		return "", "", false
	}
	i := strings.Index(rest, "/messages")
	if i <= 0 {
		return "", "", false
	}
	serviceID, tail := rest[:i], rest[i+len("/messages"):]
	switch {
	case tail == "":
		return serviceID, "", true
	case strings.HasPrefix(tail, "/") && len(tail) > 1 && !strings.Contains(tail[1:], "/"):
		return serviceID, tail[1:], true
	}
	return "", "", false
}

// gatewayError answers as Naver Cloud's API gateway does.
func gatewayError(w http.ResponseWriter, status int, code, message, details string) {
	e := map[string]string{"errorCode": code, "message": message}
	if details != "" {
		e["details"] = details
	}
	writeJSON(w, status, map[string]any{"error": e})
}

// sensError answers as SENS itself does.
func sensError(w http.ResponseWriter, status int, message string, errs ...string) {
	if errs == nil {
		errs = []string{}
	}
	writeJSON(w, status, map[string]any{"status": status, "errorMessage": message, "errors": errs})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	fakegw.WriteJSON(w, status, "application/json;charset=UTF-8", v)
}
