package console

import (
	"encoding/csv"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/munja-sms/munja/auth"
	"github.com/munja-sms/munja/store"
)

// TestAuditPage: /audit is for admins only (and in their nav), filters by
// actor, action and date range, pages, and exports the selection as CSV
// in UTF-8 with a byte order mark.
func TestAuditPage(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.addUser("boss", auth.RoleAdmin, adminPW)
	h.addUser("op", auth.RoleOperator, adminPW)
	day := time.Date(2026, 11, 25, 10, 0, 0, 0, h.cfg.Location())
	for _, e := range []store.AuditEntry{
		{At: day.AddDate(0, 0, -2), Actor: "cli:root", Action: "user.create", Target: "kim", Detail: "role admin"},
		{At: day, Actor: "token:ci", Action: "message.create", Target: "message 1", Detail: "SMS, 3 recipients"},
		{At: day.Add(time.Hour), Actor: "user:boss", Action: "contact.create", Target: "=홍길동 010-1234-5678", Detail: "groups: ops"},
		{At: day.Add(2 * time.Hour), Actor: "agent:web1:first", Action: "message.create", Target: "message 2", Detail: "SMS, 1 recipient"},
	} {
		if err := h.st.AddAudit(h.ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	op := h.client()
	op.login("op", adminPW)
	if r := op.get("/audit"); r.status != http.StatusForbidden {
		t.Errorf("an operator on /audit: %d", r.status)
	}
	if r := op.get("/audit.csv"); r.status != http.StatusForbidden {
		t.Errorf("an operator on /audit.csv: %d", r.status)
	}
	if strings.Contains(op.get("/").body, `href="/audit"`) {
		t.Error("the nav shows the audit log to an operator")
	}
	c := h.client()
	c.login("boss", adminPW)
	c.get("/").mustContain(t, `href="/audit"`)
	c.get("/settings").mustContain(t, `<a href="/audit" id="audit-all">`)
	rows := func(query string) int {
		t.Helper()
		return strings.Count(c.get("/audit"+query).mustStatus(t, http.StatusOK).body, `class="audit-entry"`)
	}
	all := rows("")
	if all < 4 { // logging in is audited too
		t.Errorf("unfiltered: %d rows", all)
	}
	for q, want := range map[string]int{
		"?actor=token:ci":                      1,
		"?actor=agent:web1":                    1,
		"?actor=cli":                           1,
		"?action=message.create":               2,
		"?action=contact":                      1,
		"?from=2026-11-25&to=2026-11-25":       3,
		"?from=2026-11-23&to=2026-11-23":       1,
		"?actor=token:ci&action=contact":       0,
		"?from=2026-11-26&action=user.create":  0,
		"?action=message.create&to=2026-11-24": 0,
	} {
		if got := rows(q); got != want {
			t.Errorf("%s: %d rows, want %d", q, got, want)
		}
	}
	c.get("/audit?from=25.11.2026").mustStatus(t, http.StatusOK).mustContain(t, `class="err field-error"`)
	c.get("/audit?action=contact").mustContain(t, `href="/audit.csv?action=contact"`)

	r := c.get("/audit.csv?from=2026-11-25&to=2026-11-25")
	r.mustStatus(t, http.StatusOK)
	if ct := r.header.Get("Content-Type"); ct != "text/csv; charset=utf-8" || !strings.Contains(r.header.Get("Content-Disposition"), "attachment") {
		t.Errorf("CSV headers %v", r.header)
	}
	if !strings.HasPrefix(r.body, "\uFEFF") {
		t.Fatal("the CSV has no byte order mark: Excel would garble Korean")
	}
	recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(r.body, "\uFEFF"))).ReadAll()
	if err != nil || len(recs) != 4 {
		t.Fatalf("CSV %q, %v", r.body, err)
	}
	if strings.Join(recs[0], ",") != "id,time,actor,action,target,detail" ||
		recs[1][2] != "agent:web1:first" || recs[2][4] != "'=홍길동 010-1234-5678" || recs[3][5] != "SMS, 3 recipients" ||
		recs[3][1] != day.Format(time.RFC3339) {
		t.Errorf("CSV rows %q", recs)
	}
}

// TestAuditPagePages: older entries are a link away, keeping the filter.
func TestAuditPagePages(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.addUser("boss", auth.RoleAdmin, adminPW)
	base := time.Now().Add(-time.Hour)
	for i := range auditPerPage + 5 {
		if err := h.st.AddAudit(h.ctx, store.AuditEntry{At: base.Add(time.Duration(i) * time.Second), Actor: "token:ci", Action: "message.create"}); err != nil {
			t.Fatal(err)
		}
	}
	c := h.client()
	c.login("boss", adminPW)
	first := c.get("/audit?actor=token:ci").mustStatus(t, http.StatusOK)
	if n := strings.Count(first.body, `class="audit-entry"`); n != auditPerPage {
		t.Fatalf("first page: %d rows", n)
	}
	i := strings.Index(first.body, `id="next-page"`)
	if i < 0 {
		t.Fatal("no link to older entries")
	}
	href := first.body[strings.LastIndex(first.body[:i], `href="`)+6:]
	href = strings.ReplaceAll(href[:strings.Index(href, `"`)], "&amp;", "&")
	if !strings.Contains(href, "actor=token%3Aci") {
		t.Errorf("the next page drops the filter: %s", href)
	}
	if n := strings.Count(c.get(href).body, `class="audit-entry"`); n != 5 {
		t.Errorf("second page: %d rows", n)
	}
}

// TestAuditConsoleDoors: a send and every change through the console are
// in the audit log as user:NAME, and the audit page finds them.
func TestAuditConsoleDoors(t *testing.T) {
	h := newHarness(t, harnessOpts{engine: true})
	h.addUser("boss", auth.RoleAdmin, adminPW)
	c := h.client()
	c.login("boss", adminPW)
	inc := h.engine.Incidents(true)[0]
	c.post("/send", url.Values{"to": {"01012345678"}, "text": {"안녕 hunter2"}, "confirmed": {"1"}}).mustStatus(t, http.StatusSeeOther)
	c.post("/contacts", url.Values{"name": {"김철수"}, "phone": {"01012345678"}}).mustStatus(t, http.StatusSeeOther)
	c.post("/groups", url.Values{"name": {"ops"}}).mustStatus(t, http.StatusSeeOther)
	c.post("/templates", url.Values{"name": {"점검"}, "text": {"점검 안내"}}).mustStatus(t, http.StatusSeeOther)
	c.post("/silences", url.Values{"for": {"4h"}}).mustStatus(t, http.StatusSeeOther)
	c.post("/incidents/"+url.PathEscape(inc.ID)+"/ack", nil).mustStatus(t, http.StatusSeeOther)
	c.post("/settings/tokens", url.Values{"name": {"cron"}, "scope": {"send"}}).mustStatus(t, http.StatusOK)
	c.post("/settings/tokens/revoke", url.Values{"name": {"cron"}}).mustStatus(t, http.StatusSeeOther)
	c.post("/settings/users", url.Values{"name": {"kim"}, "role": {"operator"}, "password": {adminPW}, "password2": {adminPW}}).
		mustStatus(t, http.StatusSeeOther)

	es, err := h.st.FindAudit(h.ctx, store.AuditQuery{Actor: "user:boss"})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, e := range es {
		got[e.Action] = true
		if strings.Contains(e.Detail+e.Target, "hunter2") {
			t.Errorf("a message text is in the audit log: %+v", e)
		}
	}
	for _, want := range []string{"message.create", "contact.create", "group.create", "template.create", "silence.create",
		"incident.ack", "token.create", "token.revoke", "user.create"} {
		if !got[want] {
			t.Errorf("no %s by user:boss in %+v", want, es)
		}
	}
	c.get("/audit?actor=user:boss&action=incident").mustContain(t, `data-actor="user:boss" data-action="incident.ack"`, inc.ID)
}
