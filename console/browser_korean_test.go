package console

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/munja-sms/munja/auth"
	"github.com/munja-sms/munja/oncall/roster"
	"github.com/munja-sms/munja/store"
)

// TestBrowserEveryPageInKorean opens every console page in Chromium as a
// Korean user, at 390 and 1280 px, over a store holding a bit of
// everything (contacts, templates, sent and failed messages, incidents,
// check history, agents, audit entries from every door): no page scrolls
// sideways, and no visible text — text nodes, tooltips, placeholders —
// holds an English word that is not a name, number or code. With
// MUNJA_SCREENSHOTS=DIR (make screenshots) it writes each page at both
// widths there.
func TestBrowserEveryPageInKorean(t *testing.T) {
	t.Parallel()
	shots := os.Getenv("MUNJA_SCREENSHOTS")
	ctx := newBrowser(t)
	end := time.Now().Truncate(time.Minute)
	now := end.Add(30 * time.Second)
	h := newHarness(t, harnessOpts{engine: true, dispatcher: true, perDay: 1000, checks: historyChecks, oncall: true,
		now: func() time.Time { return now }})
	h.cfg.Host = "mon01"
	h.addUser("kim", auth.RoleAdmin, adminPW)
	h.addUser("lee", auth.RoleOperator, adminPW)
	seedHistory(t, h, end, shots != "")
	c := h.client()
	c.login("kim", adminPW)
	seedDemo(t, h, c)
	seedAudit(t, h)
	// An override on the on-call page (and its entry on the audit page).
	day := now.In(h.con.loc).Truncate(time.Hour).Add(48 * time.Hour)
	if _, err := h.con.opt.OnCall.AddOverride(h.ctx, "ops", roster.StoredOverride{Member: oncallDayB, From: day, To: day.Add(24 * time.Hour), Note: "병원 진료"}, "user:kim", now); err != nil {
		t.Fatal(err)
	}

	ct, err := h.st.ListContacts(h.ctx, "", 0, 0)
	if err != nil || len(ct) == 0 {
		t.Fatal(ct, err)
	}
	tpls, err := h.st.ListTemplates(h.ctx)
	if err != nil || len(tpls) == 0 {
		t.Fatal(tpls, err)
	}
	msgs, err := h.st.ListMessages(h.ctx, store.MessageFilter{Limit: 1})
	if err != nil || len(msgs) == 0 {
		t.Fatal(msgs, err)
	}
	inc := h.engine.Incidents(true)[0].ID
	pages := []struct{ name, path, ready string }{
		{"dashboard", "/", ""},
		{"send", "/send", ""},
		{"send-template", "/send?template=" + strconv.FormatInt(tpls[0].ID, 10), ""},
		{"contacts", "/contacts", ""},
		{"contact-new", "/contacts/new", ""},
		{"contact", "/contacts/" + strconv.FormatInt(ct[0].ID, 10), ""},
		{"import", "/contacts/import", ""},
		{"templates", "/templates", ""},
		{"template-new", "/templates/new", ""},
		{"template", "/templates/" + strconv.FormatInt(tpls[0].ID, 10), ""},
		{"history", "/history", ""},
		{"message", "/messages/" + strconv.FormatInt(msgs[0].ID, 10), ""},
		{"balance", "/balance", ""},
		{"checks", "/checks", ""},
		{"check", "/checks/web", ""},
		{"check-httpd", "/checks/httpd", ""},
		{"hosts", "/hosts", ""},
		{"oncall", "/oncall", ""},
		{"incident", "/incidents/" + url.PathEscape(inc), ""},
		{"settings", "/settings", ""},
		{"audit", "/audit", ""},
		{"account", "/account", ""},
	}
	b := &browser{t: t, ctx: ctx, url: h.srv.URL}
	b.login("kim", adminPW)
	for _, w := range []int64{1280, 390} {
		b.do("viewport", chromedp.EmulateViewport(w, 900))
		for _, p := range pages {
			b.open(p.path)
			b.checkKorean(fmt.Sprintf("%s at %d px", p.path, w))
			if sw := b.evalNum("page width", `document.documentElement.scrollWidth`); sw > float64(w) {
				t.Errorf("%s is %.0f px wide in a %d px window", p.path, sw, w)
			}
			if shots != "" {
				b.screenshot(filepath.Join(shots, fmt.Sprintf("%s-%d.png", p.name, w)))
			}
		}
		b.do("open a missing message", chromedp.Navigate(b.url+"/messages/999999"), chromedp.WaitVisible(chromedp.CSS("#error-page")))
		b.checkKorean(fmt.Sprintf("the error page at %d px", w))
		// Pages reached by a form: a bad phone number, the confirmation.
		b.open("/send")
		b.do("bad phone", chromedp.SendKeys(chromedp.CSS("#to"), "02-12"),
			chromedp.SendKeys(chromedp.CSS("#text"), "점검 안내"),
			chromedp.Click(chromedp.CSS("#send-button")), chromedp.WaitVisible(chromedp.CSS(".err")))
		b.checkKorean(fmt.Sprintf("the send form's phone error at %d px", w))
		b.open("/send")
		b.do("confirm", chromedp.SendKeys(chromedp.CSS("#to"), "010-1234-5678"),
			chromedp.SendKeys(chromedp.CSS("#text"), "오늘 22시부터 서버 점검이 있습니다."),
			chromedp.Click(chromedp.CSS("#send-button")), chromedp.WaitVisible(chromedp.CSS("#confirm")))
		b.checkKorean(fmt.Sprintf("the send confirmation at %d px", w))
		if shots != "" {
			b.screenshot(filepath.Join(shots, fmt.Sprintf("confirm-%d.png", w)))
		}
	}
	b.do("log out", chromedp.Click(chromedp.CSS("#logout")), chromedp.WaitVisible(chromedp.CSS("#login-form")))
	b.checkKorean("the login page")
	if shots != "" {
		for _, w := range []int64{1280, 390} {
			b.do("viewport", chromedp.EmulateViewport(w, 900))
			b.open("/login")
			b.screenshot(filepath.Join(shots, fmt.Sprintf("login-%d.png", w)))
		}
	}
}

// visibleTextJS lists what a reader sees on the page: text nodes outside
// code, scripts and form values, and the title, placeholder and
// aria-label attributes and SVG titles (tooltips), each with where it is.
const visibleTextJS = `(() => {
  const out = [];
  const where = el => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + (el.className && typeof el.className == "string" ? "." + el.className.split(" ")[0] : "");
  const skip = el => el.closest("script,style,code,pre,textarea,option,[translate=no],[data-code]");
  const w = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n; (n = w.nextNode());) {
    const s = n.textContent.trim();
    if (s && !skip(n.parentElement)) out.push([where(n.parentElement), s]);
  }
  for (const el of document.querySelectorAll("[title],[placeholder],[aria-label]")) {
    if (skip(el)) continue;
    for (const a of ["title", "placeholder", "aria-label"]) {
      const v = el.getAttribute(a);
      if (v) out.push([where(el) + "@" + a, v]);
    }
  }
  out.push(["title", document.title]);
  return JSON.stringify(out);
})()`

// englishWords returns the words of s made of Latin letters only (three
// or more), once the punctuation around them is trimmed: an identifier,
// path, address or number with a unit (web-port, message.create,
// user:kim, /var/log, 40ms) is not a word.
func englishWords(s string) []string {
	var out []string
	for _, f := range strings.Fields(s) {
		f = strings.Trim(f, `()[]{},;:.!?"'“”‘’·…`)
		if len(f) >= 3 && strings.IndexFunc(f, func(r rune) bool { return (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') }) < 0 {
			out = append(out, f)
		}
	}
	return out
}

// codeWords are words a Korean page may show as they are: protocol and
// product names, units, and the names the test's data gives things.
var codeWords = []string{
	// names and codes
	"SMS", "LMS", "MMS", "HTTP", "HTTPS", "API", "CSV", "JSON", "URL", "TLS", "TCP", "UDP", "CPU", "RSS",
	"UTC", "KST", "CP949", "DNS", "PID", "UTF", "munja", "Kakao", "Alimtalk", "Aligo", "Solapi", "Twilio", "NHN", "SENS", "Cloud",
	"Naver", "Alertmanager", "Grafana", "Prometheus", "OpenAPI", "English", "iCalendar", "PNG", "ICS",
	"MiB", "KiB", "GiB", "byte", "bytes", "Gmail",
	// the test's data
	"httpd", "web", "api", "disk", "mysql", "kim", "lee", "ops", "night", "dryrun", "mon01", "web01", "db1",
	"agent", "deploy", "old", "root", // the agent liveness check (and command), tokens, a system user
}

// checkKorean fails the test for every English word on the page that is
// not in codeWords.
func (b *browser) checkKorean(page string) {
	b.t.Helper()
	raw, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](visibleTextJS))
	if err != nil {
		b.t.Fatalf("%s: read text: %v", page, err)
	}
	var texts [][2]string
	if err := json.Unmarshal([]byte(raw), &texts); err != nil {
		b.t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, tx := range texts {
		for _, word := range englishWords(tx[1]) {
			if slices.ContainsFunc(codeWords, func(w string) bool { return strings.EqualFold(w, word) }) {
				continue
			}
			key := tx[0] + tx[1]
			if !seen[key] {
				seen[key] = true
				b.t.Errorf("%s: English in %s: %q", page, tx[0], tx[1])
			}
		}
	}
}

// screenshot writes the whole page as a PNG.
func (b *browser) screenshot(path string) {
	b.t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		b.t.Fatal(err)
	}
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", path, err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// seedAudit writes audit entries as every door writes them (the web API,
// the CLI, agents, acknowledgement links, the alert engine), so the audit
// page shows each kind.
func seedAudit(t *testing.T, h *harness) {
	t.Helper()
	at := time.Now().Add(-time.Hour)
	for i, e := range []store.AuditEntry{
		{Actor: "token:deploy", Action: "message.create", Target: "message 7", Detail: "LMS, 4 recipients, 1 over the hourly limit, test, at 2026-12-08 09:00, Kakao Alimtalk by template 점검"},
		{Actor: "cli:root", Action: "message.create", Target: "message 8", Detail: "SMS, 1 recipient"},
		{Actor: "alert", Action: "message.create", Target: "message 9", Detail: "SMS, 2 recipients"},
		{Actor: "compat", Action: "message.create", Target: "message 10", Detail: "SMS, 1 recipient"},
		{Actor: "agent:web01:disk", Action: "message.create", Target: "message 11", Detail: "SMS, 1 recipient"},
		{Actor: "link:10.0.0.7", Action: "incident.ack", Target: "httpd@mon01#3", Detail: "by link"},
		{Actor: "token:deploy", Action: "contact.create", Target: "contact:3", Detail: `name="홍길동" phone=010-9927-1179 groups=ops`},
		{Actor: "token:deploy", Action: "group.create", Target: "group:ops"},
		{Actor: "token:deploy", Action: "template.update", Target: "template:2", Detail: `name="점검"`},
		{Actor: "token:ops", Action: "silence.create", Target: "check httpd", Detail: "until 2026-12-07T18:00:00+09:00 id 4f2a"},
		{Actor: "token:ops", Action: "agent.forget", Target: "db1", Detail: "3 checks"},
		{Actor: "cli:root", Action: "user.create", Target: "lee", Detail: "role operator"},
		{Actor: "cli:root", Action: "user.password", Target: "lee", Detail: "sessions revoked"},
		{Actor: "cli:root", Action: "token.create", Target: "deploy", Detail: "scope send"},
		{Actor: "user:kim", Action: "token.revoke", Target: "old"},
		{Actor: "user:kim", Action: "user.role", Target: "lee", Detail: "viewer → operator"},
		{Actor: "user:kim", Action: "contact.export", Target: "csv", Detail: "4 contacts"},
		{Actor: "user:kim", Action: "message.test", Target: "message 12", Detail: "010-1234-5678"},
		{Actor: "user:kim", Action: "contact.import", Target: "주소록.csv", Detail: "3 new, 1 updated, 0 skipped, 2 rows refused"},
		{Actor: "user:kim", Action: "contact.update", Target: "홍길동 010-9927-1179", Detail: "groups: ops,db"},
		{Actor: "user:kim", Action: "user.login", Target: "kim", Detail: "ip 127.0.0.1"},
		{Actor: "user:kim", Action: "template.create", Target: "점검", Detail: "template 2"},
		{Actor: "user:kim", Action: "silence.create", Target: "httpd", Detail: "until 2026-12-07 18:00 id 4f2a"},
	} {
		e.At = at.Add(time.Duration(i) * time.Second)
		if err := h.st.AddAudit(h.ctx, e); err != nil {
			t.Fatal(err)
		}
	}
}
