package web

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestAuditAPI: GET /api/v1/audit needs scope admin (the log names every
// user, token and address) and selects by actor, action, time and page.
func TestAuditAPI(t *testing.T) {
	f := newFixture(t)
	f.must(req{method: "POST", path: "/api/v1/contacts", token: "admin", body: `{"name":"홍길동","phone":"01012345678"}`}, 201)
	f.must(req{method: "POST", path: "/api/v1/groups", token: "admin", body: `{"name":"ops"}`}, 201)
	f.must(req{method: "POST", path: "/api/v1/messages", token: "send", body: `{"to":["01012345678"],"text":"비밀 hunter2"}`}, 202)
	f.must(req{method: "POST", path: "/api/v1/messages", from: trusted, body: `{"to":["01012345678","01098765432"],"text":"x"}`}, 202)

	for _, tok := range []string{"", "read", "send"} {
		if w := f.do(req{path: "/api/v1/audit", token: tok, from: trusted}); w.Code != 403 && w.Code != 401 {
			t.Errorf("GET /api/v1/audit with %q: %d, want 401/403", tok, w.Code)
		}
	}
	list := func(query string) []string {
		t.Helper()
		out := f.must(req{path: "/api/v1/audit" + query, token: "admin"}, 200)
		var got []string
		for _, e := range out["entries"].([]any) {
			e := e.(map[string]any)
			got = append(got, fmt.Sprint(e["action"], " ", e["actor"], " ", e["detail"]))
		}
		return got
	}
	all := list("")
	want := []string{
		"message.create net:127.0.0.1 SMS, 2 recipients",
		"message.create token:t-send SMS, 1 recipient",
		"group.create token:t-admin ",
	}
	if len(all) != 4 || strings.Join(all[:3], "|") != strings.Join(want, "|") || !strings.HasPrefix(all[3], "contact.create token:t-admin") {
		t.Errorf("audit %q", all)
	}
	if strings.Contains(strings.Join(all, "|"), "hunter2") {
		t.Error("a message text is in the audit log")
	}
	if got := list("?actor=token:t-send"); len(got) != 1 || !strings.Contains(got[0], "1 recipient") {
		t.Errorf("actor filter: %q", got)
	}
	if got := list("?action=message.create"); len(got) != 2 {
		t.Errorf("action filter: %q", got)
	}
	if got := list("?action=group"); len(got) != 1 {
		t.Errorf("action area filter: %q", got)
	}
	since := url.QueryEscape(time.Now().Add(time.Hour).Format(time.RFC3339))
	if got := list("?since=" + since); len(got) != 0 {
		t.Errorf("since an hour ahead: %q", got)
	}
	page := f.must(req{path: "/api/v1/audit?limit=3", token: "admin"}, 200)
	next, _ := page["next"].(string)
	if len(page["entries"].([]any)) != 3 || !strings.Contains(next, "before=") {
		t.Fatalf("first page %v", page)
	}
	rest := f.must(req{path: next, token: "admin"}, 200)
	if es := rest["entries"].([]any); len(es) != 1 || !strings.HasPrefix(es[0].(map[string]any)["action"].(string), "contact.create") {
		t.Errorf("second page %v", rest)
	}
	for _, bad := range []string{"?limit=0", "?before=x", "?since=yesterday"} {
		if w := f.do(req{path: "/api/v1/audit" + bad, token: "admin"}); w.Code != 400 {
			t.Errorf("%s: %d, want 400", bad, w.Code)
		}
	}
}
