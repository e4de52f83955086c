package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/munja-sms/munja/config"
	"github.com/munja-sms/munja/provider"
	"github.com/munja-sms/munja/sms"
)

func testClient(hc *http.Client) Client {
	return Client{
		Provider: "gw",
		Texts:    Wording("GW"),
		Redact:   func(s string) string { return Redact(s, "s3cr3t") },
		Log:      slog.New(slog.DiscardHandler),
		HTTP:     hc,
		Timeout:  time.Second,
		MaxBody:  16,
	}
}

func TestNewSetup(t *testing.T) {
	s := NewSetup(config.Provider{}, nil, nil, "aligo", "https://apis.aligo.in")
	if s.Name != "aligo" || s.Base != "https://apis.aligo.in" || s.Timeout != DefaultTimeout || s.HTTP == nil || s.Log == nil {
		t.Errorf("defaults %+v", s)
	}
	hc := &http.Client{}
	cfg := config.Provider{Name: "main", BaseURL: "http://127.0.0.1:8080/", Timeout: config.Duration(3 * time.Second)}
	s = NewSetup(cfg, hc, nil, "aligo", "https://apis.aligo.in")
	if s.Name != "main" || s.Base != "http://127.0.0.1:8080" || s.Timeout != 3*time.Second || s.HTTP != hc {
		t.Errorf("configured %+v", s)
	}
}

func TestDo(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ok":
			w.Header().Set("Date", "x")
			w.WriteHeader(http.StatusTeapot)
			_, _ = w.Write([]byte("short"))
		case "/big":
			_, _ = w.Write([]byte(strings.Repeat("a", 17)))
		case "/slow":
			time.Sleep(300 * time.Millisecond)
		case "/cut":
			conn, _, _ := w.(http.Hijacker).Hijack()
			_ = conn.Close()
		}
	}))
	defer srv.Close()
	c := testClient(srv.Client())
	get := func(path string) *http.Request {
		req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, srv.URL+path, strings.NewReader("x"))
		if err != nil {
			t.Fatal(err)
		}
		return req
	}

	a, err := c.Do(get("/ok"), true)
	if err != nil || a.Status != http.StatusTeapot || string(a.Body) != "short" || a.Header.Get("Date") != "x" {
		t.Errorf("answer %+v, %v", a, err)
	}

	var pe *provider.Error
	if _, err := c.Do(get("/big"), false); !errors.As(err, &pe) || pe.Code != "bad response" || pe.Uncertain {
		t.Errorf("too large: %v", err)
	}
	sent := c
	sent.Texts.UndecodableSent = Text{"ko", "en"}
	if _, err := sent.Do(get("/big"), true); !errors.As(err, &pe) || !pe.Uncertain || pe.English != "en" {
		t.Errorf("too large, sent: %v", err)
	}

	slow := c
	slow.Timeout = 50 * time.Millisecond
	for _, send := range []bool{true, false} {
		_, err := slow.Do(get("/slow"), send)
		if !errors.As(err, &pe) || pe.Code != "timeout" || pe.Uncertain != send || pe.Permanent {
			t.Errorf("timeout (send %v): %+v", send, pe)
		}
	}
	if _, err := c.Do(get("/cut"), true); !errors.As(err, &pe) || pe.Code != "network" || !pe.Uncertain {
		t.Errorf("cut: %+v", pe)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, "http://"+addr+"/", nil)
	if _, err := c.Do(req, true); !errors.As(err, &pe) || pe.Code != "network" || pe.Uncertain || pe.English != "cannot reach GW (will retry)" {
		t.Errorf("refused: %+v", pe)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req, _ = http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/ok", nil)
	if _, err := c.Do(req, true); !errors.As(err, &pe) || pe.Code != "canceled" {
		t.Errorf("canceled: %+v", pe)
	}
}

func TestStatusError(t *testing.T) {
	c := testClient(nil)
	tests := []struct {
		status                int
		send, uncertain, perm bool
		account, english      string
	}{
		{503, true, false, false, "", "GW server error (HTTP 503, will retry)"},
		{504, true, true, false, "", "GW server error (HTTP 504, will retry)"},
		{504, false, false, false, "", "GW server error (HTTP 504, will retry)"},
		{429, true, false, false, "", "GW server error (HTTP 429, will retry)"},
		{404, true, false, true, "HTTP 404 응답 (base_url 확인)", "GW answered HTTP 404 (check base_url)"},
	}
	for _, tt := range tests {
		e := c.StatusError(tt.status, []byte("<p>s3cr3t\n page</p>"), tt.send)
		if e.Uncertain != tt.uncertain || e.Permanent != tt.perm || e.Account != tt.account || e.English != tt.english ||
			e.Message != "<p><secret> page</p>" || e.Code != fmt.Sprintf("HTTP %d", tt.status) {
			t.Errorf("%d: %+v", tt.status, e)
		}
	}
}

func TestSnippet(t *testing.T) {
	long := strings.Repeat("가", 100) // 300 bytes
	s := Snippet(long)
	if !strings.HasSuffix(s, "…") || len(s) > 203 || strings.ContainsRune(s, '\uFFFD') {
		t.Errorf("snippet %q", s)
	}
	if got := Snippet(" a \n\t b "); got != "a b" {
		t.Errorf("fields: %q", got)
	}
	if got := Redact("k=abc&s=xyz", "abc", "", "xyz"); got != "k=<secret>&s=<secret>" {
		t.Errorf("redact: %q", got)
	}
}

func TestChecks(t *testing.T) {
	c := testClient(nil)
	code := func(err error) string {
		var pe *provider.Error
		if err == nil {
			return ""
		}
		if !errors.As(err, &pe) || !pe.Permanent {
			t.Fatalf("not a permanent provider error: %v", err)
		}
		return pe.Code
	}
	if code(c.CheckReceivers(0, 10)) != "no receivers" || code(c.CheckReceivers(11, 10)) != "batch too large" || c.CheckReceivers(10, 10) != nil {
		t.Error("receivers")
	}
	if s, err := c.Sender("", "02-1234-5678", nil); s != "02-1234-5678" || err != nil {
		t.Errorf("configured sender %q, %v", s, err)
	}
	if _, err := c.Sender("", "", nil); code(err) != "no sender" {
		t.Errorf("no sender: %v", err)
	}
	parse := func(s string) (string, error) {
		p, err := sms.ParsePhone(s)
		return string(p), err
	}
	if s, err := c.Sender("02-1234-5678", "", parse); s != "0212345678" || err != nil {
		t.Errorf("parsed sender %q, %v", s, err)
	}
	if _, err := c.Sender("munja", "", parse); code(err) != "bad sender" {
		t.Errorf("bad sender: %v", err)
	}

	kinds := []struct {
		kind sms.Kind
		text string
		mms  bool
		want sms.Kind
		code string
	}{
		{"", "hi", false, sms.KindSMS, ""},
		{sms.KindSMS, strings.Repeat("가", 46), false, sms.KindLMS, ""},
		{sms.KindMMS, "hi", false, sms.KindLMS, ""},
		{sms.KindMMS, "hi", true, sms.KindMMS, ""},
		{"FAX", "hi", false, "", "bad kind"},
		{sms.KindLMS, strings.Repeat("a", sms.MaxLMSBytes+1), false, "", "message too long"},
	}
	for _, tt := range kinds {
		k, err := c.Kind(tt.kind, tt.text, tt.mms)
		if k != tt.want || code(err) != tt.code {
			t.Errorf("%q (mms %v): %q, %v", tt.kind, tt.mms, k, err)
		}
	}
	if code(c.NoTestMode()) != "test mode not offered" || code(c.EmptyText()) != "empty message" {
		t.Error("refusals")
	}
}

func TestFlex(t *testing.T) {
	ints := []struct {
		in   string
		want int64
		ok   bool
	}{
		{`0`, 0, true}, {`-101`, -101, true}, {`"-101"`, -101, true}, {`" 7 "`, 7, true}, {`""`, 0, true}, {`null`, 0, true},
		{`1.0`, 1, true}, {`"x"`, 0, false}, {`1.5`, 0, false}, {`true`, 0, false}, {`{}`, 0, false},
	}
	for _, tt := range ints {
		var f FlexInt
		err := json.Unmarshal([]byte(tt.in), &f)
		if (err == nil) != tt.ok || (tt.ok && int64(f) != tt.want) {
			t.Errorf("FlexInt %s: %d, %v", tt.in, f, err)
		}
	}
	strs := []struct {
		in, want string
		ok       bool
	}{
		{`" 2 "`, "2", true}, {`2`, "2", true}, {`null`, "", true}, {`true`, "true", true}, {`[1]`, "", false}, {`{}`, "", false},
	}
	for _, tt := range strs {
		var f FlexString
		err := json.Unmarshal([]byte(tt.in), &f)
		if (err == nil) != tt.ok || (tt.ok && string(f) != tt.want) {
			t.Errorf("FlexString %s: %q, %v", tt.in, f, err)
		}
	}
	var v struct{ A int }
	if err := Unmarshal([]byte("\n\ufeff{\"A\":1} "), &v); err != nil || v.A != 1 {
		t.Errorf("Unmarshal: %+v, %v", v, err)
	}
}

func TestLookupHelpers(t *testing.T) {
	want := time.Date(2020, 10, 13, 19, 17, 0, 0, KST)
	if got := ParseKST(" 2020-10-13 19:17 ", "2006-01-02 15:04:05", "2006-01-02 15:04"); !got.Equal(want) {
		t.Errorf("ParseKST: %v", got)
	}
	if !ParseKST("soon", "2006-01-02").IsZero() {
		t.Error("garbage time not zero")
	}
	if NormText(" a\r\nb \n") != "a\nb" {
		t.Error("NormText")
	}
	if NormPhone("010-1234-5678") != "01012345678" || NormPhone(" +1 555 ") != "+1 555" || NormPhoneDigits(" +1 555 ") != "1555" {
		t.Error("NormPhone")
	}
	set := PhoneSet([]sms.Phone{"010-1234-5678", "01012345678"}, NormPhone)
	if len(set) != 1 || !set["01012345678"] {
		t.Errorf("PhoneSet %v", set)
	}
}

func TestJSONRequest(t *testing.T) {
	req, err := JSONRequest(context.Background(), "gw", http.MethodPost, "http://h/p", map[string][]string{"a": {"1 2"}}, map[string]int{"n": 1})
	if err != nil {
		t.Fatal(err)
	}
	body := new(strings.Builder)
	_, _ = io.Copy(body, req.Body)
	if req.URL.String() != "http://h/p?a=1+2" || body.String() != `{"n":1}` {
		t.Errorf("request %s %q", req.URL, body)
	}
	if req, err := JSONRequest(context.Background(), "gw", http.MethodGet, "http://h/p", nil, nil); err != nil || req.Body != nil || req.URL.RawQuery != "" {
		t.Errorf("GET without body: %v, %v", req, err)
	}
	if _, err := JSONRequest(context.Background(), "gw", http.MethodPost, "http://h/p", nil, func() {}); err == nil || !strings.HasPrefix(err.Error(), "gw: encoding request") {
		t.Errorf("unencodable: %v", err)
	}
	if !ContainsAny("전송실패", []string{"완료", "실패"}) || ContainsAny("전송중", []string{"완료", "실패"}) {
		t.Error("ContainsAny")
	}
}
