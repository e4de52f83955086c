package alimtalk_test

// Tests through munja's real pipeline: a SQLite store, the outbox and the
// dispatcher, with Kakao Alimtalk (its fake) first and Aligo SMS (its
// fake) second.

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/munja-sms/munja/config"
	"github.com/munja-sms/munja/dispatcher"
	"github.com/munja-sms/munja/outbox"
	"github.com/munja-sms/munja/provider"
	"github.com/munja-sms/munja/provider/aligo/aligotest"
	"github.com/munja-sms/munja/provider/alimtalk/alimtalktest"
	"github.com/munja-sms/munja/provider/internal/pipelinetest"
	"github.com/munja-sms/munja/sms"
)

type pipeline struct {
	*pipelinetest.Pipeline
	kakao *alimtalktest.Server
	aligo *aligotest.Server
}

// newPipeline builds kakao (first) and aligo (second) through the
// registry, as munja serve does; only drops aligo. cfg edits kakao's entry.
func newPipeline(t *testing.T, only bool, cfg func(*config.Provider), opt dispatcher.Options) *pipeline {
	t.Helper()
	p := &pipeline{kakao: alimtalktest.New(t), aligo: aligotest.New(t)}
	kc := p.kakao.ProviderConfig()
	kc.Options["templates"] = config.Opts("t", []map[string]any{
		{"for": "alert", "tpl_code": alimtalktest.AlertCode, "content": alimtalktest.AlertContent, "variables": map[string]string{"내용": "text"}},
		{"for": "resolved", "tpl_code": alimtalktest.ResolvedCode, "content": alimtalktest.ResolvedContent, "variables": map[string]string{"내용": "text"}},
		{"for": "template:정기점검", "tpl_code": "TA_0003", "content": "[정기점검]\n#{내용}", "variables": map[string]string{"내용": "text"}},
	})["t"]
	p.kakao.AddTemplate(alimtalktest.Template{Code: "TA_0003", Content: "[정기점검]\n#{내용}", Approved: true})
	if cfg != nil {
		cfg(&kc)
	}
	cfgs := []config.Provider{kc, p.aligo.ProviderConfig()}
	if only {
		cfgs = cfgs[:1]
	}
	p.Pipeline = pipelinetest.New(t, p.kakao.Sender, cfgs, opt)
	return p
}

var team = []string{"010-1111-2222", "010-3333-4444"}

// TestAlertGoesByAlimtalk: the alert engine's messages (as app's
// outboxNotifier stores them) go through the approved templates, with the
// SMS failover of the same text; a message written from a template with
// an entry goes through that one.
func TestAlertGoesByAlimtalk(t *testing.T) {
	p := newPipeline(t, false, nil, dispatcher.Options{})
	fire := p.SubmitRequest(outbox.Request{To: team, Text: "[경고] httpd 프로세스가 동작하지 않습니다.", Type: "auto", Source: "alert", Actor: "alert:first", DropLimited: true})
	fixed := p.SubmitRequest(outbox.Request{To: team, Text: "[복구] httpd 프로세스가 다시 동작합니다.", Type: "auto", Source: "alert", Actor: "alert:resolved", DropLimited: true})
	notice := p.SubmitRequest(outbox.Request{To: team[:1], Text: "오늘 22시 정기점검", Source: "console", Actor: "kim", Template: "정기점검"})
	p.DispatchOnce()
	for _, id := range []int64{fire, fixed, notice} {
		for _, d := range p.Deliveries(id) {
			if d.Status != sms.StatusSent || d.Provider != "kakao" || d.ProviderMsgID == "" {
				t.Errorf("message %d: %+v", id, d)
			}
		}
	}
	want := map[string]string{
		"[서버 알림]\n[경고] httpd 프로세스가 동작하지 않습니다.": alimtalktest.AlertCode,
		"[서버 복구]\n[복구] httpd 프로세스가 다시 동작합니다.":  alimtalktest.ResolvedCode,
		"[정기점검]\n오늘 22시 정기점검":                  "TA_0003",
	}
	got := p.kakao.Delivered()
	if len(got) != 5 {
		t.Fatalf("kakao delivered %d, want 5", len(got))
	}
	for _, d := range got {
		if want[d.Message] != d.TplCode || !d.Matched || !d.Failover || d.FMessage != d.Message || d.Sender != alimtalktest.DefaultSender {
			t.Errorf("delivered %+v", d)
		}
	}
	if n := len(p.aligo.Delivered()); n != 0 {
		t.Errorf("aligo delivered %d", n)
	}
	// Delivery results come from the history detail.
	st, err := p.Dispatcher.ReportsOnce(context.Background())
	if err != nil || st.Delivered != 5 {
		t.Errorf("reports %+v %v", st, err)
	}
}

// TestNoTemplateGoesBySMS: a console or API message without a template is
// declined by kakao and delivered by aligo in the same pass; kakao's
// health is untouched and no call was made to it.
func TestNoTemplateGoesBySMS(t *testing.T) {
	p := newPipeline(t, false, nil, dispatcher.Options{})
	id := p.SubmitRequest(outbox.Request{To: team, Text: "회의실 변경 안내", Source: "console", Actor: "kim"})
	api := p.SubmitRequest(outbox.Request{To: team[:1], Text: "배포 완료", Source: "api", Actor: "ci", Template: "없는템플릿"})
	p.DispatchOnce()
	for _, m := range []int64{id, api} {
		for _, d := range p.Deliveries(m) {
			if d.Status != sms.StatusSent || d.Provider != "aligo" || d.LastError != "" {
				t.Errorf("delivery %+v", d)
			}
		}
	}
	if n := len(p.aligo.Delivered()); n != 3 {
		t.Errorf("aligo delivered %d, want 3", n)
	}
	if n := len(p.kakao.Sends()); n != 0 {
		t.Errorf("%d sends to kakao", n)
	}
	if st := p.Dispatcher.Providers()[0]; !st.Up || st.Failures != 0 || st.LastError != nil {
		t.Errorf("kakao health %+v", st)
	}
}

// TestNoProviderTakesIt: with kakao alone, a message without a template
// fails at once naming why.
func TestNoProviderTakesIt(t *testing.T) {
	p := newPipeline(t, true, nil, dispatcher.Options{})
	id := p.SubmitRequest(outbox.Request{To: team[:1], Text: "회의실 변경 안내", Source: "console"})
	p.DispatchOnce()
	d := p.Deliveries(id)[0]
	if d.Status != sms.StatusFailed || d.LastError != "no provider takes this message: kakao: no approved template for it" {
		t.Errorf("delivery %+v", d)
	}
}

// TestAlimtalkDownFailsOver: kakao answering 5xx sends the alert through
// aligo in the same pass; after three such calls kakao is marked down
// and alerts go straight to aligo.
func TestAlimtalkDownFailsOver(t *testing.T) {
	p := newPipeline(t, false, nil, dispatcher.Options{})
	p.kakao.SetFailure(alimtalktest.Failure{Mode: alimtalktest.HTTPStatus, Status: 503})
	var ids []int64
	for range 4 {
		ids = append(ids, p.SubmitRequest(outbox.Request{To: team[:1], Text: "[경고] 80 포트가 열려있지 않습니다.", Source: "alert", Actor: "alert:first"}))
		p.DispatchOnce()
	}
	for _, id := range ids {
		if d := p.Deliveries(id)[0]; d.Status != sms.StatusSent || d.Provider != "aligo" {
			t.Errorf("delivery %+v", d)
		}
	}
	st := p.Dispatcher.Providers()[0]
	if st.Up || st.Failures < 3 || !strings.Contains(st.LastError.Error(), "HTTP 503") {
		t.Errorf("kakao state %+v", st)
	}
	// The token call meets the 503 too, but only sends count as calls.
	if n := len(p.kakao.Sends()); n != 3 {
		t.Errorf("%d sends to kakao, want 3 (then marked down)", n)
	}
}

// TestAlimtalkRetriedAlone: with kakao the only provider, a 5xx leaves the
// alert queued for a retry, which delivers it.
func TestAlimtalkRetriedAlone(t *testing.T) {
	now := time.Now().Add(time.Minute) // after the outbox stores the message
	p := newPipeline(t, true, nil, dispatcher.Options{Now: func() time.Time { return now }, RetryInitial: time.Second})
	// The one failure meets the token call: the client goes on without a
	// token (the server does not require one), and the send itself is
	// made to fail by the next one.
	p.kakao.FailNext(2, alimtalktest.Failure{Mode: alimtalktest.HTTPStatus, Status: 502})
	id := p.SubmitRequest(outbox.Request{To: team[:1], Text: "[경고] 디스크 95%", Source: "alert", Actor: "alert:repeat"})
	p.DispatchOnce()
	d := p.Deliveries(id)[0]
	if d.Status != sms.StatusQueued || !strings.Contains(d.LastError, "HTTP 502") {
		t.Fatalf("after 502: %+v", d)
	}
	now = now.Add(time.Minute)
	p.DispatchOnce()
	if d := p.Deliveries(id)[0]; d.Status != sms.StatusSent || d.Provider != "kakao" {
		t.Errorf("after the retry: %+v", d)
	}
	if n := len(p.kakao.Delivered()); n != 1 {
		t.Errorf("delivered %d", n)
	}
}

// TestAuthFailureIsAccountFailure: a wrong key fails the send
// permanently as a refusal of the account, which counts against kakao's
// health; the alert goes out through aligo.
func TestAuthFailureIsAccountFailure(t *testing.T) {
	p := newPipeline(t, false, func(c *config.Provider) { c.Options["key"] = config.Opts("k", "wrong")["k"] }, dispatcher.Options{})
	id := p.SubmitRequest(outbox.Request{To: team[:1], Text: "[경고] x", Source: "alert", Actor: "alert:first"})
	p.DispatchOnce()
	if d := p.Deliveries(id)[0]; d.Status != sms.StatusSent || d.Provider != "aligo" {
		t.Errorf("delivery %+v", d)
	}
	st := p.Dispatcher.Providers()[0]
	reason, account := provider.AccountFailure(st.LastError)
	if st.Failures != 1 || !account || reason != "인증 실패" || !strings.Contains(st.LastError.Error(), "check user_id and key") {
		t.Errorf("kakao state %+v", st)
	}
}

// TestLateAnswerNotSentTwice: kakao accepts but answers after the call
// timeout; the dispatcher asks the history and records it as sent by
// kakao without sending it again.
func TestLateAnswerNotSentTwice(t *testing.T) {
	p := newPipeline(t, false, nil, dispatcher.Options{CallTimeout: 500 * time.Millisecond, LookupWait: 50 * time.Millisecond})
	warm := p.SubmitRequest(outbox.Request{To: team[:1], Text: "[경고] 준비", Source: "alert", Actor: "alert:first"}) // makes the token
	p.DispatchOnce()
	p.kakao.FailNext(1, alimtalktest.Failure{Mode: alimtalktest.LateAnswer, Delay: 3 * time.Second})
	id := p.SubmitRequest(outbox.Request{To: team, Text: "[경고] 메모리 부족", Source: "alert", Actor: "alert:first"})
	p.DispatchOnce()
	for _, d := range append(p.Deliveries(id), p.Deliveries(warm)...) {
		if d.Status != sms.StatusSent || d.Provider != "kakao" || d.ProviderMsgID == "" {
			t.Errorf("delivery %+v", d)
		}
	}
	if n := len(p.kakao.Delivered()); n != 3 {
		t.Errorf("kakao delivered %d, want 3 (none twice)", n)
	}
	if n := len(p.aligo.Delivered()); n != 0 {
		t.Errorf("aligo delivered %d", n)
	}
}
