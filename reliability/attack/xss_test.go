package attack

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/munja-sms/munja/config"
	"github.com/munja-sms/munja/reliability/report"
)

// xssPayload is one attack string put in one place. If it ever runs, it
// calls alert(n); most mark the elements they would add with class xss.
type xssPayload struct {
	n      int
	place  string // where it was put, e.g. "contact name (API)"
	text   string
	stored bool // accepted (a reflected one: sent in the URL or form)
	echo   bool // reflected, not stored: need not be shown
	seen   bool // shown, as text, on a visited page
}

// The attack strings: a script element, an attribute breakout with an
// event handler, a javascript: URL, a template action, and (user names
// allow no space or '/') an attribute injection without spaces.
var xssKinds = []func(n int) string{
	func(n int) string { return fmt.Sprintf(`<script class=xss>alert(%d)</script>`, n) },
	func(n int) string { return fmt.Sprintf(`"><img class=xss src=x onerror=alert(%d)>`, n) },
	func(n int) string { return fmt.Sprintf(`javascript:alert(%d)`, n) },
	func(n int) string { return fmt.Sprintf(`'><svg onload=alert(%d)>TPL[{{.}}]`, n) }, // fits a 44-byte title
}

var xssUserKinds = []func(n int) string{
	func(n int) string { return fmt.Sprintf(`x"class="xss"autofocus="1"onfocus="alert(%d)"`, n) },
	func(n int) string { return fmt.Sprintf(`<script>alert(%d)<!--`, n) },
	func(n int) string { return fmt.Sprintf(`TPL[{{.}}]alert(%d)`, n) },
}

type xssRun struct {
	payloads []*xssPayload
}

// add registers a payload of kind for place.
func (x *xssRun) add(place string, kind func(int) string) *xssPayload {
	p := &xssPayload{n: len(x.payloads) + 1, place: place}
	p.text = kind(p.n)
	x.payloads = append(x.payloads, p)
	return p
}

// TestXSS stores attack strings everywhere a user (or the config, an
// agent, Alertmanager) can put text, sends more in URLs and forms, and
// opens every console page in headless Chromium, counting JavaScript
// dialogs, injected elements and expanded template actions.
func TestXSS(t *testing.T) {
	t.Parallel()
	start := time.Now()
	x := &xssRun{}
	// Config: check names, texts and output.
	var checks []config.Check
	for i, k := range xssUserKinds[:2] { // check names allow no space or '/'
		name := x.add("check name (config)", k)
		msg := x.add("check message template (config)", xssKinds[1])
		out := x.add("check output → detail (command)", xssKinds[(i+3)%4])
		checks = append(checks, config.Check{
			Name: name.text, Type: "command", Interval: config.Duration(time.Second),
			Message: "[경고] {{.Name}} " + msg.text,
			Command: []string{"/bin/sh", "-c", `printf '%s\n' "$0"; exit 1`, out.text},
		})
		name.stored, msg.stored, out.stored = true, true, true
	}
	hb := x.add("heartbeat check name (config)", xssUserKinds[2])
	hb.stored = true
	checks = append(checks, config.Check{Name: hb.text, Type: "heartbeat", Grace: config.Duration(time.Second)})
	s := startServer(t, func(c *config.Config) { c.Checks = checks })
	s.addUser("kim", "admin")
	s.addUser("lee", "viewer")
	adminToken := s.token("admin", "admin")
	api := s.client()
	api.headers.Set("Authorization", "Bearer "+adminToken)
	con := s.client()
	con.mustLogin("kim")

	ok := func(p *xssPayload, r *response) {
		p.stored = r.status/100 == 2 || r.status == http.StatusSeeOther && !strings.Contains(r.location(), "login")
	}
	okAll := func(ps []*xssPayload, r *response) {
		for _, p := range ps {
			ok(p, r)
		}
	}
	phone := 0
	nextPhone := func() string {
		phone++
		return fmt.Sprintf("0107000%04d", phone)
	}
	until := time.Now().Add(time.Hour).Format(time.RFC3339)
	for _, k := range xssKinds {
		// The API.
		g := x.add("group name (API)", k)
		ok(g, api.json(http.MethodPost, "/api/v1/groups", map[string]any{"name": g.text}))
		cn, cm := x.add("contact name (API)", k), x.add("contact memo (API)", k)
		okAll([]*xssPayload{cn, cm}, api.json(http.MethodPost, "/api/v1/contacts", map[string]any{"name": cn.text, "memo": cm.text, "phone": nextPhone()}))
		tn, tt, ti := x.add("template name (API)", k), x.add("template text (API)", k), x.add("template title (API)", k)
		okAll([]*xssPayload{tn, tt, ti}, api.json(http.MethodPost, "/api/v1/templates", map[string]any{"name": tn.text, "text": tt.text, "title": ti.text}))
		if !ti.stored { // a title over 44 bytes refuses the whole template: store the rest alone
			okAll([]*xssPayload{tn, tt}, api.json(http.MethodPost, "/api/v1/templates", map[string]any{"name": tn.text, "text": tt.text}))
		}
		mt, mi := x.add("message text (API)", k), x.add("message title (API)", k)
		okAll([]*xssPayload{mt, mi}, api.json(http.MethodPost, "/api/v1/messages", map[string]any{"to": []string{"01012345678"}, "text": mt.text, "title": mi.text}))
		if !mi.stored {
			ok(mt, api.json(http.MethodPost, "/api/v1/messages", map[string]any{"to": []string{"01012345678"}, "text": mt.text}))
		}
		sc, sh, sm := x.add("silence check (API)", k), x.add("silence host (API)", k), x.add("silence comment (API)", k)
		okAll([]*xssPayload{sc, sh, sm}, api.json(http.MethodPost, "/api/v1/silences", map[string]any{"check": sc.text, "host": sh.text, "comment": sm.text, "until": until}))
		ah, ac, af, ad := x.add("agent host (agent report)", k), x.add("agent check name (agent report)", k),
			x.add("agent firing text (agent report)", k), x.add("agent detail (agent report)", k)
		agentReport := func(host, check string) *response {
			return api.json(http.MethodPost, "/api/v1/agents/report", map[string]any{
				"host": host, "interval_seconds": 3600,
				"results": []map[string]any{{"check": check, "ok": false, "firing": af.text, "detail": ad.text}}})
		}
		okAll([]*xssPayload{ah, ac, af, ad}, agentReport(ah.text, ac.text))
		if !ah.stored { // host and check names allow no '/': the texts alone
			okAll([]*xssPayload{af, ad}, agentReport(fmt.Sprint("agent", af.n), "check"))
		}
		an, ai, as := x.add("Alertmanager alertname", k), x.add("Alertmanager instance", k), x.add("Alertmanager summary", k)
		okAll([]*xssPayload{an, ai, as}, api.json(http.MethodPost, "/api/v1/alertmanager", map[string]any{
			"version": "4", "status": "firing", "receiver": "sms",
			"alerts": []map[string]any{{"status": "firing", "labels": map[string]string{"alertname": an.text, "instance": ai.text},
				"annotations": map[string]string{"summary": as.text}}}}))
		tk := x.add("API token name (CLI)", k)
		_, err := s.accounts.CreateToken(t.Context(), "cli:attack", tk.text, "read")
		tk.stored = err == nil

		// The console's forms.
		ccn, ccm, ccg := x.add("contact name (console)", k), x.add("contact memo (console)", k), x.add("contact's new group (console)", k)
		okAll([]*xssPayload{ccn, ccm, ccg}, con.form("/contacts", url.Values{"name": {ccn.text}, "memo": {ccm.text}, "phone": {nextPhone()}, "new_groups": {ccg.text}}))
		cg := x.add("group name (console)", k)
		ok(cg, con.form("/groups", url.Values{"name": {cg.text}}))
		ctn, ctt, cti := x.add("template name (console)", k), x.add("template text (console)", k), x.add("template title (console)", k)
		okAll([]*xssPayload{ctn, ctt, cti}, con.form("/templates", url.Values{"name": {ctn.text}, "text": {ctt.text}, "title": {cti.text}}))
		if !cti.stored {
			okAll([]*xssPayload{ctn, ctt}, con.form("/templates", url.Values{"name": {ctn.text}, "text": {ctt.text}}))
		}
		cmt, cmi := x.add("message text (console send)", k), x.add("message title (console send)", k)
		okAll([]*xssPayload{cmt, cmi}, con.form("/send", url.Values{"to": {"01012345678"}, "text": {cmt.text}, "title": {cmi.text}, "confirmed": {"1"}}))
		if !cmi.stored {
			ok(cmt, con.form("/send", url.Values{"to": {"01012345678"}, "text": {cmt.text}, "confirmed": {"1"}}))
		}
		csm := x.add("silence comment (console)", k)
		ok(csm, con.form("/silences", url.Values{"for": {"1h"}, "check": {checks[0].Name}, "comment": {csm.text}}))
		ctk := x.add("API token name (console settings)", k)
		ok(ctk, con.form("/settings/tokens", url.Values{"name": {ctk.text}, "scope": {"read"}}))
	}
	for _, k := range xssUserKinds {
		u := x.add("user name (CLI)", k)
		_, err := s.accounts.AddUser(t.Context(), "cli:attack", u.text, "viewer", password)
		u.stored = err == nil
		cu := x.add("user name (console settings)", k)
		ok(cu, con.form("/settings/users", url.Values{"name": {cu.text}, "role": {"viewer"}, "password": {password}, "password2": {password}}))
	}
	// Let the checks fire and the alerts be stored.
	waitFor(t, 15*time.Second, "incidents of the config checks", func() bool {
		n := 0
		for _, inc := range s.a.Shown.Engine().Incidents(true) {
			if inc.Check == checks[0].Name || inc.Check == checks[1].Name {
				n++
			}
		}
		return n == 2
	})

	// Where the payloads come back as data, they must not be served as a
	// page: JSON, CSV and metrics, with nosniff.
	var mislabeled []string
	dataResponses, dataWithPayloads := 0, 0
	for _, d := range []struct {
		c    *client
		path string
	}{
		{api, "/api/v1/contacts"}, {api, "/api/v1/groups"}, {api, "/api/v1/templates"}, {api, "/api/v1/messages"},
		{api, "/api/v1/checks"}, {api, "/api/v1/incidents?open=false"}, {api, "/api/v1/silences"}, {api, "/metrics"},
		{con, "/contacts/export"}, {con, "/contacts/export?format=json"},
	} {
		r := d.c.get(d.path)
		dataResponses++
		if alertCall.MatchString(r.body) {
			dataWithPayloads++
		}
		ct := r.header.Get("Content-Type")
		if r.status != http.StatusOK || strings.HasPrefix(ct, "text/html") || r.header.Get("X-Content-Type-Options") != "nosniff" {
			mislabeled = append(mislabeled, fmt.Sprintf("GET %s: %d, Content-Type %q, X-Content-Type-Options %q",
				d.path, r.status, ct, r.header.Get("X-Content-Type-Options")))
		}
	}

	b := newBrowser(t, s.url)
	var results []pageResult
	visit := func(what, path string, act chromedp.Action[chromedp.Void]) {
		t.Helper()
		results = append(results, b.open(what, path, act))
	}

	// The detectors work: a page without CSP that runs the same strings
	// opens a dialog and shows the injected element.
	control := b.open("control: a page without CSP", "data:text/html,"+url.PathEscape(`<p>control</p><img class=xss src=x onerror=alert(-1)>`), nil)
	if len(control.dialogs) == 0 || len(control.injected) == 0 {
		t.Fatalf("the detectors saw nothing on a page that runs a payload: dialogs %v, injected %v", control.dialogs, control.injected)
	}
	// Signed out: the login page, with a payload in ?next= and in the name
	// typed into a failed login.
	rn, rl := x.add("login ?next= (reflected)", xssKinds[1]), x.add("login name, failed login (form)", xssKinds[1])
	rn.text = "/" + rn.text // a path: what ?next= keeps
	rn.stored, rn.echo, rl.stored, rl.echo = true, true, true, true
	visit("/login?next= (signed out)", "/login?next="+url.QueryEscape(rn.text), nil)
	visit("failed login with a payload as name (signed out)", "/login", chromedp.Steps(
		chromedp.SetValue(chromedp.CSS("#name"), rl.text), chromedp.SetValue(chromedp.CSS("#password"), "not the password"),
		submit("#login-submit")))
	b.login("kim", password)

	// CSP: inline script injected into a console page does not run.
	cspControl := b.open("CSP: inline script and handler injected into /account", "/account", chromedp.Evaluate[chromedp.Void](
		`(() => { const d = document.createElement("div"); d.innerHTML = '<img src=x onerror="alert(-2)">';
		document.body.appendChild(d); const s = document.createElement("script"); s.textContent = "alert(-3)";
		document.body.appendChild(s); })()`))

	// Every page, and every object's own page.
	visitAll := func(as string) {
		pages := []string{"/", "/balance", "/send", "/contacts", "/contacts/new", "/contacts/import", "/templates", "/templates/new",
			"/history", "/checks", "/settings", "/audit", "/account"}
		for _, p := range pages {
			visit(p+as, p, nil)
		}
		ctx := t.Context()
		cs, err := s.a.Store.ListContacts(ctx, "", 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cs {
			visit("/contacts/{id}"+as, fmt.Sprintf("/contacts/%d", c.ID), nil)
		}
		ts, err := s.a.Store.ListTemplates(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, tp := range ts {
			visit("/templates/{id}"+as, fmt.Sprintf("/templates/%d", tp.ID), nil)
		}
		ms, err := s.a.Store.ListMessages(ctx, storeAll)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			visit("/messages/{id}"+as, fmt.Sprintf("/messages/%d", m.ID), nil)
		}
		for _, st := range s.a.Shown.Engine().Checks() {
			visit("/checks/{name}?host="+as, "/checks/"+url.PathEscape(st.Check)+"?host="+url.QueryEscape(st.Host), nil)
		}
		for _, inc := range s.a.Shown.Engine().Incidents(false) {
			visit("/incidents/{id}"+as, "/incidents/"+url.PathEscape(inc.ID), nil)
		}
	}
	visitAll("")
	// Reflected: payloads in URLs.
	reflected := func(what string, path func(p string) string) {
		p := x.add(what+" (reflected)", xssKinds[1])
		p.stored, p.echo = true, true
		visit(what, path(p.text), nil)
	}
	reflected("/contacts?q=", func(p string) string { return "/contacts?q=" + url.QueryEscape(p) })
	reflected("/history?q=", func(p string) string { return "/history?q=" + url.QueryEscape(p) })
	reflected("/history?phone=", func(p string) string { return "/history?phone=" + url.QueryEscape(p) })
	reflected("/history?from=", func(p string) string { return "/history?from=" + url.QueryEscape(p) })
	reflected("/?ok=", func(p string) string { return "/?ok=" + url.QueryEscape(p) })
	reflected("/checks/{name} of no check", func(p string) string { return "/checks/" + url.PathEscape(p) + "?host=" + url.QueryEscape(p) })
	reflected("/messages/{id} not a number", func(p string) string { return "/messages/" + url.PathEscape(p) })
	reflected("a path that does not exist", func(p string) string { return "/" + url.PathEscape(p) })
	reflected("/ack/{token} (one-time link page)", func(p string) string { return "/ack/" + url.PathEscape(p) })
	reflected("/contacts/new?group=", func(p string) string { return "/contacts/new?group=" + url.QueryEscape(p) })
	// Forms that show back what was typed.
	form := func(what string, kind func(int) string) *xssPayload {
		p := x.add(what+" (form)", kind)
		p.stored, p.echo = true, true
		return p
	}
	ft := form("send: a recipient that is no number", xssKinds[1])
	visit("send form with a bad recipient", "/send", chromedp.Steps(
		chromedp.SetValue(chromedp.CSS("#to"), ft.text), chromedp.SetValue(chromedp.CSS("#text"), "x"), submit("#send-button")))
	fn, fp := form("contact form: name", xssKinds[0]), form("contact form: a phone that is no number", xssKinds[1])
	visit("contact form with a bad phone", "/contacts/new", chromedp.Steps(
		chromedp.SetValue(chromedp.CSS("#contact-name"), fn.text), chromedp.SetValue(chromedp.CSS("#contact-phone"), fp.text),
		submit("#contact-save")))
	pn, pt := form("template preview: name", xssKinds[3]), form("template preview: text", xssKinds[1])
	visit("template preview", "/templates/new", chromedp.Steps(
		chromedp.SetValue(chromedp.CSS("#template-name"), pn.text), chromedp.SetValue(chromedp.CSS("#text"), pt.text),
		submit("#template-preview")))
	in, ip, ig := form("import: name", xssKinds[0]), form("import: a phone that is no number", xssKinds[1]), form("import: group", xssKinds[3])
	var book strings.Builder
	w := csv.NewWriter(&book)
	_ = w.WriteAll([][]string{{"name", "phone", "memo", "groups"}, {in.text, "01077770001", ip.text, ig.text}, {in.text, ip.text, "", ""}})
	bookFile := filepath.Join(t.TempDir(), "book.csv")
	if err := os.WriteFile(bookFile, []byte(book.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	visit("contact import with payload rows", "/contacts/import", chromedp.Steps(
		chromedp.SetUploadFiles(chromedp.CSS("#import-file"), []string{bookFile}), submit("#import-submit")))
	// A viewer's pages differ (no forms, links redacted): long version.
	if report.Full() {
		b.logout()
		b.login("lee", password)
		visitAll(" (as viewer)")
	}

	// What the pages showed.
	seen := map[int]bool{}
	var dialogs, injected, expanded, weakCSP, consoleErrs []string
	cspBlocked := 0
	for _, r := range results {
		for _, n := range r.seen {
			seen[n] = true
		}
		for _, d := range r.dialogs {
			dialogs = append(dialogs, fmt.Sprintf("%s (%s): alert(%s) — %s", r.what, r.path, d, placeOf(x, d)))
		}
		for _, i := range r.injected {
			injected = append(injected, fmt.Sprintf("%s (%s): %s", r.what, r.path, i))
		}
		for _, e := range r.expanded {
			expanded = append(expanded, fmt.Sprintf("%s (%s): %s", r.what, r.path, e))
		}
		if r.cspProblem != "" {
			weakCSP = append(weakCSP, fmt.Sprintf("%s (%s): %s", r.what, r.path, r.cspProblem))
		}
		cspBlocked += r.cspViolations
		for _, e := range r.errors {
			consoleErrs = append(consoleErrs, fmt.Sprintf("%s (%s): %s", r.what, r.path, e))
		}
	}
	stored, refused, shown := 0, 0, 0
	var unseen, refusedList, notEchoed []string
	places := map[string]bool{}
	for _, p := range x.payloads {
		p.seen = seen[p.n]
		places[strings.TrimSuffix(p.place, " (reflected)")] = true
		switch {
		case !p.stored:
			refused++
			refusedList = append(refusedList, fmt.Sprintf("%s: `%s`", p.place, p.text))
		case p.seen:
			stored++
			shown++
		default:
			stored++
			if !p.echo {
				unseen = append(unseen, fmt.Sprintf("%d %s: %q", p.n, p.place, p.text))
			} else {
				notEchoed = append(notEchoed, p.place)
			}
		}
	}
	for _, d := range b.lostDialogs {
		dialogs = append(dialogs, fmt.Sprintf("between pages: alert(%s) — %s", d, placeOf(x, d)))
	}
	cspOK := len(cspControl.dialogs) == 0 && cspControl.cspViolations > 0

	rows := [][]string{
		{"what", "count"},
		{"places text was put (stored, reflected, forms)", strconv.Itoa(len(places))},
		{"payloads sent", strconv.Itoa(len(x.payloads))},
		{"… refused by validation (nothing stored)", strconv.Itoa(refused)},
		{"… accepted, and shown as text on a visited page", strconv.Itoa(shown)},
		{"pages opened in Chromium", strconv.Itoa(len(results))},
		{"**JavaScript dialogs opened (must be 0)**", "**" + strconv.Itoa(len(dialogs)) + "**"},
		{"**injected elements, event handlers or javascript: URLs in the DOM (must be 0)**", "**" + strconv.Itoa(len(injected)) + "**"},
		{"**template actions expanded (must be 0)**", "**" + strconv.Itoa(len(expanded)) + "**"},
		{"**console pages without a CSP that blocks inline script (must be 0)**", "**" + strconv.Itoa(len(weakCSP)) + "**"},
		{"CSP violations reported by Chromium on the visited pages", strconv.Itoa(cspBlocked)},
		{fmt.Sprintf("**API, export and metrics responses (%d, %d carrying payloads) served as HTML or without nosniff (must be 0)**",
			dataResponses, dataWithPayloads), "**" + strconv.Itoa(len(mislabeled)) + "**"},
		{"other console errors", strconv.Itoa(len(consoleErrs))},
	}
	var placeList []string
	for p := range places {
		placeList = append(placeList, p)
	}
	slices.Sort(placeList)
	body := fmt.Sprintf(`Command: %s

Attack strings (each calls alert(N) with its own N if it runs; most mark the elements they would
add with class xss): %s. User and check names allow no space or '/', so they get %s.
They were put, through the API, the console's forms, the CLI's service, the config, an agent
report and an Alertmanager webhook, in: %s.
Then headless Chromium (%s) opened every console page as the admin (in the long version
as a viewer too) — lists, each contact, template, message, check and incident — plus the
signed-out login page, payloads in URLs and in
forms that show back what was typed, with a listener for JavaScript dialogs and the console. On
each page the DOM is searched for elements of class xss, on* attributes, javascript: URLs and
inline scripts, and the text for an expanded TPL[{{.}}]. The API's lists, the address book
export and /metrics, which carry the same strings as data, are checked for their Content-Type.

Controls: a page without CSP that carries one of the strings opened %d dialog(s) and showed %d
injected element(s) — the detectors see an attack that runs. An inline script and an inline
event handler injected into /account through the DOM: %d dialogs, %d CSP violations reported (CSP
blocks inline script: %v).

%s`, "`go test ./reliability/attack -run TestXSS -args -full`",
		"`<script class=xss>alert(N)</script>`, `\"><img class=xss src=x onerror=alert(N)>`, `javascript:alert(N)`, `'><svg onload=alert(N)>TPL[{{.}}]`",
		"`x\"class=\"xss\"autofocus=\"1\"onfocus=\"alert(N)\"`, `<script>alert(N)<!--`, `TPL[{{.}}]alert(N)`",
		strings.Join(placeList, "; "), chromiumPath, len(control.dialogs), len(control.injected),
		len(cspControl.dialogs), cspControl.cspViolations, cspOK, report.Table(rows))
	list := func(title string, items []string) {
		if len(items) > 0 {
			body += "\n" + title + ":\n\n- " + strings.Join(items, "\n- ") + "\n"
		}
	}
	list("Refused by validation (so never stored)", refusedList)
	list("Sent in a URL or form but not shown back by the page (nothing to escape)", notEchoed)
	list("Dialogs", dialogs)
	list("Injected", injected)
	list("Template actions expanded", expanded)
	list("Pages without a CSP that blocks inline script", weakCSP)
	list("Console errors", consoleErrs)
	list("Data served as a page", mislabeled)
	body += "\nTook " + report.Since(start) + "."
	report.Section(t, "attack-3-xss", "Attack 3: stored and reflected XSS in the console", body)

	for _, d := range dialogs {
		t.Errorf("SECURITY: a JavaScript dialog opened: %s", d)
	}
	for _, i := range injected {
		t.Errorf("SECURITY: injected into the page: %s", i)
	}
	for _, e := range expanded {
		t.Errorf("SECURITY: a template action in user text was expanded: %s", e)
	}
	for _, w := range weakCSP {
		t.Errorf("SECURITY: %s", w)
	}
	for _, m := range mislabeled {
		t.Errorf("SECURITY: data that carries user text served as a page: %s", m)
	}
	if !cspOK {
		t.Errorf("SECURITY: inline script injected into /account: %d dialogs, %d CSP violations (want 0 and some)", len(cspControl.dialogs), cspControl.cspViolations)
	}
	for _, u := range unseen {
		t.Errorf("an accepted payload was shown on no visited page (the scenario does not test it): %s", u)
	}
}

// placeOf names the payload a dialog's message (its N) belongs to.
func placeOf(x *xssRun, msg string) string {
	n, err := strconv.Atoi(msg)
	if err != nil || n < 1 || n > len(x.payloads) {
		return "not one of the payloads"
	}
	p := x.payloads[n-1]
	return fmt.Sprintf("%s: %q", p.place, p.text)
}

// submit clicks a form's button and waits for the next page.
func submit(button string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.Evaluate[chromedp.Void](`window.__before = 1`),
		chromedp.Click(chromedp.CSS(button)),
		waitJS(`window.__before === undefined && document.readyState === "complete"`),
	)
}

// waitJS waits until expr is true, asking again while the page's
// JavaScript context comes and goes (a navigation, a dialog).
func waitJS(expr string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		deadline := time.Now().Add(20 * time.Second)
		for {
			ok, err := chromedp.Evaluate[bool](expr)(ctx, t)
			if err == nil && ok {
				return nil
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("%s not true after 20 s (last error: %v)", expr, err)
			}
			time.Sleep(30 * time.Millisecond)
		}
	})
}

const chromiumPath = "/usr/bin/chromium"

// xssBrowser is a headless Chromium with one tab, whose JavaScript
// dialogs are answered (and counted) and whose console is read, for the
// page open at the time.
type xssBrowser struct {
	t    *testing.T
	ctx  context.Context
	base string

	mu  sync.Mutex
	cur *pageResult // the page being inspected; nil between pages
	// lost are dialogs and console messages seen between pages.
	lostDialogs []string
}

// newBrowser starts Chromium the way console/browser_test.go does (no
// browser download; skipped without /usr/bin/chromium except under CI).
func newBrowser(t *testing.T, base string) *xssBrowser {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is missing (CI installs Debian's chromium package): %v", chromiumPath, err)
		}
		t.Skipf("browser scenario skipped: %s not installed (apt-get install chromium)", chromiumPath)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("lang", "ko-KR"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	var wg sync.WaitGroup
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
		wg.Wait()
	})
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start %s: %v", chromiumPath, err)
	}
	b := &xssBrowser{t: t, ctx: ctx, base: base}
	dialogs := chromedp.Events(ctx, page.JavascriptDialogOpening)
	console := chromedp.Console(ctx)
	wg.Go(func() {
		for ev, err := range dialogs {
			if err != nil {
				return
			}
			b.mu.Lock()
			if b.cur != nil {
				b.cur.dialogs = append(b.cur.dialogs, ev.Message)
			} else {
				b.lostDialogs = append(b.lostDialogs, ev.Message)
			}
			b.mu.Unlock()
			// Answer it, or the page stays blocked.
			go func() {
				_, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
			}()
		}
	})
	wg.Go(func() {
		for m, err := range console {
			if err != nil {
				return
			}
			b.mu.Lock()
			if r := b.cur; r != nil {
				switch {
				case strings.Contains(m.Text, "Content Security Policy"):
					r.cspViolations++
				case m.Type == chromedp.ConsoleError || m.IsException():
					r.console = append(r.console, m)
				}
			}
			b.mu.Unlock()
		}
	})
	return b
}

func (b *xssBrowser) login(name, pw string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(b.base+"/login"),
		chromedp.SetValue(chromedp.CSS("#name"), name), chromedp.SetValue(chromedp.CSS("#password"), pw),
		chromedp.Click(chromedp.CSS("#login-submit")), chromedp.WaitVisible(chromedp.CSS("#me"))); err != nil {
		b.t.Fatalf("browser login: %v", err)
	}
}

func (b *xssBrowser) logout() {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(b.base+"/account"), chromedp.Click(chromedp.CSS("#logout")),
		chromedp.WaitVisible(chromedp.CSS("#login-form"))); err != nil {
		b.t.Fatalf("browser logout: %v", err)
	}
}

// pageResult is what one page showed.
type pageResult struct {
	what, path    string
	status        int64
	dialogs       []string // their messages
	injected      []string
	seen          []int    // payloads shown as text
	expanded      []string // TPL[{{.}}] markers that are not
	cspProblem    string
	cspViolations int
	console       []chromedp.ConsoleMessage // errors
	errors        []string                  // console errors but the page's own status
}

// inspectJS lists what a payload that ran or was parsed as markup would
// have left in the DOM, and the page's text (with form values).
const inspectJS = `(() => {
  const injected = [];
  const urls = ["href", "src", "action", "formaction", "xlink:href", "data", "srcdoc"];
  for (const el of document.querySelectorAll("*")) {
    const tag = el.tagName.toLowerCase();
    if (el.classList && el.classList.contains("xss")) injected.push("<" + tag + " class=xss>");
    for (const a of el.attributes) {
      const n = a.name.toLowerCase(), v = a.value.replace(/\s+/g, "").toLowerCase();
      if (n.startsWith("on")) injected.push("<" + tag + "> " + n + "=" + a.value.slice(0, 80));
      if (urls.includes(n) && (v.startsWith("javascript:") || v.startsWith("data:text/html"))) injected.push("<" + tag + "> " + n + "=" + a.value.slice(0, 80));
    }
    if (tag === "script" && !el.src) injected.push("inline <script>: " + el.textContent.slice(0, 80));
    if (tag === "script" && el.src && new URL(el.src).origin !== location.origin) injected.push("<script src=" + el.src + ">");
    if (["iframe", "frame", "object", "embed", "base"].includes(tag)) injected.push("<" + tag + ">");
    if (tag === "meta" && (el.getAttribute("http-equiv") || "").toLowerCase() === "refresh") injected.push("<meta http-equiv=refresh>");
  }
  let text = document.body ? document.body.innerText : "";
  for (const el of document.querySelectorAll("input, textarea, option")) {
    text += "\n" + el.value;
    for (const k in el.dataset) text += "\n" + el.dataset[k];
  }
  return {injected, text, url: location.href};
})()`

type inspection struct {
	Injected []string `json:"injected"`
	Text     string   `json:"text"`
	URL      string   `json:"url"`
}

var alertCall = regexp.MustCompile(`alert\((-?\d+)\)`)

// open opens path (after the base URL, or a data: URL), runs act (which
// may submit a form), and inspects the page it ends on.
func (b *xssBrowser) open(what, path string, act chromedp.Action[chromedp.Void]) pageResult {
	b.t.Helper()
	res := &pageResult{what: what, path: path}
	b.mu.Lock()
	b.cur = res
	b.mu.Unlock()
	ctx, cancel := context.WithTimeout(b.ctx, 60*time.Second)
	defer cancel()
	u := path
	if !strings.HasPrefix(u, "data:") {
		u = b.base + path
	}
	resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(u))
	if err != nil {
		b.t.Fatalf("%s: open %s: %v", what, path, err)
	}
	if resp != nil {
		res.status = resp.Status
		if !strings.HasPrefix(u, "data:") && strings.HasPrefix(resp.MimeType, "text/html") {
			res.cspProblem = cspProblem(resp.Headers)
		}
	}
	if act != nil {
		if err := chromedp.Do(ctx, act); err != nil {
			b.t.Fatalf("%s: on %s: %v", what, path, err)
		}
	}
	// Wait for the load event (images that fail fire onerror before it),
	// then a moment for handlers and the console.
	if err := chromedp.Do(ctx, waitJS(`document.readyState === "complete"`), chromedp.Sleep(50*time.Millisecond)); err != nil {
		b.t.Fatalf("%s: wait for %s: %v", what, path, err)
	}
	insp, err := chromedp.Run(ctx, chromedp.Evaluate[inspection](inspectJS))
	if err != nil {
		b.t.Fatalf("%s: inspect %s: %v", what, path, err)
	}
	b.mu.Lock()
	b.cur = nil
	b.mu.Unlock()
	res.injected = insp.Injected
	for _, m := range alertCall.FindAllStringSubmatch(insp.Text, -1) {
		n, _ := strconv.Atoi(m[1])
		res.seen = append(res.seen, n)
	}
	res.expanded = expandedMarkers(insp.Text)
	for _, m := range res.console {
		// The page's own 4xx status and the browser's favicon request are
		// no errors of the page.
		if u, _, _ := strings.Cut(m.URL, "?"); m.Source == "network" && (u == strings.SplitN(insp.URL, "?", 2)[0] || strings.HasSuffix(u, "/favicon.ico")) {
			continue
		}
		res.errors = append(res.errors, m.Text+" "+m.URL)
	}
	return *res
}

// expandedMarkers finds TPL[ not followed by {{.}}] (or a cut-off of it,
// ending in "…" where a list shortens a long text).
func expandedMarkers(text string) []string {
	var out []string
	for rest := text; ; {
		i := strings.Index(rest, "TPL[")
		if i < 0 {
			return out
		}
		rest = rest[i+len("TPL["):]
		after := rest[:min(len(rest), len("{{.}}]"))]
		cut, _, shortened := strings.Cut(after, "…")
		if shortened {
			after = cut
		}
		if !strings.HasPrefix("{{.}}]", after) || after == "" && !shortened {
			out = append(out, "TPL["+rest[:min(len(rest), 30)])
		}
	}
}

// cspProblem says what is wrong with a console page's CSP, "" when it
// blocks inline script: script-src (or default-src) present and without
// 'unsafe-inline', 'unsafe-eval', wildcards, data: or whole schemes.
func cspProblem(h map[string]any) string {
	csp := ""
	for k, v := range h {
		if strings.EqualFold(k, "Content-Security-Policy") {
			csp = fmt.Sprint(v)
		}
	}
	if csp == "" {
		return "no Content-Security-Policy header"
	}
	dirs := map[string][]string{}
	for d := range strings.SplitSeq(csp, ";") {
		f := strings.Fields(d)
		if len(f) > 0 {
			dirs[strings.ToLower(f[0])] = f[1:]
		}
	}
	src, ok := dirs["script-src"]
	if !ok {
		src, ok = dirs["default-src"]
	}
	if !ok {
		return "CSP " + strconv.Quote(csp) + " has neither script-src nor default-src"
	}
	for _, s := range src {
		switch strings.ToLower(s) {
		case "'unsafe-inline'", "'unsafe-eval'", "*", "data:", "http:", "https:", "blob:":
			return "CSP " + strconv.Quote(csp) + " allows " + s
		}
	}
	return ""
}
