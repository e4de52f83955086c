package nhntest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/munja-sms/munja/provider/internal/fakegw"
)

type reply struct {
	status int
	ctype  string
	raw    string
	Header struct {
		IsSuccessful  bool   `json:"isSuccessful"`
		ResultCode    int    `json:"resultCode"`
		ResultMessage string `json:"resultMessage"`
	} `json:"header"`
	Body json.RawMessage `json:"body"`
}

func do(t *testing.T, s *Server, method, path, secret, ctype string, body any) reply {
	t.Helper()
	req, err := http.NewRequest(method, s.URL()+path, fakegw.RequestBody(t, body))
	if err != nil {
		t.Fatal(err)
	}
	if secret != "" {
		req.Header.Set("X-Secret-Key", secret)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := reply{status: resp.StatusCode, ctype: resp.Header.Get("Content-Type"), raw: string(raw)}
	_ = json.Unmarshal(raw, &r)
	return r
}

const jsonType = "application/json;charset=UTF-8"

func smsPath(s *Server) string { return "/sms/v3.0/appKeys/" + s.AppKey + "/sender/sms" }
func mmsPath(s *Server) string { return "/sms/v3.0/appKeys/" + s.AppKey + "/sender/mms" }

func send(t *testing.T, s *Server, path string, body map[string]any) reply {
	t.Helper()
	return do(t, s, http.MethodPost, path, s.SecretKey, jsonType, body)
}

func recipients(n int) []map[string]string {
	out := make([]map[string]string, n)
	for i := range out {
		out[i] = map[string]string{"recipientNo": fmt.Sprintf("010%08d", i)}
	}
	return out
}

func smsBody(s *Server, text string, n int) map[string]any {
	return map[string]any{"body": text, "sendNo": s.Sender, "recipientList": recipients(n)}
}

func TestSendAnswer(t *testing.T) {
	s := New(t)
	r := send(t, s, smsPath(s), smsBody(s, "[경고] httpd", 2))
	if r.status != 200 || !r.Header.IsSuccessful || r.Header.ResultCode != 0 || r.Header.ResultMessage != "SUCCESS" || r.ctype != jsonType {
		t.Fatalf("%d %s", r.status, r.raw)
	}
	var b struct {
		Data struct {
			RequestID      string `json:"requestId"`
			StatusCode     string `json:"statusCode"`
			SendResultList []struct {
				RecipientNo  string `json:"recipientNo"`
				ResultCode   int    `json:"resultCode"`
				RecipientSeq int    `json:"recipientSeq"`
			} `json:"sendResultList"`
		} `json:"data"`
	}
	if err := json.Unmarshal(r.Body, &b); err != nil {
		t.Fatal(err)
	}
	if len(b.Data.RequestID) != 25 || b.Data.StatusCode != "2" || len(b.Data.SendResultList) != 2 || b.Data.SendResultList[1].RecipientSeq != 2 {
		t.Errorf("body %s", r.Body)
	}
	if d := s.Delivered(); len(d) != 2 || d[0].Body != "[경고] httpd" || d[0].RequestID != b.Data.RequestID {
		t.Errorf("delivered %+v", s.Delivered())
	}
}

// TestAuth: the app key in the path and X-Secret-Key are compared exactly.
func TestAuth(t *testing.T) {
	s := New(t)
	body := smsBody(s, "x", 1)
	tests := []struct {
		name, path, secret string
		status, code       int
	}{
		{"right", smsPath(s), s.SecretKey, 200, 0},
		{"no secret", smsPath(s), "", 401, SecretError},
		{"secret with a suffix", smsPath(s), s.SecretKey + "x", 401, SecretError},
		{"secret's prefix", smsPath(s), s.SecretKey[:5], 401, SecretError},
		{"other case", smsPath(s), strings.ToLower(s.SecretKey), 401, SecretError},
		{"wrong app key", "/sms/v3.0/appKeys/Other/sender/sms", s.SecretKey, 200, CodeInvalidAppKey},
		{"v2.4 path", "/sms/v2.4/appKeys/" + s.AppKey + "/sender/sms", s.SecretKey, 404, CodeNoAPI},
		{"no such endpoint", "/sms/v3.0/appKeys/" + s.AppKey + "/sender/fax", s.SecretKey, 404, CodeNoAPI},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := do(t, s, http.MethodPost, tt.path, tt.secret, jsonType, body)
			if r.status != tt.status || r.Header.ResultCode != tt.code || r.Header.IsSuccessful != (tt.code == 0) {
				t.Errorf("%d %s", r.status, r.raw)
			}
			if tt.code == SecretError && r.Header.ResultMessage != "Invalid secretKey." {
				t.Errorf("message %q", r.Header.ResultMessage)
			}
		})
	}
	if n := len(s.Delivered()); n != 1 {
		t.Errorf("delivered %d, want only the authenticated one", n)
	}
}

func TestSendChecks(t *testing.T) {
	s := New(t)
	tests := []struct {
		name  string
		path  string
		ctype string
		body  any
		code  int
	}{
		{"text/plain", smsPath(s), "text/plain", smsBody(s, "x", 1), CodeContentType},
		{"bad JSON", smsPath(s), jsonType, `{"body":`, CodeBadJSON},
		{"no recipients", smsPath(s), jsonType, smsBody(s, "x", 0), CodeNoRecipients},
		{"1001 recipients", smsPath(s), jsonType, smsBody(s, "x", 1001), CodeTooMany},
		{"unregistered sender", smsPath(s), jsonType, map[string]any{"body": "x", "sendNo": "0299998888", "recipientList": recipients(1)}, CodeNoSender},
		{"no sender", smsPath(s), jsonType, map[string]any{"body": "x", "recipientList": recipients(1)}, CodeNoSender},
		{"empty body", smsPath(s), jsonType, smsBody(s, " ", 1), CodeEmpty},
		{"LMS without title", mmsPath(s), jsonType, smsBody(s, "x", 1), CodeEmpty},
		{"SMS of 256 characters", smsPath(s), jsonType, smsBody(s, strings.Repeat("a", 256), 1), CodeTooLong},
		{"LMS title of 121", mmsPath(s), jsonType, map[string]any{"title": strings.Repeat("a", 121), "body": "x", "sendNo": s.Sender, "recipientList": recipients(1)}, CodeTooLong},
		{"LMS of 4001", mmsPath(s), jsonType, map[string]any{"title": "t", "body": strings.Repeat("a", 4001), "sendNo": s.Sender, "recipientList": recipients(1)}, CodeTooLong},
		{"emoji", smsPath(s), jsonType, smsBody(s, "서버 다운 😱", 1), CodeBadChars},
		{"1000 recipients", smsPath(s), jsonType, smsBody(s, "x", 1000), 0},
		{"LMS of 4000", mmsPath(s), jsonType, map[string]any{"title": "t", "body": strings.Repeat("a", 4000), "sendNo": s.Sender, "recipientList": recipients(1)}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := do(t, s, http.MethodPost, tt.path, s.SecretKey, tt.ctype, tt.body)
			if r.status != 200 || r.Header.ResultCode != tt.code || r.Header.IsSuccessful != (tt.code == 0) {
				t.Errorf("%d %s", r.status, r.raw)
			}
		})
	}
}

func TestTruncationMarked(t *testing.T) {
	s := New(t)
	send(t, s, smsPath(s), smsBody(s, strings.Repeat("가", 45), 1))
	send(t, s, smsPath(s), smsBody(s, strings.Repeat("가", 46), 1))
	send(t, s, mmsPath(s), map[string]any{"title": strings.Repeat("가", 21), "body": "x", "sendNo": s.Sender, "recipientList": recipients(1)})
	d := s.Delivered()
	if len(d) != 3 || d[0].Truncated || !d[1].Truncated || !d[2].Truncated || d[2].MessageType != "LMS" {
		t.Errorf("delivered %+v", d)
	}
}

func TestList(t *testing.T) {
	clock := time.Date(2026, 3, 2, 10, 0, 0, 0, kst)
	var mu sync.Mutex
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	s := New(t, WithClock(now))
	b := smsBody(s, "첫째", 3)
	b["senderGroupingKey"] = "g1"
	first := send(t, s, smsPath(s), b)
	mu.Lock()
	clock = clock.Add(time.Hour)
	mu.Unlock()
	send(t, s, smsPath(s), smsBody(s, "둘째", 2))
	send(t, s, mmsPath(s), map[string]any{"title": "t", "body": "장문", "sendNo": s.Sender, "recipientList": recipients(1)})
	var data struct {
		Data struct {
			RequestID string `json:"requestId"`
		} `json:"data"`
	}
	_ = json.Unmarshal(first.Body, &data)

	list := func(path string, q url.Values) (reply, []map[string]any, int) {
		r := do(t, s, http.MethodGet, path+"?"+q.Encode(), s.SecretKey, "", nil)
		var body struct {
			TotalCount int              `json:"totalCount"`
			Data       []map[string]any `json:"data"`
		}
		_ = json.Unmarshal(r.Body, &body)
		return r, body.Data, body.TotalCount
	}
	if r, rows, total := list(smsPath(s), url.Values{"requestId": {data.Data.RequestID}}); !r.Header.IsSuccessful || len(rows) != 3 || total != 3 ||
		rows[0]["requestDate"] != "2026-03-02 10:00:00.0" || rows[0]["msgStatus"] != "3" || rows[0]["resultCode"] != "1000" ||
		rows[0]["recipientSeq"] != float64(3) || rows[0]["body"] != "첫째" || rows[0]["senderGroupingKey"] != "g1" {
		t.Errorf("by requestId: %s", r.raw)
	}
	window := url.Values{"startRequestDate": {"2026-03-02 10:30:00"}, "endRequestDate": {"2026-03-02 11:00:00"}}
	if _, rows, _ := list(smsPath(s), window); len(rows) != 2 || rows[0]["body"] != "둘째" {
		t.Errorf("by window: %v", rows)
	}
	if _, rows, _ := list(mmsPath(s), window); len(rows) != 1 || rows[0]["title"] != "t" || rows[0]["messageType"] != "LMS" {
		t.Errorf("mms by window: %v", rows)
	}
	all := url.Values{"startRequestDate": {"2026-03-01 00:00:00"}, "endRequestDate": {"2026-03-03 00:00:00"}, "senderGroupingKey": {"g1"}, "pageSize": {"2"}, "pageNum": {"2"}}
	if _, rows, total := list(smsPath(s), all); len(rows) != 1 || total != 3 {
		t.Errorf("page 2 of 2: %d rows of %d", len(rows), total)
	}
	for name, tc := range map[string]struct {
		q    url.Values
		code int
	}{
		"no condition": {url.Values{"pageNum": {"1"}}, CodeSearchNeeds},
		"bad date":     {url.Values{"startRequestDate": {"2026-03-01"}, "endRequestDate": {"2026-03-02 00:00:00"}}, CodeDateFormat},
		"two months":   {url.Values{"startRequestDate": {"2026-01-01 00:00:00"}, "endRequestDate": {"2026-03-02 00:00:00"}}, CodeRange},
		"page size":    {url.Values{"requestId": {"x"}, "pageSize": {"1001"}}, CodeSearchParam},
	} {
		if r, _, _ := list(smsPath(s), tc.q); r.Header.ResultCode != tc.code || r.Header.IsSuccessful {
			t.Errorf("%s: %s", name, r.raw)
		}
	}
	s.SetReport("01000000000", "0", "3006")
	if _, rows, _ := list(smsPath(s), url.Values{"requestId": {data.Data.RequestID}, "recipientNo": {"01000000000"}}); len(rows) != 1 ||
		rows[0]["msgStatus"] != "0" || rows[0]["resultCodeName"] != "착신 거절" {
		t.Errorf("after SetReport: %v", rows)
	}
}

func TestFailures(t *testing.T) {
	s := New(t)
	s.FailNext(2, Failure{Mode: HTTPStatus, Status: 502})
	var got []int
	for range 3 {
		got = append(got, send(t, s, smsPath(s), smsBody(s, "x", 1)).status)
	}
	if fmt.Sprint(got) != "[502 502 200]" {
		t.Errorf("statuses %v", got)
	}
	s.FailNext(1, Failure{Mode: IPNotAllowed})
	if r := send(t, s, smsPath(s), smsBody(s, "x", 1)); r.Header.ResultCode != CodeIPNotAllowed {
		t.Errorf("IP: %s", r.raw)
	}
	s.FailNext(1, Failure{Mode: SystemError})
	if r := send(t, s, smsPath(s), smsBody(s, "x", 1)); r.Header.ResultCode != CodeSystem {
		t.Errorf("system error: %s", r.raw)
	}
	s.FailNext(1, Failure{Mode: Garbage})
	if r := send(t, s, smsPath(s), smsBody(s, "x", 1)); r.status != 200 || !strings.HasPrefix(r.raw, "<html>") {
		t.Errorf("garbage: %s", r.raw)
	}
	s.FailNext(1, Failure{Mode: PartialError, ErrorCount: 1})
	if r := send(t, s, smsPath(s), smsBody(s, "x", 2)); !r.Header.IsSuccessful || !strings.Contains(string(r.Body), `"resultCode":-6001`) {
		t.Errorf("partial: %s", r.raw)
	}
	before := len(s.Delivered())
	s.FailNext(1, Failure{Mode: LateAnswer, Delay: time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	j, _ := json.Marshal(smsBody(s, "late", 1))
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.URL()+smsPath(s), bytes.NewReader(j))
	req.Header.Set("X-Secret-Key", s.SecretKey)
	req.Header.Set("Content-Type", jsonType)
	if _, err := http.DefaultClient.Do(req); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("late answer: %v", err)
	}
	if len(s.Delivered()) != before+1 {
		t.Error("a late answer's send was not accepted")
	}
}
