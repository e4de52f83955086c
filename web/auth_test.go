package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/munja-sms/munja/alert"
	"github.com/munja-sms/munja/oncall/roster"
	"github.com/munja-sms/munja/store"
)

// objects are existing things the route placeholders point at, so an
// authorized request would really act and "no effect" means something.
type objects struct {
	contact, template, message, silence, incident, override string
}

func (f *fixture) objects() objects {
	f.t.Helper()
	ctx := context.Background()
	c := &store.Contact{Name: "홍길동", Phone: "01022223333", Groups: []string{"ops"}}
	noErr(f.t, f.db.SaveContact(ctx, c))
	tp := &store.Template{Name: "점검", Text: "[안내] 서버 점검"}
	noErr(f.t, f.db.SaveTemplate(ctx, tp))
	m := f.must(req{method: "POST", path: "/api/v1/messages", token: "send", body: `{"to":["010-1111-2222"],"text":"hello"}`}, 202)
	sil, err := f.engine.Silence(ctx, alert.SilenceSpec{Check: "disk", Until: time.Now().Add(time.Hour), By: "test"})
	noErr(f.t, err)
	ov, err := f.roster.AddOverride(ctx, "ops", roster.StoredOverride{Member: "01022223333", From: time.Now(), To: time.Now().Add(time.Hour)}, "test", time.Now())
	noErr(f.t, err)
	return objects{
		contact: strconv.FormatInt(c.ID, 10), template: strconv.FormatInt(tp.ID, 10),
		message: fmt.Sprint(m["id"]), silence: sil, incident: f.fire(), override: ov.ID,
	}
}

// instantiate turns a route pattern into a method and a concrete path.
func (o objects) instantiate(pattern string) (method, path string) {
	method, path, _ = strings.Cut(pattern, " ")
	var id string
	switch {
	case strings.HasPrefix(path, "/api/v1/contacts/"):
		id = o.contact
	case strings.HasPrefix(path, "/api/v1/templates/"):
		id = o.template
	case strings.HasPrefix(path, "/api/v1/messages/"):
		id = o.message
	case strings.HasPrefix(path, "/api/v1/silences/"):
		id = o.silence
	case strings.HasPrefix(path, "/api/v1/incidents/"):
		id = o.incident
	case strings.HasPrefix(path, "/api/v1/oncall/"):
		id = o.override
	}
	name := "ops"
	if strings.HasPrefix(path, "/api/v1/heartbeat/") {
		name = "nightly"
	}
	r := strings.NewReplacer("{id}", id, "{name}", name, "{token}", "not-a-valid-ack-token")
	return method, r.Replace(path)
}

// validBody is the OpenAPI example for the route: a request that succeeds
// when authorized.
func validBody(t testing.TB, method, pattern string) (body, ctype string) {
	t.Helper()
	op := specOperation(t, method, pattern)
	if op == nil || op.RequestBody == nil {
		return "", ""
	}
	for _, ct := range []string{"application/json", "application/x-www-form-urlencoded"} {
		mt, ok := op.RequestBody.Content[ct]
		if !ok || mt.Example == nil {
			continue
		}
		if ct == "application/json" {
			b, err := json.Marshal(mt.Example)
			noErr(t, err)
			return string(b), ct
		}
		v := url.Values{}
		for k, x := range mt.Example.(map[string]any) {
			v.Set(k, fmt.Sprint(x))
		}
		return v.Encode(), ct
	}
	t.Fatalf("%s %s: request body without an example in openapi.json", method, pattern)
	return "", ""
}

// TestEveryRouteIsClassified: only /healthz is public; everything else has
// a scope or is a one-time link.
func TestEveryRouteIsClassified(t *testing.T) {
	f := newFixture(t)
	for _, r := range f.srv.Routes() {
		switch r.Scope {
		case "read", "send", "admin":
		case "link":
			if !strings.HasPrefix(r.Pattern, "GET /ack/") && !strings.HasPrefix(r.Pattern, "POST /ack/") {
				t.Errorf("%s: link scope outside /ack/", r.Pattern)
			}
		case "":
			if r.Pattern != "GET /healthz" {
				t.Errorf("%s is public", r.Pattern)
			}
		default:
			t.Errorf("%s: unknown scope %q", r.Pattern, r.Scope)
		}
	}
	if len(f.srv.Routes()) < 30 {
		t.Errorf("only %d routes: monitorRoutes or bookRoutes missing?", len(f.srv.Routes()))
	}
}

// caller is one way of calling the API and what it may do.
type caller struct {
	name    string
	token   string // fixture token key or a literal header value
	from    string
	header  http.Header
	allowed map[string]bool // scope → allowed
	refused int             // status when not allowed
}

var callers = []caller{
	{name: "anonymous", refused: 401, allowed: map[string]bool{}},
	{name: "anonymous spoofing X-Forwarded-For", refused: 401, allowed: map[string]bool{},
		header: http.Header{"X-Forwarded-For": {"127.0.0.1"}}},
	{name: "malformed Authorization", refused: 401, allowed: map[string]bool{},
		header: http.Header{"Authorization": {"Basic dXNlcjpwYXNz"}}},
	{name: "unknown token", token: "munja_notarealtoken", refused: 401, allowed: map[string]bool{}},
	{name: "revoked token", token: "revoked", refused: 401, allowed: map[string]bool{}},
	{name: "revoked token from a trusted network", token: "revoked", from: trusted, refused: 401, allowed: map[string]bool{}},
	{name: "read token", token: "read", refused: 403, allowed: map[string]bool{"read": true}},
	{name: "send token", token: "send", refused: 403, allowed: map[string]bool{"read": true, "send": true}},
	{name: "admin token", token: "admin", allowed: map[string]bool{"read": true, "send": true, "admin": true}},
	{name: "trusted network", from: trusted, refused: 401, allowed: map[string]bool{"read": true, "send": true}},
	{name: "trusted network IPv6", from: "[::1]:80", refused: 401, allowed: map[string]bool{"read": true, "send": true}},
}

// TestRouteAccess walks every route in Routes() with every kind of caller:
// refused callers get 401/403 and change nothing; allowed ones are let in;
// nothing answers 5xx.
func TestRouteAccess(t *testing.T) {
	for _, c := range callers {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			obj := f.objects()
			for _, r := range f.srv.Routes() {
				if r.Scope == "" || r.Scope == "link" {
					continue
				}
				method, path := obj.instantiate(r.Pattern)
				body, ctype := validBody(t, method, strings.SplitN(r.Pattern, " ", 2)[1])
				before := f.snapshot()
				w := f.do(req{method: method, path: path, body: body, ctype: ctype, token: c.token, from: c.from, header: c.header})
				if w.Code >= 500 {
					t.Errorf("%s: %d %s", r.Pattern, w.Code, w.Body)
				}
				if c.allowed[r.Scope] {
					if w.Code == 401 || w.Code == 403 {
						t.Errorf("%s (scope %s): refused with %d: %s", r.Pattern, r.Scope, w.Code, w.Body)
					}
					continue
				}
				if w.Code != c.refused {
					t.Errorf("%s (scope %s): status %d, want %d: %s", r.Pattern, r.Scope, w.Code, c.refused, w.Body)
				}
				if c.refused == 401 && w.Header().Get("WWW-Authenticate") == "" {
					t.Errorf("%s: 401 without WWW-Authenticate", r.Pattern)
				}
				var e struct{ Error string }
				if json.Unmarshal(w.Body.Bytes(), &e) != nil || e.Error == "" {
					t.Errorf("%s: refusal body is not {\"error\":…}: %s", r.Pattern, w.Body)
				}
				if after := f.snapshot(); after != before {
					t.Errorf("%s: refused request changed state:\nbefore %s\nafter %s", r.Pattern, before, after)
				}
			}
		})
	}
}

// TestLinkRoutes: the ack link with a wrong token shows the confirmation
// page (GET) or 404 (POST) and acknowledges nothing.
func TestLinkRoutes(t *testing.T) {
	f := newFixture(t)
	f.objects()
	before := f.snapshot()
	if w := f.do(req{path: "/ack/not-a-token"}); w.Code != 200 || !strings.Contains(w.Body.String(), "<form") {
		t.Errorf("GET /ack: %d %s", w.Code, w.Body)
	}
	if w := f.do(req{method: "POST", path: "/ack/not-a-token"}); w.Code != 404 {
		t.Errorf("POST /ack with a bad token: %d", w.Code)
	}
	if after := f.snapshot(); after != before {
		t.Errorf("a bad ack link changed state:\n%s\n%s", before, after)
	}
	if w := f.do(req{path: "/healthz"}); w.Code != 200 {
		t.Errorf("healthz: %d", w.Code)
	}
}

// TestTokenLastUsedThrottled: a token's last-used time is written on first
// use, not on every request.
func TestTokenLastUsedThrottled(t *testing.T) {
	f := newFixture(t)
	lastUsed := func() time.Time {
		toks, err := f.db.ListTokens(context.Background())
		noErr(t, err)
		for _, tk := range toks {
			if tk.Name == "t-read" {
				return tk.LastUsed
			}
		}
		t.Fatal("no token t-read")
		return time.Time{}
	}
	if !lastUsed().IsZero() {
		t.Fatal("new token already used")
	}
	f.must(req{path: "/api/v1/groups", token: "read"}, 200)
	first := lastUsed()
	if first.IsZero() {
		t.Fatal("last used not recorded")
	}
	time.Sleep(5 * time.Millisecond)
	f.must(req{path: "/api/v1/groups", token: "read"}, 200)
	if got := lastUsed(); !got.Equal(first) {
		t.Errorf("last used rewritten within %s: %v → %v", touchEvery, first, got)
	}
}

func TestTrustedNetworkRefusesCrossSiteAndForeignHosts(t *testing.T) {
	srv := newFixture(t).srv
	cases := []struct {
		name string
		mod  func(r *http.Request)
		want int
	}{
		{"curl from the host", func(r *http.Request) {}, http.StatusAccepted},
		{"web page form post", func(r *http.Request) { r.Header.Set("Sec-Fetch-Site", "cross-site") }, http.StatusForbidden},
		{"foreign origin", func(r *http.Request) { r.Header.Set("Origin", "https://evil.example") }, http.StatusForbidden},
		{"DNS rebinding host", func(r *http.Request) { r.Host = "evil.example:8080" }, http.StatusForbidden},
		{"localhost name", func(r *http.Request) { r.Host = "localhost:8080" }, http.StatusAccepted},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "http://127.0.0.1:8080/api/v1/messages", strings.NewReader(`{"to":["01012345678"],"text":"x"}`))
			r.RemoteAddr = "127.0.0.1:40000"
			c.mod(r)
			w := httptest.NewRecorder()
			srv.ServeHTTP(w, r)
			if w.Code != c.want {
				t.Fatalf("status %d, want %d: %s", w.Code, c.want, w.Body)
			}
		})
	}
}
