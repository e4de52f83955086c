package console

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/munja-sms/munja/auth"
	"github.com/munja-sms/munja/check"
	"github.com/munja-sms/munja/config"
	"github.com/munja-sms/munja/outbox"
	"github.com/munja-sms/munja/provider"
	"github.com/munja-sms/munja/sms"
)

func TestIncidentAckAndSilence(t *testing.T) {
	h := newHarness(t, harnessOpts{engine: true})
	h.addUser("op", auth.RoleOperator, adminPW)
	c := h.client()
	c.login("op", adminPW)
	inc := h.engine.Incidents(true)[0]
	c.get("/").mustContain(t, httpdDown, `id="ack-`+inc.ID+`"`, `class="bars"`, `class="down"`, `class="up"`)
	r := c.post("/incidents/"+url.PathEscape(inc.ID)+"/ack", url.Values{"back": {"/"}}).mustStatus(t, http.StatusSeeOther)
	if loc := r.header.Get("Location"); loc != "/?ok=acked" {
		t.Fatalf("ack redirected to %q", loc)
	}
	if got := h.engine.Incidents(true)[0]; got.AckedBy != "op" {
		t.Fatalf("incident not acknowledged: %+v", got)
	}
	c.get("/?ok=acked").mustContain(t, "장애를 확인 처리했습니다")
	c.post("/incidents/nope/ack", nil).mustStatus(t, http.StatusNotFound)

	// Silence with an end time in the configured zone.
	until := time.Now().Add(3 * time.Hour).In(h.cfg.Location()).Truncate(time.Minute)
	c.post("/silences", url.Values{"check": {"httpd"}, "date": {until.Format("2006-01-02")}, "time": {until.Format("15:04")},
		"back": {"/checks"}}).mustStatus(t, http.StatusSeeOther)
	ss := h.engine.Silences()
	if len(ss) != 1 || ss[0].Check != "httpd" || !ss[0].Until.Equal(until) || ss[0].By != "op" {
		t.Fatalf("silences %+v", ss)
	}
	c.get("/checks").mustContain(t, until.Format("2006-01-02 15:04"), "무음")
	c.post("/silences", url.Values{"check": {"httpd"}, "date": {"2020-01-01"}, "time": {"10:00"}}).
		mustStatus(t, http.StatusUnprocessableEntity).mustContain(t, "종료 시각이 지금보다 뒤여야 합니다")
	c.post("/silences", url.Values{"for": {"4h"}}).mustStatus(t, http.StatusSeeOther)
	if n := len(h.engine.Silences()); n != 2 {
		t.Fatalf("%d silences", n)
	}
	c.post("/silences/"+ss[0].ID+"/delete", url.Values{"back": {"/checks"}}).mustStatus(t, http.StatusSeeOther)
	c.post("/silences/"+ss[0].ID+"/delete", nil).mustStatus(t, http.StatusNotFound)
	if n := len(h.engine.Silences()); n != 1 {
		t.Fatalf("%d silences after removal", n)
	}
	c.get("/incidents/"+url.PathEscape(inc.ID)).mustContain(t, "op", "보낸 알림 (1건)", "01012345678")
	c.get("/checks/web-port").mustStatus(t, http.StatusOK)
	c.get("/checks/nonesuch").mustStatus(t, http.StatusNotFound)
}

func TestMonitorNotStarted(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.addUser("op", auth.RoleOperator, adminPW)
	c := h.client()
	c.login("op", adminPW)
	c.get("/").mustStatus(t, http.StatusOK).mustContain(t, "모니터링(점검·알림 엔진)이 아직 시작되지 않았습니다")
	c.get("/checks").mustStatus(t, http.StatusOK)
	c.post("/incidents/x/ack", nil).mustStatus(t, http.StatusServiceUnavailable)
	// An engine set later makes the pages live.
	h.monitor.Set(h.newEngine())
	c.get("/").mustContain(t, httpdDown)
}

func TestHistorySearchAndPaging(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.addUser("v", auth.RoleViewer, adminPW)
	ctx := context.Background()
	for i := 0; i < 120; i++ {
		to := "01011112222"
		if i%10 == 0 {
			to = "01033334444"
		}
		if _, err := h.ob.Submit(ctx, outbox.Request{To: []string{to}, Text: fmt.Sprintf("메시지 %03d", i), Source: "api"}); err != nil {
			t.Fatal(err)
		}
	}
	c := h.client()
	c.login("v", adminPW)
	r := c.get("/history").mustContain(t, "메시지 119", "메시지 070", `id="next-page"`)
	if strings.Contains(r.body, "메시지 069") {
		t.Fatal("page 1 holds more than 50")
	}
	next := hrefOf(r.body, `id="next-page"`)
	r = c.get(next).mustContain(t, "메시지 069", "메시지 020", "← 최신")
	r = c.get(hrefOf(r.body, `id="next-page"`)).mustContain(t, "메시지 019", "메시지 000")
	if strings.Contains(r.body, `id="next-page"`) {
		t.Fatal("a page after the last")
	}
	r = c.get("/history?phone=" + url.QueryEscape("010-3333-4444"))
	if n := strings.Count(r.body, `class="message-row"`); n != 12 {
		t.Fatalf("phone search: %d rows", n)
	}
	if n := strings.Count(c.get("/history?q="+url.QueryEscape("메시지 11")).body, `class="message-row"`); n != 10 {
		t.Fatalf("text search: %d rows", n)
	}
	if n := strings.Count(c.get("/history?status=failed").body, `class="message-row"`); n != 0 {
		t.Fatalf("status search: %d rows", n)
	}
	today := time.Now().In(h.cfg.Location()).Format("2006-01-02")
	if n := strings.Count(c.get("/history?from="+today+"&to="+today).body, `class="message-row"`); n != 50 {
		t.Fatalf("date search: %d rows", n)
	}
	if n := strings.Count(c.get("/history?to=2000-01-01").body, `class="message-row"`); n != 0 {
		t.Fatalf("old date: %d rows", n)
	}
	c.get("/history?phone=12&from=yesterday&status=lost").mustStatus(t, http.StatusOK).
		mustContain(t, "전화번호 전체를 입력하세요", "날짜 형식이 올바르지 않습니다", "값이 올바르지 않습니다")
}

// hrefOf returns the href of the element with attr.
func hrefOf(body, attr string) string {
	i := strings.Index(body, attr)
	if i < 0 {
		return ""
	}
	start := strings.LastIndex(body[:i], `href="`) + len(`href="`)
	end := strings.IndexByte(body[start:], '"')
	return strings.ReplaceAll(body[start:start+end], "&amp;", "&")
}

func TestTemplatesCRUDAndPreview(t *testing.T) {
	h := newHarness(t, harnessOpts{engine: true})
	h.cfg.Alerting.Templates.Firing = "{{range .Alerts}}{{.Text}}\n{{end}}"
	h.addUser("op", auth.RoleOperator, adminPW)
	c := h.client()
	c.login("op", adminPW)
	c.post("/templates", url.Values{"name": {"점검"}, "text": {"서버 점검 😀"}}).mustStatus(t, http.StatusUnprocessableEntity).
		mustContain(t, "문자로 보낼 수 없는 문자입니다")
	c.post("/templates", url.Values{"name": {"점검"}, "text": {strings.Repeat("가", 50)}, "preview": {"1"}}).mustStatus(t, http.StatusOK).
		mustContain(t, "100 / 2,000 byte · LMS (최대 2,000 byte)", `id="preview"`)
	if ts, _ := h.st.ListTemplates(h.ctx); len(ts) != 0 {
		t.Fatal("preview saved")
	}
	c.post("/templates", url.Values{"name": {"점검"}, "text": {"서버 점검 안내"}}).mustStatus(t, http.StatusSeeOther)
	c.post("/templates", url.Values{"name": {"점검"}, "text": {"x"}}).mustStatus(t, http.StatusUnprocessableEntity).mustContain(t, "템플릿이 이미 있습니다")
	ts, _ := h.st.ListTemplates(h.ctx)
	id := fmt.Sprint(ts[0].ID)
	c.post("/templates/"+id, url.Values{"name": {"점검"}, "text": {"서버 점검 안내 (수정)"}, "title": {"공지"}}).mustStatus(t, http.StatusSeeOther)
	r := c.get("/templates").mustContain(t, "서버 점검 안내 (수정)", "공지", "alerting.templates.firing", httpdDown)
	r.mustContain(t, "21 / 2,000 byte · LMS")
	c.get("/send?template="+id).mustContain(t, "서버 점검 안내 (수정)", `value="공지"`)
	c.post("/templates/"+id+"/delete", nil).mustStatus(t, http.StatusSeeOther)
	c.get("/templates/"+id).mustStatus(t, http.StatusNotFound)
}

func TestSettings(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	admin := h.addUser("root", auth.RoleAdmin, adminPW)
	c := h.client()
	c.login("root", adminPW)
	r := c.post("/settings/tokens", url.Values{"name": {"cron"}, "scope": {"send"}}).mustStatus(t, http.StatusOK)
	r.mustContain(t, `id="new-token"`, "munja_")
	if strings.Contains(c.get("/settings").body, "munja_") {
		t.Fatal("token shown twice")
	}
	c.post("/settings/tokens", url.Values{"name": {"cron"}, "scope": {"send"}}).mustStatus(t, http.StatusUnprocessableEntity)
	c.post("/settings/tokens", url.Values{"name": {"x"}, "scope": {"root"}}).mustStatus(t, http.StatusUnprocessableEntity)
	c.post("/settings/tokens/revoke", url.Values{"name": {"cron"}}).mustStatus(t, http.StatusSeeOther)
	if tk, _ := h.st.ListTokens(h.ctx); len(tk) != 1 || tk[0].RevokedAt.IsZero() {
		t.Fatalf("tokens %+v", tk)
	}

	c.post("/settings/users", url.Values{"name": {"lee"}, "role": {"viewer"}, "password": {"0123456789ab"}, "password2": {"0123456789ab"}}).
		mustStatus(t, http.StatusSeeOther)
	c.post("/settings/users", url.Values{"name": {"lee"}, "role": {"viewer"}, "password": {"0123456789ab"}, "password2": {"0123456789ab"}}).
		mustStatus(t, http.StatusUnprocessableEntity).mustContain(t, `"lee" 사용자가 이미 있습니다`)
	c.post("/settings/users", url.Values{"name": {"a b"}, "role": {"god"}, "password": {"short"}, "password2": {"other"}}).
		mustStatus(t, http.StatusUnprocessableEntity).mustContain(t, "공백", "값이 올바르지 않습니다", "10자 이상")
	lee, err := h.st.UserByName(h.ctx, "lee")
	if err != nil || lee.Role != auth.RoleViewer {
		t.Fatal(lee, err)
	}
	c.post(fmt.Sprintf("/settings/users/%d/role", lee.ID), url.Values{"role": {"operator"}}).mustStatus(t, http.StatusSeeOther)
	if u, _ := h.st.UserByID(h.ctx, lee.ID); u.Role != auth.RoleOperator {
		t.Fatal("role not changed")
	}
	c.post(fmt.Sprintf("/settings/users/%d/role", admin.ID), url.Values{"role": {"viewer"}}).mustStatus(t, http.StatusConflict).
		mustContain(t, "마지막 관리자")
	l := h.client()
	l.login("lee", "0123456789ab")
	c.post(fmt.Sprintf("/settings/users/%d/password", lee.ID), url.Values{"password": {"another pass 1"}, "password2": {"another pass 1"}}).
		mustStatus(t, http.StatusSeeOther)
	l.get("/").mustStatus(t, http.StatusSeeOther)

	// The test message goes through the outbox in test mode.
	r = c.post("/settings/test", url.Values{"phone": {"010-1234-5678"}}).mustStatus(t, http.StatusSeeOther)
	m, err := h.st.GetMessage(h.ctx, messageID(t, r))
	if err != nil || !m.Test || m.Deliveries[0].Phone != "01012345678" || !strings.Contains(m.Text, "테스트") {
		t.Fatalf("test message %+v %v", m, err)
	}
	c.post("/settings/test", url.Values{"phone": {"02-123-4567"}}).mustStatus(t, http.StatusUnprocessableEntity)
	page := c.get("/settings").mustContain(t, "token.create", "user.create", "message.test", "dryrun")
	if strings.Contains(page.body, "<secret>") {
		t.Fatal("settings mention secrets")
	}
}

func TestSettingsNeverShowSecrets(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.cfg.SMS.Providers = nil
	h.cfg.SMS.Providers = append(h.cfg.SMS.Providers, h.cfg.EffectiveProviders()...)
	p := &h.cfg.SMS.Providers[0]
	p.Options, p.BaseURL = config.Opts("key", "sekrit-key-123", "user_id", "acct"), "https://user:pw@apis.aligo.in/x?key=sekrit-q"
	h.addUser("root", auth.RoleAdmin, adminPW)
	c := h.client()
	c.login("root", adminPW)
	r := c.get("/settings").mustContain(t, "https://apis.aligo.in/x")
	for _, s := range []string{"sekrit", "user:pw", "pw@"} {
		if strings.Contains(r.body, s) {
			t.Fatalf("settings page shows %q", s)
		}
	}
}

// slowBalancer answers Remain after a delay.
type slowBalancer struct {
	delay time.Duration
	calls atomic.Int32
	err   error
}

func (s *slowBalancer) Name() string  { return "slow" }
func (s *slowBalancer) MaxBatch() int { return 1000 }
func (s *slowBalancer) Send(context.Context, provider.Batch) (provider.Result, error) {
	return provider.Result{}, errors.New("not used")
}
func (s *slowBalancer) Remain(ctx context.Context) (provider.Balance, error) {
	s.calls.Add(1)
	select {
	case <-time.After(s.delay):
	case <-ctx.Done():
		return provider.Balance{}, ctx.Err()
	}
	if s.err != nil {
		return provider.Balance{}, s.err
	}
	return provider.Balance{SMS: 12345, LMS: 4000, MMS: 1500}, nil
}

func TestBalanceNeverBlocksAndCaches(t *testing.T) {
	t.Parallel()
	slow := &slowBalancer{delay: 7 * time.Second}
	h := newHarness(t, harnessOpts{providers: []provider.Provider{slow}})
	h.addUser("v", auth.RoleViewer, adminPW)
	c := h.client()
	c.login("v", adminPW) // the dashboard starts the lookup
	start := time.Now()
	c.get("/balance").mustStatus(t, http.StatusOK).mustContain(t, "조회 중")
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("balance page took %v", d)
	}
	deadline := time.Now().Add(15 * time.Second)
	for !strings.Contains(c.get("/balance").body, "12,345") {
		if time.Now().After(deadline) {
			t.Fatal("balance never arrived")
		}
		time.Sleep(100 * time.Millisecond)
	}
	c.get("/").mustContain(t, "12,345", "4,000", "1,500")
	h.cfg.SMS.LowBalance = 20000
	c.get("/balance").mustContain(t, "부족", "20000건 아래로")
	if n := slow.calls.Load(); n != 1 {
		t.Fatalf("%d gateway calls, want 1 (cached)", n)
	}

	fast := &slowBalancer{err: &provider.Error{Provider: "slow", Code: "-101", Korean: "인증 오류입니다", English: "authentication failed"}}
	h2 := newHarness(t, harnessOpts{providers: []provider.Provider{fast}})
	h2.addUser("v", auth.RoleViewer, adminPW)
	c2 := h2.client()
	c2.login("v", adminPW)
	c2.get("/balance").mustContain(t, "[-101] 인증 오류입니다")
}

func TestDashboardBudget(t *testing.T) {
	h := newHarness(t, harnessOpts{perDay: 500})
	h.addUser("v", auth.RoleViewer, adminPW)
	for i := 0; i < 3; i++ {
		if err := h.st.CreateMessage(h.ctx, &sms.Message{Text: "x", Kind: sms.KindSMS, Source: "api",
			Deliveries: []sms.Delivery{{Phone: "01012345678"}, {Phone: "01012345679"}}}); err != nil {
			t.Fatal(err)
		}
	}
	// Yesterday's messages do not count.
	if err := h.st.CreateMessage(h.ctx, &sms.Message{Text: "old", Kind: sms.KindSMS, Source: "api",
		CreatedAt: time.Now().Add(-48 * time.Hour), Deliveries: []sms.Delivery{{Phone: "01012345678"}}}); err != nil {
		t.Fatal(err)
	}
	c := h.client()
	c.login("v", adminPW)
	c.get("/").mustContain(t, `<p class="big">6 <span class="muted">/ 500</span></p>`, "이 게이트웨이는 잔액 조회를 제공하지 않음")
}

// TestCannotCheckShown: a check that cannot check has a state and colour of
// its own on the dashboard, the checks page and its own page, in Korean
// and in English, and its incident is marked so.
func TestCannotCheckShown(t *testing.T) {
	h := newHarness(t, harnessOpts{engine: true})
	h.addUser("op", auth.RoleOperator, adminPW)
	const blind = "[경고] web-port 점검 불가: /proc을 읽을 수 없습니다."
	h.engine.Observe(check.Result{Check: "web-port", Unknown: true, At: time.Now(), Firing: blind,
		Resolved: "[복구] web-port 점검이 다시 동작합니다.", Detail: "cannot check: listen: open /proc/net/tcp: permission denied"})
	if err := h.engine.Flush(h.ctx); err != nil {
		t.Fatal(err)
	}
	c := h.client()
	c.login("op", adminPW)
	state := `<span class="state s-cannot_check">점검 불가</span>`
	tag := `<span class="tag s-cannot_check">점검 불가</span>`
	c.get("/").mustContain(t, state, tag, blind, `class="blind"`, "permission denied")
	c.get("/checks").mustContain(t, state, tag, blind, `class="blind"`)
	c.get("/checks/web-port").mustContain(t, state, blind, "permission denied")
	c.post("/lang", url.Values{"lang": {"en"}, "next": {"/"}}).mustStatus(t, http.StatusSeeOther)
	c.get("/").mustContain(t, `<span class="state s-cannot_check">cannot check</span>`, `<span class="tag s-cannot_check">cannot check</span>`)
	// The healthy check is not shown as one that cannot check.
	if body := c.get("/checks/httpd").body; strings.Contains(body, "s-cannot_check") {
		t.Errorf("httpd shown as cannot check:\n%s", body)
	}
}
