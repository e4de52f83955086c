package check

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/munja-sms/munja/config"
)

func TestTCP(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	open := ln.Addr().String()
	closedLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := closedLn.Addr().String()
	closedLn.Close()
	defer ln.Close()

	for _, tt := range []struct {
		addr string
		ok   bool
	}{{open, true}, {closed, false}} {
		c, err := NewTCP(config.Check{Name: "db", Type: "tcp", Address: tt.addr, Timeout: config.Duration(2 * time.Second)}, Deps{})
		if err != nil {
			t.Fatal(err)
		}
		r := c.Run(context.Background())
		if r.OK != tt.ok {
			t.Fatalf("%s: OK = %v, want %v: %s", tt.addr, r.OK, tt.ok, r.Detail)
		}
		if want := fmt.Sprintf("[복구] %s 연결이 복구되었습니다.", tt.addr); r.Resolved != want {
			t.Errorf("resolved = %q, want %q", r.Resolved, want)
		}
		if !tt.ok {
			if want := fmt.Sprintf("[경고] %s 연결에 실패했습니다.", tt.addr); r.Firing != want {
				t.Errorf("firing = %q, want %q", r.Firing, want)
			}
			if !strings.Contains(r.Detail, "refused") {
				t.Errorf("detail = %q, want the dial error", r.Detail)
			}
		}
	}
}

func newHTTPT(t *testing.T, cfg config.Check, now func() time.Time) Checker {
	t.Helper()
	cfg.Name, cfg.Type = "web", "http"
	c, err := NewHTTP(cfg, Deps{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestHTTP(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, `{"status":"UP","db":"ok"}`) })
	mux.HandleFunc("/down", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "maintenance", http.StatusServiceUnavailable)
	})
	mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/down", http.StatusMovedPermanently)
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(300 * time.Millisecond)
		fmt.Fprint(w, "late")
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(strings.Repeat("x", maxBody)))
		fmt.Fprint(w, "MARKER")
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close()

	tests := []struct {
		name   string
		cfg    config.Check
		ok     bool
		firing string
		detail string
	}{
		{"200", config.Check{URL: srv.URL + "/ok"}, true, "", "HTTP 200"},
		{"503", config.Check{URL: srv.URL + "/down"}, false, "[경고] web 웹 점검 실패: HTTP 503", "status 503 not in 200-399"},
		{"503 expected", config.Check{URL: srv.URL + "/down", Status: []int{503}}, true, "", ""},
		{"redirect not followed passes by default", config.Check{URL: srv.URL + "/moved"}, true, "", "HTTP 301"},
		{"redirect against a strict list", config.Check{URL: srv.URL + "/moved", Status: []int{200}}, false, "[경고] web 웹 점검 실패: HTTP 301", ""},
		{"body contains", config.Check{URL: srv.URL + "/ok", BodyContains: `"UP"`}, true, "", ""},
		{"body lacks", config.Check{URL: srv.URL + "/ok", BodyContains: "DOWN"}, false, "[경고] web 웹 점검 실패: 응답에 'DOWN' 없음", `does not contain "DOWN"`},
		{"body regex", config.Check{URL: srv.URL + "/ok", BodyRegex: `"db":\s*"ok"`}, true, "", ""},
		{"body regex fails", config.Check{URL: srv.URL + "/ok", BodyRegex: `"db":"down"`}, false, "[경고] web 웹 점검 실패: 응답 내용 불일치", "does not match"},
		{"body read stops at 1 MB", config.Check{URL: srv.URL + "/big", BodyContains: "MARKER"}, false, "", "does not contain"},
		{"slow", config.Check{URL: srv.URL + "/slow", MaxLatency: config.Duration(50 * time.Millisecond)}, false, "[경고] web 웹 점검 실패: 응답 지연 ", "latency"},
		{"slow enough", config.Check{URL: srv.URL + "/slow", MaxLatency: config.Duration(5 * time.Second)}, true, "", ""},
		{"timeout", config.Check{URL: srv.URL + "/slow", Timeout: config.Duration(50 * time.Millisecond)}, false, "[경고] web 웹 점검 실패: 응답 시간 초과", "deadline"},
		{"refused", config.Check{URL: deadURL}, false, "[경고] web 웹 점검 실패: 연결 실패", "refused"},
		{"two failures, first named", config.Check{URL: srv.URL + "/down", BodyContains: "UP"}, false, "[경고] web 웹 점검 실패: HTTP 503", "; body does not contain"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newHTTPT(t, tt.cfg, nil).Run(context.Background())
			if r.OK != tt.ok {
				t.Fatalf("OK = %v, want %v: %s", r.OK, tt.ok, r.Detail)
			}
			if !strings.HasPrefix(r.Firing, tt.firing) || (tt.ok && r.Firing != "") {
				t.Errorf("firing = %q, want prefix %q", r.Firing, tt.firing)
			}
			if !strings.Contains(r.Detail, tt.detail) {
				t.Errorf("detail = %q, want it to contain %q", r.Detail, tt.detail)
			}
			if r.Resolved != "[복구] web 웹 점검이 정상입니다." {
				t.Errorf("resolved = %q", r.Resolved)
			}
		})
	}
}

func TestHTTPTLS(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") }))
	defer srv.Close()
	notAfter := srv.Certificate().NotAfter
	tenDaysLeft := func() time.Time { return notAfter.Add(-10*24*time.Hour - time.Hour) }
	tests := []struct {
		name   string
		cfg    config.Check
		now    func() time.Time
		ok     bool
		firing string
	}{
		{"unknown CA refused", config.Check{URL: srv.URL}, nil, false, "[경고] web 웹 점검 실패: 인증서 검증 실패"},
		{"insecure", config.Check{URL: srv.URL, Insecure: true}, nil, true, ""},
		{"cert expires later than cert_days", config.Check{URL: srv.URL, Insecure: true, CertDays: 5}, tenDaysLeft, true, ""},
		{"cert expires within cert_days", config.Check{URL: srv.URL, Insecure: true, CertDays: 30}, tenDaysLeft, false,
			"[경고] web 웹 점검 실패: 인증서 만료 10일 전 (기준 30일)"},
		{"cert expired", config.Check{URL: srv.URL, Insecure: true, CertDays: 30}, func() time.Time { return notAfter.Add(48 * time.Hour) }, false,
			"[경고] web 웹 점검 실패: 인증서 만료됨"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newHTTPT(t, tt.cfg, tt.now).Run(context.Background())
			if r.OK != tt.ok || r.Firing != tt.firing {
				t.Fatalf("OK = %v firing %q, want %v %q (detail %s)", r.OK, r.Firing, tt.ok, tt.firing, r.Detail)
			}
		})
	}
}

func TestHTTPTemplate(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(502) }))
	defer srv.Close()
	c, err := NewHTTP(config.Check{
		Name: "shop", Type: "http", URL: srv.URL,
		Message:  "[{{.Host}}] {{.Name}}: {{.Reason}} ({{.Status}})",
		Resolved: "{{.Name}} OK {{.Status}}",
		Severity: "critical",
	}, Deps{Host: "web01"})
	if err != nil {
		t.Fatal(err)
	}
	r := c.Run(context.Background())
	if r.Firing != "[web01] shop: HTTP 502 (502)" || r.Resolved != "shop OK 502" || r.Severity != "critical" {
		t.Fatalf("templated result: %+v", r)
	}
}
