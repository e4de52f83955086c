package alimtalk

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/munja-sms/munja/config"
	"github.com/munja-sms/munja/provider"
	"github.com/munja-sms/munja/provider/alimtalk/alimtalktest"
	"github.com/munja-sms/munja/provider/internal/clienttest"
	"github.com/munja-sms/munja/sms"
)

// newClient builds a client for cfg with a debug log captured in the
// returned buffer.
func newClient(t *testing.T, cfg config.Provider) (*Client, *bytes.Buffer) {
	t.Helper()
	return clienttest.Client(t, NewClient, cfg)
}

// phones returns n receivers, 01000000000 upwards.
var phones = clienttest.Phones

// alert is a batch the alert engine made (a first alert).
func alert(text string, to ...sms.Phone) provider.Batch {
	return provider.Batch{Text: text, Kind: sms.FitKind(sms.KindSMS, sms.Len(text)), Receivers: to, Source: "alert", Actor: "alert:first"}
}

// withTemplates is cfg with its templates replaced.
func withTemplates(cfg config.Provider, ts ...map[string]any) config.Provider {
	opts := config.Options{}
	for k, v := range cfg.Options {
		opts[k] = v
	}
	cfg.Options = opts
	cfg.Options["templates"] = config.Opts("t", ts)["t"]
	return cfg
}

// sends is the form of the i-th send the fake received.
func sendForm(t *testing.T, gw *alimtalktest.Server, i int) map[string]string {
	t.Helper()
	s := gw.Sends()
	if len(s) <= i {
		t.Fatalf("%d sends, want more than %d", len(s), i)
	}
	out := map[string]string{}
	for k, v := range s[i].Form {
		out[k] = v[0]
	}
	return out
}

const down = "[경고] httpd 프로세스가 동작하지 않습니다."

func TestSendAlertThroughApprovedTemplate(t *testing.T) {
	gw := alimtalktest.New(t)
	c, logs := newClient(t, gw.ProviderConfig())
	res, err := c.Send(context.Background(), alert(down, phones(3)...))
	if err != nil {
		t.Fatal(err)
	}
	if res.MessageID == "" || res.Accepted != 3 || res.Rejected != 0 {
		t.Errorf("result %+v", res)
	}
	f := sendForm(t, gw, 0)
	want := "[서버 알림]\n" + down
	for k, v := range map[string]string{
		"apikey": alimtalktest.DefaultKey, "userid": alimtalktest.DefaultUserID, "senderkey": alimtalktest.DefaultSenderKey,
		"tpl_code": "TA_0001", "sender": alimtalktest.DefaultSender, "failover": "Y",
		"receiver_1": "01000000000", "receiver_3": "01000000002", "subject_1": "서버 알림",
		"message_1": want, "message_3": want, "fmessage_1": want, "fmessage_3": want,
	} {
		if f[k] != v {
			t.Errorf("%s = %q, want %q", k, f[k], v)
		}
	}
	for _, k := range []string{"receiver_4", "testMode", "fsubject_1", "key", "user_id"} {
		if _, ok := f[k]; ok {
			t.Errorf("%s sent: %q", k, f[k])
		}
	}
	if f["token"] == "" || gw.TokensIssued() != 1 {
		t.Errorf("token %q, issued %d", f["token"], gw.TokensIssued())
	}
	for _, d := range gw.Delivered() {
		if !d.Matched || !d.Failover || d.FMessage != want || d.Test || d.SMSFallback {
			t.Errorf("delivered %+v", d)
		}
	}
	if strings.Contains(logs.String(), alimtalktest.DefaultKey) || strings.Contains(logs.String(), alimtalktest.DefaultSenderKey) {
		t.Error("a key in the log")
	}
}

func TestTemplatesByKind(t *testing.T) {
	gw := alimtalktest.New(t)
	gw.AddTemplate(alimtalktest.Template{Code: "TA_0100", Content: "[#{회사}] #{제목}\n#{내용}", Approved: true})
	cfg := gw.ProviderConfig()
	cfg = withTemplates(cfg,
		map[string]any{"for": "alert", "tpl_code": "TA_0001", "content": alimtalktest.AlertContent, "variables": map[string]string{"내용": "text"}},
		map[string]any{"for": "resolved", "tpl_code": "TA_0002", "content": alimtalktest.ResolvedContent, "variables": map[string]string{"내용": "text"}},
		map[string]any{"for": "template:정기점검", "tpl_code": "TA_0100", "content": "[#{회사}] #{제목}\n#{내용}",
			"variables": map[string]string{"회사": "=munja", "제목": "title", "내용": "text"}},
	)
	c, _ := newClient(t, cfg)
	to := phones(1)
	cases := []struct {
		b        provider.Batch
		tpl, msg string
	}{
		{provider.Batch{Text: "a", Source: "alert", Actor: "alert:repeat"}, "TA_0001", "[서버 알림]\na"},
		{provider.Batch{Text: "b", Source: "alert", Actor: "alert:escalation"}, "TA_0001", "[서버 알림]\nb"},
		{provider.Batch{Text: "c", Source: "alert", Actor: "gateway-down:aligo"}, "TA_0001", "[서버 알림]\nc"},
		{provider.Batch{Text: "d", Source: "alertmanager", Actor: "am"}, "TA_0001", "[서버 알림]\nd"},
		{provider.Batch{Text: "[복구] e", Source: "alert", Actor: "alert:resolved"}, "TA_0002", "[서버 복구]\n[복구] e"},
		{provider.Batch{Text: "f", Source: "alert", Actor: "gateway-up:aligo"}, "TA_0002", "[서버 복구]\nf"},
		{provider.Batch{Text: "[복구] h", Source: "alert", Actor: "agent:web1:resolved"}, "TA_0002", "[서버 복구]\n[복구] h"},
		{provider.Batch{Text: "i", Source: "alert", Actor: "agent:web1:first"}, "TA_0001", "[서버 알림]\ni"},
		{provider.Batch{Text: "g", Title: "점검 안내", Kind: sms.KindLMS, Source: "console", Template: "정기점검"}, "TA_0100", "[munja] 점검 안내\ng"},
	}
	for i, tc := range cases {
		tc.b.Receivers = to
		if _, err := c.Send(context.Background(), tc.b); err != nil {
			t.Fatalf("%d: %v", i, err)
		}
		f := sendForm(t, gw, i)
		if f["tpl_code"] != tc.tpl || f["message_1"] != tc.msg {
			t.Errorf("%d: %s %q, want %s %q", i, f["tpl_code"], f["message_1"], tc.tpl, tc.msg)
		}
	}
	for _, d := range gw.Delivered() {
		if !d.Matched {
			t.Errorf("not matched: %+v", d)
		}
	}
	if !c.TakesTemplate("정기점검") || c.TakesTemplate("other") || c.TakesTemplate("") {
		t.Error("TakesTemplate")
	}
}

// TestSkip: a message no template is configured for is declined with a
// Skip error (the next provider sends it) without calling the gateway.
func TestSkip(t *testing.T) {
	gw := alimtalktest.New(t)
	cfg := withTemplates(gw.ProviderConfig(),
		map[string]any{"for": "alert", "tpl_code": "TA_0001", "content": alimtalktest.AlertContent, "variables": map[string]string{"내용": "text"}},
		map[string]any{"for": "template:제목", "tpl_code": "TA_0009", "content": "#{제목}: #{내용}", "variables": map[string]string{"제목": "title", "내용": "text"}},
	)
	c, _ := newClient(t, cfg)
	to := phones(2)
	cases := []struct {
		b    provider.Batch
		want string
	}{
		{provider.Batch{Text: "hello", Source: "console", Receivers: to}, "kakao: no approved template for it"},
		{provider.Batch{Text: "hello", Source: "api", Receivers: to}, "kakao: no approved template for it"},
		{provider.Batch{Text: "hello", Source: "console", Template: "공지", Receivers: to}, `kakao: no approved template for it (munja template "공지")`},
		{provider.Batch{Text: "[복구] ok", Source: "alert", Actor: "alert:resolved", Receivers: to}, "kakao: no approved template for it (resolved messages)"},
		{provider.Batch{Text: "no title", Source: "console", Template: "제목", Receivers: to}, "kakao: template TA_0009 needs a title for #{제목} and the message has none"},
		{alert(strings.Repeat("가", MaxChars-7), to...), "kakao: the message through template TA_0001 is 1001 characters; Kakao allows 1000"},
	}
	for _, tc := range cases {
		_, err := c.Send(context.Background(), tc.b)
		if !provider.IsSkip(err) || err.Error() != tc.want {
			t.Errorf("%+v: %v, want a skip %q", tc.b.Template, err, tc.want)
		}
		if provider.IsUncertain(err) {
			t.Error("a skip is uncertain")
		}
	}
	// Exactly 1000 characters goes.
	if _, err := c.Send(context.Background(), alert(strings.Repeat("가", MaxChars-8), to...)); err != nil {
		t.Errorf("1000 characters: %v", err)
	}
	if n := len(gw.Sends()); n != 1 {
		t.Errorf("%d sends, want 1 (only the 1000-character alert)", n)
	}
}

// TestFailoverTitleByBytes: the failover goes as SMS (no fsubject) while
// the rendered text fits 90 CP949 bytes, as LMS (with its title) past.
func TestFailoverTitleByBytes(t *testing.T) {
	gw := alimtalktest.New(t)
	c, _ := newClient(t, gw.ProviderConfig())
	wrap := sms.Len("[서버 알림]\n") // 12
	for i, tc := range []struct {
		text  string
		title string
		want  string // fsubject_1
	}{
		{strings.Repeat("가", (89-wrap)/2) + "a", "", ""},                             // 89 bytes
		{strings.Repeat("가", (90-wrap)/2), "", ""},                                   // 90
		{strings.Repeat("a", 91-wrap), "", "서버 알림"},                                  // 91
		{strings.Repeat("가", (91-wrap)/2) + "a", "디스크", "디스크"},                       // 91, the message's title
		{strings.Repeat("a", 10), "", ""},                                            // short
		{strings.Repeat("a", 500), strings.Repeat("제", 30), strings.Repeat("제", 22)}, // title cut to 44 bytes
	} {
		b := alert(tc.text, phones(1)...)
		b.Title = tc.title
		if _, err := c.Send(context.Background(), b); err != nil {
			t.Fatal(err)
		}
		f := sendForm(t, gw, i)
		if got := sms.Len(f["fmessage_1"]); got != sms.Len(tc.text)+wrap {
			t.Errorf("%d: fmessage %d bytes", i, got)
		}
		if f["fsubject_1"] != tc.want {
			t.Errorf("%d (%d bytes): fsubject %q, want %q", i, sms.Len(f["fmessage_1"]), f["fsubject_1"], tc.want)
		}
	}
}

func TestTestMode(t *testing.T) {
	gw := alimtalktest.New(t, alimtalktest.WithBalance(10))
	c, _ := newClient(t, gw.ProviderConfig())
	b := alert(down, phones(20)...)
	b.Test = true
	if _, err := c.Send(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	if f := sendForm(t, gw, 0); f["testMode"] != "Y" {
		t.Errorf("testMode %q", f["testMode"])
	}
	for _, d := range gw.Delivered() {
		if !d.Test {
			t.Errorf("%+v not a test", d)
		}
	}
	// test_mode in the config does the same for every send.
	cfg := gw.ProviderConfig()
	cfg.TestMode = true
	c2, _ := newClient(t, cfg)
	if _, err := c2.Send(context.Background(), alert(down, phones(1)...)); err != nil {
		t.Fatal(err)
	}
	if f := sendForm(t, gw, 1); f["testMode"] != "Y" {
		t.Errorf("test_mode: testMode %q", f["testMode"])
	}
}

func TestBatchLimit(t *testing.T) {
	gw := alimtalktest.New(t)
	c, _ := newClient(t, gw.ProviderConfig())
	if c.MaxBatch() != 500 {
		t.Errorf("MaxBatch %d", c.MaxBatch())
	}
	res, err := c.Send(context.Background(), alert(down, phones(500)...))
	if err != nil || res.Accepted != 500 {
		t.Fatalf("500: %+v %v", res, err)
	}
	if f := sendForm(t, gw, 0); f["receiver_500"] != "01000000499" {
		t.Errorf("receiver_500 %q", f["receiver_500"])
	}
	_, err = c.Send(context.Background(), alert(down, phones(501)...))
	if !provider.IsPermanent(err) || provider.IsSkip(err) || len(gw.Sends()) != 1 {
		t.Errorf("501: %v", err)
	}
	// A malformed receiver is rejected by the gateway (fcnt).
	res, err = c.Send(context.Background(), alert(down, "01012345678", "0101234"))
	if err != nil || res.Accepted != 1 || res.Rejected != 1 {
		t.Errorf("partial: %+v %v", res, err)
	}
	_, err = c.Send(context.Background(), alert(down, "0101234"))
	if !provider.IsPermanent(err) {
		t.Errorf("all rejected: %v", err)
	}
}

// TestAuthErrors: wrong credentials are permanent refusals of the
// account that name the key to check.
func TestAuthErrors(t *testing.T) {
	gw := alimtalktest.New(t)
	for _, tc := range []struct {
		name    string
		opts    config.Options
		mode    alimtalktest.Mode
		want    string
		account string
	}{
		{name: "wrong key", opts: config.Opts("key", "wrong"), want: "check user_id and key", account: "인증 실패"},
		{name: "wrong user", opts: config.Opts("user_id", "someone"), want: "check user_id and key", account: "인증 실패"},
		{name: "wrong sender key", opts: config.Opts("sender_key", "ffff"), want: "check sender_key", account: "발신프로필 키 오류"},
		{name: "ip", mode: alimtalktest.IPNotAllowed, want: "IP address is not registered", account: "발송 IP 미등록"},
		{name: "key revoked", mode: alimtalktest.BadKey, want: "check user_id and key", account: "인증 실패"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := gw.ProviderConfig()
			opts := config.Options{}
			for k, v := range cfg.Options {
				opts[k] = v
			}
			for k, v := range tc.opts {
				opts[k] = v
			}
			cfg.Options = opts
			gw.SetFailure(alimtalktest.Failure{Mode: tc.mode})
			defer gw.SetFailure(alimtalktest.Failure{})
			c, logs := newClient(t, cfg)
			start := time.Now()
			_, err := c.Send(context.Background(), alert(down, phones(1)...))
			reason, account := provider.AccountFailure(err)
			if !provider.IsPermanent(err) || !account || reason != tc.account || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "kakao: ") {
				t.Errorf("%v (account %q)", err, reason)
			}
			if time.Since(start) > 5*time.Second {
				t.Error("slow")
			}
			if _, err := c.Remain(context.Background()); tc.name != "wrong sender key" && !provider.IsPermanent(err) {
				t.Errorf("remain: %v", err)
			}
			if strings.Contains(logs.String(), "wrong") && tc.name == "wrong key" {
				t.Error("the key in the log")
			}
		})
	}
}

// TestRetryableErrors: 5xx, a maintenance page and a timeout are
// retryable; a timeout after the request was written is uncertain.
func TestRetryableErrors(t *testing.T) {
	gw := alimtalktest.New(t)
	cfg := gw.ProviderConfig()
	cfg.Timeout = config.Duration(300 * time.Millisecond)
	c, _ := newClient(t, cfg)
	for _, tc := range []struct {
		f         alimtalktest.Failure
		code      string
		uncertain bool
	}{
		{alimtalktest.Failure{Mode: alimtalktest.HTTPStatus, Status: 503}, "HTTP 503", false},
		{alimtalktest.Failure{Mode: alimtalktest.HTTPStatus, Status: 429}, "HTTP 429", false},
		{alimtalktest.Failure{Mode: alimtalktest.HTTPStatus, Status: 504}, "HTTP 504", true},
		{alimtalktest.Failure{Mode: alimtalktest.Garbage}, "bad response", false},
		{alimtalktest.Failure{Mode: alimtalktest.Timeout, Delay: 2 * time.Second}, "timeout", true},
	} {
		c.tokens.drop(c.tokens.token)
		// The token is created before the failure is injected: the
		// failure hits the send.
		if _, err := c.token(context.Background()); err != nil {
			t.Fatal(err)
		}
		gw.FailNext(1, tc.f)
		_, err := c.Send(context.Background(), alert(down, phones(1)...))
		var pe *provider.Error
		if !errors.As(err, &pe) || pe.Permanent || pe.Code != tc.code || pe.Uncertain != tc.uncertain || pe.Account != "" {
			t.Errorf("%v: %v (%+v)", tc.f.Mode, err, pe)
		}
	}
	// A 404 (a wrong base_url) fails every call.
	cfg.BaseURL = gw.URL() + "/nothing"
	c2, _ := newClient(t, cfg)
	_, err := c2.Send(context.Background(), alert(down, phones(1)...))
	if _, account := provider.AccountFailure(err); !provider.IsPermanent(err) || !account || !strings.Contains(err.Error(), "check base_url") {
		t.Errorf("404: %v", err)
	}
}

// TestOtherRefusals: an unknown or unapproved template, an unregistered
// sender and an empty balance are permanent; only the balance is the
// account's.
func TestOtherRefusals(t *testing.T) {
	gw := alimtalktest.New(t)
	gw.AddTemplate(alimtalktest.Template{Code: "TA_0003", Content: "[대기]\n#{내용}"})
	for _, tc := range []struct {
		name    string
		cfg     func(*config.Provider)
		prep    func()
		want    string
		account string
	}{
		{name: "unknown template", cfg: func(c *config.Provider) {
			*c = withTemplates(*c, map[string]any{"for": "alert", "tpl_code": "TA_9999", "content": "#{a}", "variables": map[string]string{"a": "text"}})
		}, want: "make tpl_code and content in templates match"},
		{name: "not approved", cfg: func(c *config.Provider) {
			*c = withTemplates(*c, map[string]any{"for": "alert", "tpl_code": "TA_0003", "content": "[대기]\n#{내용}", "variables": map[string]string{"내용": "text"}})
		}, want: "[509]"},
		{name: "sender", cfg: func(c *config.Provider) { c.Sender = "0311112222" }, want: "발신번호"},
		{name: "balance", prep: func() { gw.SetBalance(0) }, want: "insufficient Aligo balance", account: "잔액 부족"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := gw.ProviderConfig()
			if tc.cfg != nil {
				tc.cfg(&cfg)
			}
			if tc.prep != nil {
				tc.prep()
			}
			defer gw.SetBalance(1_000_000)
			c, _ := newClient(t, cfg)
			_, err := c.Send(context.Background(), alert(down, phones(1)...))
			reason, _ := provider.AccountFailure(err)
			if !provider.IsPermanent(err) || provider.IsSkip(err) || reason != tc.account || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%v (account %q)", err, reason)
			}
		})
	}
}

// TestMismatchIsNotDelivered: content that differs from the approved text
// (one space) is accepted, as Aligo accepts it, but not delivered by
// Kakao: the report says why and that the failover SMS went instead.
func TestMismatchIsNotDelivered(t *testing.T) {
	gw := alimtalktest.New(t)
	cfg := withTemplates(gw.ProviderConfig(),
		map[string]any{"for": "alert", "tpl_code": "TA_0001", "content": "[서버알림]\n#{내용}", "variables": map[string]string{"내용": "text"}})
	c, _ := newClient(t, cfg)
	res, err := c.Send(context.Background(), alert(down, phones(1)...))
	if err != nil {
		t.Fatal(err)
	}
	d := gw.Delivered()
	if len(d) != 1 || d[0].Matched || !d[0].SMSFallback || d[0].FMessage != "[서버알림]\n"+down {
		t.Fatalf("delivered %+v", d)
	}
	reps, err := c.Reports(context.Background(), res.MessageID)
	if err != nil || len(reps) != 1 {
		t.Fatal(reps, err)
	}
	if r := reps[0]; r.Delivered || r.Failed || !strings.Contains(r.State, "메시지가 템플릿과 일치하지않음") || !strings.Contains(r.State, "문자로 대체") {
		t.Errorf("report %+v", r)
	}
}

func TestReports(t *testing.T) {
	gw := alimtalktest.New(t)
	c, _ := newClient(t, gw.ProviderConfig())
	gw.NoKakao("01000000001")
	res, err := c.Send(context.Background(), alert(down, phones(3)...))
	if err != nil {
		t.Fatal(err)
	}
	gw.SetPending(true)
	reps, err := c.Reports(context.Background(), res.MessageID)
	if err != nil || len(reps) != 3 {
		t.Fatal(reps, err)
	}
	for _, r := range reps {
		if r.Delivered || r.Failed {
			t.Errorf("in transit: %+v", r)
		}
	}
	gw.SetPending(false)
	reps, err = c.Reports(context.Background(), res.MessageID)
	if err != nil || len(reps) != 3 {
		t.Fatal(reps, err)
	}
	got := map[sms.Phone]provider.RecipientReport{}
	for _, r := range reps {
		got[r.Phone] = r
	}
	if r := got["01000000000"]; !r.Delivered || r.At.IsZero() {
		t.Errorf("delivered: %+v", r)
	}
	if r := got["01000000001"]; r.Delivered || r.Failed || !strings.Contains(r.State, "문자로 대체") {
		t.Errorf("no KakaoTalk, failover SMS: %+v", r)
	}
	if _, err := c.Reports(context.Background(), ""); !provider.IsPermanent(err) {
		t.Errorf("empty mid: %v", err)
	}
	if reps, err := c.Reports(context.Background(), "1"); err != nil || len(reps) != 0 {
		t.Errorf("unknown mid: %v %v", reps, err)
	}
}

func TestReportClassification(t *testing.T) {
	for _, tc := range []struct {
		row             detailRow
		delivered, fail bool
	}{
		{detailRow{MsgID: "1", Phone: "010-1111-2222", Rslt: "0", RsltMessage: "성공"}, true, false},
		{detailRow{MsgID: "1", Phone: "01011112222", Rslt: "K"}, true, false},
		{detailRow{MsgID: "Q1", Phone: "01011112222", Rslt: "U", RsltMessage: "메시지가 템플릿과 일치하지않음"}, false, false},
		{detailRow{MsgID: "1", Phone: "01011112222", Rslt: "U", RsltMessage: "메시지가 템플릿과 일치하지않음", SMID: "0"}, false, true},
		{detailRow{MsgID: "1", Phone: "01011112222", Rslt: "U", RsltMessage: "메시지가 템플릿과 일치하지않음", SMID: "77"}, false, false},
		{detailRow{MsgID: "1", Phone: "01011112222", Rslt: "3018"}, false, true},
		{detailRow{MsgID: "1", Phone: "01011112222"}, false, false},
	} {
		r := report(tc.row)
		if r.Delivered != tc.delivered || r.Failed != tc.fail || r.Phone != "01011112222" {
			t.Errorf("%+v: %+v", tc.row, r)
		}
	}
}

func TestBalance(t *testing.T) {
	for _, top := range []bool{false, true} {
		opts := []alimtalktest.Option{alimtalktest.WithBalance(3000)}
		if top {
			opts = append(opts, alimtalktest.WithHeartTopLevel())
		}
		gw := alimtalktest.New(t, opts...)
		c, _ := newClient(t, gw.ProviderConfig())
		b, err := c.Remain(context.Background())
		if err != nil || b != (provider.Balance{SMS: 3000, LMS: 1000, MMS: 428, Alimtalk: 3000}) {
			t.Errorf("top %v: %+v %v", top, b, err)
		}
	}
}

// TestTokenRenewal: one token serves calls while it is valid, a new one
// is made before it expires, and a token the server refused is renewed
// once and the call made again (sent once).
func TestTokenRenewal(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	gw := alimtalktest.New(t, alimtalktest.WithClock(clock), alimtalktest.RequireToken())
	c, _ := newClient(t, gw.ProviderConfig())
	c.now = clock
	ctx := context.Background()
	send := func() {
		t.Helper()
		if _, err := c.Send(ctx, alert(down, phones(1)...)); err != nil {
			t.Fatal(err)
		}
	}
	send()
	advance(10 * time.Minute)
	send()
	if _, err := c.Remain(ctx); err != nil {
		t.Fatal(err)
	}
	if n := gw.TokensIssued(); n != 1 {
		t.Errorf("%d tokens for calls within its life", n)
	}
	advance(19 * time.Minute) // 29 min: within tokenRenew of its end
	send()
	if n := gw.TokensIssued(); n != 2 {
		t.Errorf("%d tokens, want a new one before the old expired", n)
	}
	first := sendForm(t, gw, 0)["token"]
	if last := sendForm(t, gw, 2)["token"]; last == first || last == "" {
		t.Errorf("tokens %q then %q", first, last)
	}
	gw.ExpireTokens()
	send()
	if n := gw.TokensIssued(); n != 3 {
		t.Errorf("%d tokens after the server dropped them", n)
	}
	if n := len(gw.Delivered()); n != 4 {
		t.Errorf("%d delivered, want 4 (the refused call is sent once)", n)
	}
}

// TestWithoutTokenEndpoint: a server that offers no token (the current
// spec lists none) is called without one.
func TestWithoutTokenEndpoint(t *testing.T) {
	gw := alimtalktest.New(t)
	mux := http.NewServeMux()
	mux.HandleFunc("/akv10/token/create/", http.NotFound)
	mux.Handle("/", gw)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	cfg := gw.ProviderConfig()
	cfg.BaseURL = srv.URL
	c, logs := newClient(t, cfg)
	for range 2 {
		if _, err := c.Send(context.Background(), alert(down, phones(1)...)); err != nil {
			t.Fatal(err)
		}
	}
	if f := sendForm(t, gw, 1); f["token"] != "" {
		t.Errorf("token %q", f["token"])
	}
	if n := strings.Count(logs.String(), "token not available"); n != 1 {
		t.Errorf("asked for a token %d times in a row (log %s)", n, logs)
	}
}

// TestLateAnswerLookedUp: a send whose answer never came is found in the
// history and not sent again.
func TestLateAnswerLookedUp(t *testing.T) {
	gw := alimtalktest.New(t)
	cfg := gw.ProviderConfig()
	cfg.Timeout = config.Duration(300 * time.Millisecond)
	c, _ := newClient(t, cfg)
	if _, err := c.token(context.Background()); err != nil {
		t.Fatal(err)
	}
	gw.FailNext(1, alimtalktest.Failure{Mode: alimtalktest.LateAnswer, Delay: 5 * time.Second})
	since := time.Now()
	b := alert(down, phones(2)...)
	_, err := c.Send(context.Background(), b)
	if !provider.IsUncertain(err) {
		t.Fatalf("late answer: %v", err)
	}
	got, err := c.Lookup(context.Background(), b, since)
	if err != nil || len(got) != 2 || got["01000000000"] == "" {
		t.Fatalf("lookup %v %v", got, err)
	}
	// Another text, or another receiver, is not found.
	other := alert("다른 내용", phones(2)...)
	if got, err := c.Lookup(context.Background(), other, since); err != nil || len(got) != 0 {
		t.Errorf("other text: %v %v", got, err)
	}
	// A batch this provider does not take was never sent.
	if got, err := c.Lookup(context.Background(), provider.Batch{Text: down, Source: "console", Receivers: phones(1)}, since); err != nil || len(got) != 0 {
		t.Errorf("skipped batch: %v %v", got, err)
	}
}
