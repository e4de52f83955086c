package alimtalktest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

// post sends form to path (auth added unless form has its own) and
// decodes the JSON answer.
func post(t *testing.T, s *Server, path string, form url.Values) (int, map[string]any, http.Header) {
	t.Helper()
	if _, ok := form["apikey"]; !ok {
		form.Set("apikey", s.Key)
	}
	if _, ok := form["userid"]; !ok {
		form.Set("userid", s.UserID)
	}
	resp, err := http.PostForm(s.URL()+path, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(body, &m); err != nil {
			t.Fatalf("%s: %v", body, err)
		}
	}
	return resp.StatusCode, m, resp.Header
}

func code(m map[string]any) int {
	switch v := m["code"].(type) {
	case float64:
		return int(v)
	}
	return -1000
}

// send is a valid send form for n receivers with the alert template.
func send(s *Server, n int, text string) url.Values {
	f := url.Values{"senderkey": {s.SenderKey}, "tpl_code": {AlertCode}, "sender": {s.Sender}, "failover": {"Y"}}
	for i := 1; i <= n; i++ {
		k := strconv.Itoa(i)
		f.Set("receiver_"+k, "0101234"+strconv.Itoa(1000+i))
		f.Set("subject_"+k, "알림")
		f.Set("message_"+k, "[서버 알림]\n"+text)
	}
	return f
}

func TestAuthExact(t *testing.T) {
	s := New(t)
	for _, tc := range []struct {
		form url.Values
		code int
		msg  string
	}{
		{url.Values{"apikey": {s.Key}, "userid": {""}}, -99, "계정 아이디(=userid)"},
		{url.Values{"apikey": {strings.ToUpper(s.Key)}, "userid": {s.UserID}}, -99, "등록되지 않은 인증키"},
		{url.Values{"apikey": {s.Key}, "userid": {s.UserID + " "}}, -101, "인증오류입니다."},
		{url.Values{"key": {s.Key}, "user_id": {s.UserID}, "apikey": {""}, "userid": {s.UserID}}, -99, "등록되지 않은 인증키"}, // the SMS API's names do not count
		{url.Values{"apikey": {s.Key}, "userid": {s.UserID}, "token": {"made-up"}}, -99, "토큰"},
	} {
		status, m, h := post(t, s, "/akv10/heartinfo/", tc.form)
		if status != 200 || code(m) != tc.code || !strings.Contains(m["message"].(string), tc.msg) || h.Get("Content-Type") != "text/html; charset=UTF-8" {
			t.Errorf("%v: %d %v", tc.form, status, m)
		}
	}
	if status, m, _ := post(t, s, "/akv10/heartinfo/", url.Values{}); status != 200 || code(m) != 1 {
		t.Errorf("right credentials, no token: %v", m)
	}
}

func TestTokens(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s := New(t, RequireToken(), WithClock(func() time.Time { return now }))
	if _, m, _ := post(t, s, "/akv10/heartinfo/", url.Values{}); code(m) != -99 {
		t.Errorf("no token under RequireToken: %v", m)
	}
	if _, m, _ := post(t, s, "/akv10/token/create/30/x/", url.Values{}); code(m) != -99 {
		t.Errorf("bad unit: %v", m)
	}
	_, m, _ := post(t, s, "/akv10/token/create/30/s/", url.Values{})
	tok, _ := m["token"].(string)
	if code(m) != 0 || tok == "" || m["urlencode"] != url.QueryEscape(tok) {
		t.Fatalf("token: %v", m)
	}
	if _, m, _ := post(t, s, "/akv10/heartinfo/", url.Values{"token": {tok}}); code(m) != 1 {
		t.Errorf("valid token: %v", m)
	}
	now = now.Add(30 * time.Second)
	if _, m, _ := post(t, s, "/akv10/heartinfo/", url.Values{"token": {tok}}); code(m) != -99 {
		t.Errorf("expired token: %v", m)
	}
}

func TestSendChecks(t *testing.T) {
	s := New(t, WithBalance(1000))
	s.AddTemplate(Template{Code: "TA_0009", Content: "#{a}"})
	for _, tc := range []struct {
		name string
		edit func(url.Values)
		code int
		msg  string
	}{
		{"no senderkey", func(f url.Values) { f.Del("senderkey") }, -99, "senderkey"},
		{"wrong senderkey", func(f url.Values) { f.Set("senderkey", "x") }, -99, "발신 프로파일 키"},
		{"unknown template", func(f url.Values) { f.Set("tpl_code", "TA_9") }, -99, "템플릿 코드"},
		{"not approved", func(f url.Values) { f.Set("tpl_code", "TA_0009") }, 509, "승인"},
		{"unregistered sender", func(f url.Values) { f.Set("sender", "0311112222") }, -99, "발신번호"},
		{"501 receivers", func(f url.Values) { f.Set("receiver_501", "01012345678") }, -99, "500명"},
		{"no subject", func(f url.Values) { f.Del("subject_2") }, -99, "subject_2"},
		{"1001 characters", func(f url.Values) { f.Set("message_1", "[서버 알림]\n"+strings.Repeat("가", 994)) }, -99, "1,000자"},
		{"long failover", func(f url.Values) { f.Set("fmessage_1", strings.Repeat("가", 1001)) }, -99, "2,000바이트"},
		{"long failover title", func(f url.Values) { f.Set("fsubject_1", strings.Repeat("가", 23)) }, -99, "44바이트"},
	} {
		f := send(s, 2, "x")
		tc.edit(f)
		_, m, _ := post(t, s, "/akv10/alimtalk/send/", f)
		if code(m) != tc.code || !strings.Contains(m["message"].(string), tc.msg) {
			t.Errorf("%s: %v", tc.name, m)
		}
	}
	if n := len(s.Delivered()); n != 0 {
		t.Fatalf("%d delivered by refused sends", n)
	}
	// 500 receivers, one malformed; then one that does not match.
	f := send(s, 500, "디스크 95%")
	f.Set("receiver_7", "0101")
	_, m, _ := post(t, s, "/akv10/alimtalk/send/", f)
	info, _ := m["info"].(map[string]any)
	if code(m) != 0 || info["scnt"] != float64(499) || info["fcnt"] != float64(1) || info["type"] != "AT" || info["mid"] == "" {
		t.Fatalf("500: %v", m)
	}
	f = send(s, 1, "x")
	f.Set("message_1", "[서버 알림] x") // a space instead of the approved line break
	if _, m, _ := post(t, s, "/akv10/alimtalk/send/", f); code(m) != 0 {
		t.Fatalf("mismatch: %v", m)
	}
	d := s.Delivered()
	if len(d) != 500 || !d[0].Matched || d[0].FMessage != d[0].Message || d[499].Matched || !d[499].SMSFallback {
		t.Errorf("delivered %+v … %+v", d[0], d[len(d)-1])
	}
	// The balance: 500 charged, so 500 left, then a 501-unit send refused.
	if _, m, _ := post(t, s, "/akv10/heartinfo/", url.Values{}); m["list"].(map[string]any)["ALT_CNT"] != float64(500) {
		t.Errorf("heartinfo %v", m)
	}
	s.SetBalance(0)
	if _, m, _ := post(t, s, "/akv10/alimtalk/send/", send(s, 1, "x")); code(m) != -99 || m["message"] != "포인트가 부족합니다." {
		t.Errorf("no balance: %v", m)
	}
}

func TestHistoryAndDetail(t *testing.T) {
	s := New(t)
	_, m, _ := post(t, s, "/akv10/alimtalk/send/", send(s, 60, "x"))
	mid := m["info"].(map[string]any)["mid"].(string)
	test := send(s, 1, "y")
	test.Set("testMode", "Y")
	post(t, s, "/akv10/alimtalk/send/", test)
	_, m, _ = post(t, s, "/akv10/history/list/", url.Values{})
	list := m["list"].([]any)
	if len(list) != 1 || list[0].(map[string]any)["mid"] != mid || list[0].(map[string]any)["msg_count"] != "60" {
		t.Errorf("history %v", m)
	}
	_, m, _ = post(t, s, "/akv10/history/detail/", url.Values{"mid": {mid}, "limit": {"50"}, "page": {"2"}})
	if rows := m["list"].([]any); len(rows) != 10 || m["totalPage"] != "2" || m["currentPage"] != "2" {
		t.Errorf("detail page 2: %d rows, %v", len(rows), m["totalPage"])
	}
	if _, m, _ := post(t, s, "/akv10/history/detail/", url.Values{}); code(m) != -99 {
		t.Errorf("no mid: %v", m)
	}
}

func TestWire(t *testing.T) {
	s := New(t)
	resp, err := http.Get(s.URL() + "/akv10/heartinfo/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET: %d", resp.StatusCode)
	}
	if status, _, _ := post(t, s, "/akv10/heartinfo", url.Values{}); status != http.StatusNotFound {
		t.Errorf("no trailing slash: %d", status)
	}
	resp, err = http.PostForm(s.URL()+"/akv10/heartinfo/", url.Values{"apikey": {"x"}, "userid": {"y"}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `\ub4f1\ub85d`) {
		t.Errorf("Korean not escaped as PHP does: %s", body)
	}
	s.FailNext(1, Failure{Mode: HTTPStatus, Status: 502})
	if status, _, _ := post(t, s, "/akv10/heartinfo/", url.Values{}); status != 502 {
		t.Errorf("injected 502: %d", status)
	}
	if status, m, _ := post(t, s, "/akv10/heartinfo/", url.Values{}); status != 200 || code(m) != 1 {
		t.Errorf("after the failure: %d %v", status, m)
	}
}
