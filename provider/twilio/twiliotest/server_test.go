package twiliotest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

type answer struct {
	status int
	header http.Header
	json   map[string]any
}

// call makes a raw request: user/pass "" means no Authorization header.
func call(t *testing.T, s *Server, method, path, user, pass string, form url.Values) answer {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, s.URL()+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if user != "" || pass != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, header: resp.Header}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(b, &a.json); err != nil {
			t.Fatalf("%s: %v", b, err)
		}
	}
	return a
}

func sendPathOf(s *Server) string { return "/2010-04-01/Accounts/" + s.AccountSID + "/Messages.json" }

func form(to, from, body string) url.Values {
	return url.Values{"To": {to}, "From": {from}, "Body": {body}}
}

func wantError(t *testing.T, a answer, status int, code float64) {
	t.Helper()
	if a.status != status || a.json["code"] != code || a.json["status"] != float64(status) ||
		a.json["more_info"] != fmt.Sprintf("https://www.twilio.com/docs/errors/%d", int(code)) ||
		a.json["message"] == "" {
		t.Errorf("answer %d %v, want %d with code %v", a.status, a.json, status, code)
	}
}

func TestAuthExact(t *testing.T) {
	s := New(t)
	f := form("+821012345678", s.Sender, "x")
	for name, creds := range map[string][2]string{
		"none":          {"", ""},
		"wrong token":   {s.AccountSID, s.AuthToken + "x"},
		"swapped":       {s.AuthToken, s.AccountSID},
		"token prefix":  {s.AccountSID, s.AuthToken[:31]},
		"uppercase sid": {strings.ToUpper(s.AccountSID), s.AuthToken},
	} {
		a := call(t, s, http.MethodPost, sendPathOf(s), creds[0], creds[1], f)
		wantError(t, a, 401, 20003)
		if a.header.Get("WWW-Authenticate") == "" {
			t.Errorf("%s: no WWW-Authenticate", name)
		}
	}
	// Bearer instead of Basic.
	req, _ := http.NewRequest(http.MethodGet, s.URL()+"/2010-04-01/Accounts/"+s.AccountSID+"/Messages/SM1.json", nil)
	req.Header.Set("Authorization", "Bearer "+s.AuthToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("bearer: %d", resp.StatusCode)
	}
	if len(s.Messages()) != 0 {
		t.Fatal("created a message without auth")
	}
	// Right credentials, another account's path.
	other := "/2010-04-01/Accounts/AC" + strings.Repeat("9", 32) + "/Messages.json"
	wantError(t, call(t, s, http.MethodPost, other, s.AccountSID, s.AuthToken, f), 404, 20404)
	a := call(t, s, http.MethodPost, sendPathOf(s), s.AccountSID, s.AuthToken, f)
	if a.status != 201 {
		t.Fatalf("right credentials: %d %v", a.status, a.json)
	}
	authed := 0
	for _, r := range s.Requests() {
		if r.Auth {
			authed++
		}
	}
	if authed != 2 || len(s.Messages()) != 1 {
		t.Errorf("%d requests authenticated, %d messages: want 2 and 1", authed, len(s.Messages()))
	}
}

func TestCreateShape(t *testing.T) {
	now := time.Date(2026, 11, 25, 5, 3, 0, 0, time.UTC)
	s := New(t, WithClock(func() time.Time { return now }))
	a := call(t, s, http.MethodPost, sendPathOf(s), s.AccountSID, s.AuthToken, form("+821012345678", s.Sender, strings.Repeat("가", 71)))
	if a.status != 201 || !strings.HasPrefix(a.header.Get("Content-Type"), "application/json") {
		t.Fatalf("%d %v", a.status, a.header)
	}
	j := a.json
	sid, _ := j["sid"].(string)
	if len(sid) != 34 || !strings.HasPrefix(sid, "SM") || j["status"] != "queued" || j["num_segments"] != "2" ||
		j["to"] != "+821012345678" || j["from"] != s.Sender || j["direction"] != "outbound-api" ||
		j["error_code"] != nil || j["price"] != nil || j["api_version"] != "2010-04-01" ||
		j["date_created"] != "Wed, 25 Nov 2026 05:03:00 +0000" || j["account_sid"] != s.AccountSID ||
		j["uri"] != "/2010-04-01/Accounts/"+s.AccountSID+"/Messages/"+sid+".json" {
		t.Errorf("resource %v", j)
	}
	g := call(t, s, http.MethodGet, "/2010-04-01/Accounts/"+s.AccountSID+"/Messages/"+sid+".json", s.AccountSID, s.AuthToken, nil)
	if g.status != 200 || g.json["sid"] != sid || g.json["date_sent"] != nil {
		t.Errorf("fetch %d %v", g.status, g.json)
	}
	if !s.SetStatus(sid, "undelivered", 30003, "Unreachable destination handset") || s.SetStatus("SMnone", "delivered", 0, "") {
		t.Fatal("SetStatus")
	}
	g = call(t, s, http.MethodGet, "/2010-04-01/Accounts/"+s.AccountSID+"/Messages/"+sid+".json", s.AccountSID, s.AuthToken, nil)
	if g.json["status"] != "undelivered" || g.json["error_code"] != float64(30003) || g.json["date_sent"] == nil {
		t.Errorf("after SetStatus %v", g.json)
	}
	wantError(t, call(t, s, http.MethodGet, "/2010-04-01/Accounts/"+s.AccountSID+"/Messages/SM00.json", s.AccountSID, s.AuthToken, nil), 404, 20404)
}

func TestSendValidation(t *testing.T) {
	s := New(t)
	s.Reject("+821055556666", 21610)
	ok := func(f url.Values) answer {
		return call(t, s, http.MethodPost, sendPathOf(s), s.AccountSID, s.AuthToken, f)
	}
	two := form("+821012345678", s.Sender, "x")
	two.Add("To", "+821087654321")
	tests := []struct {
		name   string
		f      url.Values
		status int
		code   float64
	}{
		{"no To", url.Values{"From": {s.Sender}, "Body": {"x"}}, 400, 21604},
		{"two To", two, 400, 21211},
		{"national To", form("01012345678", s.Sender, "x"), 400, 21211},
		{"landline", form("+82212345678", s.Sender, "x"), 400, 21614},
		{"rejected", form("+821055556666", s.Sender, "x"), 400, 21610},
		{"no From", form("+821012345678", "", "x"), 400, 21603},
		{"not our number", form("+821012345678", "+15005550009", "x"), 400, 21606},
		{"no Body", form("+821012345678", s.Sender, ""), 400, 21602},
		{"1601 chars", form("+821012345678", s.Sender, strings.Repeat("a", 1601)), 400, 21617},
	}
	for _, tt := range tests {
		wantError(t, ok(tt.f), tt.status, tt.code)
	}
	if a := ok(form("+821012345678", s.Sender, strings.Repeat("가", 1600))); a.status != 201 || a.json["num_segments"] != "24" {
		t.Errorf("1600 Hangul: %d %v", a.status, a.json)
	}
	if len(s.Messages()) != 1 {
		t.Errorf("messages %d", len(s.Messages()))
	}
}

func TestFailures(t *testing.T) {
	s := New(t)
	f := form("+821012345678", s.Sender, "x")
	post := func() answer { return call(t, s, http.MethodPost, sendPathOf(s), s.AccountSID, s.AuthToken, f) }

	s.FailNext(2, Failure{Mode: HTTPStatus})
	if a, b, c := post(), post(), post(); a.status != 503 || a.json != nil || b.status != 503 || c.status != 201 {
		t.Errorf("FailNext 503: %d %d %d", a.status, b.status, c.status)
	}
	s.FailNext(1, Failure{Mode: HTTPStatus, Status: 500})
	wantError(t, post(), 500, 20500)
	s.FailNext(1, Failure{Mode: RateLimit})
	wantError(t, post(), 429, 20429)
	s.FailNext(1, Failure{Mode: BadAuth})
	wantError(t, post(), 401, 20003)
	s.FailNext(1, Failure{Mode: APIError, Code: 21408, Message: "Permission to send an SMS has not been enabled"})
	wantError(t, post(), 400, 21408)
	s.FailNext(1, Failure{Mode: Garbage})
	if a := post(); a.status != 200 || a.json != nil {
		t.Errorf("garbage %d %v", a.status, a.json)
	}
	if n := len(s.Messages()); n != 1 {
		t.Fatalf("messages %d, want 1", n)
	}

	// Timeout: a client that gives up before the stall ends created nothing.
	s.FailNext(1, Failure{Mode: Timeout, Delay: 5 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.URL()+sendPathOf(s), strings.NewReader(f.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(s.AccountSID, s.AuthToken)
	if _, err := http.DefaultClient.Do(req); err == nil {
		t.Error("timeout answered")
	}
	cancel()
	// LateAnswer: created at once, answered later.
	s.FailNext(1, Failure{Mode: LateAnswer, Delay: 300 * time.Millisecond})
	start := time.Now()
	if a := post(); a.status != 201 || time.Since(start) < 300*time.Millisecond {
		t.Errorf("late answer %d after %v", a.status, time.Since(start))
	}
	time.Sleep(50 * time.Millisecond)
	if n := len(s.Messages()); n != 2 {
		t.Errorf("messages %d, want 2 (the timed-out send created none)", n)
	}
}

func TestSegments(t *testing.T) {
	for text, want := range map[string]int{
		"x": 1, strings.Repeat("a", 160): 1, strings.Repeat("a", 161): 2,
		strings.Repeat("가", 70): 1, strings.Repeat("가", 71): 2, strings.Repeat("가", 135): 3,
		strings.Repeat("a", 152) + "€" + strings.Repeat("a", 10): 2, strings.Repeat("😀", 35): 1, strings.Repeat("😀", 36): 2,
	} {
		if got := segments(text); got != want {
			t.Errorf("segments(%.20q…) = %d, want %d", text, got, want)
		}
	}
}
