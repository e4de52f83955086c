package senstest

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/munja-sms/munja/provider/internal/fakegw"
)

type reply struct {
	status int
	date   string
	raw    string
	m      map[string]any
}

// signed is a request signed the way the SENS guide describes, with the
// given clock, keys and, when uri is not empty, a different URI signed
// than the one requested.
type signed struct {
	accessKey, secretKey string
	at                   time.Time
	signURI              string
	noSignature          bool
}

func (s *Server) do(t *testing.T, method, uri string, body any, sg signed) reply {
	t.Helper()
	req, err := http.NewRequest(method, s.URL()+uri, fakegw.RequestBody(t, body))
	if err != nil {
		t.Fatal(err)
	}
	if sg.accessKey == "" {
		sg.accessKey = s.AccessKey
	}
	if sg.secretKey == "" {
		sg.secretKey = s.SecretKey
	}
	if sg.at.IsZero() {
		sg.at = s.now()
	}
	if sg.signURI == "" {
		sg.signURI = uri
	}
	ts := strconv.FormatInt(sg.at.UnixMilli(), 10)
	mac := hmac.New(sha256.New, []byte(sg.secretKey))
	mac.Write([]byte(method + " " + sg.signURI + "\n" + ts + "\n" + sg.accessKey))
	req.Header.Set("x-ncp-apigw-timestamp", ts)
	req.Header.Set("x-ncp-iam-access-key", sg.accessKey)
	if !sg.noSignature {
		req.Header.Set("x-ncp-apigw-signature-v2", base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := reply{status: resp.StatusCode, date: resp.Header.Get("Date"), raw: string(raw)}
	_ = json.Unmarshal(raw, &r.m)
	return r
}

func (s *Server) messagesURI() string { return "/sms/v2/services/" + s.ServiceID + "/messages" }

func tos(n int) []map[string]string {
	out := make([]map[string]string, n)
	for i := range out {
		out[i] = map[string]string{"to": fmt.Sprintf("010%08d", i)}
	}
	return out
}

func sendBodyOf(s *Server, typ, content string, n int) map[string]any {
	return map[string]any{"type": typ, "contentType": "COMM", "countryCode": "82", "from": s.Sender, "content": content, "messages": tos(n)}
}

func errorCode(r reply) string {
	e, _ := r.m["error"].(map[string]any)
	code, _ := e["errorCode"].(string)
	return code
}

func details(r reply) string {
	e, _ := r.m["error"].(map[string]any)
	d, _ := e["details"].(string)
	return d
}

func TestSendAnswer(t *testing.T) {
	s := New(t)
	r := s.do(t, http.MethodPost, s.messagesURI(), sendBodyOf(s, "SMS", "[경고] httpd", 2), signed{})
	if r.status != http.StatusAccepted || r.m["statusCode"] != "202" || r.m["statusName"] != "success" ||
		!strings.HasPrefix(r.m["requestId"].(string), "VORSSA-") || r.m["requestTime"] == nil {
		t.Fatalf("%d %s", r.status, r.raw)
	}
	d := s.Delivered()
	if len(d) != 2 || d[1].To != "01000000001" || d[0].RequestID != r.m["requestId"] || d[0].MessageID == d[1].MessageID {
		t.Errorf("delivered %+v", d)
	}
}

// TestAuth: the gateway's three headers, checked exactly.
func TestAuth(t *testing.T) {
	s := New(t)
	uri := s.messagesURI()
	body := sendBodyOf(s, "SMS", "x", 1)
	tests := []struct {
		name    string
		uri     string
		sg      signed
		details string // "" = accepted
	}{
		{"right", uri, signed{}, ""},
		{"4m59s behind", uri, signed{at: time.Now().Add(-MaxSkew + time.Second)}, ""},
		{"5m01s behind", uri, signed{at: time.Now().Add(-MaxSkew - time.Second)}, DetailsTimestamp},
		{"5m01s ahead", uri, signed{at: time.Now().Add(MaxSkew + time.Second)}, DetailsTimestamp},
		{"wrong access key", uri, signed{accessKey: "OTHERACCESSKEY000000"}, DetailsAccessKey},
		{"wrong secret", uri, signed{secretKey: "wrong"}, DetailsSignature},
		{"signed without the service", uri, signed{signURI: "/sms/v2/services/messages"}, DetailsSignature},
		{"no signature", uri, signed{noSignature: true}, DetailsMissing},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := s.do(t, http.MethodPost, tt.uri, body, tt.sg)
			if tt.details == "" {
				if r.status != http.StatusAccepted {
					t.Errorf("%d %s", r.status, r.raw)
				}
				return
			}
			if r.status != http.StatusUnauthorized || errorCode(r) != "200" || details(r) != tt.details || r.m["error"].(map[string]any)["message"] != "Authentication Failed" {
				t.Errorf("%d %s", r.status, r.raw)
			}
		})
	}
	// The signed URI includes the query, as sent.
	q := s.messagesURI() + "?requestId=" + url.QueryEscape("VORSSA-1")
	if r := s.do(t, http.MethodGet, q, nil, signed{signURI: s.messagesURI()}); r.status != http.StatusUnauthorized {
		t.Errorf("query left out of the signature: %d", r.status)
	}
	if r := s.do(t, http.MethodGet, q, nil, signed{}); r.status != http.StatusOK {
		t.Errorf("signed query: %d %s", r.status, r.raw)
	}
	if n := len(s.Delivered()); n != 2 {
		t.Errorf("delivered %d, want the 2 accepted", n)
	}
	if r := s.do(t, http.MethodPost, "/sms/v2/services/ncp:sms:kr:1:other/messages", body, signed{}); r.status != http.StatusNotFound {
		t.Errorf("other service: %d %s", r.status, r.raw)
	}
}

// TestDateHeader: answers carry the fake's clock, so a client can tell its
// own clock is off.
func TestDateHeader(t *testing.T) {
	at := time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)
	s := New(t, WithClock(func() time.Time { return at }))
	r := s.do(t, http.MethodPost, s.messagesURI(), sendBodyOf(s, "SMS", "x", 1), signed{at: time.Now()})
	if d, err := http.ParseTime(r.date); err != nil || !d.Equal(at) || r.status != http.StatusUnauthorized {
		t.Errorf("Date %q, status %d", r.date, r.status)
	}
}

func TestSendChecks(t *testing.T) {
	s := New(t)
	lms := func(subject, content string) map[string]any {
		b := sendBodyOf(s, "LMS", content, 1)
		b["subject"] = subject
		return b
	}
	tests := []struct {
		name   string
		body   any
		status int
		substr string
	}{
		{"bad JSON", `{"type":`, 400, "not readable"},
		{"101 messages", sendBodyOf(s, "SMS", "x", 101), 400, "between 1 and 100"},
		{"no messages", sendBodyOf(s, "SMS", "x", 0), 400, "between 1 and 100"},
		{"bad type", sendBodyOf(s, "FAX", "x", 1), 400, "type must be"},
		{"SMS of 91 bytes", sendBodyOf(s, "SMS", strings.Repeat("가", 45)+"a", 1), 400, "at most 90 bytes"},
		{"LMS of 2001 bytes", lms("t", strings.Repeat("a", 2001)), 400, "at most 2000 bytes"},
		{"subject of 41 bytes", lms(strings.Repeat("a", 41), "x"), 400, "subject must be at most 40"},
		{"emoji", sendBodyOf(s, "SMS", "서버 다운 😱", 1), 400, "cannot be sent"},
		{"to with a hyphen", map[string]any{"type": "SMS", "from": s.Sender, "content": "x", "messages": []map[string]string{{"to": "010-1234-5678"}}}, 400, "must be numeric"},
		{"unregistered from", map[string]any{"type": "SMS", "from": "0299998888", "content": "x", "messages": tos(1)}, 400, "sender(from)"},
		{"100 messages", sendBodyOf(s, "SMS", "x", 100), 202, ""},
		{"SMS of 90 bytes", sendBodyOf(s, "SMS", strings.Repeat("가", 45), 1), 202, ""},
		{"lowercase type", sendBodyOf(s, "lms", "x", 1), 202, ""},
		{"LMS of 2000 bytes with a 40-byte subject", lms(strings.Repeat("가", 20), strings.Repeat("가", 1000)), 202, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := s.do(t, http.MethodPost, s.messagesURI(), tt.body, signed{})
			if r.status != tt.status || !strings.Contains(r.raw, tt.substr) {
				t.Errorf("%d %s", r.status, r.raw)
			}
			if tt.status == 400 && (r.m["status"] != float64(400) || r.m["errorMessage"] == nil || r.m["errors"] == nil) {
				t.Errorf("error shape %s", r.raw)
			}
		})
	}
}

func TestListAndResult(t *testing.T) {
	clock := time.Date(2026, 3, 2, 10, 0, 0, 0, kst)
	var mu sync.Mutex
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	advance := func(d time.Duration) { mu.Lock(); clock = clock.Add(d); mu.Unlock() }
	s := New(t, WithClock(now))
	first := s.do(t, http.MethodPost, s.messagesURI(), sendBodyOf(s, "SMS", "첫째", 3), signed{})
	advance(time.Hour)
	s.do(t, http.MethodPost, s.messagesURI(), sendBodyOf(s, "LMS", "둘째", 2), signed{})
	id := first.m["requestId"].(string)

	r := s.do(t, http.MethodGet, s.messagesURI()+"?requestId="+id, nil, signed{})
	msgs, _ := r.m["messages"].([]any)
	if r.status != 200 || r.m["requestId"] != id || r.m["statusName"] != "success" || len(msgs) != 3 {
		t.Fatalf("by requestId: %s", r.raw)
	}
	row := msgs[0].(map[string]any)
	if row["to"] != "01000000000" || row["from"] != s.Sender || row["requestTime"] != "2026-03-02 10:00:00" || row["content"] != nil || row["status"] != nil {
		t.Errorf("row %v", row)
	}
	res := s.do(t, http.MethodGet, s.messagesURI()+"/"+row["messageId"].(string), nil, signed{})
	detail := res.m["messages"].([]any)[0].(map[string]any)
	if res.status != 200 || detail["content"] != "첫째" || detail["status"] != "COMPLETED" || detail["statusName"] != "success" ||
		detail["statusCode"] != "0" || detail["requestId"] != id || detail["completeTime"] != "2026-03-02 10:00:00" {
		t.Errorf("result %s", res.raw)
	}
	s.SetReport("01000000000", "COMPLETED", "3018", "착신 거부")
	res = s.do(t, http.MethodGet, s.messagesURI()+"/"+row["messageId"].(string), nil, signed{})
	if detail := res.m["messages"].([]any)[0].(map[string]any); detail["statusName"] != "fail" || detail["statusMessage"] != "착신 거부" {
		t.Errorf("after SetReport: %s", res.raw)
	}
	s.SetReport("01000000001", "READY", "", "")
	res = s.do(t, http.MethodGet, s.messagesURI()+"/"+msgs[1].(map[string]any)["messageId"].(string), nil, signed{})
	if detail := res.m["messages"].([]any)[0].(map[string]any); detail["status"] != "READY" || detail["statusName"] != nil {
		t.Errorf("pending: %s", res.raw)
	}
	if r := s.do(t, http.MethodGet, s.messagesURI()+"/no-such-id", nil, signed{}); r.status != 404 {
		t.Errorf("unknown message: %d", r.status)
	}
	if r := s.do(t, http.MethodGet, s.messagesURI()+"?requestId=VORSSA-none", nil, signed{}); r.status != 200 || len(r.m["messages"].([]any)) != 0 {
		t.Errorf("unknown request: %s", r.raw)
	}

	search := func(q url.Values) reply {
		return s.do(t, http.MethodGet, s.messagesURI()+"?"+q.Encode(), nil, signed{})
	}
	window := url.Values{"requestStartTime": {"2026-03-02 10:30:00"}, "requestEndTime": {"2026-03-02 11:00:00"}}
	r = search(window)
	if msgs := r.m["messages"].([]any); r.status != 200 || len(msgs) != 2 || msgs[0].(map[string]any)["type"] != "LMS" || msgs[0].(map[string]any)["requestId"] == nil {
		t.Errorf("search: %s", r.raw)
	}
	paged := url.Values{"requestStartTime": {"2026-03-02 09:00:00"}, "requestEndTime": {"2026-03-02 12:00:00"}, "pageSize": {"2"}, "pageIndex": {"1"}, "type": {"SMS"}}
	if r := search(paged); len(r.m["messages"].([]any)) != 1 || r.m["hasMore"] != false || r.m["itemCount"] != float64(3) {
		t.Errorf("page 2 of SMS: %s", r.raw)
	}
	for name, q := range map[string]url.Values{
		"no condition": {"pageIndex": {"0"}},
		"bad time":     {"requestStartTime": {"2026-03-02"}, "requestEndTime": {"2026-03-02 12:00:00"}},
		"two months":   {"requestStartTime": {"2026-01-01 00:00:00"}, "requestEndTime": {"2026-03-02 00:00:00"}},
		"page size":    {"requestStartTime": {"2026-03-02 09:00:00"}, "requestEndTime": {"2026-03-02 12:00:00"}, "pageSize": {"101"}},
	} {
		if r := search(q); r.status != 400 {
			t.Errorf("%s: %d %s", name, r.status, r.raw)
		}
	}
}

func TestFailures(t *testing.T) {
	s := New(t)
	body := sendBodyOf(s, "SMS", "x", 1)
	tests := []struct {
		f      Failure
		status int
		code   string
	}{
		{Failure{Mode: HTTPStatus}, 503, "500"},
		{Failure{Mode: HTTPStatus, Status: 504}, 504, "510"},
		{Failure{Mode: HTTPStatus, Status: 500}, 500, "900"},
		{Failure{Mode: PermissionDenied}, 401, "210"},
		{Failure{Mode: RateLimited}, 429, "420"},
	}
	for _, tt := range tests {
		s.FailNext(1, tt.f)
		if r := s.do(t, http.MethodPost, s.messagesURI(), body, signed{}); r.status != tt.status || errorCode(r) != tt.code {
			t.Errorf("%+v: %d %s", tt.f, r.status, r.raw)
		}
	}
	s.FailNext(1, Failure{Mode: Garbage})
	if r := s.do(t, http.MethodPost, s.messagesURI(), body, signed{}); r.status != 200 || !strings.HasPrefix(r.raw, "<html>") {
		t.Errorf("garbage: %s", r.raw)
	}
	s.FailNext(1, Failure{Mode: UnregisteredSender})
	if r := s.do(t, http.MethodPost, s.messagesURI(), body, signed{}); r.status != 400 || !strings.Contains(r.raw, "sender(from)") {
		t.Errorf("unregistered: %s", r.raw)
	}
	if len(s.Delivered()) != 0 {
		t.Fatal("a failed request delivered something")
	}
	s.FailNext(1, Failure{Mode: LateAnswer, Delay: time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	j, _ := json.Marshal(body)
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.URL()+s.messagesURI(), bytes.NewReader(j))
	ts := strconv.FormatInt(time.Now().UnixMilli(), 10)
	mac := hmac.New(sha256.New, []byte(s.SecretKey))
	mac.Write([]byte("POST " + s.messagesURI() + "\n" + ts + "\n" + s.AccessKey))
	req.Header.Set("x-ncp-apigw-timestamp", ts)
	req.Header.Set("x-ncp-iam-access-key", s.AccessKey)
	req.Header.Set("x-ncp-apigw-signature-v2", base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	req.Header.Set("Content-Type", "application/json")
	if _, err := http.DefaultClient.Do(req); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("late answer: %v", err)
	}
	if len(s.Delivered()) != 1 {
		t.Error("a late answer's send was not accepted")
	}
}
