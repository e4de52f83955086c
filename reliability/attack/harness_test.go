package attack

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/munja-sms/munja/app"
	"github.com/munja-sms/munja/auth"
	"github.com/munja-sms/munja/config"
	"github.com/munja-sms/munja/store"
)

// password is every test user's password.
const password = "correct horse battery"

// server is one munja: the App, in-process, on a temp SQLite file and the
// dryrun provider, served on 127.0.0.1 at a free port.
type server struct {
	t        testing.TB
	a        *app.App
	url      string // http://127.0.0.1:PORT
	accounts *auth.Service
}

// startServer starts munja with a test config that configure may change.
// Nothing is trusted by default: no server.trusted_networks, no
// server.trusted_proxies, so the test's requests from 127.0.0.1 count as
// coming from anywhere.
func startServer(t testing.TB, configure func(*config.Config)) *server {
	t.Helper()
	cfg := config.Default()
	cfg.Database = filepath.Join(t.TempDir(), "munja.db")
	cfg.Server.Listen = "127.0.0.1:0"
	cfg.SMS.Sender = "0212345678"
	cfg.SMS.Limits = config.Limits{} // the scenarios send more than a day's default
	cfg.Alerting.Recipients = []string{"01012345678"}
	if configure != nil {
		configure(cfg)
	}
	if err := app.Validate(cfg); err != nil {
		t.Fatalf("config: %v", err)
	}
	a, err := app.New(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	if err := a.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("Run did not return 30 s after its context ended")
		}
	})
	s := &server{t: t, a: a, url: "http://" + a.Addr(), accounts: auth.NewService(a.Store, nil)}
	// Serving once /healthz answers (the monitor starts inside Run).
	deadline := time.Now().Add(10 * time.Second)
	for {
		res, err := http.Get(s.url + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK && a.Shown.Engine() != nil {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("munja not serving after 10 s: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return s
}

// addUser creates a console user through the CLI's service.
func (s *server) addUser(name, role string) int64 {
	s.t.Helper()
	u, err := s.accounts.AddUser(context.Background(), "cli:attack", name, role, password)
	if err != nil {
		s.t.Fatalf("add user %q: %v", name, err)
	}
	return u.ID
}

// token creates an API token with the scope.
func (s *server) token(name, scope string) string {
	s.t.Helper()
	plain, err := s.accounts.CreateToken(context.Background(), "cli:attack", name, scope)
	if err != nil {
		s.t.Fatalf("create token %q: %v", name, err)
	}
	return plain
}

// storeAll lists every message.
var storeAll = store.MessageFilter{Limit: 1 << 20}

// counts is how many of each thing the store holds: what a refused
// request must leave as it was.
type counts struct {
	Messages, Contacts, Groups, Templates, Users, Tokens, Silences int
}

func (s *server) counts() counts {
	s.t.Helper()
	ctx := context.Background()
	st := s.a.Store
	ms, err1 := st.ListMessages(ctx, storeAll)
	cs, err2 := st.ListContacts(ctx, "", 0, 0)
	gs, err3 := st.ListGroups(ctx)
	ts, err4 := st.ListTemplates(ctx)
	us, err5 := st.ListUsers(ctx)
	tk, err6 := st.ListTokens(ctx)
	for _, err := range []error{err1, err2, err3, err4, err5, err6} {
		if err != nil {
			s.t.Fatal(err)
		}
	}
	return counts{len(ms), len(cs), len(gs), len(ts), len(us), len(tk), len(s.a.Shown.Engine().Silences())}
}

// client is a browser-like HTTP client: a cookie jar, redirects not
// followed, extra headers on every request (e.g. Authorization).
type client struct {
	t       testing.TB
	base    string
	c       *http.Client
	headers http.Header
	csrf    string // the last CSRF token seen in a form
}

func (s *server) client() *client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		s.t.Fatal(err)
	}
	return &client{t: s.t, base: s.url, headers: http.Header{},
		c: &http.Client{Jar: jar, Timeout: 30 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type response struct {
	status int
	header http.Header
	body   string
	took   time.Duration
}

func (r *response) location() string { return r.header.Get("Location") }

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// do sends a request; header holds name, value pairs.
func (c *client) do(method, path, contentType string, body io.Reader, header ...string) *response {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	for k, vs := range c.headers {
		req.Header[k] = vs
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		if strings.EqualFold(header[i], "Host") {
			req.Host = header[i+1] // Go sends req.Host, not a Host in Header
			continue
		}
		req.Header.Set(header[i], header[i+1])
	}
	start := time.Now()
	res, err := c.c.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	if m := csrfField.FindSubmatch(b); m != nil {
		c.csrf = string(m[1])
	}
	return &response{status: res.StatusCode, header: res.Header, body: string(b), took: time.Since(start)}
}

func (c *client) get(path string, header ...string) *response {
	c.t.Helper()
	return c.do(http.MethodGet, path, "", nil, header...)
}

// post sends a form as it is (no CSRF token added).
func (c *client) post(path string, v url.Values, header ...string) *response {
	c.t.Helper()
	return c.do(http.MethodPost, path, "application/x-www-form-urlencoded", strings.NewReader(v.Encode()), header...)
}

// form posts v with the client's CSRF token, like a page's form.
func (c *client) form(path string, v url.Values, header ...string) *response {
	c.t.Helper()
	w := url.Values{}
	for k, vs := range v {
		w[k] = vs
	}
	w.Set("csrf", c.csrf)
	return c.post(path, w, header...)
}

// json sends v as a JSON body.
func (c *client) json(method, path string, v any) *response {
	c.t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		c.t.Fatal(err)
	}
	return c.do(method, path, "application/json", bytes.NewReader(b))
}

// login signs in through the login form (the pre-session CSRF token
// first) and reads the session's CSRF token from the dashboard. header
// goes with the login POST (e.g. X-Forwarded-For).
func (c *client) login(name, pw string, header ...string) *response {
	c.t.Helper()
	c.get("/login")
	r := c.post("/login", url.Values{"name": {name}, "password": {pw}, "csrf": {c.csrf}}, header...)
	if r.status == http.StatusSeeOther {
		if home := c.get("/"); home.status != http.StatusOK {
			c.t.Fatalf("dashboard after logging in as %s: %d", name, home.status)
		}
	}
	return r
}

// mustLogin logs in and fails the test unless it worked.
func (c *client) mustLogin(name string) {
	c.t.Helper()
	if r := c.login(name, password); r.status != http.StatusSeeOther {
		c.t.Fatalf("login %s: status %d\n%s", name, r.status, r.body)
	}
}

// waitFor polls cond every 20 ms for up to d.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after %s", what, d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
