package console

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/munja-sms/munja/auth"
)

const adminPW = "correct horse battery"

// TestEveryPageRenders signs in as admin and opens every GET page with
// data in the store, in both languages.
func TestEveryPageRenders(t *testing.T) {
	h := newHarness(t, harnessOpts{engine: true, dispatcher: true, perDay: 1000})
	h.addUser("kim", auth.RoleAdmin, adminPW)
	c := h.client()
	c.login("kim", adminPW)
	c.post("/contacts", url.Values{"name": {"홍길동"}, "phone": {"010-9927-1179"}, "new_groups": {"ops"}}).mustStatus(t, http.StatusSeeOther)
	c.post("/templates", url.Values{"name": {"점검"}, "text": {"[공지] 서버 점검 예정입니다."}}).mustStatus(t, http.StatusSeeOther)
	r := c.post("/send", url.Values{"to": {"01099271179"}, "text": {"안녕하세요"}, "confirmed": {"1"}}).mustStatus(t, http.StatusSeeOther)
	msg := r.header.Get("Location")
	if !strings.HasPrefix(msg, "/messages/") {
		t.Fatalf("send redirected to %q", msg)
	}
	inc := h.engine.Incidents(true)[0].ID
	ct, err := h.st.ListContacts(h.ctx, "", 0, 0)
	if err != nil || len(ct) != 1 {
		t.Fatal(ct, err)
	}
	tpls, err := h.st.ListTemplates(h.ctx)
	if err != nil || len(tpls) != 1 {
		t.Fatal(tpls, err)
	}
	pages := []struct {
		path string
		want []string
	}{
		{"/", []string{"httpd", httpdDown, "id=\"dryrun\""}},
		{"/send", []string{"send-form", "02-1234-5678", "ops"}},
		{"/send?template=" + strconv.FormatInt(tpls[0].ID, 10), []string{"[공지] 서버 점검 예정입니다."}},
		{"/contacts", []string{"홍길동", "010-9927-1179"}},
		{"/contacts?q=9927-1179", []string{"홍길동"}},
		{"/contacts/new", []string{"contact-form"}},
		{"/contacts/" + strconv.FormatInt(ct[0].ID, 10), []string{"홍길동"}},
		{"/contacts/import", []string{"import-form"}},
		{"/templates", []string{"점검", "alert-texts", httpdDown}},
		{"/templates/new", []string{"template-form"}},
		{"/templates/" + strconv.FormatInt(tpls[0].ID, 10), []string{"[공지] 서버 점검 예정입니다."}},
		{"/history", []string{"안녕하세요"}},
		{msg, []string{"010-9927-1179", "안녕하세요"}},
		{"/balance", []string{"dryrun"}},
		{"/checks", []string{"httpd", "web-port"}},
		{"/checks/httpd", []string{"httpd", `<svg class="timeline"`}},
		{"/checks/httpd?range=30d", []string{`id="range-30d" class="on"`}},
		{"/hosts", []string{"httpd", "web-port"}},
		{"/incidents/" + url.PathEscape(inc), []string{httpdDown}},
		{"/settings", []string{"providers", "dryrun", "kim"}},
		{"/account", []string{"password-form"}},
	}
	for _, lang := range []string{"en", "ko"} {
		c.post("/lang", url.Values{"lang": {lang}, "next": {"/"}}).mustStatus(t, http.StatusSeeOther)
		for _, p := range pages {
			r := c.get(p.path)
			if r.status != http.StatusOK {
				t.Fatalf("%s %s: status %d\n%s", lang, p.path, r.status, r.body)
			}
			r.mustContain(t, p.want...)
			if !strings.Contains(r.body, `<html lang="`+lang+`">`) {
				t.Fatalf("%s %s: not in %s", lang, p.path, lang)
			}
		}
	}
	if r := c.get("/contacts/export?format=csv"); r.status != 200 || !strings.Contains(r.body, "홍길동,010-9927-1179") {
		t.Fatalf("CSV export: %d %q", r.status, r.body)
	}
	if r := c.get("/contacts/export?format=json"); r.status != 200 || !strings.Contains(r.body, `"phone": "010-9927-1179"`) {
		t.Fatalf("JSON export: %d %q", r.status, r.body)
	}
	c.get("/nope/404").mustStatus(t, http.StatusNotFound)
}

// TestEveryTemplateParses parses every page template in every language:
// pages are parsed on first use, so a broken one would otherwise show only
// when somebody opens it.
func TestEveryTemplateParses(t *testing.T) {
	c := newHarness(t, harnessOpts{}).con
	names, err := pageNames()
	if err != nil || len(names) < 15 {
		t.Fatalf("page templates: %v %v", names, err)
	}
	for lang := range c.cats {
		for _, name := range names {
			tpl, err := c.pages.get(lang, name)
			if err != nil {
				t.Errorf("%s/%s: %v", lang, name, err)
				continue
			}
			if again, _ := c.pages.get(lang, name); again != tpl {
				t.Errorf("%s/%s parsed twice", lang, name)
			}
		}
	}
	for _, bad := range []string{"layout", "parts", "../x", "nope"} {
		if _, err := c.pages.get(langKO, bad); err == nil {
			t.Errorf("page %q: no error", bad)
		}
	}
}
