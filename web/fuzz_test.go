package web

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// Fuzz targets for every request decoder. Each runs against a real SQLite
// store with the dryrun path (the outbox stores, nothing is sent) and
// asserts that bad input never yields a 5xx or a panic, and that every
// answer is a JSON object (with "error" when refused).

// serveFuzz sends one request from a trusted network (or with the admin
// token) and checks the answer's shape.
func serveFuzz(t *testing.T, f *fixture, method, target, ctype, body string, admin bool) map[string]any {
	r := httptest.NewRequest(method, "/", strings.NewReader(body))
	r.URL.RawQuery = ""
	path, query, _ := strings.Cut(target, "?")
	r.URL.Path, r.URL.RawQuery = path, query
	r.RemoteAddr = trusted
	if ctype != "" {
		r.Header.Set("Content-Type", ctype)
	}
	if admin {
		r.Header.Set("Authorization", "Bearer "+f.tokens["admin"])
	}
	w := httptest.NewRecorder()
	f.srv.ServeHTTP(w, r)
	if w.Code >= 500 {
		t.Fatalf("%s %s %q: status %d: %s", method, target, body, w.Code, w.Body)
	}
	if w.Code == http.StatusNoContent {
		return nil
	}
	var out map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
		t.Fatalf("%s %s %q: %d, body is not a JSON object: %v: %s", method, target, body, w.Code, err, w.Body)
	}
	if w.Code >= 400 {
		if msg, _ := out["error"].(string); msg == "" {
			t.Fatalf("%s %s %q: %d without an error message: %s", method, target, body, w.Code, w.Body)
		}
	}
	return out
}

func FuzzCreateMessage(f *testing.F) {
	for _, s := range []string{
		`{"to":["010-1234-5678"],"text":"[경고] httpd 프로세스가 동작하지 않습니다."}`,
		`{"to":"01012345678, 01087654321","text":"hi","type":"lms","title":"제목","test":true}`,
		`{"groups":["ops"],"text":"x"}`,
		`{"to":["group:ops"],"text":"x","at":"2099-01-01T00:00:00+09:00"}`,
		`{"to":["0101234"],"text":"🔥"}`,
		`{"to":[1],"text":null}`,
		`{"to":["01012345678"],"text":"x","sender":"abc"}`,
		`{"to":["01012345678"],"text":"x"}{}`,
		`[]`, `null`, `{"at":"yesterday"}`, "\xff\xfe",
	} {
		f.Add(s)
	}
	fx := newFixture(f)
	f.Fuzz(func(t *testing.T, body string) {
		out := serveFuzz(t, fx, "POST", "/api/v1/messages", "application/json", body, false)
		if id, ok := out["id"].(float64); ok && out["status"] != "queued" {
			t.Fatalf("accepted message %v has status %v", id, out["status"])
		}
	})
}

func FuzzCompatSend(f *testing.F) {
	for _, s := range []struct {
		ctype, body string
	}{
		{"application/x-www-form-urlencoded", "receiver=01012345678&msg=%5B%EA%B2%BD%EA%B3%A0%5D+test"},
		{"application/x-www-form-urlencoded", "receiver=01012345678,01087654321&msg=x&msg_type=LMS&title=t&testmode_yn=Y"},
		{"application/x-www-form-urlencoded", "receiver=&msg="},
		{"application/x-www-form-urlencoded", "receiver=%zz&msg=%"},
		{"multipart/form-data; boundary=X", "--X\r\nContent-Disposition: form-data; name=\"receiver\"\r\n\r\n01012345678\r\n--X\r\nContent-Disposition: form-data; name=\"msg\"\r\n\r\nhi\r\n--X--\r\n"},
		{"multipart/form-data; boundary=X", "--X\r\nbroken"},
		{"multipart/form-data", "x"},
		{"text/plain", "receiver=01012345678&msg=x"},
		{"", ""},
	} {
		f.Add(s.ctype, s.body)
	}
	fx := newFixture(f)
	f.Fuzz(func(t *testing.T, ctype, body string) {
		out := serveFuzz(t, fx, "POST", "/sms/aligo_send.php", ctype, body, false)
		if _, ok := out["result_code"]; !ok {
			t.Fatalf("answer without result_code: %v", out)
		}
	})
}

func FuzzContactJSON(f *testing.F) {
	for _, s := range []string{
		`{"name":"홍길동","phone":"010-1234-5678","memo":"m","groups":["ops","dev"]}`,
		`{"name":"a","phone":"+82 10 1234 5678"}`,
		`{"name":"","phone":""}`,
		`{"name":"a","phone":"01012345678","groups":["a,b",""]}`,
		`{"name":"a","phone":"01012345678","groups":"ops"}`,
		`{"name":"a\u0000","phone":"0212345678","memo":"\u0007"}`,
		`{"name":1}`, `{`, `null`,
	} {
		f.Add(s, false)
	}
	fx := newFixture(f)
	f.Fuzz(func(t *testing.T, body string, update bool) {
		if update {
			serveFuzz(t, fx, "PUT", "/api/v1/contacts/1", "application/json", body, true)
			return
		}
		serveFuzz(t, fx, "POST", "/api/v1/contacts", "application/json", body, true)
	})
}

func FuzzTemplateJSON(f *testing.F) {
	for _, s := range []string{
		`{"name":"점검","text":"[안내] 서버 점검","title":""}`,
		`{"name":"x","text":"{{.Check}} 장애","title":"알림"}`,
		`{"name":"x","text":"🔥"}`,
		`{"name":"x","text":"a","title":"` + strings.Repeat("가", 30) + `"}`,
		`{"name":"x"}`, `{"text":1}`, `"x"`,
	} {
		f.Add(s, false)
	}
	fx := newFixture(f)
	f.Fuzz(func(t *testing.T, body string, update bool) {
		if update {
			serveFuzz(t, fx, "PUT", "/api/v1/templates/1", "application/json", body, true)
			return
		}
		serveFuzz(t, fx, "POST", "/api/v1/templates", "application/json", body, true)
	})
}

func FuzzGroupJSON(f *testing.F) {
	for _, s := range []string{`{"name":"ops"}`, `{"name":"야간 당직"}`, `{"name":"a;b"}`, `{"name":"group:x"}`, `{"name":""}`, `{}`, `{"name":["x"]}`} {
		f.Add(s, "ops")
	}
	fx := newFixture(f)
	f.Fuzz(func(t *testing.T, body, name string) {
		serveFuzz(t, fx, "POST", "/api/v1/groups", "application/json", body, true)
		r := httptest.NewRequest("DELETE", "/", nil)
		r.URL.Path = "/api/v1/groups/" + name
		r.RemoteAddr = trusted
		r.Header.Set("Authorization", "Bearer "+fx.tokens["admin"])
		w := httptest.NewRecorder()
		fx.srv.ServeHTTP(w, r)
		if w.Code >= 500 {
			t.Fatalf("DELETE group %q: %d %s", name, w.Code, w.Body)
		}
	})
}

func FuzzSilenceJSON(f *testing.F) {
	for _, s := range []string{
		`{"check":"httpd","until":"2099-11-25T18:00:00+09:00","comment":"점검"}`,
		`{"until":"2000-01-01T00:00:00Z"}`,
		`{"until":"9999-12-31T23:59:59Z","host":"web1"}`,
		`{"until":"tomorrow"}`, `{"check":1}`, `{}`,
	} {
		f.Add(s)
	}
	fx := newFixture(f)
	f.Fuzz(func(t *testing.T, body string) {
		serveFuzz(t, fx, "POST", "/api/v1/silences", "application/json", body, false)
	})
}

// FuzzListQuery fuzzes the query parameters of the list endpoints.
func FuzzListQuery(f *testing.F) {
	for _, s := range []string{
		"limit=50", "before=100&limit=2", "to=010-1234-5678", "text=%EA%B2%BD%EA%B3%A0", "status=failed",
		"source=api&since=2026-01-01T00:00:00Z&until=2027-01-01T00:00:00Z", "limit=-1", "before=x", "to=abc",
		"status=weird", "since=yesterday", "q=%25_%5C", "offset=999999999999", "%zz",
	} {
		f.Add(s)
	}
	fx := newFixture(f)
	f.Fuzz(func(t *testing.T, query string) {
		for _, p := range []string{"/api/v1/messages", "/api/v1/contacts", "/api/v1/incidents"} {
			serveFuzz(t, fx, "GET", p+"?"+query, "", "", false)
		}
	})
}
