package web

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/munja-sms/munja/agent"
	"github.com/munja-sms/munja/alert"
	"github.com/munja-sms/munja/auth"
	"github.com/munja-sms/munja/check"
	"github.com/munja-sms/munja/config"
	"github.com/munja-sms/munja/holiday"
	"github.com/munja-sms/munja/oncall"
	"github.com/munja-sms/munja/oncall/roster"
	"github.com/munja-sms/munja/outbox"
	"github.com/munja-sms/munja/store"
	"github.com/munja-sms/munja/store/sqlite"
)

// Addresses used by the tests: untrusted is on the public internet,
// trusted is in server.trusted_networks, proxy is a trusted reverse proxy.
const (
	untrusted = "203.0.113.5:1234"
	trusted   = "127.0.0.1:5555"
	proxyAddr = "10.9.9.9:4444"
)

// fixture is a Server on a real SQLite file with the dryrun path (the
// outbox stores; nothing dispatches), an alert engine, and one token per
// scope plus a revoked one.
type fixture struct {
	t       testing.TB
	db      *sqlite.DB
	path    string // the database file
	srv     *Server
	engine  *alert.Engine
	monitor *alert.Holder     // the engine the server shows
	roster  *roster.Roster    // schedule ops (see testSchedule)
	tokens  map[string]string // read, send, admin, revoked → plain token
}

type nopNotifier struct{}

func (nopNotifier) Notify(context.Context, alert.Notification) error { return nil }

func newFixture(t testing.TB, opts ...func(*Options)) *fixture {
	t.Helper()
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)
	path := filepath.Join(t.TempDir(), "munja.db")
	db, err := sqlite.Open(ctx, path, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	cfg := config.Default()
	cfg.Checks = []config.Check{
		{Name: "nightly", Type: "heartbeat", Grace: config.Duration(time.Hour)},
		{Name: "httpd", Type: "process", Process: "httpd"},
	}
	eng, err := alert.New(alert.Options{Config: cfg, State: db, Notifier: nopNotifier{}, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	if err := eng.Load(ctx); err != nil {
		t.Fatal(err)
	}
	ro := roster.New(roster.Options{Schedules: []*oncall.Schedule{testSchedule()}, Store: db, Log: log})
	opt := Options{
		OnCall: ro,
		Store:  db, Outbox: outbox.New(outbox.Options{Store: db}), Log: log, DryRun: true,
		TrustedNetworks: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")},
		Checks:          cfg.Checks,
		AlertRecipients: []string{"01012345678"},
		PublicHost:      "example.com", // httptest.NewRequest's default Host
		Monitor:         &alert.Holder{},
		Agents:          &agent.Holder{},
		Metrics: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			fmt.Fprintln(w, "munja_test_metric 1")
		}),
	}
	for _, o := range opts {
		o(&opt)
	}
	f := &fixture{t: t, db: db, path: path, srv: New(opt), engine: eng, roster: ro, tokens: map[string]string{}}
	opt.Monitor.Set(eng)
	opt.Agents.Set(agent.NewTracker(eng.Observe, nil, nil))
	f.monitor = opt.Monitor
	for _, scope := range []string{auth.ScopeRead, auth.ScopeSend, auth.ScopeAdmin, "revoked"} {
		plain, hash, err := auth.NewToken()
		if err != nil {
			t.Fatal(err)
		}
		sc := scope
		if scope == "revoked" {
			sc = auth.ScopeAdmin
		}
		if err := db.CreateToken(ctx, &store.Token{Name: "t-" + scope, Scope: sc, Hash: hash}); err != nil {
			t.Fatal(err)
		}
		f.tokens[scope] = plain
	}
	if err := db.RevokeToken(ctx, "t-revoked", time.Now()); err != nil {
		t.Fatal(err)
	}
	return f
}

// req describes one request; the zero value is an anonymous GET from an
// untrusted address.
type req struct {
	method, path, body string
	ctype              string // default application/json when body is set
	token              string // scope key into fixture.tokens, or "" for none
	from               string // RemoteAddr; default untrusted
	header             http.Header
}

func (f *fixture) do(r req) *httptest.ResponseRecorder {
	f.t.Helper()
	if r.method == "" {
		r.method = http.MethodGet
	}
	var body io.Reader
	if r.body != "" {
		body = strings.NewReader(r.body)
	}
	hr := httptest.NewRequest(r.method, r.path, body)
	hr.RemoteAddr = untrusted
	if r.from != "" {
		hr.RemoteAddr = r.from
	}
	if r.body != "" {
		ct := r.ctype
		if ct == "" {
			ct = "application/json"
		}
		hr.Header.Set("Content-Type", ct)
	}
	for k, vs := range r.header {
		hr.Header[k] = vs
	}
	if r.token != "" {
		tok, ok := f.tokens[r.token]
		if !ok {
			tok = r.token
		}
		hr.Header.Set("Authorization", "Bearer "+tok)
	}
	w := httptest.NewRecorder()
	f.srv.ServeHTTP(w, hr)
	return w
}

// must does r and fails unless the status is want; it returns the JSON body.
func (f *fixture) must(r req, want int) map[string]any {
	f.t.Helper()
	w := f.do(r)
	if w.Code != want {
		f.t.Fatalf("%s %s: status %d, want %d; body %s", r.method, r.path, w.Code, want, w.Body.String())
	}
	var out map[string]any
	if strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") && w.Body.Len() > 0 {
		if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
			f.t.Fatalf("%s %s: body is not a JSON object: %v: %s", r.method, r.path, err, w.Body.String())
		}
	}
	return out
}

// snapshot is everything a request could change, for "had no effect" checks.
func (f *fixture) snapshot() string {
	f.t.Helper()
	ctx := context.Background()
	var b strings.Builder
	ms, err := f.db.ListMessages(ctx, store.MessageFilter{Limit: 100000})
	noErr(f.t, err)
	fmt.Fprintf(&b, "messages %d\n", len(ms))
	cs, err := f.db.ListContacts(ctx, "", 0, 0)
	noErr(f.t, err)
	for _, c := range cs {
		fmt.Fprintf(&b, "contact %d %s %s %s %v %v\n", c.ID, c.Name, c.Phone, c.Memo, c.Groups, c.UpdatedAt)
	}
	gs, err := f.db.ListGroups(ctx)
	noErr(f.t, err)
	fmt.Fprintf(&b, "groups %v\n", gs)
	ts, err := f.db.ListTemplates(ctx)
	noErr(f.t, err)
	for _, t := range ts {
		fmt.Fprintf(&b, "template %d %s %s %v\n", t.ID, t.Name, t.Text, t.UpdatedAt)
	}
	au, err := f.db.ListAudit(ctx, 100000)
	noErr(f.t, err)
	fmt.Fprintf(&b, "audit %d\n", len(au))
	st, err := f.db.ListState(ctx, "")
	noErr(f.t, err)
	for _, k := range slices.Sorted(maps.Keys(st)) { // map order would make snapshots differ
		if !strings.HasPrefix(k, "alert/check/") { // check history is rewritten by time
			fmt.Fprintf(&b, "state %s %d\n", k, len(st[k]))
		}
	}
	fmt.Fprintf(&b, "silences %d incidents %v\n", len(f.engine.Silences()), f.engine.Incidents(false))
	toks, err := f.db.ListTokens(ctx)
	noErr(f.t, err)
	for _, t := range toks {
		fmt.Fprintf(&b, "token %s %v %v\n", t.Name, t.LastUsed, t.RevokedAt)
	}
	return b.String()
}

func noErr(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// fire makes check httpd fail, opening an incident, and returns its ID.
func (f *fixture) fire() string {
	f.t.Helper()
	f.engine.Observe(check.Result{Check: "httpd", OK: false, At: time.Now(), Firing: "[경고] httpd 프로세스가 동작하지 않습니다."})
	incs := f.engine.Incidents(true)
	if len(incs) == 0 {
		f.t.Fatal("no incident after a failing result")
	}
	return incs[0].ID
}

// testSchedule is on-call schedule ops: 010-1111-2222 and 010-3333-4444
// take weekly turns handing off on Mondays at 09:00 KST from 2026-12-07,
// and 010-5555-6666 covers weekday nights (18:00-09:00).
func testSchedule() *oncall.Schedule {
	mon, err := oncall.ParseHandoff("mon 09:00")
	if err != nil {
		panic(err)
	}
	daily, err := oncall.ParseHandoff("09:00")
	if err != nil {
		panic(err)
	}
	days, err := oncall.ParseDays("mon-fri")
	if err != nil {
		panic(err)
	}
	hours, err := oncall.ParseHours("18:00-09:00")
	if err != nil {
		panic(err)
	}
	start := holiday.Date{Year: 2026, Month: 12, Day: 7}
	s := &oncall.Schedule{Name: "ops", Layers: []oncall.Layer{
		{Name: "day", Members: []string{"01011112222", "01033334444"}, Rotation: oncall.Weekly, Handoff: mon, Start: start},
		{Name: "night", Members: []string{"01055556666"}, Rotation: oncall.Daily, Handoff: daily, Start: start, Days: days, Hours: hours},
	}}
	if err := s.Validate(); err != nil {
		panic(err)
	}
	return s
}
