package web

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestCompatOriginalScript: the original cron script's curl loop
// (-d "receiver=$PHONE" --data-urlencode "msg=$ALERT_MSG") works
// unchanged from a trusted network and is answered in Aligo's shape.
func TestCompatOriginalScript(t *testing.T) {
	f := newFixture(t)
	form := url.Values{"receiver": {"010-1234-5678"}, "msg": {"[경고] httpd 프로세스가 동작하지 않습니다."}}.Encode()
	out := f.must(req{method: "POST", path: "/sms/aligo_send.php", from: trusted, body: form, ctype: "application/x-www-form-urlencoded"}, 200)
	if out["result_code"] != "1" || out["success_cnt"] != float64(1) || out["msg_type"] != "SMS" || out["msg_id"] == "" {
		t.Fatalf("answer %v", out)
	}
	m := f.must(req{path: "/api/v1/messages/" + out["msg_id"].(string), token: "read"}, 200)
	if m["source"] != "compat" || m["created_by"] != "net:127.0.0.1" || m["text"] != "[경고] httpd 프로세스가 동작하지 않습니다." {
		t.Errorf("stored %v", m)
	}
	cases := []struct {
		name, body, field string
		status            int
	}{
		{"no receiver", "msg=x", "receiver", 400},
		{"blank msg", "receiver=01012345678&msg=+", "msg", 400},
		{"bad receiver", "receiver=01012345678,abc&msg=x", "receiver", 400},
		{"emoji", "receiver=01012345678&msg=%F0%9F%94%A5", "msg", 400},
		{"bad type", "receiver=01012345678&msg=x&msg_type=MMSX", "msg_type", 400},
		{"bad sender", "receiver=01012345678&msg=x&sender=12", "sender", 400},
		{"bad escape", "receiver=%zz&msg=x", "", 400},
	}
	for _, tc := range cases {
		out := f.must(req{method: "POST", path: "/api/v1/send", from: trusted, body: tc.body, ctype: "application/x-www-form-urlencoded"}, tc.status)
		if out["field"] != tc.field || out["result_code"] != float64(-tc.status) {
			t.Errorf("%s: %v, want field %q", tc.name, out, tc.field)
		}
	}
}

func TestMessagesAPI(t *testing.T) {
	f := newFixture(t)
	for i := range 5 {
		f.must(req{method: "POST", path: "/api/v1/messages", token: "send",
			body: fmt.Sprintf(`{"to":["010-1234-567%d"],"text":"서버 %d 점검"}`, i, i)}, 202)
	}
	lms := f.must(req{method: "POST", path: "/api/v1/messages", token: "send",
		body: `{"to":"01012345670,01099998888","text":"long","title":"제목","test":true}`}, 202)
	if lms["type"] != "LMS" || lms["test"] != true || len(lms["recipients"].([]any)) != 2 || lms["dryrun"] != true {
		t.Errorf("LMS %v", lms)
	}
	if _, ok := lms["template"]; ok {
		t.Errorf("template shown without one: %v", lms)
	}
	// The template a text was written from (Kakao Alimtalk chooses by it).
	tm := f.must(req{method: "POST", path: "/api/v1/messages", token: "send",
		body: `{"to":"01012345670","text":"오늘 22시 점검","template":"정기점검"}`}, 202)
	if tm["template"] != "정기점검" {
		t.Errorf("template %v", tm)
	}
	if got := f.must(req{path: fmt.Sprintf("/api/v1/messages/%v", tm["id"]), token: "read"}, 200); got["template"] != "정기점검" {
		t.Errorf("stored template %v", got)
	}
	ids := func(q string) string {
		out := f.must(req{path: "/api/v1/messages?" + q, token: "read"}, 200)
		var s []string
		for _, m := range out["messages"].([]any) {
			s = append(s, fmt.Sprint(m.(map[string]any)["id"]))
		}
		if next, _ := out["next"].(string); next != "" {
			s = append(s, "next="+next)
		}
		return strings.Join(s, ",")
	}
	for q, want := range map[string]string{
		"":                           "7,6,5,4,3,2,1",
		"limit=2":                    "7,6,next=/api/v1/messages?before=6&limit=2",
		"limit=2&before=5&text=점검":   "4,3,next=/api/v1/messages?before=3&limit=2&text=%EC%A0%90%EA%B2%80",
		"to=010-1234-5670":           "7,6,1",
		"text=%EC%84%9C%EB%B2%84+3":  "4",
		"status=queued&source=api":   "7,6,5,4,3,2,1",
		"status=failed":              "",
		"since=2000-01-01T00:00:00Z": "7,6,5,4,3,2,1",
		"until=2000-01-01T00:00:00Z": "",
	} {
		if got := ids(q); got != want {
			t.Errorf("?%s: %s, want %s", q, got, want)
		}
	}
	for q, field := range map[string]string{
		"limit=501": "limit", "before=0": "before", "to=12": "to", "status=lost": "status",
		"source=web": "source", "since=2026-01-01": "since",
	} {
		if out := f.must(req{path: "/api/v1/messages?" + q, token: "read"}, 400); out["field"] != field {
			t.Errorf("?%s: %v, want field %s", q, out, field)
		}
	}
	for body, field := range map[string]string{
		`{"to":["01012345678","nope"],"text":"x"}`:                   "to[1]",
		`{"to":["01012345678"],"text":""}`:                           "text",
		`{"to":["01012345678"],"text":"x","type":"fax"}`:             "type",
		`{"to":["01012345678"],"text":"x","at":"tomorrow"}`:          "at",
		`{"to":["01012345678"],"text":"x","title":"🔥"}`:              "title",
		`{"to":["01012345678"],"text":"x","sender":"1"}`:             "sender",
		`{"groups":["nobody"],"text":"x"}`:                           "groups[0]",
		`{"to":["01012345678"],"text":"x","receiver":"a"}`:           "receiver",
		`{"to":["01012345678"],"text":"x","test":"yes"}`:             "test",
		`{"to":["01012345678"],"text":"x","type":"sms","title":"t"}`: "title",
		`{"to":["01012345678"],"text":"x","template":7}`:             "template",
	} {
		if out := f.must(req{method: "POST", path: "/api/v1/messages", token: "send", body: body}, 400); out["field"] != field {
			t.Errorf("%s: %v, want field %s", body, out, field)
		}
	}
	f.must(req{path: "/api/v1/messages/999", token: "read"}, 404)
	f.must(req{path: "/api/v1/messages/x", token: "read"}, 400)
}

// TestFarFutureAt: a reservation beyond the outbox's bound is refused
// naming "at", and nothing is stored that the history could not show
// (with Asia/Seoul, 9999-12-31T23:59:59Z is year 10000, which JSON cannot
// carry: the history answered 200 with an empty body).
func TestFarFutureAt(t *testing.T) {
	seoul, err := time.LoadLocation("Asia/Seoul")
	noErr(t, err)
	f := newFixture(t, func(o *Options) { o.Location = seoul })
	out := f.must(req{method: "POST", path: "/api/v1/messages", token: "send",
		body: `{"to":["01012345678"],"text":"x","at":"9999-12-31T23:59:59Z"}`}, 400)
	if out["field"] != "at" {
		t.Errorf("answer %v, want field at", out)
	}
	list := f.must(req{path: "/api/v1/messages", token: "read"}, 200)
	if ms, ok := list["messages"].([]any); !ok || len(ms) != 0 {
		t.Errorf("history %v, want no messages", list)
	}
	at := time.Now().AddDate(0, 11, 0).Truncate(time.Second).UTC().Format(time.RFC3339)
	out = f.must(req{method: "POST", path: "/api/v1/messages", token: "send",
		body: `{"to":["01012345678"],"text":"x","at":"` + at + `"}`}, 202)
	if got, _ := out["at"].(string); got == "" {
		t.Errorf("11 months ahead: %v", out)
	}
}

// TestControlCharactersRefused: a control character in the text is
// refused naming "text", and nothing is stored; an Alertmanager alert is
// not refused for one but sent with '?' in its place (issue 11).
func TestControlCharactersRefused(t *testing.T) {
	f := newFixture(t)
	out := f.must(req{method: "POST", path: "/api/v1/messages", token: "send",
		body: `{"to":["01012345678"],"text":"디스크 \u001b[31m부족"}`}, 400)
	msg, _ := out["error"].(string)
	if out["field"] != "text" || !strings.Contains(msg, "control character U+001B at position 5") || strings.ContainsRune(msg, 0x1b) {
		t.Errorf("answer %v, want field text naming U+001B at position 5", out)
	}
	list := f.must(req{path: "/api/v1/messages", token: "read"}, 200)
	if ms, ok := list["messages"].([]any); !ok || len(ms) != 0 {
		t.Errorf("history %v, want no messages", list)
	}
	m := f.postAlertmanager("?to=01012345678", amBody(t, "firing",
		amAlert("firing", "LogError", "web01\x07", "\x1b[31mOOM\x1b[0m\u200b")))
	if want := "[경고] LogError (web01?): ?[31mOOM?[0m?"; m.Text != want {
		t.Errorf("alert text %q, want %q", m.Text, want)
	}
}
