// Package alimtalktest is a fake Aligo Kakao API (kakaoapi.aligo.in) for
// tests. It speaks the wire format of aligo-api.md §7: POST only,
// urlencoded or multipart forms, trailing-slash paths under /akv10/, HTTP
// 200 with a JSON body labelled text/html; charset=UTF-8 and Korean
// escaped as \uXXXX like PHP does, auth by apikey + userid (checked
// exactly), tokens from /akv10/token/create/{n}/{unit}/ that expire on
// the fake's clock, and the approved templates of one Kakao channel
// (sender key) that every message must match exactly. Failures can be
// injected while it runs.
//
// Where Aligo documents no behaviour the fake makes a choice, marked
// "(choice)"; invented failures use code -99, Aligo's generic failure.
//
// A message that does not match its approved template is (choice)
// accepted, as Aligo accepts it: it is not delivered by KakaoTalk, its
// history detail says 메시지가 템플릿과 일치하지않음 (rslt U), and with
// failover=Y the failover SMS goes out instead (Delivered.Matched false,
// Delivered.Failover true).
package alimtalktest

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

// Default credentials and channel of a new Server.
const (
	DefaultUserID    = "munjatest"
	DefaultKey       = "0123456789abcdefghijklmnopqrstuv"
	DefaultSenderKey = "0123456789abcdef0123456789abcdef01234567" // 40 hex, as in the spec's examples
	DefaultSender    = "0212345678"
)

// The templates a new Server has approved, matching ProviderConfig.
const (
	AlertCode       = "TA_0001"
	AlertContent    = "[서버 알림]\n#{내용}"
	ResolvedCode    = "TA_0002"
	ResolvedContent = "[서버 복구]\n#{내용}"
)

// Request is one HTTP request the fake received.
type Request struct {
	Method    string
	Path      string
	Form      url.Values
	Multipart bool
	At        time.Time
}

// Delivered is one receiver of an accepted Alimtalk send.
type Delivered struct {
	Receiver string
	TplCode  string
	Subject  string // subject_N
	Message  string // message_N
	Sender   string // caller ID of the failover
	MID      string
	Test     bool // testMode=Y: accepted, not delivered
	// Matched: Message is the approved content with its variables
	// filled. A message that does not match is not delivered by Kakao.
	Matched bool
	// Failover: failover=Y was asked; FSubject/FMessage are what the
	// failover SMS/LMS would carry (fmessage_N, else message_N).
	Failover bool
	FSubject string
	FMessage string
	// SMSFallback: the Alimtalk could not be delivered (no match, or the
	// receiver is marked without KakaoTalk) and the failover SMS went
	// out instead.
	SMSFallback bool
}

// Template is an approved (or not) Alimtalk template of the channel.
type Template struct {
	Code     string
	Content  string
	Approved bool // inspStatus APR; a template not approved is refused (509)
}

// Server is the fake gateway. All methods are safe for concurrent use.
type Server struct {
	UserID    string
	Key       string
	SenderKey string
	Sender    string // first registered sender number (failover caller ID)

	gw       *fakegw.Server
	failure  fakegw.Injector[Failure, Mode]
	requests fakegw.Log[Request]

	mu           sync.Mutex
	now          func() time.Time
	senders      *fakegw.Numbers
	templates    map[string]Template
	requireToken bool
	tokens       map[string]time.Time // token → expiry
	nextToken    int
	heartTop     bool  // heartinfo with counters at the top level
	balance      int64 // in SMS units; AT 1, SMS 1, LMS 3, MMS 7 (choice)
	noKakao      map[string]bool
	pending      bool // history detail shows every row in transit (Q…)
	nextID       int64
	delivered    []Delivered
	records      []*record // accepted sends, oldest first
}

// record is one accepted send request.
type record struct {
	mid     string
	sender  string
	tpl     string
	body    string // message_1
	reg     time.Time
	test    bool
	rows    []Delivered
	smid    string // mid of the failover SMS, when some receivers fell back
	msgIDs  []string
	charged int64
}

// Option configures New.
type Option func(*Server)

// WithCredentials sets the accepted userid and apikey.
func WithCredentials(userID, key string) Option {
	return func(s *Server) { s.UserID, s.Key = userID, key }
}

// WithSenderKey sets the channel's sender profile key.
func WithSenderKey(k string) Option { return func(s *Server) { s.SenderKey = k } }

// WithTemplates replaces the channel's templates.
func WithTemplates(ts ...Template) Option {
	return func(s *Server) {
		s.templates = map[string]Template{}
		for _, t := range ts {
			s.templates[t.Code] = t
		}
	}
}

// RequireToken makes every call but the token's need a valid token (the
// older spec, §7.1); by default a token is checked when sent, not required.
func RequireToken() Option { return func(s *Server) { s.requireToken = true } }

// WithHeartTopLevel makes /akv10/heartinfo/ answer as the spec's table
// says ({"result_code":1,…,"SMS_CNT":…} at the top) instead of as its
// example ({"code":1,"list":{…}}).
func WithHeartTopLevel() Option { return func(s *Server) { s.heartTop = true } }

// WithClock makes the fake read time from now (tokens, dates).
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// WithBalance sets the starting balance in SMS units.
func WithBalance(units int64) Option { return func(s *Server) { s.balance = units } }

// New starts a fake gateway on 127.0.0.1; t.Cleanup closes it.
func New(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := &Server{
		UserID:    DefaultUserID,
		Key:       DefaultKey,
		SenderKey: DefaultSenderKey,
		Sender:    DefaultSender,
		senders:   fakegw.NewNumbers(DefaultSender),
		templates: map[string]Template{
			AlertCode:    {Code: AlertCode, Content: AlertContent, Approved: true},
			ResolvedCode: {Code: ResolvedCode, Content: ResolvedContent, Approved: true},
		},
		tokens:  map[string]time.Time{},
		noKakao: map[string]bool{},
		balance: 1_000_000,
		now:     time.Now,
		nextID:  30_000_000,
	}
	for _, o := range opts {
		o(s)
	}
	s.gw = fakegw.Start(s)
	t.Cleanup(s.Close)
	return s
}

// Close stops the server; pending stalls end at once. Safe to repeat.
func (s *Server) Close() { s.gw.Close() }

// URL is the base URL to put into config (no trailing slash).
func (s *Server) URL() string { return s.gw.URL() }

// ProviderConfig is a config.Provider of type aligo_alimtalk named "kakao"
// pointing at the fake, with the default templates for alerts (TA_0001)
// and recoveries (TA_0002).
func (s *Server) ProviderConfig() config.Provider {
	return config.Provider{
		Name: "kakao",
		Type: "aligo_alimtalk",
		Options: config.Opts("user_id", s.UserID, "key", s.Key, "sender_key", s.SenderKey,
			"templates", []map[string]any{
				{"for": "alert", "tpl_code": AlertCode, "content": AlertContent, "variables": map[string]string{"내용": "text"}},
				{"for": "resolved", "tpl_code": ResolvedCode, "content": ResolvedContent, "variables": map[string]string{"내용": "text"}},
			}),
		Sender:  s.Sender,
		BaseURL: s.URL(),
	}
}

// AddTemplate approves (or registers unapproved) a template.
func (s *Server) AddTemplate(t Template) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.templates[t.Code] = t
}

// RegisterSender adds a registered sender number.
func (s *Server) RegisterSender(n string) { s.senders.Add(n) }

// NoKakao marks a receiver without KakaoTalk: its Alimtalk fails and the
// failover SMS goes out when asked.
func (s *Server) NoKakao(receiver string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.noKakao[receiver] = true
}

// SetPending makes the history detail show every row as still in transit.
func (s *Server) SetPending(p bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pending = p
}

// SetBalance sets the balance in SMS units.
func (s *Server) SetBalance(units int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.balance = units
}

// ExpireTokens makes every token issued so far invalid (a server restart
// at Aligo, or a token past its time).
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens = map[string]time.Time{}
}

// TokensIssued is how many tokens /akv10/token/create/ gave out.
func (s *Server) TokensIssued() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nextToken
}

// Requests returns a copy of every request received so far.
func (s *Server) Requests() []Request {
	return s.requests.Copy(func(r Request) Request {
		r.Form = fakegw.CloneValues(r.Form)
		return r
	})
}

// Sends returns the requests made to the send endpoint.
func (s *Server) Sends() []Request {
	var out []Request
	for _, r := range s.Requests() {
		if r.Path == "/akv10/alimtalk/send/" {
			out = append(out, r)
		}
	}
	return out
}

// Delivered returns a copy of every receiver accepted so far.
func (s *Server) Delivered() []Delivered {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.delivered)
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	req := Request{Method: r.Method, Path: r.URL.Path, At: s.clock()}
	if r.Method != http.MethodPost {
		s.requests.Add(req)
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	form, _, multipart, err := fakegw.ReadForm(r)
	req.Form, req.Multipart = form, multipart
	s.requests.Add(req)
	if err != nil {
		writeJSON(w, fail(-99, "요청 형식 오류: "+err.Error()))
		return
	}
	handler, ok := s.route(r.URL.Path)
	if !ok {
		// (choice) a path without its trailing slash is not found.
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
	if r.URL.Path != "/akv10/alimtalk/send/" {
		handler(w, r.URL.Path, form)
		return
	}
	if f, late := s.failure.Take(LateAnswer); late {
		s.gw.AnswerLate(w, f.Delay, func(w http.ResponseWriter) { handler(w, r.URL.Path, form) })
		return
	}
	handler(w, r.URL.Path, form)
}

type handlerFunc func(w http.ResponseWriter, path string, form url.Values)

func (s *Server) route(path string) (handlerFunc, bool) {
	switch {
	case strings.HasPrefix(path, "/akv10/token/create/"):
		return s.handleToken, true
	case path == "/akv10/alimtalk/send/":
		return s.handleSend, true
	case path == "/akv10/heartinfo/":
		return s.handleHeart, true
	case path == "/akv10/history/list/":
		return s.handleHistory, true
	case path == "/akv10/history/detail/":
		return s.handleDetail, true
	}
	return nil, false
}

func (s *Server) clock() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.now()
}

// authFail checks apikey and userid exactly, then the token: sent, it
// must be one the fake issued and not expired; absent, it is refused only
// under RequireToken. Messages are the ones §7.7 lists where there is one.
func (s *Server) authFail(path string, form url.Values) (any, bool) {
	switch {
	case form.Get("userid") == "":
		return fail(-99, "계정 아이디(=userid) 파라메더 정보가 전달되지 않았습니다."), false
	case form.Get("apikey") == "" || form.Get("apikey") != s.Key:
		return fail(-99, "등록되지 않은 인증키 입니다."), false
	case form.Get("userid") != s.UserID:
		return fail(-101, "인증오류입니다."), false
	}
	if strings.HasPrefix(path, "/akv10/token/create/") {
		return nil, true
	}
	tok := form.Get("token")
	s.mu.Lock()
	defer s.mu.Unlock()
	switch exp, ok := s.tokens[tok]; {
	case tok == "" && s.requireToken:
		return fail(-99, "토큰 정보가 전달되지 않았습니다."), false // (choice)
	case tok == "":
	case !ok || !s.now().Before(exp):
		return fail(-99, "토큰이 유효하지 않습니다. 토큰을 다시 발급받아 주세요."), false // (choice)
	}
	return nil, true
}

type errorBody struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

func fail(code int, msg string) errorBody { return errorBody{Code: code, Message: msg} }

type tokenBody struct {
	Code      int    `json:"code"`
	Message   string `json:"message"`
	Token     string `json:"token"`
	URLEncode string `json:"urlencode"`
}

// handleToken issues a token valid for {n}{unit} (y m d h i s).
func (s *Server) handleToken(w http.ResponseWriter, path string, _ url.Values) {
	parts := strings.Split(strings.Trim(strings.TrimPrefix(path, "/akv10/token/create/"), "/"), "/")
	if len(parts) != 2 {
		writeJSON(w, fail(-99, "토큰 유효기간 형식이 올바르지 않습니다."))
		return
	}
	n, err := strconv.Atoi(parts[0])
	units := map[string]time.Duration{"s": time.Second, "i": time.Minute, "h": time.Hour, "d": 24 * time.Hour,
		"m": 30 * 24 * time.Hour, "y": 365 * 24 * time.Hour}
	unit, ok := units[parts[1]]
	if err != nil || n <= 0 || !ok {
		writeJSON(w, fail(-99, "토큰 유효기간 형식이 올바르지 않습니다."))
		return
	}
	s.mu.Lock()
	s.nextToken++
	tok := "tok" + strconv.Itoa(s.nextToken) + "/+" + strings.Repeat("x", 20) // (choice) with characters that need URL encoding
	s.tokens[tok] = s.now().Add(time.Duration(n) * unit)
	s.mu.Unlock()
	writeJSON(w, tokenBody{Code: 0, Message: "정상적으로 생성하였습니다.", Token: tok, URLEncode: url.QueryEscape(tok)})
}

// htmlType labels every answer, JSON or not.
const htmlType = "text/html; charset=UTF-8"

// writeJSON answers 200, text/html, with Korean escaped as \uXXXX.
func writeJSON(w http.ResponseWriter, v any) {
	fakegw.WriteEscapedJSON(w, http.StatusOK, htmlType, v)
}
