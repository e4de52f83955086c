package console

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/munja-sms/munja/auth"
	"github.com/munja-sms/munja/config"
	"github.com/munja-sms/munja/sms"
	"github.com/munja-sms/munja/store"
)

func TestSendFormErrorsStoreNothing(t *testing.T) {
	h := newHarness(t, harnessOpts{perDay: 3})
	h.addUser("op", auth.RoleOperator, adminPW)
	c := h.client()
	c.login("op", adminPW)
	soon := time.Now().Add(3 * time.Minute).In(h.cfg.Location())
	cases := []struct {
		name string
		v    url.Values
		want []string
	}{
		{"bad number", url.Values{"to": {"010-12"}, "text": {"안녕"}}, []string{"전화번호를 읽을 수 없습니다", "010-12"}},
		{"letters", url.Values{"to": {"010-abcd-5678"}, "text": {"안녕"}}, []string{"전화번호를 읽을 수 없습니다"}},
		{"landline", url.Values{"to": {"02-123-4567"}, "text": {"안녕"}}, []string{"02-123-4567은(는) 휴대폰 번호가 아닙니다"}},
		{"emoji", url.Values{"to": {"01012345678"}, "text": {"서버 다운 😀 확인"}}, []string{"'😀' (U+1F600, 7번째 글자)는 문자로 보낼 수 없는 문자입니다"}},
		{"emoji in title", url.Values{"to": {"01012345678"}, "text": {"내용"}, "title": {"제목✔"}}, []string{"'✔' (U+2714, 3번째 글자)"}},
		{"control character", url.Values{"to": {"01012345678"}, "text": {"서버\x1b[31m 다운"}}, []string{"3번째 글자(U+001B)는 보이지 않는 제어·서식 문자라"}},
		{"invisible in title", url.Values{"to": {"01012345678"}, "text": {"내용"}, "title": {"제\u200b목"}}, []string{"2번째 글자(U+200B)는 보이지 않는"}},
		{"empty text", url.Values{"to": {"01012345678"}, "text": {"  "}}, []string{"내용을 입력하세요"}},
		{"too long", url.Values{"to": {"01012345678"}, "text": {strings.Repeat("가", 1001)}}, []string{"2,002 byte", "2,000 byte"}},
		{"no recipients", url.Values{"text": {"안녕"}}, []string{"받는 사람을 한 명 이상"}},
		{"unknown group", url.Values{"group": {"nobody"}, "text": {"안녕"}}, []string{`"nobody" 그룹이 없습니다`}},
		{"unknown contact", url.Values{"contact": {"999"}, "text": {"안녕"}}, []string{"고른 연락처가 주소록에 없습니다"}},
		{"sender not registered", url.Values{"to": {"01012345678"}, "text": {"안녕"}, "sender": {"01099999999"}}, []string{"등록된 발신번호가 아닙니다"}},
		{"reservation too soon", url.Values{"to": {"01012345678"}, "text": {"안녕"}, "reserve": {"1"},
			"date": {soon.Format("2006-01-02")}, "time": {soon.Format("15:04")}}, []string{"예약은 지금부터 10분 이후여야 합니다"}},
		{"reservation without time", url.Values{"to": {"01012345678"}, "text": {"안녕"}, "reserve": {"1"}}, []string{"날짜와 시각을 모두 입력하세요"}},
		{"daily budget", url.Values{"to": {"01011110001,01011110002,01011110003,01011110004"}, "text": {"안녕"}, "confirmed": {"4"}},
			[]string{"하루 발송 한도(sms.limits.per_day)를 넘습니다"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := c.post("/send", tc.v).mustStatus(t, http.StatusUnprocessableEntity)
			r.mustContain(t, tc.want...)
			r.mustContain(t, `class="err field-error"`)
			// What was typed stays in the form.
			if txt := tc.v.Get("text"); txt != "" && len(txt) < 100 && !strings.Contains(r.body, txt) {
				t.Fatalf("typed text lost")
			}
		})
	}
	if n := h.messages(); n != 0 {
		t.Fatalf("%d messages stored by refused sends", n)
	}
}

func TestSendConfirmationAndReservation(t *testing.T) {
	h := newHarness(t, harnessOpts{dispatcher: true})
	h.addUser("op", auth.RoleOperator, adminPW)
	for i := 0; i < 7; i++ {
		ct := &store.Contact{Name: fmt.Sprintf("직원%d", i), Phone: sms.Phone(fmt.Sprintf("0101111000%d", i)), Groups: []string{"ops"}}
		if err := h.st.SaveContact(h.ctx, ct); err != nil {
			t.Fatal(err)
		}
	}
	c := h.client()
	c.login("op", adminPW)
	at := time.Now().Add(2 * time.Hour).In(h.cfg.Location())
	form := url.Values{"group": {"ops"}, "to": {"010-2222-3333"}, "text": {"[공지] 정기 점검 안내"},
		"test": {"1"}, "reserve": {"1"}, "date": {at.Format("2006-01-02")}, "time": {at.Format("15:04")}}
	// 8 recipients: a confirmation page first, nothing stored.
	r := c.post("/send", form).mustStatus(t, http.StatusOK)
	r.mustContain(t, `id="confirm"`, "8명 · 문자 8건", "직원0", "010-2222-3333", "[공지] 정기 점검 안내",
		at.Format("2006-01-02 15:04"), `name="confirmed" value="8"`, "예 (실제로 발송되지 않음)", "02-1234-5678")
	if h.messages() != 0 {
		t.Fatal("stored before confirmation")
	}
	// "Edit" goes back to the filled form.
	edit := cloneValues(form)
	edit.Set("edit", "1")
	c.post("/send", edit).mustStatus(t, http.StatusOK).mustContain(t, `id="send-form"`, "[공지] 정기 점검 안내")
	// The group grew since the confirmation: confirm again.
	stale := cloneValues(form)
	stale.Set("confirmed", "7")
	c.post("/send", stale).mustStatus(t, http.StatusOK).mustContain(t, `id="confirm"`)

	confirmed := cloneValues(form)
	confirmed.Set("confirmed", "8")
	r = c.post("/send", confirmed).mustStatus(t, http.StatusSeeOther)
	id := messageID(t, r)
	m, err := h.st.GetMessage(h.ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Deliveries) != 8 || !m.Test || m.Source != "console" || m.CreatedBy != "user:op" ||
		!m.At.Equal(at.Truncate(time.Minute)) || m.Kind != sms.KindSMS {
		t.Fatalf("stored message %+v", m)
	}
	c.get("/messages/"+strconv.FormatInt(id, 10)+"?ok=sent").mustStatus(t, http.StatusOK).
		mustContain(t, "발송 대기열에 넣었습니다", "직원3", "010-1111-0003")
	audit, _ := h.st.ListAudit(h.ctx, 5)
	if len(audit) == 0 || audit[0].Action != "message.create" || !strings.Contains(audit[0].Detail, "8 recipients") {
		t.Fatalf("audit %+v", audit)
	}
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

func TestSendConfirmedLMS(t *testing.T) {
	h := newHarness(t, harnessOpts{dispatcher: true})
	h.addUser("op", auth.RoleOperator, adminPW)
	c := h.client()
	c.login("op", adminPW)
	long := strings.Repeat("서버 점검 안내입니다. ", 6) // > 90 bytes
	r := c.post("/send", url.Values{"to": {"010-1234-5678\n+82 10 9876 5432"}, "text": {long}, "title": {"점검 안내"}, "confirmed": {"2"}}).mustStatus(t, http.StatusSeeOther)
	id := messageID(t, r)
	m, err := h.st.GetMessage(h.ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if m.Kind != sms.KindLMS || m.Title != "점검 안내" || len(m.Deliveries) != 2 || m.Deliveries[1].Phone != "01098765432" {
		t.Fatalf("message %+v", m)
	}
	// The dispatcher (dryrun) sends it; the message page shows the result.
	deadline := time.Now().Add(10 * time.Second)
	for {
		page := c.get("/messages/" + strconv.FormatInt(id, 10))
		if strings.Contains(page.body, "dryrun-") {
			page.mustContain(t, "발송됨", "010-9876-5432")
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("never sent:\n%s", page.body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestSendPageCounter(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.addUser("op", auth.RoleOperator, adminPW)
	c := h.client()
	c.login("op", adminPW)
	// The server renders the same counter the browser shows, for the
	// text that comes back with an error.
	r := c.post("/send", url.Values{"text": {strings.Repeat("가", 21)}}).mustStatus(t, http.StatusUnprocessableEntity)
	r.mustContain(t, `<span id="counter">42 / 90 byte</span>`)
	r = c.post("/send", url.Values{"text": {strings.Repeat("가", 60)}}).mustStatus(t, http.StatusUnprocessableEntity)
	r.mustContain(t, "120 / 2,000 byte · LMS (최대 2,000 byte)", `<span id="kind" class="kind lms">LMS</span>`)
}

func TestCountText(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	cases := []struct {
		text, kind, label string
		err               bool
	}{
		{"", "SMS", "0 / 90 byte", false},
		{"abc", "SMS", "3 / 90 byte", false},
		{"가나다", "SMS", "6 / 90 byte", false},
		{"a\r\nb", "SMS", "3 / 90 byte", false},
		{strings.Repeat("a", 90), "SMS", "90 / 90 byte", false},
		{strings.Repeat("a", 91), "LMS", "91 / 2,000 byte · LMS (최대 2,000 byte)", false},
		{"😀", "SMS", "? / 90 byte", true},
	}
	for _, tc := range cases {
		got := h.con.countText(langKO, tc.text, "")
		if got.Kind != tc.kind || got.Label != tc.label || (got.Err != "") != tc.err {
			t.Errorf("countText(%q) = %+v", tc.text, got)
		}
	}
}

// TestSendListAllOrNothing: every typed recipient, and every member of a
// configured group, is sent to or the send is refused naming the bad one;
// never a send to the others only (issue 11).
func TestSendListAllOrNothing(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.addUser("op", auth.RoleOperator, adminPW)
	c := h.client()
	c.login("op", adminPW)
	// Nine pieces: more than ParsePhones joins where a number may start.
	r := c.post("/send", url.Values{"to": {"010-1111-2222, 010 9 8 7 6 5 4 3 2"}, "text": {"안녕"}, "confirmed": {"2"}}).mustStatus(t, http.StatusSeeOther)
	m, err := h.st.GetMessage(h.ctx, messageID(t, r))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Deliveries) != 2 || m.Deliveries[1].Phone != "01098765432" {
		t.Fatalf("deliveries %+v, want 010-1111-2222 and 010-9876-5432", m.Deliveries)
	}

	h.cfg.Alerting.Groups = append(h.cfg.Alerting.Groups, config.Group{Name: "night", Members: []string{"010-3333-4444", "0101234567"}})
	for name, v := range map[string]url.Values{
		"typed":        {"to": {"010-1111-2222, 010 9 8 7 6 5 4 3 2 1"}, "text": {"안녕"}},
		"config group": {"group": {"night"}, "text": {"안녕"}},
	} {
		t.Run(name, func(t *testing.T) {
			want := "010 9 8 7 6 5 4 3 2 1"
			if name == "config group" {
				want = "0101234567"
			}
			c.post("/send", v).mustStatus(t, http.StatusUnprocessableEntity).
				mustContain(t, "전화번호를 읽을 수 없습니다", want, `class="err field-error"`)
		})
	}
	if n := h.messages(); n != 1 {
		t.Fatalf("%d messages stored, want only the first", n)
	}
}

// TestSendOneRecipientConfirmed: even a send to one number shows the
// summary first (recipients, type, bytes, messages charged, sender, test,
// reservation) and stores nothing until it is confirmed.
func TestSendOneRecipientConfirmed(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.addUser("op", auth.RoleOperator, adminPW)
	c := h.client()
	c.login("op", adminPW)
	form := url.Values{"to": {"010-1234-5678"}, "text": {"서버 점검 안내"}}
	c.post("/send", form).mustStatus(t, http.StatusOK).mustContain(t, `id="confirm"`,
		`<strong id="confirm-count">1명 · 문자 1건</strong>`, `<td id="confirm-kind">SMS · 14 / 90 byte`, "02-1234-5678",
		`<td id="confirm-test">아니오</td>`, `<td id="confirm-when">지금</td>`, "010-1234-5678", `name="confirmed" value="1"`)
	if h.messages() != 0 {
		t.Fatal("stored before confirmation")
	}
	test := cloneValues(form)
	test.Set("test", "1")
	c.post("/send", test).mustStatus(t, http.StatusOK).mustContain(t, `<td id="confirm-test">예 (실제로 발송되지 않음)</td>`)
	form.Set("confirmed", "1")
	r := c.post("/send", form).mustStatus(t, http.StatusSeeOther)
	if m, err := h.st.GetMessage(h.ctx, messageID(t, r)); err != nil || len(m.Deliveries) != 1 {
		t.Fatalf("after the confirmation: %+v, %v", m, err)
	}
}
