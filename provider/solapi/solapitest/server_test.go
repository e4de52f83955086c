package solapitest

import (
	"bytes"
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/munja-sms/munja/provider/internal/fakegw"
)

// signed builds an Authorization header the way Solapi documents it.
func signed(method string, h func() hash.Hash, key, secret string, at time.Time, salt string) string {
	date := at.UTC().Format(time.RFC3339)
	mac := hmac.New(h, []byte(secret))
	mac.Write([]byte(date + salt))
	return fmt.Sprintf("%s apiKey=%s, date=%s, salt=%s, signature=%s", method, key, date, salt, hex.EncodeToString(mac.Sum(nil)))
}

var saltN int

func salt() string {
	saltN++
	return fmt.Sprintf("salt%012d", saltN)
}

type answer struct {
	status int
	body   map[string]any
	raw    []byte
}

func do(t *testing.T, s *Server, method, path, auth string, body any) answer {
	t.Helper()
	req, _ := http.NewRequest(method, s.URL()+path, fakegw.RequestBody(t, body))
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, raw: raw}
	_ = json.Unmarshal(raw, &a.body)
	return a
}

func good(s *Server) string {
	return signed("HMAC-SHA256", sha256.New, s.APIKey, s.APISecret, time.Now(), salt())
}

// TestAuthentication: the signature is checked exactly as Solapi computes
// it, with its documented refusals.
func TestAuthentication(t *testing.T) {
	s := New(t)
	now := time.Now()
	fixed := signed("HMAC-SHA256", sha256.New, s.APIKey, s.APISecret, now, "jqsba2jxjnrjor")
	tests := []struct {
		name   string
		auth   string
		status int
		code   string
	}{
		{"sha256", good(s), 200, ""},
		{"md5", signed("HMAC-MD5", md5.New, s.APIKey, s.APISecret, now, salt()), 200, ""},
		{"no header", "", 401, "Unauthorized"},
		{"basic auth", "Basic dXNlcjpwYXNz", 401, "Unauthorized"},
		{"no signature", "HMAC-SHA256 apiKey=" + s.APIKey + ", date=2026-01-01T00:00:00Z, salt=" + salt(), 401, "Unauthorized"},
		{"short key", signed("HMAC-SHA256", sha256.New, "NCS", s.APISecret, now, salt()), 400, "ValidationError"},
		{"unknown key", signed("HMAC-SHA256", sha256.New, "NCSOTHERKEY00001", s.APISecret, now, salt()), 403, "InvalidAPIKey"},
		{"wrong secret", signed("HMAC-SHA256", sha256.New, s.APIKey, "another-secret", now, salt()), 403, "SignatureDoesNotMatch"},
		{"md5 signature called sha256", strings.Replace(signed("HMAC-MD5", md5.New, s.APIKey, s.APISecret, now, salt()), "HMAC-MD5", "HMAC-SHA256", 1), 403, "SignatureDoesNotMatch"},
		{"16 minutes late", signed("HMAC-SHA256", sha256.New, s.APIKey, s.APISecret, now.Add(-16*time.Minute), salt()), 403, "RequestTimeTooSkewed"},
		{"16 minutes early", signed("HMAC-SHA256", sha256.New, s.APIKey, s.APISecret, now.Add(16*time.Minute), salt()), 403, "RequestTimeTooSkewed"},
		{"14 minutes late", signed("HMAC-SHA256", sha256.New, s.APIKey, s.APISecret, now.Add(-14*time.Minute), salt()), 200, ""},
		{"short salt", signed("HMAC-SHA256", sha256.New, s.APIKey, s.APISecret, now, "abc"), 400, "ValidationError"},
		{"long salt", signed("HMAC-SHA256", sha256.New, s.APIKey, s.APISecret, now, strings.Repeat("s", 65)), 400, "ValidationError"},
		{"first use", fixed, 200, ""},
		{"reused signature", fixed, 403, "DuplicatedSignature"},
	}
	for _, tt := range tests {
		a := do(t, s, http.MethodGet, balancePath, tt.auth, nil)
		if a.status != tt.status || (tt.code != "" && a.body["errorCode"] != tt.code) {
			t.Errorf("%s: %d %s, want %d %s", tt.name, a.status, a.raw, tt.status, tt.code)
		}
	}
	if a := do(t, s, http.MethodGet, "/messages/v4/nothing", good(s), nil); a.status != 404 || a.body["errorCode"] != "NotFound" {
		t.Errorf("unknown path: %d %s", a.status, a.raw)
	}
}

func msg(to, text string) map[string]any {
	return map[string]any{"to": to, "from": DefaultSender, "text": text}
}

func send(t *testing.T, s *Server, messages ...map[string]any) answer {
	t.Helper()
	return do(t, s, http.MethodPost, sendPath, good(s), map[string]any{"messages": messages})
}

func failedCodes(a answer) []string {
	var out []string
	for _, f := range a.body["failedMessageList"].([]any) {
		out = append(out, f.(map[string]any)["statusCode"].(string))
	}
	return out
}

// TestSendChecks: the registration checks, by CP949 bytes and Solapi's
// status codes.
func TestSendChecks(t *testing.T) {
	s := New(t)
	lms := func(m map[string]any) map[string]any { m["type"] = "LMS"; return m }
	with := func(m map[string]any, k string, v any) map[string]any { m[k] = v; return m }
	tests := []struct {
		name string
		m    map[string]any
		code string
	}{
		{"90-byte SMS", with(msg("01011112222", strings.Repeat("가", 45)), "type", "SMS"), ""},
		{"91-byte SMS", with(msg("01011112222", strings.Repeat("가", 45)+"a"), "type", "SMS"), "1031"},
		{"91 bytes detected as LMS", msg("01011112222", strings.Repeat("가", 45)+"a"), ""},
		{"2000-byte LMS", lms(msg("01011112222", strings.Repeat("가", 1000))), ""},
		{"2001-byte LMS", lms(msg("01011112222", strings.Repeat("가", 1000)+"a")), "1031"},
		{"emoji", msg("01011112222", "서버 다운 😀"), "1029"},
		{"title on SMS", with(with(msg("01011112222", "x"), "type", "SMS"), "subject", "제목"), "1013"},
		{"40-byte title", with(lms(msg("01011112222", "x")), "subject", strings.Repeat("가", 20)), ""},
		{"41-byte title", with(lms(msg("01011112222", "x")), "subject", strings.Repeat("가", 20)+"a"), "1014"},
		{"unregistered sender", with(msg("01011112222", "x"), "from", "01099998888"), "1062"},
		{"malformed receiver", msg("0101234567890", "x"), "1011"},
		{"no text", msg("01011112222", ""), "1010"},
		{"fax", with(msg("01011112222", "x"), "type", "FAX"), "1025"},
		{"long custom field", with(msg("01011112222", "x"), "customFields", map[string]string{"k": strings.Repeat("v", 101)}), "1032"},
	}
	for _, tt := range tests {
		a := send(t, s, tt.m)
		codes := failedCodes(a)
		if a.status != 200 || (tt.code == "" && len(codes) != 0) || (tt.code != "" && (len(codes) != 1 || codes[0] != tt.code)) {
			t.Errorf("%s: %d %v, want %q", tt.name, a.status, codes, tt.code)
		}
	}
	// Duplicates are refused unless allowed.
	a := send(t, s, msg("01011112222", "a"), msg("01011112222", "b"))
	if codes := failedCodes(a); len(codes) != 1 || codes[0] != "1026" {
		t.Errorf("duplicate: %v", codes)
	}
	info := a.body["groupInfo"].(map[string]any)
	count := info["count"].(map[string]any)
	if count["registeredSuccess"] != 1.0 || count["registeredFailed"] != 1.0 || info["groupId"] == "" || info["groupId"] != info["_id"] {
		t.Errorf("groupInfo %v", info)
	}
}

func TestSendLimits(t *testing.T) {
	s := New(t)
	many := make([]map[string]any, 10001)
	for i := range many {
		many[i] = msg(fmt.Sprintf("010%08d", i), "x")
	}
	if a := send(t, s, many...); a.status != 400 || a.body["errorCode"] != "ValidationError" {
		t.Errorf("10001 messages: %d %s", a.status, a.raw)
	}
	if a := send(t, s, many[:10000]...); a.status != 200 || len(s.Messages()) != 10000 {
		t.Errorf("10000 messages: %d, %d registered", a.status, len(s.Messages()))
	}
	if a := send(t, s); a.status != 400 {
		t.Errorf("no messages: %d", a.status)
	}
	a := do(t, s, http.MethodPost, sendPath, good(s), map[string]any{"messages": []any{msg("01011112222", "x")}, "testmode": true})
	if a.status != 400 || !strings.Contains(a.body["errorMessage"].(string), "testmode") {
		t.Errorf("unknown field: %d %s", a.status, a.raw)
	}
	m := msg("01011112222", "x")
	m["rdate"] = "20260101"
	if a := send(t, s, m); a.status != 400 {
		t.Errorf("unknown message field: %d %s", a.status, a.raw)
	}
}

func TestBalanceCharged(t *testing.T) {
	s := New(t, WithBalance(100, 30))
	send(t, s, msg("01011112222", "x"), msg("01033334444", "x"))
	if b, p := s.Balance(); b != 90 || p != 0 {
		t.Errorf("balance %v, points %v", b, p)
	}
	s.SetBalance(10, 0)
	if codes := failedCodes(send(t, s, msg("01055556666", "x"))); len(codes) != 1 || codes[0] != "1030" {
		t.Errorf("no balance: %v", codes)
	}
	a := do(t, s, http.MethodGet, balancePath, good(s), nil)
	if a.body["balance"] != 10.0 || a.body["point"] != 0.0 {
		t.Errorf("balance answer %s", a.raw)
	}
	a = do(t, s, http.MethodGet, pricingPath, good(s), nil)
	if a.body["sms"] != 20.0 || a.body["lms"] != 50.0 || a.body["countryId"] != "82" {
		t.Errorf("prices %s", a.raw)
	}
}

func TestList(t *testing.T) {
	s := New(t)
	for i := range 25 {
		send(t, s, msg(fmt.Sprintf("010%08d", i), "x"))
	}
	g := s.Messages()[3].GroupID
	a := do(t, s, http.MethodGet, listPath+"?groupId="+g, good(s), nil)
	if l := a.body["messageList"].(map[string]any); len(l) != 1 || a.body["nextKey"] != nil {
		t.Errorf("by group: %s", a.raw)
	}
	a = do(t, s, http.MethodGet, listPath+"?criteria=groupId&cond=eq&value="+g, good(s), nil)
	if l := a.body["messageList"].(map[string]any); len(l) != 1 {
		t.Errorf("by criteria: %s", a.raw)
	}
	// Pages of the default 20, newest first.
	a = do(t, s, http.MethodGet, listPath, good(s), nil)
	next, _ := a.body["nextKey"].(string)
	if l := a.body["messageList"].(map[string]any); len(l) != 20 || next != s.Messages()[4].MessageID {
		t.Errorf("page 1: %d, next %q", len(l), next)
	}
	a = do(t, s, http.MethodGet, listPath+"?startKey="+next, good(s), nil)
	if l := a.body["messageList"].(map[string]any); len(l) != 5 || a.body["nextKey"] != nil {
		t.Errorf("page 2: %s", a.raw)
	}
	if a := do(t, s, http.MethodGet, listPath+"?limit=501", good(s), nil); a.status != 400 {
		t.Errorf("limit 501: %d", a.status)
	}
	future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	a = do(t, s, http.MethodGet, listPath+"?dateType=CREATED&startDate="+future, good(s), nil)
	if l := a.body["messageList"].(map[string]any); len(l) != 0 {
		t.Errorf("from the future: %d", len(l))
	}
	a = do(t, s, http.MethodGet, groupsPath+g+"/messages", good(s), nil)
	if l := a.body["messageList"].(map[string]any); len(l) != 1 {
		t.Errorf("group messages: %s", a.raw)
	}
}

func TestFailures(t *testing.T) {
	s := New(t)
	s.FailNext(1, Failure{Mode: HTTPStatus, Status: 502})
	if a := do(t, s, http.MethodGet, balancePath, good(s), nil); a.status != 502 || !bytes.Contains(a.raw, []byte("nginx")) {
		t.Errorf("502: %d %s", a.status, a.raw)
	}
	if a := do(t, s, http.MethodGet, balancePath, good(s), nil); a.status != 200 {
		t.Errorf("after the one failure: %d", a.status)
	}
	s.SetFailure(Failure{Mode: RateLimit})
	if a := do(t, s, http.MethodGet, balancePath, good(s), nil); a.status != 429 || a.body["errorCode"] != "TooManyRequests" {
		t.Errorf("429: %d %s", a.status, a.raw)
	}
	s.SetFailure(Failure{Mode: BadJSON})
	if a := do(t, s, http.MethodGet, balancePath, good(s), nil); a.status != 200 || json.Valid(a.raw) {
		t.Errorf("bad JSON: %s", a.raw)
	}
	s.SetFailure(Failure{Mode: LateAnswer, Delay: 200 * time.Millisecond})
	start := time.Now()
	if a := send(t, s, msg("01011112222", "x")); a.status != 200 || time.Since(start) < 200*time.Millisecond || len(s.Messages()) != 1 {
		t.Errorf("late answer: %d after %s", a.status, time.Since(start))
	}
}
