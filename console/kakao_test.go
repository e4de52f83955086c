package console

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/munja-sms/munja/auth"
	"github.com/munja-sms/munja/provider"
	"github.com/munja-sms/munja/store"
)

// kakaoTaker is a provider with an approved Kakao Alimtalk template for
// the munja template 정기점검 only (as aligo_alimtalk with for:
// template:정기점검).
type kakaoTaker struct{}

func (kakaoTaker) Name() string  { return "kakao" }
func (kakaoTaker) MaxBatch() int { return 500 }
func (kakaoTaker) Send(context.Context, provider.Batch) (provider.Result, error) {
	return provider.Result{}, nil
}
func (kakaoTaker) TakesTemplate(name string) bool { return name == "정기점검" }

// TestSendOffersKakao: the send form offers Kakao Alimtalk for a template
// a provider has an approved Alimtalk template for, and the message keeps
// the template's name only when the operator keeps it chosen.
func TestSendOffersKakao(t *testing.T) {
	h := newHarness(t, harnessOpts{providers: []provider.Provider{kakaoTaker{}}})
	h.addUser("op", auth.RoleOperator, adminPW)
	notice := &store.Template{Name: "정기점검", Text: "오늘 22시 정기점검이 있습니다."}
	other := &store.Template{Name: "기타", Text: "기타 안내"}
	for _, tp := range []*store.Template{notice, other} {
		if err := h.st.SaveTemplate(h.ctx, tp); err != nil {
			t.Fatal(err)
		}
	}
	c := h.client()
	c.login("op", adminPW)

	page := c.get("/send").mustStatus(t, http.StatusOK)
	page.mustContain(t, `data-name="정기점검" data-kakao="1">정기점검</option>`, `data-name="기타">기타</option>`,
		`<div id="kakao-row" hidden>`, "카카오 알림톡으로 발송 (실패 시 문자 대체)", `name="template" id="template-name" value=""`)
	// From the templates page (?template=ID): offered and chosen.
	c.get("/send?template="+strconv.FormatInt(notice.ID, 10)).mustStatus(t, http.StatusOK).
		mustContain(t, `<div id="kakao-row" >`, `name="kakao" id="kakao" value="1" checked`, `id="template-name" value="정기점검"`)
	c.get("/send?template="+strconv.FormatInt(other.ID, 10)).mustStatus(t, http.StatusOK).
		mustContain(t, `<div id="kakao-row" hidden>`, `id="template-name" value="기타"`)

	send := func(v url.Values) string {
		t.Helper()
		r := c.post("/send", v).mustStatus(t, http.StatusSeeOther)
		m, err := h.st.GetMessage(h.ctx, messageID(t, r))
		if err != nil {
			t.Fatal(err)
		}
		return m.Template
	}
	base := url.Values{"to": {"010-1234-5678"}, "text": {"오늘 22시 정기점검이 있습니다."}, "confirmed": {"1"}}
	with := func(kv ...string) url.Values {
		v := cloneValues(base)
		for i := 0; i+1 < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
	if got := send(with("template", "정기점검", "kakao", "1")); got != "정기점검" {
		t.Errorf("kakao chosen: template %q", got)
	}
	if got := send(with("template", "정기점검")); got != "" {
		t.Errorf("kakao not chosen: template %q", got)
	}
	if got := send(with("template", "기타", "kakao", "1")); got != "" {
		t.Errorf("no provider takes 기타: template %q", got)
	}
	if got := send(with("template", strings.Repeat("가", 101), "kakao", "1")); got != "" {
		t.Errorf("an overlong name: template %q", got)
	}
	audit, _ := h.st.ListAudit(h.ctx, 5)
	if len(audit) < 4 || !strings.Contains(audit[3].Detail, "Kakao Alimtalk by template 정기점검") {
		t.Errorf("audit %+v", audit)
	}

	// The confirmation says so and carries it.
	many := with("template", "정기점검", "kakao", "1", "to", "01011110001,01011110002,01011110003,01011110004,01011110005,01011110006")
	c.post("/send", many).mustStatus(t, http.StatusOK).mustContain(t, `id="confirm"`,
		`<td id="confirm-kakao">예 (템플릿 정기점검, 실패 시 문자 대체)</td>`, `name="template" value="정기점검"`, `name="kakao" value="1"`)
	many.Set("confirmed", "6")
	if got := send(many); got != "정기점검" {
		t.Errorf("after the confirmation: template %q", got)
	}
}
