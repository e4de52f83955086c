package aligo

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/munja-sms/munja/config"
	"github.com/munja-sms/munja/provider"
	"github.com/munja-sms/munja/provider/aligo/aligotest"
	"github.com/munja-sms/munja/provider/internal/clienttest"
	"github.com/munja-sms/munja/sms"
)

const testKey = "s3cr3tkeys3cr3tkeys3cr3tkey12345"

// canned serves one fixed answer on every path.
func canned(t *testing.T, status int, ctype, body string) *Client {
	t.Helper()
	url := clienttest.Canned(t, status, ctype, body)
	c, _ := newClient(t, config.Provider{Options: config.Opts("user_id", "me", "key", testKey), Sender: "0212345678", BaseURL: url})
	return c
}

func TestErrorShapes(t *testing.T) {
	const html = "text/html; charset=UTF-8"
	tests := []struct {
		name      string
		status    int
		ctype     string
		body      string
		code      string
		permanent bool
		english   string // substring of the English explanation
	}{
		{"IP numeric", 200, html, `{"result_code":-101,"message":"인증오류입니다.-IP"}`, "-101", true, "IP address is not registered"},
		{"IP escaped", 200, html, `{"result_code":-101,"message":"\uc778\uc99d\uc624\ub958\uc785\ub2c8\ub2e4.-IP"}`, "-101", true, "IP address"},
		{"bad key string code", 200, html, `{"result_code":"-101","message":"인증오류입니다."}`, "-101", true, "wrong user_id or API key"},
		{"key missing", 200, "", `{"result_code":-101,"message":"API 키가 입력되지 않았습니다."}`, "-101", true, "wrong user_id or API key"},
		{"API not enabled", 200, html, `{"result_code":-102,"message":"API 인증오류입니다."}`, "-102", true, "not enabled"},
		{"sender", 200, html, `{"result_code":-101,"message":"등록되지 않은 발신번호입니다."}`, "-101", true, "sender number is not registered"},
		{"sender other code", 200, html, `{"result_code":"-301","message":"발신번호 오류"}`, "-301", true, "sender number"},
		{"balance -201", 200, html, `{"result_code":-201,"message":"error"}`, "-201", true, "insufficient"},
		{"balance wording", 200, html, `{"result_code":-999,"message":"잔액이 부족합니다."}`, "-999", true, "insufficient"},
		{"points wording", 200, html, `{"result_code":-999,"message":"포인트가 부족합니다."}`, "-999", true, "insufficient"},
		{"other negative", 200, html, `{"result_code":-109,"message":"알 수 없는 오류"}`, "-109", true, "알 수 없는 오류"},
		{"empty result_code", 200, html, `{"result_code":"","message":""}`, "bad response", false, "decode"},
		{"garbage", 200, html, `<html><body>점검중</body></html>`, "bad response", false, "decode"},
		{"truncated json", 200, html, `{"result_code":"1","mess`, "bad response", false, "decode"},
		{"non-numeric code", 200, html, `{"result_code":"OK"}`, "bad response", false, "decode"},
		{"HTTP 503", 503, html, `<h1>Service Unavailable</h1>`, "HTTP 503", false, "will retry"},
		{"HTTP 502", 502, "", ``, "HTTP 502", false, "will retry"},
		{"HTTP 429", 429, "", `slow down`, "HTTP 429", false, "will retry"},
		{"HTTP 408", 408, "", ``, "HTTP 408", false, "will retry"},
		{"HTTP 404", 404, html, `not found`, "HTTP 404", true, "base_url"},
		{"all rejected", 200, html, `{"result_code":"1","message":"success","msg_id":"5","success_cnt":0,"error_cnt":2,"msg_type":"SMS"}`, "error_cnt 2", true, "rejected every receiver"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := canned(t, tt.status, tt.ctype, tt.body)
			_, err := c.Send(context.Background(), provider.Batch{Text: "x", Receivers: phones(2)})
			var pe *provider.Error
			if !errors.As(err, &pe) {
				t.Fatalf("err %v (%T), want *provider.Error", err, err)
			}
			if pe.Code != tt.code || pe.Permanent != tt.permanent || provider.IsPermanent(err) != tt.permanent {
				t.Errorf("code %q permanent %v, want %q %v", pe.Code, pe.Permanent, tt.code, tt.permanent)
			}
			if !strings.Contains(pe.English, tt.english) || pe.Korean == "" || pe.Provider != "aligo" {
				t.Errorf("error %+v", pe)
			}
			if strings.Contains(err.Error(), testKey) || strings.Contains(pe.Message, testKey) {
				t.Error("key leaked into the error")
			}
		})
	}
}

func TestIPMessageWording(t *testing.T) {
	c := canned(t, 200, "", `{"result_code":-101,"message":"인증오류입니다.-IP"}`)
	_, err := c.Remain(context.Background())
	var pe *provider.Error
	if !errors.As(err, &pe) || pe.Korean != "이 서버의 IP가 Aligo 콘솔에 등록되어 있지 않습니다 (발송 IP 등록 필요)" ||
		pe.English != "this server's IP address is not registered in the Aligo console (register it under 발송 IP)" {
		t.Errorf("%+v", pe)
	}
}

func TestSuccessShapes(t *testing.T) {
	tests := []struct {
		name string
		body string
		want provider.Result
	}{
		{"observed", `{"result_code":"1","message":"success","msg_id":"146645343","success_cnt":2,"error_cnt":0,"msg_type":"SMS"}`,
			provider.Result{MessageID: "146645343", Kind: sms.KindSMS, Accepted: 2}},
		{"spec sample, numbers", `{ "result_code": 1, "message": "", "msg_id": 123456789, "success_cnt": 2, "error_cnt": 0, "msg_type": "SMS" }`,
			provider.Result{MessageID: "123456789", Kind: sms.KindSMS, Accepted: 2}},
		{"string counts", `{"result_code":"1","message":"success","msg_id":"7","success_cnt":"1","error_cnt":"1","msg_type":"SMS"}`,
			provider.Result{MessageID: "7", Kind: sms.KindSMS, Accepted: 1, Rejected: 1}},
		{"empty counts", `{"result_code":"1","message":"success","msg_id":"8","success_cnt":"","error_cnt":""}`,
			provider.Result{MessageID: "8", Kind: sms.KindSMS, Accepted: 2}},
		{"reserved", `{"result_code":"1","message":"reserved","msg_id":"9","success_cnt":2,"error_cnt":0,"msg_type":"SMS"}`,
			provider.Result{MessageID: "9", Kind: sms.KindSMS, Accepted: 2, Reserved: true}},
		{"gateway chose LMS", `{"result_code":"1","message":"success","msg_id":"10","success_cnt":2,"error_cnt":0,"msg_type":"LMS"}`,
			provider.Result{MessageID: "10", Kind: sms.KindLMS, Accepted: 2}},
		{"BOM and whitespace", "\ufeff \n{\"result_code\":1,\"msg_id\":\"11\",\"success_cnt\":2}\n",
			provider.Result{MessageID: "11", Kind: sms.KindSMS, Accepted: 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := canned(t, 200, "text/html; charset=UTF-8", tt.body)
			res, err := c.Send(context.Background(), provider.Batch{Text: "x", Kind: sms.KindSMS, Receivers: phones(2)})
			if err != nil {
				t.Fatal(err)
			}
			if res.MessageID != tt.want.MessageID || res.Kind != tt.want.Kind || res.Accepted != tt.want.Accepted ||
				res.Rejected != tt.want.Rejected || res.Reserved != tt.want.Reserved {
				t.Errorf("result %+v, want %+v", res, tt.want)
			}
		})
	}
}

func TestBodyLimit(t *testing.T) {
	c := canned(t, 200, "", `{"result_code":1,"message":"`+strings.Repeat("a", maxBody)+`"}`)
	_, err := c.Remain(context.Background())
	var pe *provider.Error
	if !errors.As(err, &pe) || pe.Code != "bad response" || pe.Permanent {
		t.Errorf("oversized body: %v", err)
	}
}

func TestTransportErrors(t *testing.T) {
	t.Run("timeout from config", func(t *testing.T) {
		gw := aligotest.New(t)
		gw.SetFailure(aligotest.Failure{Mode: aligotest.Timeout, Delay: time.Minute})
		cfg := gw.ProviderConfig()
		cfg.Timeout = config.Duration(200 * time.Millisecond)
		c, _ := newClient(t, cfg)
		start := time.Now()
		_, err := c.Send(context.Background(), provider.Batch{Text: "x", Receivers: phones(1)})
		assertCode(t, err, "timeout", false)
		if time.Since(start) > 10*time.Second {
			t.Errorf("took %v", time.Since(start))
		}
		// The outage ends; the same client works again.
		gw.SetFailure(aligotest.Failure{})
		if _, err := c.Send(context.Background(), provider.Batch{Text: "x", Receivers: phones(1)}); err != nil {
			t.Errorf("after outage: %v", err)
		}
	})
	t.Run("timeout from context deadline", func(t *testing.T) {
		gw := aligotest.New(t)
		gw.SetFailure(aligotest.Failure{Mode: aligotest.Timeout, Delay: time.Minute})
		c, _ := newClient(t, gw.ProviderConfig())
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		_, err := c.Remain(ctx)
		assertCode(t, err, "timeout", false)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err %v does not wrap DeadlineExceeded", err)
		}
	})
	t.Run("canceled", func(t *testing.T) {
		gw := aligotest.New(t)
		c, _ := newClient(t, gw.ProviderConfig())
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := c.Remain(ctx)
		assertCode(t, err, "canceled", false)
	})
	t.Run("connection refused", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		url := srv.URL
		srv.Close()
		c, _ := newClient(t, config.Provider{Options: config.Opts("user_id", "me", "key", testKey), Sender: "0212345678", BaseURL: url})
		_, err := c.Send(context.Background(), provider.Batch{Text: "x", Receivers: phones(1)})
		assertCode(t, err, "network", false)
		if strings.Contains(err.Error(), testKey) {
			t.Error("key leaked")
		}
	})
	t.Run("fake 5xx then recovery", func(t *testing.T) {
		gw := aligotest.New(t)
		gw.FailNext(1, aligotest.Failure{Mode: aligotest.HTTPStatus, Status: 503})
		c, _ := newClient(t, gw.ProviderConfig())
		_, err := c.Send(context.Background(), provider.Batch{Text: "x", Receivers: phones(1)})
		assertCode(t, err, "HTTP 503", false)
		if _, err := c.Send(context.Background(), provider.Batch{Text: "x", Receivers: phones(1)}); err != nil {
			t.Errorf("retry: %v", err)
		}
	})
}

func assertCode(t *testing.T, err error, code string, permanent bool) {
	t.Helper()
	var pe *provider.Error
	if !errors.As(err, &pe) || pe.Code != code || pe.Permanent != permanent {
		t.Fatalf("err %v, want code %q permanent %v", err, code, permanent)
	}
}

// TestFakeFailureModes runs the client against every failure the fake can
// inject and checks the classification an operator will see.
func TestFakeFailureModes(t *testing.T) {
	tests := []struct {
		f         aligotest.Failure
		code      string
		permanent bool
		english   string
	}{
		{aligotest.Failure{Mode: aligotest.IPNotAllowed}, "-101", true, "IP address"},
		{aligotest.Failure{Mode: aligotest.BadKey}, "-101", true, "API key"},
		{aligotest.Failure{Mode: aligotest.UnregisteredSender}, "-101", true, "sender"},
		{aligotest.Failure{Mode: aligotest.Garbage}, "bad response", false, "decode"},
		{aligotest.Failure{Mode: aligotest.HTTPStatus, Status: 500}, "HTTP 500", false, "retry"},
		{aligotest.Failure{Mode: aligotest.PartialError, ErrorCount: 3}, "error_cnt 3", true, "every receiver"},
	}
	for _, tt := range tests {
		t.Run(tt.code+" "+tt.english, func(t *testing.T) {
			gw := aligotest.New(t)
			gw.SetFailure(tt.f)
			c, logs := newClient(t, gw.ProviderConfig())
			_, err := c.Send(context.Background(), provider.Batch{Text: "x", Receivers: phones(3)})
			assertCode(t, err, tt.code, tt.permanent)
			if !strings.Contains(err.Error(), tt.english) {
				t.Errorf("error %q lacks %q", err, tt.english)
			}
			if strings.Contains(err.Error(), gw.Key) || strings.Contains(logs.String(), gw.Key) {
				t.Error("key leaked")
			}
		})
	}
	gw := aligotest.New(t)
	gw.SetFailure(aligotest.Failure{Mode: aligotest.PartialError, ErrorCount: 1})
	c, _ := newClient(t, gw.ProviderConfig())
	res, err := c.Send(context.Background(), provider.Batch{Text: "x", Receivers: phones(3)})
	if err != nil || res.Accepted != 2 || res.Rejected != 1 {
		t.Errorf("partial: %+v %v", res, err)
	}
}

// TestAccountFailures: what refuses every request of the account carries a
// short Korean reason (the dispatcher counts it against the gateway's
// health, the gateway-down alert names it); what refuses one request does
// not.
func TestAccountFailures(t *testing.T) {
	const html = "text/html; charset=UTF-8"
	tests := []struct {
		name    string
		status  int
		body    string
		account string
	}{
		{"IP", 200, `{"result_code":-101,"message":"인증오류입니다.-IP"}`, "발송 IP 미등록"},
		{"bad key", 200, `{"result_code":"-101","message":"인증오류입니다."}`, "인증 실패"},
		{"API not enabled", 200, `{"result_code":-102,"message":"API 인증오류입니다."}`, "API 사용 미신청"},
		{"balance", 200, `{"result_code":-999,"message":"잔액이 부족합니다."}`, "잔액 부족"},
		{"HTTP 404", 404, `not found`, "HTTP 404 응답 (base_url 확인)"},
		{"sender", 200, `{"result_code":-101,"message":"등록되지 않은 발신번호입니다."}`, ""},
		{"all rejected", 200, `{"result_code":"1","message":"success","msg_id":"5","success_cnt":0,"error_cnt":2,"msg_type":"SMS"}`, ""},
		{"other negative", 200, `{"result_code":-109,"message":"알 수 없는 오류"}`, ""},
		{"HTTP 503", 503, `<h1>Service Unavailable</h1>`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := canned(t, tt.status, html, tt.body)
			_, err := c.Send(context.Background(), provider.Batch{Text: "x", Receivers: phones(2)})
			got, ok := provider.AccountFailure(err)
			if got != tt.account || ok != (tt.account != "") {
				t.Errorf("AccountFailure(%v) = %q, %v; want %q", err, got, ok, tt.account)
			}
		})
	}
	// /remain/ says the same of the account as /send/.
	c := canned(t, 200, html, `{"result_code":-101,"message":"인증오류입니다."}`)
	_, err := c.Remain(context.Background())
	if r, _ := provider.AccountFailure(err); r != "인증 실패" {
		t.Errorf("Remain with a bad key: %v (account %q)", err, r)
	}
}
