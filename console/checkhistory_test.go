package console

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/munja-sms/munja/agent"
	"github.com/munja-sms/munja/auth"
	"github.com/munja-sms/munja/check"
	"github.com/munja-sms/munja/config"
	"github.com/munja-sms/munja/sms"
	"github.com/munja-sms/munja/store"
)

// minuteFn says what a check found in the minute k minutes before the
// clock's minute: how many results of each outcome and their latency.
type minuteFn func(k int) (s store.CheckSample, skip bool)

// writeHistory stores a sample per minute for the minutes k = 0 … n-1
// before end (minute-aligned), in batches, plus changes.
func writeHistory(t testing.TB, st store.CheckHistory, name, host string, end time.Time, n int, f minuteFn, changes ...store.CheckChange) {
	t.Helper()
	var batch []store.CheckSample
	flush := func(ch []store.CheckChange) {
		if err := st.AddCheckHistory(t.Context(), batch, ch); err != nil {
			t.Fatal(err)
		}
		batch = batch[:0]
	}
	for k := n - 1; k >= 0; k-- {
		s, skip := f(k)
		if skip {
			continue
		}
		s.Check, s.Host, s.At = name, host, end.Add(-time.Duration(k)*time.Minute)
		batch = append(batch, s)
		if len(batch) == 20000 {
			flush(nil)
		}
	}
	for i := range changes {
		changes[i].Check, changes[i].Host = name, host
	}
	flush(changes)
}

func ok1(lat time.Duration) store.CheckSample {
	s := store.CheckSample{OK: 1}
	if lat > 0 {
		s.LatencyN, s.LatencySum, s.LatencyMax = 1, lat, lat
	}
	return s
}

// webHistory is 30 days of an http check: a result a minute over the
// last 25 hours, ten results every ten minutes before (as little to write
// as the tests can do with: SQLite under the race detector is slow); an
// hour without data, failures and a result that could not check in the
// last day, 100 failing minutes two days ago and 1,200 twenty days ago.
func webHistory(k int) (store.CheckSample, bool) {
	n := 1
	if k >= 1500 {
		if k%10 != 0 {
			return store.CheckSample{}, true
		}
		n = 10
	}
	var s store.CheckSample
	switch {
	case k >= 500 && k < 560:
		return s, true
	case k >= 100 && k <= 102, k >= 3000 && k < 3100, k >= 28800 && k < 30000:
		s.Failing = n
	case k == 200:
		s.Unknown = n
	case k == 50:
		s = ok1(900 * time.Millisecond)
	default:
		s = ok1(40 * time.Millisecond)
		s.OK, s.LatencyN, s.LatencySum = n, n, time.Duration(n)*s.LatencySum
	}
	return s, false
}

func webChanges(end time.Time) []store.CheckChange {
	at := func(k int) time.Time { return end.Add(-time.Duration(k) * time.Minute) }
	return []store.CheckChange{
		{At: at(50000), Status: store.CheckOK, Detail: "HTTP 200"},
		{At: at(30000 - 1), Status: store.CheckFailing, Detail: "HTTP 503", DetailKo: "HTTP 503 (기대 200)"},
		{At: at(28800 - 1), Status: store.CheckOK, Detail: "HTTP 200"},
		{At: at(3100 - 1), Status: store.CheckFailing, Detail: "connection refused", DetailKo: "연결 거부됨"},
		{At: at(3000 - 1), Status: store.CheckOK, Detail: "HTTP 200"},
		{At: at(200), Status: store.CheckCannotCheck, Detail: "DNS lookup failed", DetailKo: "DNS 조회 실패"},
		{At: at(199), Status: store.CheckOK, Detail: "HTTP 200"},
		{At: at(102), Status: store.CheckFailing, Detail: "HTTP 502", DetailKo: "HTTP 502 (기대 200)"},
		{At: at(99), Status: store.CheckOK, Detail: "HTTP 200"},
	}
}

// historyHarness is a harness whose console clock stands still half a
// minute into a minute, with the http check "web" and (withWeb) its 30
// days of history.
func historyHarness(t *testing.T, withWeb bool) (*harness, *client, time.Time) {
	t.Helper()
	end := time.Now().Truncate(time.Minute)
	now := end.Add(30 * time.Second)
	clock := now
	h := newHarness(t, harnessOpts{engine: true, now: func() time.Time { return clock }})
	h.cfg.Checks = append(h.cfg.Checks, config.Check{Name: "web", Type: "http", URL: "http://127.0.0.1:1/"})
	if withWeb {
		writeHistory(t, h.st, "web", "", end, 30*24*60, webHistory, webChanges(end)...)
	}
	h.addUser("v", auth.RoleViewer, adminPW)
	c := h.client()
	c.login("v", adminPW)
	return h, c, now
}

var spanRowRE = regexp.MustCompile(`<tr class="span-row" data-status="([a-z_]+)">.*?<td class="nowrap">([^<]*)</td><td class="muted">`)

// spans lists the status periods of a check page as "status duration".
func spans(body string) []string {
	var out []string
	for _, m := range spanRowRE.FindAllStringSubmatch(body, -1) {
		out = append(out, m[1]+" "+m[2])
	}
	return out
}

func TestCheckPageUptimeTimelineLatency(t *testing.T) {
	t.Parallel()
	_, c, _ := historyHarness(t, true)
	r := c.get("/checks/web").mustStatus(t, http.StatusOK)
	// 24 h: 1,380 results (an hour without data), 3 failing, 1 could not
	// check (counted against the uptime); 7 d and 30 d add the older
	// failures. Rounded down.
	r.mustContain(t, "24시간 가동률", "99.71%", "결과 1,380회: 정상 1,376 · 실패 3 · 점검 불가 1",
		"7일 가동률", "98.96%", "30일 가동률", "96.97%", "결과 43,140회")
	// The timeline over the default 24 hours, newest period first.
	want := []string{"ok 1시간 39분", "failing 3분", "ok 1시간 37분", "cannot_check 1분", "ok 4시간 59분", "nodata 1시간", "ok 14시간 40분"}
	if got := spans(r.body); strings.Join(got, ", ") != strings.Join(want, ", ") {
		t.Errorf("timeline spans\n got %q\nwant %q", got, want)
	}
	r.mustContain(t, `<svg class="timeline"`, `class="tl-failing"`, `class="tl-cannot_check"`, `class="tl-nodata"`,
		`id="range-24h" class="on"`, "HTTP 502", "상태 타임라인 ")
	// The latency chart of an http check: average and maximum in words.
	r.mustContain(t, `<svg class="latency"`, `class="lat-avg"`, `class="lat-max"`, `id="latency-max">900 ms</b>`, `id="latency-avg">41 ms</b>`,
		"응답 시간 ", "평균 41 ms, 최대 900 ms")
	if strings.Contains(r.body, "style=") {
		t.Error("inline style: the CSP refuses it")
	}
	if n := strings.Count(r.body, `<rect class="tl-`); n != 1+len(want) { // and the background
		t.Errorf("%d timeline rectangles, want %d", n, len(want))
	}

	// Other ranges.
	r = c.get("/checks/web?range=7d").mustStatus(t, http.StatusOK).mustContain(t, `id="range-7d" class="on"`, "연결 거부됨")
	if got := spans(r.body); len(got) < 9 || got[len(got)-2] != "failing 1시간 40분" {
		t.Errorf("7 days: %q", got)
	}
	r = c.get("/checks/web?range=30d").mustStatus(t, http.StatusOK).mustContain(t, "HTTP 503", "점검 불가 <0.1%")
	if got := spans(r.body); !strings.Contains(strings.Join(got, ","), "failing 20시간") {
		t.Errorf("30 days: %q", got)
	}
	r = c.get("/checks/web?range=1h").mustStatus(t, http.StatusOK)
	if got := spans(r.body); len(got) != 1 || got[0] != "ok 1시간" {
		t.Errorf("1 hour: %q", got)
	}
	c.get("/checks/web?range=6h").mustStatus(t, http.StatusOK)

	// A bad range is refused, naming the good ones.
	for _, bad := range []string{"2h", "24H", "-1h", "1h1", strings.Repeat("x", 5000), "30d%00", "<b>"} {
		r := c.get("/checks/web?range="+url.QueryEscape(bad)).mustStatus(t, http.StatusBadRequest)
		r.mustContain(t, "기간(range)은 1h, 6h, 24h, 7d, 30d 중 하나여야 합니다.")
		if strings.Contains(r.body, "<b>") {
			t.Fatal("range echoed unescaped")
		}
	}

	// English.
	c.post("/lang", url.Values{"lang": {"en"}, "next": {"/"}}).mustStatus(t, http.StatusSeeOther)
	c.get("/checks/web").mustContain(t, "Uptime, 24 hours", "99.71%", "1,380 results: 1,376 ok · 3 failing · 1 cannot check",
		"Status timeline", "average 41 ms, maximum 900 ms", "1h 39m")
	c.get("/checks/web?range=x").mustStatus(t, http.StatusBadRequest).mustContain(t, "The range must be one of 1h, 6h, 24h, 7d, 30d.")
}

func TestCheckPageLatencyOnlyWhereMeasured(t *testing.T) {
	h, c, now := historyHarness(t, false)
	end := now.Truncate(time.Minute)
	// A process check: no latency chart even if its results took time.
	writeHistory(t, h.st, "httpd", "", end, 120, func(int) (store.CheckSample, bool) { return ok1(time.Millisecond), false })
	r := c.get("/checks/httpd").mustStatus(t, http.StatusOK).mustContain(t, `<svg class="timeline"`, "100%")
	if strings.Contains(r.body, `id="latency"`) {
		t.Error("a process check has a latency chart")
	}
	// An http check with no history yet: the chart says there is none.
	h.cfg.Checks = append(h.cfg.Checks, config.Check{Name: "new", Type: "tcp", Address: "127.0.0.1:1"})
	c.get("/checks/new").mustStatus(t, http.StatusOK).mustContain(t, `id="latency"`, "이 기간에 잰 응답 시간이 없습니다.", "기록 없음",
		"이 기간의 점검 결과가 아직 없습니다.")

	// An agent's checks: a chart when their results carry a latency.
	for _, name := range []string{"api", "disk"} {
		h.engine.Observe(check.Result{Check: name, Host: "web01", OK: true, At: time.Now()})
	}
	writeHistory(t, h.st, "api", "web01", end, 60, func(int) (store.CheckSample, bool) { return ok1(120 * time.Millisecond), false })
	writeHistory(t, h.st, "disk", "web01", end, 60, func(int) (store.CheckSample, bool) { return ok1(0), false })
	c.get("/checks/api?host=web01").mustStatus(t, http.StatusOK).mustContain(t, `<svg class="latency"`, "120 ms")
	if r := c.get("/checks/disk?host=web01").mustStatus(t, http.StatusOK); strings.Contains(r.body, `id="latency"`) {
		t.Error("an agent's check without latencies has a chart")
	}
	// The local check's config and history do not describe an agent's
	// check of the same name.
	writeHistory(t, h.st, "web", "", end, 60, func(int) (store.CheckSample, bool) { return store.CheckSample{Failing: 1}, false })
	h.engine.Observe(check.Result{Check: "web", Host: "web01", OK: true, At: time.Now()})
	if r := c.get("/checks/web?host=web01").mustStatus(t, http.StatusOK); strings.Contains(r.body, `<td>http</td>`) ||
		strings.Contains(r.body, "0.00%") || strings.Contains(r.body, "실패 60") {
		t.Error("web@web01 shows the local web check's config or history")
	}
}

func TestCheckPageIncidents(t *testing.T) {
	h, c, _ := historyHarness(t, false)
	inc := h.engine.Incidents(true)[0]
	if len(inc.Notifications) != 1 {
		t.Fatalf("notifications %+v", inc.Notifications)
	}
	sent := inc.Notifications[0]
	op := h.client()
	h.addUser("op", auth.RoleOperator, adminPW)
	op.login("op", adminPW)
	op.post("/incidents/"+url.PathEscape(inc.ID)+"/ack", nil).mustStatus(t, http.StatusSeeOther)

	r := c.get("/checks/httpd").mustStatus(t, http.StatusOK)
	r.mustContain(t, `id="check-incidents"`, `data-id="`+inc.ID+`"`, "진행 중", `<span class="acked">op</span>`, "최초 알림", "받는 곳 1", httpdDown)
	href := hrefOf(r.body, `>`+c.h.con.fmtTime(sent.At)+`</a> 최초 알림`)
	if !strings.HasPrefix(href, "/incidents/") || !strings.Contains(href, "/sent?at=") {
		t.Fatalf("sent link %q", href)
	}
	// No message stored fits: that day's history, saying so.
	loc := c.get(href).mustStatus(t, http.StatusSeeOther).header.Get("Location")
	day := sent.At.In(h.cfg.Location()).Format("2006-01-02")
	if loc != "/history?from="+day+"&to="+day+"&ok=sent_unknown" {
		t.Fatalf("no message: %q", loc)
	}
	c.get(loc).mustContain(t, "그날의 발송 내역")
	// The message the engine sent, and a decoy to someone else just before.
	for _, m := range []*sms.Message{
		{Text: httpdDown, Source: "alert", CreatedAt: sent.At.Add(-2 * time.Second), Deliveries: []sms.Delivery{{Phone: "01099998888"}}},
		{Text: "[web01] " + httpdDown, Source: "alert", CreatedAt: sent.At.Add(-time.Second), Deliveries: []sms.Delivery{{Phone: "01012345678"}}},
		{Text: "다른 알림", Source: "alert", CreatedAt: sent.At.Add(-500 * time.Millisecond), Deliveries: []sms.Delivery{{Phone: "01012345678"}}},
	} {
		m.Kind = sms.KindSMS
		if err := h.st.CreateMessage(h.ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	// The link finds the message to the incident's recipient carrying its text.
	loc = c.get(href).mustStatus(t, http.StatusSeeOther).header.Get("Location")
	ms, _ := h.st.ListMessages(h.ctx, store.MessageFilter{Text: "[web01]"})
	if len(ms) != 1 || loc != "/messages/"+strconv.FormatInt(ms[0].ID, 10) {
		t.Fatalf("sent link went to %q", loc)
	}
	c.get("/incidents/"+url.PathEscape(inc.ID)+"/sent?at=1").mustStatus(t, http.StatusNotFound)
	c.get("/incidents/"+url.PathEscape(inc.ID)+"/sent?at=x").mustStatus(t, http.StatusBadRequest)
	c.get("/incidents/nope/sent?at=1").mustStatus(t, http.StatusNotFound)

	// A resolved incident: its duration.
	h.engine.Observe(check.Result{Check: "httpd", OK: true, At: time.Now(), Resolved: "[복구] httpd 프로세스가 다시 동작합니다."})
	if err := h.engine.Flush(h.ctx); err != nil {
		t.Fatal(err)
	}
	r = c.get("/checks/httpd").mustContain(t, "복구</span>", `<td class="duration">`)
	if strings.Contains(r.body, "진행 중") {
		t.Error("a resolved incident shown as open")
	}
}

func TestDashboardBarsAndUptime(t *testing.T) {
	start := time.Now()
	clock := start
	h := newHarness(t, harnessOpts{engine: true, now: func() time.Time { return clock }})
	// web-port: 40 results, the 30 newest shown; httpd: a day of history,
	// 144 of 1,440 minutes failing.
	for i := range 40 {
		h.engine.Observe(check.Result{Check: "web-port", OK: i%4 != 0, At: start.Add(time.Duration(i-40) * time.Second)})
	}
	end := start.Truncate(time.Minute)
	writeHistory(t, h.st, "httpd", "", end, 1440, func(k int) (store.CheckSample, bool) {
		if k%10 == 0 {
			return store.CheckSample{Failing: 1}, false
		}
		return ok1(0), false
	})
	h.addUser("v", auth.RoleViewer, adminPW)
	c := h.client()
	c.login("v", adminPW)
	r := c.get("/").mustStatus(t, http.StatusOK).mustContain(t, "24시간 가동률", `<span class="up-bad" title="결과 1,440회: 정상 1,296 · 실패 144 · 점검 불가 0">90.00%</span>`)
	row := rowOf(t, r.body, `href="/checks/web-port"`)
	if n := strings.Count(row, "<i class="); n != 30 {
		t.Errorf("web-port shows %d results, want the last 30:\n%s", n, row)
	}
	if !strings.Contains(rowOf(t, r.body, `href="/checks/web-port"`), "기록 없음") {
		t.Error("web-port has no history and no uptime")
	}
	c.get("/checks").mustContain(t, "90.00%", `href="/hosts"`)

	// The uptimes are read once per 30 seconds.
	writeHistory(t, h.st, "web-port", "", end, 60, func(int) (store.CheckSample, bool) { return ok1(0), false })
	if strings.Contains(c.get("/").body, "100%") {
		t.Error("the uptimes were read again within 30 seconds")
	}
	clock = start.Add(31 * time.Second)
	row = rowOf(t, c.get("/").body, `href="/checks/web-port"`)
	if !strings.Contains(row, ">100%</span>") {
		t.Errorf("after 31 s the new uptime is not shown:\n%s", row)
	}
}

// rowOf returns the table row holding s.
func rowOf(t *testing.T, body, s string) string {
	t.Helper()
	i := strings.Index(body, s)
	if i < 0 {
		t.Fatalf("no %q in\n%s", s, body)
	}
	start := strings.LastIndex(body[:i], "<tr")
	end := strings.Index(body[i:], "</tr>")
	return body[start : i+end]
}

func TestHostsPage(t *testing.T) {
	h := newHarness(t, harnessOpts{engine: true})
	h.cfg.Host = "main01"
	now := time.Now()
	// web01 reports; db1 has gone silent.
	for _, r := range []check.Result{
		{Check: "api", Host: "web01", OK: true, At: now},
		{Check: "disk", Host: "web01", Unknown: true, At: now, Detail: "cannot check: statfs /data: permission denied", DetailKo: "점검 불가: /data 권한 없음"},
		{Check: agent.LivenessCheck, Host: "web01", OK: true, At: now.Add(-10 * time.Second), Detail: "agent reported"},
		{Check: "mysql", Host: "db1", OK: true, At: now.Add(-10 * time.Minute)},
		{Check: agent.LivenessCheck, Host: "db1", OK: true, At: now.Add(-10 * time.Minute)},
		{Check: agent.LivenessCheck, Host: "db1", OK: false, At: now.Add(-9 * time.Minute), Detail: "no report for 1m0s (host down, network cut, or agent stopped)"},
	} {
		h.engine.Observe(r)
	}
	if err := h.engine.Flush(h.ctx); err != nil {
		t.Fatal(err)
	}
	// Login required, like every page.
	anon := h.client()
	if r := anon.get("/hosts"); r.status != http.StatusSeeOther || r.header.Get("Location") != "/login?next=%2Fhosts" {
		t.Fatalf("anonymous /hosts: %d %q", r.status, r.header.Get("Location"))
	}
	h.addUser("v", auth.RoleViewer, adminPW)
	c := h.client()
	c.login("v", adminPW)
	r := c.get("/hosts").mustStatus(t, http.StatusOK)
	// This host first, then the agents' hosts by name.
	i0, i1, i2 := strings.Index(r.body, `data-host=""`), strings.Index(r.body, `data-host="db1"`), strings.Index(r.body, `data-host="web01"`)
	if i0 < 0 || i1 < i0 || i2 < i1 {
		t.Fatalf("hosts out of order: %d %d %d\n%s", i0, i1, i2, r.body)
	}
	local, db1, web01 := r.body[i0:i1], r.body[i1:i2], r.body[i2:]
	for _, s := range []string{"main01", "이 서버", `href="/checks/httpd"`, `href="/checks/web-port"`, "점검 2개 · 장애 1 · 점검 불가 0"} {
		if !strings.Contains(local, s) {
			t.Errorf("this host lacks %q", s)
		}
	}
	for _, s := range []string{"보고 중", "마지막 보고 <span class=\"last-report\">" + h.con.fmtTime(now.Add(-10*time.Second)), `href="/checks/api?host=web01"`,
		"점검 2개 · 장애 0 · 점검 불가 1", "점검 불가: /data 권한 없음", `href="/checks/agent?host=web01"`} {
		if !strings.Contains(web01, s) {
			t.Errorf("web01 lacks %q", s)
		}
	}
	for _, s := range []string{"보고 끊김", h.con.fmtTime(now.Add(-10 * time.Minute)), "no report for 1m0s", `href="/checks/mysql?host=db1"`} {
		if !strings.Contains(db1, s) {
			t.Errorf("db1 lacks %q", s)
		}
	}
	// The liveness check is the host's line, not one of its checks.
	if strings.Contains(web01, `class="check-row">`+"\n"+`  <td><a href="/checks/agent`) || strings.Count(web01, "/checks/agent?host=web01") != 1 {
		t.Error("the agent's liveness check listed among its checks")
	}
	if strings.Contains(local, "@") {
		t.Error("host names repeated in the hosts page's rows")
	}
	c.post("/lang", url.Values{"lang": {"en"}, "next": {"/"}}).mustStatus(t, http.StatusSeeOther)
	c.get("/hosts").mustContain(t, "reporting", "not reporting", "this server", "2 checks · 0 failing · 1 cannot check",
		"cannot check: statfs /data: permission denied")
}

// TestLivenessCheckName: the console's name for the agents' liveness
// check is agent.LivenessCheck (console may not import agent).
func TestLivenessCheckName(t *testing.T) {
	if livenessCheck != agent.LivenessCheck {
		t.Fatalf("livenessCheck %q, agent.LivenessCheck %q", livenessCheck, agent.LivenessCheck)
	}
}

// TestKoreanDetail: the Korean console shows a result's Korean detail
// where there is one, the English one shows Detail.
func TestKoreanDetail(t *testing.T) {
	h := newHarness(t, harnessOpts{engine: true})
	h.engine.Observe(check.Result{Check: "httpd", OK: false, At: time.Now(), Firing: httpdDown,
		Detail: "no process named httpd (0 < min 1)", DetailKo: "httpd 프로세스 없음 (0개, 최소 1개)"})
	if err := h.engine.Flush(h.ctx); err != nil {
		t.Fatal(err)
	}
	h.addUser("v", auth.RoleViewer, adminPW)
	c := h.client()
	c.login("v", adminPW)
	inc := "/incidents/" + url.PathEscape(h.engine.Incidents(true)[0].ID)
	for _, lang := range []string{"ko", "en"} {
		c.post("/lang", url.Values{"lang": {lang}, "next": {"/"}}).mustStatus(t, http.StatusSeeOther)
		want, not := "httpd 프로세스 없음 (0개, 최소 1개)", "no process named httpd (0 &lt; min 1)"
		if lang == "en" {
			want, not = not, want
		}
		for _, p := range []string{"/", "/checks", "/checks/httpd", "/hosts", inc} {
			r := c.get(p).mustContain(t, want)
			if strings.Contains(r.body, not) {
				t.Errorf("%s %s shows %q", lang, p, not)
			}
		}
	}
}

// TestHistoryEscaped: check names, hosts and details reach the SVG titles,
// aria labels and tables escaped.
func TestHistoryEscaped(t *testing.T) {
	h := newHarness(t, harnessOpts{engine: true})
	const name, host = `x"><script>alert(1)</script>`, `h<img src=x onerror=alert(2)>`
	const detail = `</title><script>alert(3)</script><title>`
	h.engine.Observe(check.Result{Check: name, Host: host, OK: false, At: time.Now(), Detail: detail, Firing: "<b>down</b>"})
	if err := h.engine.Flush(h.ctx); err != nil {
		t.Fatal(err)
	}
	end := time.Now().Truncate(time.Minute)
	writeHistory(t, h.st, name, host, end, 90, func(k int) (store.CheckSample, bool) {
		if k < 30 {
			return store.CheckSample{Failing: 1, LatencyN: 1, LatencySum: time.Millisecond, LatencyMax: time.Millisecond}, false
		}
		return ok1(time.Millisecond), false
	}, store.CheckChange{At: end.Add(-30 * time.Minute), Status: store.CheckFailing, Detail: detail})
	h.addUser("v", auth.RoleViewer, adminPW)
	c := h.client()
	c.login("v", adminPW)
	page := "/checks/" + url.PathEscape(name) + "?host=" + url.QueryEscape(host)
	r := c.get(page).mustStatus(t, http.StatusOK).mustContain(t, `<svg class="timeline"`, `<svg class="latency"`,
		"&lt;/title&gt;&lt;script&gt;alert(3)&lt;/script&gt;")
	for _, p := range []string{page, "/", "/hosts", "/checks"} {
		body := c.get(p).mustStatus(t, http.StatusOK).body
		for _, raw := range []string{"<script>alert", "<img src=x", "</title><script>", "<b>down</b>"} {
			if strings.Contains(body, raw) {
				t.Errorf("%s: %q unescaped", p, raw)
			}
		}
	}
	// The range links keep the host, escaped.
	if href := html.UnescapeString(hrefOf(r.body, `id="range-7d"`)); href != "/checks/"+url.PathEscape(name)+"?host="+url.QueryEscape(host)+"&range=7d" {
		t.Errorf("range link %q", href)
	}
}

// TestSuppressedShown: a check whose alerts are held by one it depends on
// says so, linking to it, on the dashboard, the checks, check, hosts and
// incident pages.
func TestSuppressedShown(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.cfg.Checks[0].DependsOn = []string{"web-port"} // httpd
	h.engine = h.newEngine()
	h.monitor.Set(h.engine)
	h.engine.Observe(check.Result{Check: "web-port", OK: false, At: time.Now(), Firing: "[경고] 80 포트가 열려있지 않습니다."})
	h.engine.Observe(check.Result{Check: "httpd", OK: false, At: time.Now(), Firing: httpdDown})
	if err := h.engine.Flush(h.ctx); err != nil {
		t.Fatal(err)
	}
	var held []string
	for _, st := range h.engine.Checks() {
		if st.Check == "httpd" {
			held = st.SuppressedBy
		}
	}
	if len(held) != 1 || held[0] != "web-port" {
		t.Fatalf("the engine does not hold httpd for web-port (SuppressedBy %q)", held)
	}
	h.addUser("v", auth.RoleViewer, adminPW)
	c := h.client()
	c.login("v", adminPW)
	tag := `<span class="tag suppressed"><a href="/checks/web-port">web-port</a> 때문에 보류</span>`
	var inc string
	for _, i := range h.engine.Incidents(true) {
		if i.Check == "httpd" {
			inc = "/incidents/" + url.PathEscape(i.ID)
		}
	}
	for _, p := range []string{"/", "/checks", "/checks/httpd", "/hosts", inc} {
		c.get(p).mustStatus(t, http.StatusOK).mustContain(t, tag)
	}
	c.post("/lang", url.Values{"lang": {"en"}, "next": {"/"}}).mustStatus(t, http.StatusSeeOther)
	c.get("/checks/httpd").mustContain(t, `<span class="tag suppressed">suppressed by <a href="/checks/web-port">web-port</a></span>`)

	// An agent's host: linked to its liveness check.
	if got := h.con.depLinks("web01", []string{"host:web01", "nginx"}); len(got) != 2 ||
		got[0].Href != "/checks/agent?host=web01" || got[1].Href != "/checks/nginx?host=web01" {
		t.Errorf("links %+v", got)
	}
}
