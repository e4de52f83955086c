package console

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/munja-sms/munja/auth"
	"github.com/munja-sms/munja/holiday"
	"github.com/munja-sms/munja/store"
)

// oncallNow is Wednesday 2026-12-09 10:00 KST: 김민수's week (주간),
// 09:00 to 18:00, then 박야간's night.
var oncallNow = time.Date(2026, 12, 9, 10, 0, 0, 0, mustZone("Asia/Seoul"))

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

func oncallHarness(t *testing.T) *harness {
	t.Helper()
	h := newHarness(t, harnessOpts{oncall: true, now: func() time.Time { return oncallNow }})
	h.addUser("view", auth.RoleViewer, adminPW)
	h.addUser("lee", auth.RoleOperator, adminPW)
	return h
}

func lastAuditEntry(t *testing.T, h *harness) store.AuditEntry {
	t.Helper()
	au, err := h.st.ListAudit(h.ctx, 1)
	if err != nil || len(au) == 0 {
		t.Fatal(au, err)
	}
	return au[0]
}

func TestOnCallPageViewer(t *testing.T) {
	h := oncallHarness(t)
	v := h.client()
	v.login("view", adminPW)
	xmas, ok := holiday.Default().IsHolidayDate(holiday.Date{Year: 2026, Month: 12, Day: 25})
	if !ok {
		t.Fatal("2026-12-25 is no holiday in the table")
	}
	r := v.get("/oncall").mustStatus(t, http.StatusOK).mustContain(t,
		`id="nav-oncall"`, "당직 일정 ops", "지금 당직", oncallDayA, "010-9000-1111", "2026-12-09 09:00부터 2026-12-09 18:00까지", "순번 주간",
		"다음 당직", oncallNight, "2026-12-09 18:00부터",
		"12/7", "1/3", xmas, "대체 근무가 없습니다")
	if strings.Contains(r.body, "override-form") || strings.Contains(r.body, "override-delete") {
		t.Error("a viewer is offered the override form")
	}
	// Saturday 12/12 has no night shift (workdays only); Friday 12/11 does.
	if strings.Count(r.body, oncallNight) < 3 {
		t.Errorf("the calendar shows few night shifts:\n%s", r.body)
	}
	before := snapshot(t, h)
	v.post("/oncall/ops/overrides", url.Values{"member_other": {oncallDayB}, "from_date": {"2026-12-09"}, "from_time": {"11:00"},
		"to_date": {"2026-12-10"}, "to_time": {"09:00"}}).mustStatus(t, http.StatusForbidden)
	v.post("/oncall/ops/overrides/abc/delete", nil).mustStatus(t, http.StatusForbidden)
	if snapshot(t, h) != before {
		t.Error("a viewer's post changed state")
	}
	v.get("/").mustStatus(t, http.StatusOK).mustContain(t, `id="oncall-card"`, oncallDayA, "2026-12-09 18:00까지")
}

func TestOnCallOverrideByOperator(t *testing.T) {
	h := oncallHarness(t)
	op := h.client()
	op.login("lee", adminPW)
	op.get("/oncall").mustStatus(t, http.StatusOK).mustContain(t, `id="override-form-ops"`, `<option value="`+oncallDayB+`"`)
	form := url.Values{"member": {oncallDayB}, "from_date": {"2026-12-09"}, "from_time": {"09:30"},
		"to_date": {"2026-12-10"}, "to_time": {"09:00"}, "note": {"병원 진료 대신"}}
	r := op.post("/oncall/ops/overrides", form).mustStatus(t, http.StatusSeeOther)
	if loc := r.header.Get("Location"); loc != "/oncall?ok=override_added" {
		t.Errorf("redirect to %q", loc)
	}
	au := lastAuditEntry(t, h)
	if au.Action != "oncall.override" || au.Actor != "user:lee" || au.Target != "oncall:ops" || !strings.HasPrefix(au.Detail, oncallDayB+" from 2026-12-09T09:30:00+09:00 to 2026-12-10T09:00:00+09:00 id ") {
		t.Errorf("audit %+v", au)
	}
	ovs, err := h.con.opt.OnCall.Overrides(h.ctx, "ops")
	if err != nil || len(ovs) != 1 {
		t.Fatal(ovs, err)
	}
	id := ovs[0].ID
	op.get("/oncall?ok=override_added").mustStatus(t, http.StatusOK).mustContain(t,
		"대체 근무를 추가했습니다", "병원 진료 대신", "사용자 lee", `id="delete-`+id+`"`,
		"2026-12-09 09:30부터 2026-12-10 09:00까지", `<span class="tag ov">대체 근무</span>`)
	op.get("/").mustContain(t, oncallDayB)

	// The typed field wins over the picker; a phone number is fine.
	op.post("/oncall/ops/overrides", url.Values{"member": {oncallDayA}, "member_other": {"010-7777-8888"},
		"from_date": {"2026-12-20"}, "from_time": {"09:00"}, "to_date": {"2026-12-21"}, "to_time": {"09:00"}}).mustStatus(t, http.StatusSeeOther)
	if ovs, _ := h.con.opt.OnCall.Overrides(h.ctx, "ops"); len(ovs) != 2 || (ovs[0].Member != "010-7777-8888" && ovs[1].Member != "010-7777-8888") {
		t.Errorf("overrides %+v", ovs)
	}

	r = op.post("/oncall/ops/overrides/"+id+"/delete", nil).mustStatus(t, http.StatusSeeOther)
	if loc := r.header.Get("Location"); loc != "/oncall?ok=override_deleted" {
		t.Errorf("redirect to %q", loc)
	}
	if au := lastAuditEntry(t, h); au.Action != "oncall.override_delete" || au.Actor != "user:lee" || !strings.HasSuffix(au.Detail, "id "+id) {
		t.Errorf("audit %+v", au)
	}
	op.post("/oncall/ops/overrides/"+id+"/delete", nil).mustStatus(t, http.StatusNotFound)
	op.post("/oncall/nope/overrides/"+id+"/delete", nil).mustStatus(t, http.StatusNotFound)
	op.get("/oncall").mustContain(t, "2026-12-09 09:00부터 2026-12-09 18:00까지")
}

func TestOnCallOverrideBadInput(t *testing.T) {
	h := oncallHarness(t)
	op := h.client()
	op.login("lee", adminPW)
	op.get("/oncall")
	good := func() url.Values {
		return url.Values{"member": {oncallDayB}, "from_date": {"2026-12-09"}, "from_time": {"11:00"}, "to_date": {"2026-12-10"}, "to_time": {"09:00"}}
	}
	before := snapshot(t, h)
	for _, c := range []struct {
		name string
		mod  func(url.Values)
		want string
	}{
		{"no member", func(v url.Values) { v.Del("member") }, "필수 항목입니다"},
		{"unknown member", func(v url.Values) { v.Set("member_other", "아무개") }, "아무개: 주소록의 이름"},
		{"two members", func(v url.Values) { v.Set("member_other", "김민수, 이영희") }, "하나만 입력하세요"},
		{"no time", func(v url.Values) { v.Del("from_time") }, "날짜와 시각을 모두 입력하세요"},
		{"bad date", func(v url.Values) { v.Set("to_date", "2026-02-30") }, "날짜와 시각을 모두 입력하세요"},
		{"end before start", func(v url.Values) { v.Set("to_date", "2026-12-08") }, "종료 시각이 시작 시각보다 뒤여야"},
		{"over", func(v url.Values) { v.Set("from_date", "2026-12-01"); v.Set("to_date", "2026-12-02") }, "종료 시각이 지금보다 뒤여야"},
		{"too long", func(v url.Values) { v.Set("to_date", "2027-06-01") }, "최대 92일"},
		{"long note", func(v url.Values) { v.Set("note", strings.Repeat("가", 201)) }, "200"},
	} {
		t.Run(c.name, func(t *testing.T) {
			v := good()
			c.mod(v)
			r := op.post("/oncall/ops/overrides", v).mustStatus(t, http.StatusUnprocessableEntity).mustContain(t, c.want, `class="err field-error"`)
			// The form keeps what was typed.
			if v.Get("member_other") != "" {
				r.mustContain(t, `value="`+v.Get("member_other")+`"`)
			}
		})
	}
	if snapshot(t, h) != before {
		t.Error("refused overrides changed state")
	}
	op.post("/oncall/nope/overrides", good()).mustStatus(t, http.StatusNotFound)
}

func TestOnCallNotConfigured(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.addUser("lee", auth.RoleOperator, adminPW)
	c := h.client()
	c.login("lee", adminPW)
	r := c.get("/oncall").mustStatus(t, http.StatusOK).mustContain(t, "설정된 당직 일정이 없습니다")
	if strings.Contains(r.body, `id="nav-oncall"`) {
		t.Error("the nav links to /oncall without schedules")
	}
	if r := c.get("/"); strings.Contains(r.body, "oncall-card") {
		t.Error("the dashboard shows an on-call card without schedules")
	}
	c.post("/oncall/ops/overrides", url.Values{"member": {"x"}}).mustStatus(t, http.StatusNotFound)
}
