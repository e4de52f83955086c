package console

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/munja-sms/munja/auth"
	"github.com/munja-sms/munja/store"
)

func TestLoginGoodAndBad(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	c := h.client()
	// No account yet: the page says how to make the first one, in both languages.
	c.get("/login").mustStatus(t, http.StatusOK).mustContain(t, "munja user add NAME --role admin",
		"아직 계정이 없습니다", "No account exists yet")
	// The language switch before login.
	c.get("/login?lang=en").mustContain(t, `<html lang="en">`, "Log in", `href="/login?lang=ko"`)
	c.get("/login").mustContain(t, `<html lang="en">`)
	c.get("/login?lang=ko").mustContain(t, `<html lang="ko">`, "로그인")
	h.addUser("kim", auth.RoleOperator, adminPW)
	if r := c.get("/login"); strings.Contains(r.body, "no-users") {
		t.Fatal("first-account notice shown although a user exists")
	}
	c.post("/login", url.Values{"name": {"kim"}, "password": {"wrong password!"}}).
		mustStatus(t, http.StatusUnauthorized).mustContain(t, "사용자 이름 또는 비밀번호가 올바르지 않습니다")
	c.post("/login", url.Values{"name": {"nobody"}, "password": {adminPW}}).mustStatus(t, http.StatusUnauthorized)
	c.get("/").mustStatus(t, http.StatusSeeOther)

	r := c.post("/login", url.Values{"name": {"kim"}, "password": {adminPW}, "next": {"/history?q=x"}}).mustStatus(t, http.StatusSeeOther)
	if loc := r.header.Get("Location"); loc != "/history?q=x" {
		t.Fatalf("redirect after login to %q", loc)
	}
	c.get("/").mustStatus(t, http.StatusOK).mustContain(t, "kim")
	// Logged in, /login goes home; the next parameter cannot leave the site.
	for _, next := range []string{"//evil.example/x", "https://evil.example", "/\\evil.example", "javascript:alert(1)"} {
		if loc := c.get("/login?next=" + url.QueryEscape(next)).header.Get("Location"); loc != "/" {
			t.Errorf("next=%q redirected to %q", next, loc)
		}
	}
	audit, err := h.st.ListAudit(h.ctx, 10)
	if err != nil || !slices.ContainsFunc(audit, func(e store.AuditEntry) bool { return e.Action == "user.login" && e.Actor == "user:kim" }) {
		t.Fatalf("no login audit entry: %+v %v", audit, err)
	}
}

func TestSessionRevokedOnLogout(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.addUser("kim", auth.RoleOperator, adminPW)
	c := h.client()
	c.login("kim", adminPW)
	cookies := c.c.Jar.Cookies(mustURL(t, h.srv.URL))
	c.post("/logout", nil).mustStatus(t, http.StatusSeeOther)
	c.get("/").mustStatus(t, http.StatusSeeOther)
	// The old cookie value, replayed, is dead on the server side too.
	replay := h.client()
	replay.c.Jar.SetCookies(mustURL(t, h.srv.URL), cookies)
	if r := replay.get("/"); r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/login") {
		t.Fatalf("replayed session after logout: %d %s", r.status, r.header.Get("Location"))
	}
}

func TestSessionRevokedOnPasswordChange(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.addUser("kim", auth.RoleOperator, adminPW)
	a, b := h.client(), h.client()
	a.login("kim", adminPW)
	b.login("kim", adminPW)
	// Wrong current password: nothing changes.
	a.get("/account")
	a.post("/account/password", url.Values{"current": {"not it at all"}, "password": {"a new passphrase"}, "password2": {"a new passphrase"}}).
		mustStatus(t, http.StatusUnprocessableEntity).mustContain(t, "현재 비밀번호가 맞지 않습니다")
	a.post("/account/password", url.Values{"current": {adminPW}, "password": {"short"}, "password2": {"short"}}).
		mustStatus(t, http.StatusUnprocessableEntity).mustContain(t, "10자 이상")
	b.get("/").mustStatus(t, http.StatusOK)

	a.post("/account/password", url.Values{"current": {adminPW}, "password": {"a new passphrase"}, "password2": {"a new passphrase"}}).
		mustStatus(t, http.StatusSeeOther)
	a.get("/account").mustStatus(t, http.StatusOK) // this browser got a fresh session
	b.get("/").mustStatus(t, http.StatusSeeOther)  // the other one is logged out
	fresh := h.client()
	fresh.get("/login")
	fresh.post("/login", url.Values{"name": {"kim"}, "password": {adminPW}}).mustStatus(t, http.StatusUnauthorized)
	fresh.login("kim", "a new passphrase")
	audit, err := h.st.ListAudit(h.ctx, 10)
	if err != nil || !slices.ContainsFunc(audit, func(e store.AuditEntry) bool {
		return e.Action == "user.password" && e.Actor == "user:kim" && e.Target == "kim"
	}) {
		t.Fatalf("no password audit entry: %+v %v", audit, err)
	}
}

func TestCSRF(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.addUser("kim", auth.RoleAdmin, adminPW)
	c := h.client()
	c.login("kim", adminPW)
	cases := []struct {
		name    string
		v       url.Values
		headers []string
	}{
		{"missing token", url.Values{"name": {"ops"}, "csrf": nil}, nil},
		{"empty token", url.Values{"name": {"ops"}, "csrf": {""}}, nil},
		{"wrong token", url.Values{"name": {"ops"}, "csrf": {strings.Repeat("A", 43)}}, nil},
		{"cross-site fetch", url.Values{"name": {"ops"}}, []string{"Sec-Fetch-Site", "cross-site"}},
		{"other origin", url.Values{"name": {"ops"}}, []string{"Origin", "https://evil.example"}},
	}
	for _, tc := range cases {
		r := c.post("/groups", tc.v, tc.headers...)
		if r.status != http.StatusForbidden {
			t.Errorf("%s: status %d, want 403", tc.name, r.status)
		}
	}
	if gs, err := h.st.ListGroups(h.ctx); err != nil || len(gs) != 0 {
		t.Fatalf("a refused POST created groups: %v %v", gs, err)
	}
	// A login form posted without its pre-session token is refused too.
	anon := h.client()
	anon.post("/login", url.Values{"name": {"kim"}, "password": {adminPW}}).mustStatus(t, http.StatusForbidden)
	// The right token from the same origin works.
	c.post("/groups", url.Values{"name": {"ops"}}, "Sec-Fetch-Site", "same-origin").mustStatus(t, http.StatusSeeOther)
}

// TestEveryRouteRefusesAnonymous walks Routes(): GETs redirect to /login,
// POSTs are refused and change nothing.
func TestEveryRouteRefusesAnonymous(t *testing.T) {
	h := newHarness(t, harnessOpts{engine: true})
	u := h.addUser("kim", auth.RoleAdmin, adminPW)
	ct := &store.Contact{Name: "홍길동", Phone: "01099271179", Groups: []string{"ops"}}
	if err := h.st.SaveContact(h.ctx, ct); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, h)
	public := map[string]bool{}
	for _, p := range h.con.PublicRoutes() {
		public[p] = true
	}
	if want := []string{"GET /login", "POST /login", "GET /static/"}; len(public) != len(want) {
		t.Fatalf("public routes %v, want %v", h.con.PublicRoutes(), want)
	}
	c := h.client()
	for _, pattern := range h.con.Routes() {
		if public[pattern] {
			continue
		}
		method, path, _ := strings.Cut(pattern, " ")
		path = strings.NewReplacer("{$}", "", "{id}", "1", "{name}", "httpd").Replace(path)
		if method == http.MethodGet {
			r := c.get(path)
			if r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/login?next=") {
				t.Errorf("GET %s: %d → %q, want redirect to /login", path, r.status, r.header.Get("Location"))
			}
			continue
		}
		v := url.Values{"name": {"x"}, "to": {"01012345678"}, "text": {"hi"}, "phone": {"01012345678"},
			"role": {"viewer"}, "password": {"0123456789ab"}, "password2": {"0123456789ab"}, "for": {"1h"}}
		r := c.post(path, v)
		if r.status != http.StatusSeeOther && r.status != http.StatusForbidden {
			t.Errorf("POST %s: status %d, want 303 or 403", path, r.status)
		}
		if loc := r.header.Get("Location"); r.status == http.StatusSeeOther && !strings.HasPrefix(loc, "/login") {
			t.Errorf("POST %s redirected to %q", path, loc)
		}
	}
	if after := snapshot(t, h); after != before {
		t.Fatalf("anonymous POSTs changed the store:\nbefore %+v\nafter  %+v", before, after)
	}
	if len(h.engine.Silences()) != 0 || h.engine.Incidents(true)[0].AckedBy != "" {
		t.Fatal("anonymous POST silenced or acknowledged")
	}
	if got, _ := h.st.UserByID(h.ctx, u.ID); got.Role != auth.RoleAdmin {
		t.Fatal("anonymous POST changed a role")
	}
}

type storeSnapshot struct {
	messages, contacts, groups, templates, users, tokens, audit int
}

func snapshot(t *testing.T, h *harness) storeSnapshot {
	t.Helper()
	ctx := context.Background()
	var s storeSnapshot
	cs, err1 := h.st.ListContacts(ctx, "", 0, 0)
	gs, err2 := h.st.ListGroups(ctx)
	ts, err3 := h.st.ListTemplates(ctx)
	us, err4 := h.st.ListUsers(ctx)
	tk, err5 := h.st.ListTokens(ctx)
	au, err6 := h.st.ListAudit(ctx, 1000)
	for _, err := range []error{err1, err2, err3, err4, err5, err6} {
		if err != nil {
			t.Fatal(err)
		}
	}
	s.messages, s.contacts, s.groups, s.templates, s.users, s.tokens, s.audit = h.messages(), len(cs), len(gs), len(ts), len(us), len(tk), len(au)
	return s
}

func TestRoles(t *testing.T) {
	h := newHarness(t, harnessOpts{engine: true})
	h.addUser("viewer", auth.RoleViewer, adminPW)
	h.addUser("op", auth.RoleOperator, adminPW)
	v := h.client()
	v.login("viewer", adminPW)
	v.get("/history").mustStatus(t, http.StatusOK)
	v.get("/contacts").mustStatus(t, http.StatusOK)
	v.get("/send").mustStatus(t, http.StatusForbidden)
	v.post("/send", url.Values{"to": {"01012345678"}, "text": {"hi"}}).mustStatus(t, http.StatusForbidden).mustContain(t, "권한이 없습니다")
	v.post("/contacts", url.Values{"name": {"a"}, "phone": {"01012345678"}}).mustStatus(t, http.StatusForbidden)
	v.post("/incidents/"+url.PathEscape(h.engine.Incidents(true)[0].ID)+"/ack", nil).mustStatus(t, http.StatusForbidden)
	v.get("/settings").mustStatus(t, http.StatusForbidden)
	if strings.Contains(v.get("/").body, `id="nav-send"`) {
		t.Fatal("viewer sees the send link")
	}
	if h.messages() != 0 {
		t.Fatal("viewer sent a message")
	}
	o := h.client()
	o.login("op", adminPW)
	o.get("/settings").mustStatus(t, http.StatusForbidden)
	o.post("/settings/users", url.Values{"name": {"x"}, "role": {"admin"}, "password": {"0123456789ab"}, "password2": {"0123456789ab"}}).mustStatus(t, http.StatusForbidden)
	o.post("/send", url.Values{"to": {"01012345678"}, "text": {"hi"}, "confirmed": {"1"}}).mustStatus(t, http.StatusSeeOther)
	if h.messages() != 1 {
		t.Fatal("operator could not send")
	}
}

func TestSecurityHeadersAndCookies(t *testing.T) {
	for _, secure := range []bool{false, true} {
		h := newHarness(t, harnessOpts{})
		h.con.opt.Secure = secure
		h.addUser("kim", auth.RoleViewer, adminPW)
		c := h.client()
		r := c.get("/login")
		for k, want := range map[string]string{
			"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "Cache-Control": "no-store",
		} {
			if got := r.header.Get(k); got != want {
				t.Errorf("%s = %q, want %q", k, got, want)
			}
		}
		csp := r.header.Get("Content-Security-Policy")
		for _, d := range []string{"script-src 'self'", "frame-ancestors 'none'", "default-src 'none'"} {
			if !strings.Contains(csp, d) {
				t.Errorf("CSP %q lacks %q", csp, d)
			}
		}
		if strings.Contains(csp, "unsafe-inline") || strings.Contains(r.body, "<script>") || strings.Contains(r.body, " onclick=") {
			t.Error("inline script allowed or present")
		}
		if hsts := r.header.Get("Strict-Transport-Security"); (hsts != "") != secure {
			t.Errorf("secure=%v: HSTS %q", secure, hsts)
		}
		// The session cookie, read from the raw response (the jar hides flags).
		req, err := http.NewRequest(http.MethodPost, h.srv.URL+"/login",
			strings.NewReader(url.Values{"name": {"kim"}, "password": {adminPW}, "csrf": {c.csrf}}.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for _, ck := range c.c.Jar.Cookies(mustURL(t, h.srv.URL)) {
			req.AddCookie(&http.Cookie{Name: ck.Name, Value: ck.Value})
		}
		res, err := (&http.Client{CheckRedirect: c.c.CheckRedirect}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		var session *http.Cookie
		for _, ck := range res.Cookies() {
			if strings.HasSuffix(ck.Name, sessionCookie) {
				session = ck
			}
		}
		if session == nil {
			t.Fatalf("secure=%v: no session cookie (status %d)", secure, res.StatusCode)
		}
		if !session.HttpOnly || session.SameSite != http.SameSiteLaxMode || session.Secure != secure ||
			strings.HasPrefix(session.Name, "__Host-") != secure || len(session.Value) < 43 {
			t.Errorf("secure=%v: session cookie %+v", secure, session)
		}
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
