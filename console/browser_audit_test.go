package console

import (
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/munja-sms/munja/auth"
	"github.com/munja-sms/munja/store"
)

// TestBrowserAudit opens the audit page from an admin's menu in Chromium
// at 390 and 1280 px, filters it by actor, and checks that the page does
// not scroll sideways (a wide table scrolls in its own box).
func TestBrowserAudit(t *testing.T) {
	t.Parallel()
	ctx := newBrowser(t)
	h := newHarness(t, harnessOpts{})
	h.addUser("kim", auth.RoleAdmin, adminPW)
	now := time.Now()
	for i, e := range []store.AuditEntry{
		{Actor: "token:ci", Action: "message.create", Target: "message 1", Detail: "LMS, 1500 recipients, test, at 2026-11-25 22:00"},
		{Actor: "agent:web01.example.internal:first", Action: "message.create", Target: "message 2", Detail: "SMS, 1 recipient"},
		{Actor: "cli:root", Action: "contact.create", Target: "김철수 010-1234-5678", Detail: "groups: ops,dba,infra,network,security"},
	} {
		e.At = now.Add(time.Duration(i-10) * time.Minute)
		if err := h.st.AddAudit(h.ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	b := &browser{t: t, ctx: ctx, url: h.srv.URL}
	b.login("kim", adminPW)
	for _, w := range []int64{390, 1280} {
		t.Run(strconv.FormatInt(w, 10), func(t *testing.T) {
			b.t = t
			b.do("viewport", chromedp.EmulateViewport(w, 900))
			b.open("/")
			b.do("menu", chromedp.Click(chromedp.CSS("#nav-audit")), chromedp.WaitVisible(chromedp.CSS("#audit-filter")))
			b.do("filter", chromedp.SendKeys(chromedp.CSS(`#audit-filter input[name="actor"]`), "agent:web01.example.internal"),
				chromedp.Submit(chromedp.CSS(`#audit-filter input[name="actor"]`)), chromedp.WaitVisible(chromedp.CSS("#audit")))
			if n := b.evalNum("rows", `document.querySelectorAll("#audit tr.audit-entry").length`); n != 1 {
				t.Errorf("%.0f rows for the agent, want 1", n)
			}
			if href := b.evalNum("csv link", `document.querySelector("#audit-csv").getAttribute("href").includes("actor=agent") ? 1 : 0`); href != 1 {
				t.Error("the CSV link does not keep the filter")
			}
			b.open("/audit")
			if sw := b.evalNum("page width", `document.documentElement.scrollWidth`); sw > float64(w) {
				t.Errorf("the audit page is %.0f px wide in a %d px window", sw, w)
			}
		})
	}
}
