package console

import (
	"context"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/munja-sms/munja/alert"
	"github.com/munja-sms/munja/auth"
	"github.com/munja-sms/munja/check"
	"github.com/munja-sms/munja/config"
	"github.com/munja-sms/munja/dispatcher"
	"github.com/munja-sms/munja/holiday"
	"github.com/munja-sms/munja/oncall"
	"github.com/munja-sms/munja/oncall/roster"
	"github.com/munja-sms/munja/outbox"
	"github.com/munja-sms/munja/provider"
	"github.com/munja-sms/munja/provider/dryrun"
	"github.com/munja-sms/munja/sms"
	"github.com/munja-sms/munja/store"
	"github.com/munja-sms/munja/store/sqlite"
)

// harness is a console on a real SQLite store and the dryrun provider,
// served by an httptest server, optionally with a dispatcher and an alert
// engine holding one firing incident.
type harness struct {
	t       testing.TB
	ctx     context.Context
	st      *sqlite.DB
	cfg     *config.Config
	ob      *outbox.Outbox
	con     *Console
	srv     *httptest.Server
	engine  *alert.Engine
	monitor *alert.Holder // what the console shows
	notes   *notifier
}

type harnessOpts struct {
	engine     bool // an alert engine with a firing "httpd" incident
	dispatcher bool // run a dispatcher, so messages get sent (dryrun)
	perDay     int
	providers  []provider.Provider
	now        func() time.Time // the console's clock; nil: time.Now
	checks     []config.Check   // configured besides httpd and web-port
	db         string           // the SQLite file to use; "": a new one
	oncall     bool             // on-call schedule ops (harnessSchedule) and its members' contacts
}

// notifier records what the alert engine wanted to send.
type notifier struct {
	mu  sync.Mutex
	got []alert.Notification
}

func (n *notifier) Notify(_ context.Context, m alert.Notification) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.got = append(n.got, m)
	return nil
}

const httpdDown = "[경고] httpd 프로세스가 동작하지 않습니다."

func newHarness(t testing.TB, o harnessOpts) *harness {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	db := o.db
	if db == "" {
		db = filepath.Join(t.TempDir(), "munja.db")
	}
	st, err := sqlite.Open(ctx, db, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cfg := config.Default()
	cfg.SMS.Sender = "0212345678"
	cfg.SMS.Limits.PerDay = o.perDay
	cfg.SMS.Limits.PerRecipientPerHour = 0
	cfg.Checks = []config.Check{{Name: "httpd", Type: "process", Process: "httpd"}, {Name: "web-port", Type: "listen", Port: 80}}
	cfg.Checks = append(cfg.Checks, o.checks...)
	cfg.Alerting.Recipients = []string{"01012345678"}
	log := slog.New(slog.DiscardHandler)
	ps := o.providers
	if ps == nil {
		p, err := dryrun.New(config.DryRunProvider(), nil, log)
		if err != nil {
			t.Fatal(err)
		}
		ps = []provider.Provider{p}
	}
	var wake func()
	if o.dispatcher {
		d := dispatcher.New(dispatcher.Options{Store: st, Providers: ps, Log: log, Poll: 50 * time.Millisecond})
		wake = d.Wake
		done := make(chan struct{})
		go func() { defer close(done); _ = d.Run(ctx) }()
		t.Cleanup(func() { cancel(); <-done })
	}
	ob := outbox.New(outbox.Options{Store: st, DefaultSender: cfg.SMS.Sender, Location: cfg.Location(),
		Limits: outbox.Limits{PerDay: cfg.SMS.Limits.PerDay}, Wake: wake})
	monitor := &alert.Holder{}
	var ro *roster.Roster
	if o.oncall {
		ro = harnessRoster(t, ctx, st)
	}
	con, err := New(Options{Store: st, Outbox: ob, Providers: ps, Config: cfg, Log: log, Monitor: monitor, Now: o.now, OnCall: ro})
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, ctx: ctx, st: st, cfg: cfg, ob: ob, con: con, monitor: monitor, notes: &notifier{}}
	if o.engine {
		h.engine = h.newEngine()
		monitor.Set(h.engine)
	}
	mux := http.NewServeMux()
	con.Mount(mux)
	h.srv = httptest.NewServer(mux)
	t.Cleanup(h.srv.Close)
	return h
}

// newEngine builds an alert engine on the store with httpd firing and
// web-port fine.
func (h *harness) newEngine() *alert.Engine {
	e, err := alert.New(alert.Options{Config: h.cfg, State: h.st, Notifier: h.notes})
	if err != nil {
		h.t.Fatal(err)
	}
	if err := e.Load(h.ctx); err != nil {
		h.t.Fatal(err)
	}
	now := time.Now()
	for i := 5; i > 0; i-- {
		e.Observe(check.Result{Check: "web-port", OK: true, At: now.Add(-time.Duration(i) * time.Minute)})
		e.Observe(check.Result{Check: "httpd", OK: i > 2, At: now.Add(-time.Duration(i) * time.Minute),
			Firing: httpdDown, Resolved: "[복구] httpd 프로세스가 다시 동작합니다.", Detail: "no process named httpd", DetailKo: "httpd 프로세스 없음 (0개, 최소 1개)"})
	}
	if err := e.Flush(h.ctx); err != nil {
		h.t.Fatal(err)
	}
	return e
}

func (h *harness) addUser(name, role, pw string) *store.User {
	h.t.Helper()
	hash, err := auth.HashPassword(pw)
	if err != nil {
		h.t.Fatal(err)
	}
	u := &store.User{Name: name, Role: role, PasswordHash: hash}
	if err := h.st.CreateUser(h.ctx, u); err != nil {
		h.t.Fatal(err)
	}
	return u
}

// client is a browser-like HTTP client that does not follow redirects.
type client struct {
	h    *harness
	c    *http.Client
	csrf string
}

type resp struct {
	status int
	body   string
	header http.Header
}

func (h *harness) client() *client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		h.t.Fatal(err)
	}
	return &client{h: h, c: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (c *client) do(req *http.Request) *resp {
	c.h.t.Helper()
	res, err := c.c.Do(req)
	if err != nil {
		c.h.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		c.h.t.Fatal(err)
	}
	if m := csrfField.FindStringSubmatch(string(b)); m != nil {
		c.csrf = m[1]
	}
	return &resp{status: res.StatusCode, body: string(b), header: res.Header}
}

func (c *client) get(path string) *resp {
	c.h.t.Helper()
	req, err := http.NewRequest(http.MethodGet, c.h.srv.URL+path, nil)
	if err != nil {
		c.h.t.Fatal(err)
	}
	return c.do(req)
}

// post sends a form with the client's CSRF token unless v has one.
func (c *client) post(path string, v url.Values, headers ...string) *resp {
	c.h.t.Helper()
	if v == nil {
		v = url.Values{}
	}
	if _, ok := v["csrf"]; !ok && c.csrf != "" {
		v.Set("csrf", c.csrf)
	}
	req, err := http.NewRequest(http.MethodPost, c.h.srv.URL+path, strings.NewReader(v.Encode()))
	if err != nil {
		c.h.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return c.do(req)
}

// login signs in and fails the test unless it worked.
func (c *client) login(name, pw string) {
	c.h.t.Helper()
	c.get("/login")
	r := c.post("/login", url.Values{"name": {name}, "password": {pw}})
	if r.status != http.StatusSeeOther {
		c.h.t.Fatalf("login %s: status %d\n%s", name, r.status, r.body)
	}
	if r := c.get("/"); r.status != http.StatusOK {
		c.h.t.Fatalf("dashboard after login: %d", r.status)
	}
}

func (r *resp) mustStatus(t *testing.T, want int) *resp {
	t.Helper()
	if r.status != want {
		t.Fatalf("status %d, want %d\n%s", r.status, want, r.body)
	}
	return r
}

func (r *resp) mustContain(t *testing.T, subs ...string) *resp {
	t.Helper()
	plain := html.UnescapeString(r.body)
	for _, s := range subs {
		if !strings.Contains(r.body, s) && !strings.Contains(plain, s) {
			t.Fatalf("response lacks %q:\n%s", s, r.body)
		}
	}
	return r
}

func (h *harness) messages() int {
	h.t.Helper()
	ms, err := h.st.ListMessages(h.ctx, store.MessageFilter{Limit: 1000})
	if err != nil {
		h.t.Fatal(err)
	}
	return len(ms)
}

// messageID reads the message ID from a redirect to /messages/ID?….
func messageID(t *testing.T, r *resp) int64 {
	t.Helper()
	loc := r.header.Get("Location")
	path, _, _ := strings.Cut(loc, "?")
	id, err := strconv.ParseInt(strings.TrimPrefix(path, "/messages/"), 10, 64)
	if err != nil || !strings.HasPrefix(path, "/messages/") {
		t.Fatalf("redirect to %q, want /messages/ID", loc)
	}
	return id
}

// On-call schedule ops of the harness: 김민수 and 이영희 take weekly turns
// (주간, Mondays 09:00 KST from 2026-12-07), 박야간 covers workday nights
// (야간, 18:00-09:00 on workdays: not on weekends and holidays).
const (
	oncallDayA  = "김민수"
	oncallDayB  = "이영희"
	oncallNight = "박야간"
)

func harnessSchedule() *oncall.Schedule {
	must := func(err error) {
		if err != nil {
			panic(err)
		}
	}
	mon, err := oncall.ParseHandoff("mon 09:00")
	must(err)
	daily, err := oncall.ParseHandoff("09:00")
	must(err)
	days, err := oncall.ParseDays("workdays")
	must(err)
	hours, err := oncall.ParseHours("18:00-09:00")
	must(err)
	start := holiday.Date{Year: 2026, Month: 12, Day: 7}
	s := &oncall.Schedule{Name: "ops", Layers: []oncall.Layer{
		{Name: "주간", Members: []string{oncallDayA, oncallDayB}, Rotation: oncall.Weekly, Handoff: mon, Start: start},
		{Name: "야간", Members: []string{oncallNight}, Rotation: oncall.Daily, Handoff: daily, Start: start, Days: days, Hours: hours},
	}}
	must(s.Validate())
	return s
}

func harnessRoster(t testing.TB, ctx context.Context, st *sqlite.DB) *roster.Roster {
	t.Helper()
	for name, phone := range map[string]string{oncallDayA: "01090001111", oncallDayB: "01090002222", oncallNight: "01090003333"} {
		if err := st.SaveContact(ctx, &store.Contact{Name: name, Phone: sms.Phone(phone)}); err != nil {
			t.Fatal(err)
		}
	}
	return roster.New(roster.Options{Schedules: []*oncall.Schedule{harnessSchedule()}, Store: st})
}
