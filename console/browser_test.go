package console

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/munja-sms/munja/agent"
	"github.com/munja-sms/munja/auth"
	"github.com/munja-sms/munja/check"
	"github.com/munja-sms/munja/config"
	"github.com/munja-sms/munja/store"
)

// The browser tests drive the real console in Debian's headless Chromium
// over the DevTools protocol (chromedp; no browser download). Without
// /usr/bin/chromium they skip, except under CI, where the Makefile
// installs it and a missing browser is a failure.

const chromiumPath = "/usr/bin/chromium"

// newBrowser starts a fresh headless Chromium for the test.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is missing (CI installs Debian's chromium package): %v", chromiumPath, err)
		}
		t.Skipf("browser test skipped: %s not installed (apt-get install chromium)", chromiumPath)
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
	ctx, cancelTimeout := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(func() {
		cancelTimeout()
		cancel()
		cancelAlloc()
	})
	// Start the browser now, so a broken install fails here.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start %s: %v", chromiumPath, err)
	}
	return ctx
}

// browser wraps the steps of a scenario with test failures.
type browser struct {
	t   *testing.T
	ctx context.Context
	url string
}

func (b *browser) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

func (b *browser) open(path string) {
	b.t.Helper()
	b.do("open "+path, chromedp.Navigate(b.url+path), chromedp.WaitReady(chromedp.CSS("main")))
}

// waitText waits until the element's text contains want.
func (b *browser) waitText(sel, want string) {
	b.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var last string
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(b.ctx, 2*time.Second)
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		cancel()
		if err == nil && strings.Contains(s, want) {
			return
		}
		last = s
		time.Sleep(100 * time.Millisecond)
	}
	b.t.Fatalf("%s never showed %q; last text %q", sel, want, last)
}

func (b *browser) login(name, pw string) {
	b.t.Helper()
	b.open("/login")
	b.do("log in",
		chromedp.SendKeys(chromedp.CSS("#name"), name),
		chromedp.SendKeys(chromedp.CSS("#password"), pw),
		chromedp.Click(chromedp.CSS("#login-submit")),
		chromedp.WaitVisible(chromedp.CSS("#me")),
	)
}

func TestBrowserScenario(t *testing.T) {
	ctx := newBrowser(t)
	h := newHarness(t, harnessOpts{engine: true, dispatcher: true, perDay: 1000})
	h.addUser("kim", auth.RoleAdmin, adminPW)
	b := &browser{t: t, ctx: ctx, url: h.srv.URL}

	// Log in; a wrong password first.
	b.open("/login")
	b.do("wrong password", chromedp.SendKeys(chromedp.CSS("#name"), "kim"),
		chromedp.SendKeys(chromedp.CSS("#password"), "not the password"),
		chromedp.Click(chromedp.CSS("#login-submit")), chromedp.WaitVisible(chromedp.CSS("#login-error")))
	b.login("kim", adminPW)
	b.waitText("#dryrun", "드라이런")

	// A group, then contacts in it.
	b.open("/contacts")
	b.do("create group", chromedp.SendKeys(chromedp.CSS("#group-name"), "ops"),
		chromedp.Click(chromedp.CSS("#group-create")), chromedp.WaitVisible(chromedp.CSS("#flash")))
	b.waitText("#groups", "ops")
	for _, c := range []struct{ name, phone string }{{"홍길동", "010-9927-1179"}, {"김철수", "01012345678"}} {
		b.open("/contacts/new")
		b.do("add contact "+c.name,
			chromedp.SendKeys(chromedp.CSS("#contact-name"), c.name),
			chromedp.SendKeys(chromedp.CSS("#contact-phone"), c.phone),
			chromedp.Click(chromedp.CSS(`input[name="group"][value="ops"]`)),
			chromedp.Click(chromedp.CSS("#contact-save")),
			chromedp.WaitVisible(chromedp.CSS("#contacts")))
	}
	b.waitText("#contacts", "010-9927-1179")
	b.waitText("#groups", "2명")

	// Send to the group: the counter follows the Korean text.
	b.open("/send")
	b.do("pick group", chromedp.Click(chromedp.CSS(`#groups input[value="ops"]`)))
	b.waitText("#recipient-summary", "수신자 2명")
	b.do("type", chromedp.SendKeys(chromedp.CSS("#text"), "서버 점검 안내"))
	b.waitText("#counter", "14 / 90 byte")
	b.waitText("#kind", "SMS")
	if vis, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById("title-row").hidden`)); !vis {
		t.Fatal("title field shown for an SMS")
	}
	b.do("type more", chromedp.SendKeys(chromedp.CSS("#text"), strings.Repeat(" 오늘 밤 열 시부터 점검합니다.", 4)))
	b.waitText("#counter", "LMS (최대 2,000 byte)")
	b.waitText("#kind", "LMS")
	b.waitText("#recipient-summary", "문자 2건 (LMS)")
	b.do("title", chromedp.WaitVisible(chromedp.CSS("#title")), chromedp.SendKeys(chromedp.CSS("#title"), "점검 안내"))
	// A character CP949 cannot carry is flagged before sending.
	b.do("emoji", chromedp.SendKeys(chromedp.CSS("#text"), "✔"))
	b.waitText("#char-error", "'✔'")
	b.do("remove emoji", chromedp.SendKeys(chromedp.CSS("#text"), "\b"))
	if hidden, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById("char-error").hidden`)); !hidden {
		t.Fatal("char error still shown")
	}
	// Every send is confirmed first, with its summary.
	b.do("send", chromedp.Click(chromedp.CSS("#send-button")), chromedp.WaitVisible(chromedp.CSS("#confirm")))
	b.waitText("#confirm-count", "2명 · 문자 2건")
	b.waitText("#confirm-kind", "LMS")
	b.waitText("#confirm-test", "아니오")
	b.waitText("#confirm-when", "지금")
	b.do("confirm", chromedp.Click(chromedp.CSS("#confirm-send")), chromedp.WaitVisible(chromedp.CSS("#deliveries")))
	b.waitText("#flash", "발송 대기열에 넣었습니다")
	b.waitText("#deliveries", "010-9927-1179")
	b.waitText("#deliveries", "홍길동")
	b.open("/history")
	b.waitText("#history", "서버 점검 안내")
	b.waitText("#history", "LMS")
	if n := h.messages(); n != 1 {
		t.Fatalf("%d messages stored", n)
	}

	// Import the original address book.
	abs, err := filepath.Abs("testdata/address_book.json")
	if err != nil {
		t.Fatal(err)
	}
	b.open("/contacts/import")
	b.do("import", chromedp.SetUploadFiles(chromedp.CSS("#import-file"), []string{abs}),
		chromedp.Click(chromedp.CSS("#import-submit")), chromedp.WaitVisible(chromedp.CSS("#import-result")))
	b.waitText("#import-result", "새 연락처 1명, 갱신 2명")
	b.open("/contacts")
	b.waitText("#contacts", "이영희")

	// Acknowledge the firing incident from the dashboard.
	b.open("/")
	b.waitText("#incidents", "httpd")
	b.do("ack", chromedp.Click(chromedp.CSS("button.ack")), chromedp.WaitVisible(chromedp.CSS("#flash")))
	b.waitText("#incidents", "kim")
	if inc := h.engine.Incidents(true); len(inc) != 1 || inc[0].AckedBy != "kim" {
		t.Fatalf("incident after ack: %+v", inc)
	}

	// Log out: the console is closed again.
	b.do("logout", chromedp.Click(chromedp.CSS("#logout")), chromedp.WaitVisible(chromedp.CSS("#login-form")))
	b.open("/history")
	b.do("back at login", chromedp.WaitVisible(chromedp.CSS("#login-form")))
}

// seedDemo fills the store with what the screenshots show.
func seedDemo(t *testing.T, h *harness, c *client) {
	t.Helper()
	people := []struct{ name, phone, memo, groups string }{
		{"홍길동", "010-9927-1179", "서버 담당", "ops"}, {"김철수", "010-1234-5678", "DB", "ops, db"},
		{"이영희", "010-5678-1234", "", "ops"}, {"박민수", "010-2222-3333", "야간 당직", "night"},
	}
	for _, p := range people {
		c.post("/contacts", map[string][]string{"name": {p.name}, "phone": {p.phone}, "memo": {p.memo}, "new_groups": {p.groups}}).
			mustStatus(t, 303)
	}
	c.post("/templates", map[string][]string{"name": {"점검 공지"}, "text": {"[공지] 오늘 22:00부터 서버 점검이 있습니다."}}).mustStatus(t, 303)
	c.post("/templates", map[string][]string{"name": {"복구 안내"}, "text": {"[복구] 서비스가 정상화되었습니다. 이용에 불편을 드려 죄송합니다."}}).mustStatus(t, 303)
	for i, text := range []string{"[경고] httpd 프로세스가 동작하지 않습니다.", "[복구] httpd 프로세스가 다시 동작합니다.", "점심 회의는 1시입니다."} {
		c.post("/send", map[string][]string{"to": {fmt.Sprintf("010-9927-117%d", i)}, "group": {"db"}, "text": {text}, "confirmed": {"2"}}).mustStatus(t, 303)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(c.get("/history").body, "발송됨") && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
}

// historyChecks are the checks the history pages show besides the
// harness's: an http check with 30 days of history.
var historyChecks = []config.Check{{Name: "web", Type: "http", URL: "https://www.example.co.kr/health"}}

// demoWeb is webHistory with a latency that rises and falls over the day.
func demoWeb(k int) (store.CheckSample, bool) {
	s, skip := webHistory(k)
	if s.LatencyN > 0 && k != 50 {
		wave := 1 + 0.3*math.Sin(2*math.Pi*float64(k)/1440) + 0.08*math.Sin(float64(k)/7)
		s.LatencySum = time.Duration(float64(s.LatencySum) * wave)
		s.LatencyMax = time.Duration(float64(s.LatencySum) / float64(s.LatencyN) * (1.5 + 0.3*math.Sin(float64(k)/11)))
	}
	return s, skip
}

// seedHistory writes the history the history pages show, ending at end
// (the console's clock's minute), and has two agents report: web01 now,
// db1 silent for nine minutes. full adds 30 days of httpd and web-port
// and a week of web01's api (for the screenshots).
func seedHistory(t *testing.T, h *harness, end time.Time, full bool) {
	t.Helper()
	writeHistory(t, h.st, "web", "", end, 30*24*60, demoWeb, webChanges(end)...)
	now := time.Now()
	for i := range 40 {
		at := now.Add(time.Duration(i-40) * 15 * time.Second)
		web := check.Result{Check: "web", OK: true, At: at, Duration: 40 * time.Millisecond, Detail: "HTTP 200, 40ms", DetailKo: "HTTP 200, 40ms",
			Firing: "[경고] web 응답이 없습니다.", Resolved: "[복구] web 응답이 다시 옵니다."}
		if i == 12 {
			web.OK, web.Detail, web.DetailKo = false, "HTTP 502 (want 200), 12ms", "HTTP 502 (기대 200), 12ms"
		}
		h.engine.Observe(web)
		h.engine.Observe(check.Result{Check: "api", Host: "web01", OK: true, At: at, Duration: 120 * time.Millisecond})
		h.engine.Observe(check.Result{Check: "disk", Host: "web01", OK: i < 30 || i > 35, At: at, Detail: "/ 71% used", DetailKo: "/ 71% 사용"})
		if i == 12 || i == 13 { // the alert and its recovery are sent
			if err := h.engine.Flush(h.ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, r := range []check.Result{
		{Check: agent.LivenessCheck, Host: "web01", OK: true, At: now.Add(-5 * time.Second), Detail: "agent reported", DetailKo: "에이전트 보고 받음"},
		{Check: "mysql", Host: "db1", OK: true, At: now.Add(-10 * time.Minute)},
		{Check: agent.LivenessCheck, Host: "db1", OK: true, At: now.Add(-10 * time.Minute)},
		{Check: agent.LivenessCheck, Host: "db1", OK: false, At: now.Add(-9 * time.Minute), Firing: "[경고] munja agent 보고가 없습니다.",
			Detail: "no report for 1m0s (host down, network cut, or agent stopped)", DetailKo: "1분째 보고 없음 (호스트 중단, 네트워크 단절 또는 에이전트 중지)"},
	} {
		h.engine.Observe(r)
	}
	if err := h.engine.Flush(h.ctx); err != nil {
		t.Fatal(err)
	}
	if !full {
		return
	}
	every10 := func(failFrom int) minuteFn {
		return func(k int) (store.CheckSample, bool) {
			switch {
			case k < failFrom:
				return store.CheckSample{Failing: 6}, false
			case k%10 != 0:
				return store.CheckSample{}, true
			}
			return store.CheckSample{OK: 60}, false
		}
	}
	writeHistory(t, h.st, "httpd", "", end, 30*24*60, every10(3),
		store.CheckChange{At: end.Add(-30 * 24 * time.Hour), Status: store.CheckOK}, store.CheckChange{At: end.Add(-2 * time.Minute), Status: store.CheckFailing, Detail: "no process named httpd", DetailKo: "httpd 프로세스 없음 (0개, 최소 1개)"})
	writeHistory(t, h.st, "web-port", "", end, 30*24*60, every10(0), store.CheckChange{At: end.Add(-30 * 24 * time.Hour), Status: store.CheckOK})
	writeHistory(t, h.st, "api", "web01", end, 7*24*60, func(k int) (store.CheckSample, bool) {
		if k%10 != 0 {
			return store.CheckSample{}, true
		}
		s := ok1(time.Duration(100+(k*31)%60) * time.Millisecond)
		return s, false
	}, store.CheckChange{At: end.Add(-7 * 24 * time.Hour), Status: store.CheckOK})
	writeHistory(t, h.st, "disk", "web01", end, 24*60, func(k int) (store.CheckSample, bool) {
		if k == 1 || k == 2 {
			return store.CheckSample{Failing: 4, OK: 2}, false
		}
		return every10(0)(k)
	}, store.CheckChange{At: end.Add(-24 * time.Hour), Status: store.CheckOK})
}

// evalNum evaluates a JavaScript expression giving a number.
func (b *browser) evalNum(what, expr string) float64 {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[float64](expr))
	if err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
	return v
}

// TestBrowserHistory opens the check page over 30 days of history, the
// dashboard and the hosts page in Chromium: the SVG charts are drawn (with
// a size), the uptimes are there as text, and a phone-wide screen does
// not scroll sideways.
func TestBrowserHistory(t *testing.T) {
	t.Parallel()
	ctx := newBrowser(t)
	end := time.Now().Truncate(time.Minute)
	now := end.Add(30 * time.Second)
	h := newHarness(t, harnessOpts{engine: true, checks: historyChecks, now: func() time.Time { return now }})
	h.addUser("kim", auth.RoleViewer, adminPW)
	seedHistory(t, h, end, false)
	b := &browser{t: t, ctx: ctx, url: h.srv.URL}
	b.login("kim", adminPW)

	b.open("/checks/web")
	b.waitText("#uptimes", "99.71%")
	b.waitText("#uptimes", "98.96%")
	b.waitText("#uptimes", "96.97%")
	checkCharts := func(width float64) {
		t.Helper()
		if n := b.evalNum("timeline rects", `document.querySelectorAll("svg.timeline rect").length`); n != 8 {
			t.Errorf("%d timeline rectangles, want 8 (background and 7 periods)", int(n))
		}
		if w := b.evalNum("timeline width", `document.querySelector("svg.timeline").getBoundingClientRect().width`); w < width*0.6 || w > width {
			t.Errorf("timeline %.0f px wide in a %.0f px window", w, width)
		}
		for _, sel := range []string{"svg.timeline rect.tl-failing", "svg.timeline rect.tl-cannot_check", "svg.timeline rect.tl-nodata",
			"svg.latency path.lat-avg", "svg.latency path.lat-max"} {
			js := `(() => { const r = document.querySelector(%q).getBoundingClientRect(); return r.width * r.height })()`
			if area := b.evalNum(sel, fmt.Sprintf(js, sel)); area <= 0 {
				t.Errorf("%s has no area on screen", sel)
			}
		}
		if h := b.evalNum("latency height", `document.querySelector("svg.latency").getBoundingClientRect().height`); h < 150 {
			t.Errorf("latency chart %.0f px high", h)
		}
		if sw := b.evalNum("page width", `document.documentElement.scrollWidth`); sw > width {
			t.Errorf("the check page is %.0f px wide in a %.0f px window", sw, width)
		}
	}
	checkCharts(1280)
	b.waitText("#latency", "900 ms")
	b.do("7 days", chromedp.Click(chromedp.CSS("#range-7d")), chromedp.WaitVisible(chromedp.CSS("#range-7d.on")))
	b.waitText("#range-span", end.Add(30*time.Second-7*24*time.Hour).In(h.cfg.Location()).Format("2006-01-02 15:04"))

	b.open("/")
	b.waitText("#checks", "99.71%")
	if n := b.evalNum("bars", `Math.max(...[...document.querySelectorAll("#checks .bars")].map(b => b.children.length))`); n != 30 {
		t.Errorf("the longest bar holds %d results, want 30", int(n))
	}
	if w := b.evalNum("bar width", `document.querySelector("#checks .bars").getBoundingClientRect().width`); w <= 0 {
		t.Error("bars not drawn")
	}

	b.open("/hosts")
	if n := b.evalNum("hosts", `document.querySelectorAll("section.host").length`); n != 3 {
		t.Errorf("%d hosts, want 3", int(n))
	}
	b.waitText(`section.host[data-host="web01"]`, "보고 중")
	b.waitText(`section.host[data-host="db1"]`, "보고 끊김")

	// A phone.
	b.do("phone", chromedp.EmulateViewport(390, 844))
	b.open("/checks/web")
	checkCharts(390)
	b.open("/hosts")
	if sw := b.evalNum("hosts width", `document.documentElement.scrollWidth`); sw > 390 {
		t.Errorf("the hosts page is %.0f px wide on a phone", sw)
	}
}
